using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Tollgate.Ecosystems;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>
/// Turns an upstream packument into what the feed serves: versions the policy refuses removed, dist-tags whose
/// target is gone moved to the newest allowed version not above it, tarball URLs pointing at the feed, and the
/// abbreviated ("corgi") form npm asks for with <c>Accept: application/vnd.npm.install-v1+json</c>.
/// </summary>
internal static class PackumentView
{
    /// <summary>The media type of abbreviated packuments.</summary>
    public const string AbbreviatedMediaType = "application/vnd.npm.install-v1+json";

    // The fields npm's abbreviated metadata keeps for each version (see the registry's package metadata docs).
    private static readonly string[] AbbreviatedFields =
    [
        "name", "version", "deprecated", "dependencies", "optionalDependencies", "devDependencies", "bundleDependencies",
        "bundledDependencies", "peerDependencies", "peerDependenciesMeta", "acceptDependencies", "bin", "directories",
        "dist", "engines", "cpu", "os", "libc", "_hasShrinkwrap", "hasInstallScript", "funding", "license",
    ];

    /// <summary>
    /// The served packument, or null when no version is left. <paramref name="tarballBase"/> is the feed's base URL
    /// (ending in '/'); <paramref name="serveAll"/> keeps refused versions (dry-run).
    /// </summary>
    public static JsonObject? Filter(string name, JsonObject upstream, ImmutableDictionary<string, VersionDecision> decisions, string tarballBase, bool serveAll)
    {
        var doc = (JsonObject)upstream.DeepClone();
        doc.Remove("_attachments");
        var versions = doc["versions"] as JsonObject ?? [];
        foreach (var version in versions.Select(v => v.Key).ToList())
        {
            var served = serveAll || (decisions.TryGetValue(version, out var d) && d.IsServed);
            if (!served)
            {
                versions.Remove(version);
                (doc["time"] as JsonObject)?.Remove(version);
                continue;
            }
            if (versions[version] is JsonObject manifest && manifest["dist"] is JsonObject dist)
            {
                dist["tarball"] = tarballBase + TarballPath(name, TarballFile(name, version, dist));
            }
        }
        if (versions.Count == 0)
        {
            return null;
        }
        RepointDistTags(doc, versions);
        return doc;
    }

    /// <summary>The abbreviated form of a (filtered) full packument.</summary>
    public static JsonObject Abbreviate(JsonObject full)
    {
        var versions = new JsonObject();
        foreach (var (version, node) in full["versions"] as JsonObject ?? [])
        {
            if (node is not JsonObject manifest)
            {
                continue;
            }
            var small = new JsonObject();
            foreach (var field in AbbreviatedFields)
            {
                if (manifest[field] is { } value)
                {
                    small[field] = value.DeepClone();
                }
            }
            if (VersionJudge.HasInstallScript(manifest))
            {
                small["hasInstallScript"] = true;
            }
            versions[version] = small;
        }
        return new JsonObject
        {
            ["name"] = full["name"]?.DeepClone(),
            ["modified"] = Modified(full["time"] as JsonObject),
            ["dist-tags"] = full["dist-tags"]?.DeepClone(),
            ["versions"] = versions,
        };
    }

    /// <summary>
    /// <c>time.modified</c>, or the latest time listed when a registry leaves it out (abbreviated packuments always
    /// carry <c>modified</c>, and clients compare it).
    /// </summary>
    private static string? Modified(JsonObject? times)
    {
        if (times?["modified"] is JsonValue m && m.TryGetValue<string>(out var text))
        {
            return text;
        }
        return times?.Select(t => t.Value is JsonValue v && v.TryGetValue<string>(out var s)
                && DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var at) ? at : (DateTimeOffset?)null)
            .Max()?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The tarball's file name: the last segment of the upstream URL, or npm's <c>name-version.tgz</c>.</summary>
    public static string TarballFile(string name, string version, JsonObject? dist)
    {
        if (dist?["tarball"] is JsonValue url && url.TryGetValue<string>(out var text) && Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            var last = Uri.UnescapeDataString(uri.Segments[^1]);
            if (last.EndsWith(".tgz", StringComparison.Ordinal) && !last.Contains('/', StringComparison.Ordinal))
            {
                return last;
            }
        }
        var unscoped = name.Contains('/', StringComparison.Ordinal) ? name[(name.IndexOf('/', StringComparison.Ordinal) + 1)..] : name;
        return $"{unscoped}-{version}.tgz";
    }

    /// <summary>The feed path of a tarball: <c>name/-/file</c> (scoped names keep their slash, as the public registry's URLs do).</summary>
    public static string TarballPath(string name, string file) => $"{name}/-/{file}";

    /// <summary>The version whose tarball has this file name, or null.</summary>
    public static string? VersionOfFile(string name, JsonObject packument, string file)
    {
        foreach (var (version, node) in packument["versions"] as JsonObject ?? [])
        {
            if (string.Equals(TarballFile(name, version, node?["dist"] as JsonObject), file, StringComparison.Ordinal))
            {
                return version;
            }
        }
        return null;
    }

    private static void RepointDistTags(JsonObject doc, JsonObject versions)
    {
        var scheme = VersionSchemes.Npm;
        var available = versions.Select(v => scheme.TryParse(v.Key, out var parsed) ? parsed : null).OfType<IComparableVersion>()
            .OrderByDescending(v => v, Comparer<IComparableVersion>.Create(scheme.Compare)).ToList();
        if (doc["dist-tags"] is not JsonObject tags)
        {
            tags = [];
            doc["dist-tags"] = tags;
        }
        foreach (var (tag, target) in tags.ToList())
        {
            var text = target is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            if (text is not null && versions.ContainsKey(text))
            {
                continue;
            }
            // Move the tag down to the newest allowed version not above its old target, keeping to releases when the
            // target was a release: "latest" must never jump to a newer canary nobody tagged.
            IComparableVersion? old = text is not null && scheme.TryParse(text, out var o) ? o : null;
            var replacement = available.FirstOrDefault(c => (old is null || scheme.Compare(c, old) <= 0) && (old is null || old.IsPrerelease || !c.IsPrerelease));
            if (replacement is null)
            {
                tags.Remove(tag);
            }
            else
            {
                tags[tag] = replacement.Original;
            }
        }
        if (!tags.ContainsKey("latest") && (available.FirstOrDefault(c => !c.IsPrerelease) ?? available.FirstOrDefault()) is { } newest)
        {
            tags["latest"] = newest.Original;
        }
    }
}
