using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// A package.json with no lockfile: only the direct dependencies are known, and only as ranges
/// (<see cref="Component.Resolved"/> is false, <see cref="Component.Version"/> holds the range).
/// </summary>
internal static class ManifestOnlyReader
{
    public static ProjectGraph Read(PackageJson manifest, DiagnosticBag diagnostics)
    {
        diagnostics.Info(DiagnosticIds.Unresolved, "no lockfile: versions are ranges, and dependencies of dependencies are unknown",
            new SourceLocation(manifest.File), "commit a lockfile (npm install --package-lock-only) to pin exact versions");
        var rootKey = ProjectRoot.KeyFor(manifest.File);
        var components = new Dictionary<string, Component>(StringComparer.Ordinal);
        foreach (var declared in manifest.Dependencies)
        {
            var (name, range, origin) = Interpret(declared.Name, declared.Spec);
            if (!PackageNames.Check(Ecosystem.Npm, name, declared.Location, diagnostics))
            {
                continue;
            }
            var component = new Component
            {
                Ecosystem = Ecosystem.Npm,
                Name = name,
                Version = range,
                // A range is not a version: the purl names the package only.
                Purl = NpmSource.Purl(name, null, origin),
                Resolved = false,
                Scopes = declared.Scope,
                Direct = true,
                Origin = origin,
                Locations = [declared.Location],
            };
            components[component.Key] = components.TryGetValue(component.Key, out var existing)
                ? GraphMerger.Combine(existing, component)
                : component;
        }
        var root = new ProjectRoot(rootKey, Ecosystem.Npm, manifest.Name, manifest.Version, manifest.File, [manifest.File]);
        return new ProjectGraph(root, [.. components.Values], [.. components.Values.Select(c => new DependencyEdge(rootKey, c.Key))]);
    }

    /// <summary>The real name, the range and the origin a package.json spec stands for.</summary>
    internal static (string Name, string Range, Origin Origin) Interpret(string name, string spec)
    {
        if (NpmSource.TryParseAlias(spec, out var realName, out var range))
        {
            return (realName, range, Origin.Registry());
        }
        if (NpmSource.IsGit(spec) || IsHostedGitShortcut(spec))
        {
            return (name, spec, new Origin(OriginKind.Git, spec));
        }
        if (spec.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return (name, spec, new Origin(OriginKind.Url, spec));
        }
        if (spec.StartsWith("file:", StringComparison.Ordinal) || spec.StartsWith("link:", StringComparison.Ordinal))
        {
            return (name, spec, new Origin(OriginKind.File, spec[5..]));
        }
        if (spec.StartsWith("workspace:", StringComparison.Ordinal))
        {
            return (name, spec, new Origin(OriginKind.Workspace, spec[10..]));
        }
        return (name, spec.Length == 0 ? "*" : spec, Origin.Registry());
    }

    /// <summary><c>user/repo</c> and <c>user/repo#ref</c> are GitHub shortcuts in a package.json.</summary>
    private static bool IsHostedGitShortcut(string spec)
    {
        var slash = spec.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && !spec.StartsWith('@') && !spec.Contains(':', StringComparison.Ordinal)
            && !spec.StartsWith('.') && !spec.StartsWith('/') && !spec.Contains(' ', StringComparison.Ordinal);
    }
}
