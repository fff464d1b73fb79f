using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Tollgate.Graph;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// A Python package index through the PEP 691 JSON form of the simple repository API: every file with its hashes,
/// PEP 700 <c>upload-time</c>, PEP 592 <c>yanked</c> and PEP 740 <c>provenance</c>, grouped into releases. A release
/// is as old as its first file, yanked when every file is, and "sdist only" (its build backend runs at install time)
/// when it has no wheel.
/// </summary>
public sealed class PyPIIndexClient(RegistryHttp http, Uri index) : IPackageFactsSource
{
    /// <summary>PEP 691's media type (the JSON form, version 1).</summary>
    public const string SimpleJson = "application/vnd.pypi.simple.v1+json";

    public Uri Index { get; } = index.AbsoluteUri.EndsWith('/') ? index : new Uri(index.AbsoluteUri + "/");

    public Ecosystem Ecosystem => Ecosystem.PyPI;

    public string RegistryDisplay => RegistryHttp.Display(Index);

    /// <summary>The project page: the index plus the PEP 503 normalised name and a '/'.</summary>
    public Uri ProjectUrl(string name) => new(Index, Component.NormalizePyPIName(name) + "/");

    public async Task<FactsResult> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var document = await http.GetAsync(ProjectUrl(name), SimpleJson, null, cancellationToken).ConfigureAwait(false);
        if (document.Status == RegistryStatus.NotFound)
        {
            return new FactsResult(null, $"{name} is not on the package index {RegistryDisplay}", NotFound: true);
        }
        if (document.Status != RegistryStatus.Ok || document.Body is null)
        {
            return new FactsResult(null, document.Problem ?? $"the package index {RegistryDisplay} gave no page for {name}");
        }
        var facts = Parse(document.Body, name, out var error, RegistryDisplay);
        return facts is null ? new FactsResult(null, error) : new FactsResult(facts, document.Stale ? $"used the cached index page of {name}: {document.Problem}" : null);
    }

    /// <summary>Reads a PEP 691 project page; null with <paramref name="error"/> when it is not one.</summary>
    public static PackageFacts? Parse(ReadOnlySpan<byte> utf8, string name, out string? error, string? registry = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray());
        }
        catch (JsonException e)
        {
            error = $"the index page of {name} is not PEP 691 JSON ({e.Message}); does the index support application/vnd.pypi.simple.v1+json?";
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Array)
            {
                error = $"the index page of {name} has no \"files\" list (not PEP 691 JSON)";
                return null;
            }
            var normal = Component.NormalizePyPIName(name);
            var releases = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
            var order = new List<string>();
            if (root.TryGetProperty("versions", out var listed) && listed.ValueKind == JsonValueKind.Array)
            {
                foreach (var v in listed.EnumerateArray())
                {
                    if (v.ValueKind == JsonValueKind.String && releases.TryAdd(v.GetString()!, []))
                    {
                        order.Add(v.GetString()!);
                    }
                }
            }
            foreach (var file in files.EnumerateArray())
            {
                if (file.ValueKind != JsonValueKind.Object || Str(file, "filename") is not { } filename || VersionOf(filename, normal) is not { } version)
                {
                    continue;
                }
                var key = releases.Keys.FirstOrDefault(k => SameVersion(k, version)) ?? version;
                if (!releases.TryGetValue(key, out var list))
                {
                    releases[key] = list = [];
                    order.Add(key);
                }
                list.Add(file);
            }
            error = null;
            return new PackageFacts
            {
                Ecosystem = Ecosystem.PyPI,
                Name = normal,
                Versions = [.. order.Select(v => Release(v, releases[v]))],
                Registry = registry,
            };
        }
    }

    private static VersionFacts Release(string version, List<JsonElement> files)
    {
        DateTimeOffset? published = null;
        var yanked = files.Count > 0;
        string? reason = null;
        var wheels = false;
        var provenance = files.Count > 0;
        var hashes = ImmutableArray.CreateBuilder<string>();
        foreach (var file in files)
        {
            if (Str(file, "upload-time") is { } uploaded
                && DateTimeOffset.TryParse(uploaded, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when)
                && (published is null || when < published))
            {
                published = when;
            }
            var y = file.TryGetProperty("yanked", out var ye) ? ye : default;
            var isYanked = y.ValueKind == JsonValueKind.True || (y.ValueKind == JsonValueKind.String);
            yanked &= isYanked;
            if (y.ValueKind == JsonValueKind.String && y.GetString() is { Length: > 0 } why)
            {
                reason = why;
            }
            wheels |= Str(file, "filename")!.EndsWith(".whl", StringComparison.OrdinalIgnoreCase);
            provenance &= Str(file, "provenance") is { Length: > 0 };
            if (file.TryGetProperty("hashes", out var h) && h.ValueKind == JsonValueKind.Object && Str(h, "sha256") is { } sha)
            {
                hashes.Add(sha.ToLowerInvariant());
            }
        }
        return new VersionFacts
        {
            Version = version,
            Published = published,
            Yanked = yanked,
            YankReason = yanked ? reason : null,
            HasWheels = files.Count == 0 ? null : wheels,
            InstallScripts = files.Count == 0 ? null : wheels ? [] : ["sdist only: the build backend runs when it is installed"],
            HasProvenance = provenance,
            Sha256 = hashes.ToImmutable(),
        };
    }

    /// <summary>The version in a wheel or sdist file name of the project <paramref name="normalName"/>, or null.</summary>
    public static string? VersionOf(string filename, string normalName)
    {
        string stem;
        if (filename.EndsWith(".whl", StringComparison.OrdinalIgnoreCase))
        {
            var parts = filename[..^4].Split('-');
            return parts.Length >= 5 ? parts[1] : null;
        }
        if (filename.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase))
        {
            stem = filename[..^7];
        }
        else if (filename.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            stem = filename[..^4];
        }
        else
        {
            return null;
        }
        // The name part may itself contain '-': the version starts after the name's normalised length.
        for (var dash = stem.IndexOf('-', StringComparison.Ordinal); dash > 0; dash = stem.IndexOf('-', dash + 1))
        {
            if (Component.NormalizePyPIName(stem[..dash]) == normalName)
            {
                return stem[(dash + 1)..];
            }
        }
        var last = stem.LastIndexOf('-');
        return last > 0 ? stem[(last + 1)..] : null;
    }

    private static bool SameVersion(string a, string b) =>
        string.Equals(a, b, StringComparison.Ordinal)
        || (Pep440Version.TryParse(a, out var va) && Pep440Version.TryParse(b, out var vb) && va.CompareTo(vb) == 0);

    private static string? Str(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
