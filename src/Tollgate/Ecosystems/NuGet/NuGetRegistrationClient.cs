using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Tollgate.Graph;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>
/// A NuGet V3 source's metadata: the service index names the registration base (SemVer 2 and gzip variants
/// preferred), the registration index lists every version with <c>published</c>, <c>listed</c>, deprecation and
/// dependencies, fetching pages the index only links to. An unlisted version counts as yanked.
/// </summary>
public sealed class NuGetRegistrationClient(RegistryHttp http, Uri serviceIndex, string? authorization = null) : IPackageFactsSource
{
    private static readonly string[] s_registrationTypes =
        ["RegistrationsBaseUrl/3.6.0", "RegistrationsBaseUrl/3.4.0", "RegistrationsBaseUrl/Versioned", "RegistrationsBaseUrl/3.0.0-rc", "RegistrationsBaseUrl"];

    private Task<(Uri? Base, string? Problem)>? _registrations;

    public Uri ServiceIndex { get; } = serviceIndex;

    public Ecosystem Ecosystem => Ecosystem.NuGet;

    public string RegistryDisplay => RegistryHttp.Display(ServiceIndex);

    public async Task<FactsResult> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var (registrations, problem) = await (_registrations ??= FindRegistrations(cancellationToken)).ConfigureAwait(false);
        if (registrations is null)
        {
            return new FactsResult(null, problem);
        }
        var url = new Uri(registrations, name.ToLowerInvariant() + "/index.json");
        var document = await http.GetAsync(url, "application/json", authorization, cancellationToken).ConfigureAwait(false);
        if (document.Status == RegistryStatus.NotFound)
        {
            return new FactsResult(null, $"{name} is not on the NuGet source {RegistryDisplay}", NotFound: true);
        }
        if (document.Status != RegistryStatus.Ok || document.Body is null)
        {
            return new FactsResult(null, document.Problem ?? $"the NuGet source {RegistryDisplay} gave no registration for {name}");
        }
        var versions = ImmutableArray.CreateBuilder<VersionFacts>();
        try
        {
            using var index = JsonDocument.Parse(document.Body);
            if (!index.RootElement.TryGetProperty("items", out var pages) || pages.ValueKind != JsonValueKind.Array)
            {
                return new FactsResult(null, $"the registration of {name} at {RegistryHttp.Display(url)} has no \"items\"");
            }
            foreach (var page in pages.EnumerateArray())
            {
                if (page.TryGetProperty("items", out var leaves) && leaves.ValueKind == JsonValueKind.Array)
                {
                    AddLeaves(leaves, versions);
                    continue;
                }
                // A large package's index only links its pages.
                if (Str(page, "@id") is not { } pageId || !Uri.TryCreate(pageId, UriKind.Absolute, out var pageUrl))
                {
                    return new FactsResult(null, $"a registration page of {name} has neither items nor an @id");
                }
                var pageDocument = await http.GetAsync(pageUrl, "application/json", authorization, cancellationToken).ConfigureAwait(false);
                if (pageDocument.Status != RegistryStatus.Ok || pageDocument.Body is null)
                {
                    return new FactsResult(null, pageDocument.Problem ?? $"the registration page {RegistryHttp.Display(pageUrl)} could not be read");
                }
                using var pageJson = JsonDocument.Parse(pageDocument.Body);
                if (pageJson.RootElement.TryGetProperty("items", out var pageLeaves) && pageLeaves.ValueKind == JsonValueKind.Array)
                {
                    AddLeaves(pageLeaves, versions);
                }
            }
        }
        catch (JsonException e)
        {
            return new FactsResult(null, $"the registration of {name} is not valid JSON: {e.Message}");
        }
        return new FactsResult(new PackageFacts { Ecosystem = Ecosystem.NuGet, Name = name, Versions = versions.ToImmutable(), Registry = RegistryDisplay },
            document.Stale ? $"used the cached registration of {name}: {document.Problem}" : null);
    }

    private async Task<(Uri?, string?)> FindRegistrations(CancellationToken cancellationToken)
    {
        var document = await http.GetAsync(ServiceIndex, "application/json", authorization, cancellationToken).ConfigureAwait(false);
        if (document.Status != RegistryStatus.Ok || document.Body is null)
        {
            return (null, document.Problem ?? $"the NuGet service index {RegistryDisplay} could not be read");
        }
        try
        {
            using var index = JsonDocument.Parse(document.Body);
            if (!index.RootElement.TryGetProperty("resources", out var resources) || resources.ValueKind != JsonValueKind.Array)
            {
                return (null, $"{RegistryDisplay} is not a NuGet V3 service index (no \"resources\")");
            }
            foreach (var type in s_registrationTypes)
            {
                foreach (var resource in resources.EnumerateArray())
                {
                    if (Str(resource, "@type") == type && Str(resource, "@id") is { } id && Uri.TryCreate(id, UriKind.Absolute, out var url))
                    {
                        return (url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/"), null);
                    }
                }
            }
            return (null, $"the NuGet service index {RegistryDisplay} names no RegistrationsBaseUrl resource");
        }
        catch (JsonException e)
        {
            return (null, $"the NuGet service index {RegistryDisplay} is not valid JSON: {e.Message}");
        }
    }

    private static void AddLeaves(JsonElement leaves, ImmutableArray<VersionFacts>.Builder versions)
    {
        foreach (var leaf in leaves.EnumerateArray())
        {
            if (!leaf.TryGetProperty("catalogEntry", out var entry) || entry.ValueKind != JsonValueKind.Object || Str(entry, "version") is not { } version)
            {
                continue;
            }
            DateTimeOffset? published = null;
            if (Str(entry, "published") is { } p && DateTimeOffset.TryParse(p, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) && when.Year > 1900)
            {
                published = when;
            }
            var listed = !(entry.TryGetProperty("listed", out var l) && l.ValueKind == JsonValueKind.False);
            string? deprecated = null;
            if (entry.TryGetProperty("deprecation", out var d) && d.ValueKind == JsonValueKind.Object)
            {
                var reasons = d.TryGetProperty("reasons", out var r) && r.ValueKind == JsonValueKind.Array
                    ? string.Join(", ", r.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()))
                    : "deprecated";
                deprecated = Str(d, "message") is { Length: > 0 } message ? $"{reasons}: {message}" : reasons;
            }
            ImmutableSortedDictionary<string, string>? dependencies = null;
            if (entry.TryGetProperty("dependencyGroups", out var groups) && groups.ValueKind == JsonValueKind.Array)
            {
                var builder = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var group in groups.EnumerateArray())
                {
                    if (group.TryGetProperty("dependencies", out var deps) && deps.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var dep in deps.EnumerateArray())
                        {
                            if (Str(dep, "id") is { } id)
                            {
                                builder[id] = Str(dep, "range") ?? "";
                            }
                        }
                    }
                }
                dependencies = builder.ToImmutable();
            }
            versions.Add(new VersionFacts
            {
                Version = version,
                Published = published,
                Yanked = !listed,
                YankReason = listed ? null : "unlisted",
                Deprecated = deprecated,
                Dependencies = dependencies,
                Publisher = null,
            });
        }
    }

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
