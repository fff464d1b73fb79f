using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// Classifies where an npm package comes from, from a lockfile's <c>resolved</c> field or a manifest's spec,
/// and builds its purl (with <c>vcs_url</c> / <c>download_url</c> qualifiers for git and URL origins).
/// </summary>
internal static class NpmSource
{
    /// <summary>
    /// The origin of a package whose lockfile entry says it was <paramref name="resolved"/> from there.
    /// Registry tarballs are recognised by their shape (<c>…/NAME/-/BASENAME-VERSION.tgz</c>), which every npm
    /// registry and mirror uses, so a private registry is still a registry; any other http(s) URL is a URL origin.
    /// </summary>
    public static Origin FromResolved(string? resolved, string name, string version)
    {
        if (string.IsNullOrEmpty(resolved))
        {
            // The machine default omits resolved URLs for registry packages.
            return Origin.Registry();
        }
        if (IsGit(resolved))
        {
            return new Origin(OriginKind.Git, resolved);
        }
        if (resolved.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || resolved.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return IsRegistryShaped(resolved, name, version) ? Origin.Registry(resolved) : new Origin(OriginKind.Url, resolved);
        }
        if (resolved.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return new Origin(OriginKind.File, resolved["file:".Length..]);
        }
        // A bare relative path (link targets in v2/v3 lockfiles).
        return new Origin(OriginKind.File, resolved);
    }

    /// <summary>True for git URLs and hosted-git shortcuts as npm writes them.</summary>
    public static bool IsGit(string spec) =>
        spec.StartsWith("git+", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("git:", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("github:", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("gitlab:", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("bitbucket:", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("gist:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether a URL has the path a registry gives a package tarball: <c>…/@scope/name/-/name-1.2.3.tgz</c>.</summary>
    public static bool IsRegistryShaped(string url, string name, string version)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }
        var path = Uri.UnescapeDataString(uri.AbsolutePath);
        var dash = path.LastIndexOf("/-/", StringComparison.Ordinal);
        if (dash < 0 || !path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var package = path[..dash];
        var file = path[(dash + 3)..];
        var baseName = name.StartsWith('@') && name.Contains('/', StringComparison.Ordinal) ? name[(name.IndexOf('/', StringComparison.Ordinal) + 1)..] : name;
        // Some registries repeat the scope in the file part (@scope/name/-/@scope/name-1.0.0.tgz).
        var fileBase = file.Contains('/', StringComparison.Ordinal) ? file[(file.LastIndexOf('/') + 1)..] : file;
        return package.EndsWith("/" + name, StringComparison.OrdinalIgnoreCase)
            && fileBase.Equals($"{baseName}-{version}.tgz", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The purl of a component: qualifiers record where git and URL packages come from.</summary>
    public static PackageUrl Purl(string name, string? version, Origin origin)
    {
        ImmutableSortedDictionary<string, string>? qualifiers = origin.Kind switch
        {
            OriginKind.Git when origin.Location is not null => ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>("vcs_url", origin.Location)]),
            OriginKind.Url when origin.Location is not null => ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>("download_url", origin.Location)]),
            _ => null,
        };
        return PackageUrl.For(Ecosystem.Npm, name, string.IsNullOrEmpty(version) ? null : version, qualifiers);
    }

    /// <summary>
    /// Splits an alias spec <c>npm:real-name@range</c> into the real name and the range; false for any other spec.
    /// </summary>
    public static bool TryParseAlias(string spec, out string realName, out string range)
    {
        realName = "";
        range = "";
        if (!spec.StartsWith("npm:", StringComparison.Ordinal))
        {
            return false;
        }
        var rest = spec[4..];
        // The version separator is the first '@' after the scope's own '@'.
        var at = rest.IndexOf('@', rest.StartsWith('@') ? 1 : 0);
        if (at < 0)
        {
            realName = rest;
            range = "*";
        }
        else
        {
            realName = rest[..at];
            range = rest[(at + 1)..];
        }
        return realName.Length > 0;
    }

    /// <summary>The package name in a node_modules path: the part after the last <c>node_modules/</c>.</summary>
    public static string NameFromPath(string path)
    {
        const string Marker = "node_modules/";
        var index = path.LastIndexOf(Marker, StringComparison.Ordinal);
        if (index >= 0)
        {
            return path[(index + Marker.Length)..];
        }
        var slash = path.LastIndexOf('/');
        return slash >= 0 ? path[(slash + 1)..] : path;
    }
}
