using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Tollgate.Graph;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>A package's registration leaves as the source wrote them, or why there are none.</summary>
/// <param name="Leaves">Every leaf (<c>catalogEntry</c>, <c>packageContent</c>); null when the registration could not be read.</param>
/// <param name="Problem">Why there are no leaves, or, with <paramref name="Stale"/>, why a cached copy was used.</param>
/// <param name="NotFound">True when the source has no such package.</param>
/// <param name="Stale">True when the source could not be asked and the cached registration was used.</param>
public sealed record NuGetRegistrationRead(ImmutableArray<JsonElement>? Leaves, string? Problem, bool NotFound = false, bool Stale = false);

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
        var read = await ReadRegistrationAsync(name, cancellationToken).ConfigureAwait(false);
        if (read.Leaves is not { } leaves)
        {
            return new FactsResult(null, read.Problem, NotFound: read.NotFound);
        }
        var versions = ImmutableArray.CreateBuilder<VersionFacts>();
        AddLeaves(leaves, versions);
        return new FactsResult(new PackageFacts { Ecosystem = Ecosystem.NuGet, Name = name, Versions = versions.ToImmutable(), Registry = RegistryDisplay },
            read.Stale ? $"used the cached registration of {name}: {read.Problem}" : null);
    }

    /// <summary>
    /// Every registration leaf of a package as the source wrote it (pages the index only links to are fetched), for
    /// callers that pass the documents on (the feed); <see cref="GetAsync"/> reads the same leaves into facts.
    /// </summary>
    public async Task<NuGetRegistrationRead> ReadRegistrationAsync(string name, CancellationToken cancellationToken = default)
    {
        var (registrations, problem) = await FindRegistrations(cancellationToken).ConfigureAwait(false);
        if (registrations is null)
        {
            return new NuGetRegistrationRead(null, problem);
        }
        var url = new Uri(registrations, name.ToLowerInvariant() + "/index.json");
        var document = await http.GetAsync(url, "application/json", authorization, cancellationToken).ConfigureAwait(false);
        if (document.Status == RegistryStatus.NotFound)
        {
            return new NuGetRegistrationRead(null, $"{name} is not on the NuGet source {RegistryDisplay}", NotFound: true);
        }
        if (document.Status != RegistryStatus.Ok || document.Body is null)
        {
            return new NuGetRegistrationRead(null, document.Problem ?? $"the NuGet source {RegistryDisplay} gave no registration for {name}");
        }
        var leaves = ImmutableArray.CreateBuilder<JsonElement>();
        try
        {
            using var index = JsonDocument.Parse(document.Body);
            if (!index.RootElement.TryGetProperty("items", out var pages) || pages.ValueKind != JsonValueKind.Array)
            {
                return new NuGetRegistrationRead(null, $"the registration of {name} at {RegistryHttp.Display(url)} has no \"items\"");
            }
            foreach (var page in pages.EnumerateArray())
            {
                if (page.TryGetProperty("items", out var pageItems) && pageItems.ValueKind == JsonValueKind.Array)
                {
                    leaves.AddRange(pageItems.EnumerateArray().Select(l => l.Clone()));
                    continue;
                }
                // A large package's index only links its pages.
                if (Str(page, "@id") is not { } pageId || !Uri.TryCreate(pageId, UriKind.Absolute, out var pageUrl))
                {
                    return new NuGetRegistrationRead(null, $"a registration page of {name} has neither items nor an @id");
                }
                var pageDocument = await http.GetAsync(pageUrl, "application/json", authorization, cancellationToken).ConfigureAwait(false);
                if (pageDocument.Status != RegistryStatus.Ok || pageDocument.Body is null)
                {
                    return new NuGetRegistrationRead(null, pageDocument.Problem ?? $"the registration page {RegistryHttp.Display(pageUrl)} could not be read");
                }
                using var pageJson = JsonDocument.Parse(pageDocument.Body);
                if (pageJson.RootElement.TryGetProperty("items", out var pageLeaves) && pageLeaves.ValueKind == JsonValueKind.Array)
                {
                    leaves.AddRange(pageLeaves.EnumerateArray().Select(l => l.Clone()));
                }
            }
        }
        catch (JsonException e)
        {
            return new NuGetRegistrationRead(null, $"the registration of {name} is not valid JSON: {e.Message}");
        }
        return new NuGetRegistrationRead(leaves.ToImmutable(), document.Stale ? document.Problem : null, Stale: document.Stale);
    }

    /// <summary>Reads one <see cref="VersionFacts"/> from a registration leaf; null when it has no catalog entry with a version.</summary>
    public static VersionFacts? ReadLeaf(JsonElement leaf)
    {
        var list = ImmutableArray.CreateBuilder<VersionFacts>();
        AddLeaves([leaf], list);
        return list.Count == 1 ? list[0] : null;
    }

    /// <summary>
    /// The URL of the first resource of the service index whose <c>@type</c> is one of <paramref name="types"/> (in
    /// that order of preference), with a trailing slash; or why there is none.
    /// </summary>
    public async Task<(Uri? Url, string? Problem)> FindResourceAsync(IReadOnlyList<string> types, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(types);
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
            foreach (var type in types)
            {
                foreach (var resource in resources.EnumerateArray())
                {
                    if (Str(resource, "@type") == type && Str(resource, "@id") is { } id && Uri.TryCreate(id, UriKind.Absolute, out var url))
                    {
                        return (url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/"), null);
                    }
                }
            }
            return (null, $"the NuGet service index {RegistryDisplay} names no {types[0].Split('/')[0]} resource");
        }
        catch (JsonException e)
        {
            return (null, $"the NuGet service index {RegistryDisplay} is not valid JSON: {e.Message}");
        }
    }

    private async Task<(Uri?, string?)> FindRegistrations(CancellationToken cancellationToken)
    {
        // A failure is not remembered: the next call asks again (a feed outlives an upstream outage).
        var found = await (_registrations ??= FindResourceAsync(s_registrationTypes, cancellationToken)).ConfigureAwait(false);
        if (found.Base is null)
        {
            _registrations = null;
        }
        return found;
    }

    private static void AddLeaves(IEnumerable<JsonElement> leaves, ImmutableArray<VersionFacts>.Builder versions)
    {
        foreach (var leaf in leaves)
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
