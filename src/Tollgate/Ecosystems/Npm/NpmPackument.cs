using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Tollgate.Graph;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// Reads a full npm packument (the registry's document for one package: <c>dist-tags</c>, <c>versions</c>,
/// <c>time</c>) into <see cref="PackageFacts"/>. Fields the registry or a mirror leaves out stay unknown (null), so a
/// field missing from every version never looks like a change.
/// </summary>
public static class NpmPackument
{
    private static readonly string[] s_installScripts = ["preinstall", "install", "postinstall"];

    /// <summary>The facts in <paramref name="utf8"/>, or null with <paramref name="error"/> when it is not a packument.</summary>
    public static PackageFacts? Parse(ReadOnlySpan<byte> utf8, string fallbackName, out string? error, string? registry = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            error = $"the packument of {fallbackName} is not valid JSON: {e.Message}";
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = $"the packument of {fallbackName} is not a JSON object";
                return null;
            }
            var name = Str(root, "name") ?? fallbackName;
            var times = ImmutableDictionary.CreateBuilder<string, DateTimeOffset>(StringComparer.Ordinal);
            if (root.TryGetProperty("time", out var time) && time.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in time.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String
                        && DateTimeOffset.TryParse(p.Value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
                    {
                        times[p.Name] = when;
                    }
                }
            }
            var tags = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("dist-tags", out var distTags) && distTags.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in distTags.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String)
                    {
                        tags[p.Name] = p.Value.GetString()!;
                    }
                }
            }
            var versions = ImmutableArray.CreateBuilder<VersionFacts>();
            if (root.TryGetProperty("versions", out var all) && all.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in all.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.Object)
                    {
                        versions.Add(Version(p.Name, p.Value, times));
                    }
                }
            }
            error = null;
            return new PackageFacts
            {
                Ecosystem = Ecosystem.Npm,
                Name = name,
                Versions = versions.ToImmutable(),
                DistTags = tags.ToImmutable(),
                ReleaseNotes = Repository(root),
                Registry = registry,
            };
        }
    }

    private static VersionFacts Version(string version, JsonElement manifest, ImmutableDictionary<string, DateTimeOffset>.Builder times)
    {
        var scripts = ImmutableArray.CreateBuilder<string>();
        if (manifest.TryGetProperty("scripts", out var s) && s.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in s_installScripts)
            {
                if (s.TryGetProperty(name, out var script) && script.ValueKind == JsonValueKind.String && script.GetString()!.Length > 0)
                {
                    scripts.Add($"{name}: {script.GetString()}");
                }
            }
        }
        if (scripts.Count == 0 && manifest.TryGetProperty("hasInstallScript", out var has) && has.ValueKind == JsonValueKind.True)
        {
            // The registry sets hasInstallScript for a binding.gyp too (npm runs node-gyp rebuild).
            scripts.Add("install: (hasInstallScript; e.g. a binding.gyp built by node-gyp)");
        }
        string? publisher = null;
        if (manifest.TryGetProperty("_npmUser", out var user))
        {
            publisher = user.ValueKind == JsonValueKind.Object ? Str(user, "name") : user.ValueKind == JsonValueKind.String ? user.GetString() : null;
        }
        ImmutableSortedSet<string>? maintainers = null;
        if (manifest.TryGetProperty("maintainers", out var m) && m.ValueKind == JsonValueKind.Array)
        {
            maintainers = [.. m.EnumerateArray()
                .Select(e => e.ValueKind == JsonValueKind.Object ? Str(e, "name") : e.ValueKind == JsonValueKind.String ? e.GetString() : null)
                .OfType<string>()];
        }
        var provenance = manifest.TryGetProperty("dist", out var dist) && dist.ValueKind == JsonValueKind.Object
            && dist.TryGetProperty("attestations", out var att) && att.ValueKind == JsonValueKind.Object;
        string? deprecated = null;
        if (manifest.TryGetProperty("deprecated", out var dep))
        {
            // npm treats the field as JavaScript does: any truthy value deprecates.
            deprecated = dep.ValueKind switch
            {
                JsonValueKind.String => dep.GetString() is { Length: > 0 } text ? text : null,
                JsonValueKind.True or JsonValueKind.Object or JsonValueKind.Array => "deprecated",
                JsonValueKind.Number => dep.GetDouble() != 0 ? "deprecated" : null,
                _ => null,
            };
        }
        var dependencies = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (manifest.TryGetProperty("dependencies", out var deps) && deps.ValueKind == JsonValueKind.Object)
        {
            foreach (var d in deps.EnumerateObject())
            {
                dependencies[d.Name] = d.Value.ValueKind == JsonValueKind.String ? d.Value.GetString()! : d.Value.GetRawText();
            }
        }
        string? engine = null;
        if (manifest.TryGetProperty("engines", out var engines) && engines.ValueKind == JsonValueKind.Object && engines.TryGetProperty("node", out var node))
        {
            // A node engine that is not a string is no valid range: npm treats it as unsatisfiable.
            engine = node.ValueKind == JsonValueKind.String ? node.GetString() : "\u0000invalid";
        }
        return new VersionFacts
        {
            Version = version,
            Published = times.TryGetValue(version, out var when) ? when : null,
            Publisher = publisher,
            Maintainers = maintainers,
            InstallScripts = scripts.ToImmutable(),
            HasProvenance = provenance,
            Deprecated = deprecated,
            Dependencies = dependencies.ToImmutable(),
            EnginesNode = engine,
        };
    }

    private static string? Str(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The repository as a web URL (git+https://host/o/r.git → https://host/o/r), where the packument names one.</summary>
    private static string? Repository(JsonElement root)
    {
        if (!root.TryGetProperty("repository", out var repo))
        {
            return null;
        }
        var url = repo.ValueKind == JsonValueKind.Object ? Str(repo, "url") : repo.ValueKind == JsonValueKind.String ? repo.GetString() : null;
        if (url is null)
        {
            return null;
        }
        url = url.Replace("git+", "", StringComparison.Ordinal).Replace("git://", "https://", StringComparison.Ordinal);
        if (url.EndsWith(".git", StringComparison.Ordinal))
        {
            url = url[..^4];
        }
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == "https" ? uri.AbsoluteUri : null;
    }
}
