using System.Globalization;
using Tollgate.Graph;
using Tollgate.Inputs;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// Reads the YAML lockfile of yarn 2 and later. Each entry's key lists descriptors (<c>"lodash@npm:^4.17.0"</c>),
/// its <c>resolution</c> is the locator of the package picked (<c>lodash@npm:4.17.21</c>), and workspaces are entries
/// with <c>workspace:</c> locators, the root being <c>name@workspace:.</c>. Patched packages
/// (<c>resolve@patch:resolve@npm%3A1.22.8#...</c>) are the package they patch.
/// </summary>
/// <remarks>
/// The lockfile does not say which packages have install scripts (yarn keeps that in its install state;
/// <c>dependenciesMeta.built: false</c> only records that a user turned a build off), so
/// <see cref="Component.HasInstallScript"/> stays unknown. <c>peerDependencies</c> are not edges: yarn resolves them
/// from the parent at install time and the lockfile does not record the result.
/// </remarks>
internal static class YarnBerryLockReader
{
    /// <summary>The <c>__metadata.version</c> values known: 4 and 5 (yarn 2), 6 (yarn 3), 8 to 10 (yarn 4).</summary>
    private const int MinVersion = 4;
    private const int MaxVersion = 10;

    /// <summary>
    /// The integrity algorithm name recorded for yarn's <c>checksum</c> field: a SHA-512 (hex) of the zip archive yarn
    /// stores in its cache, prefixed with the cache key (<c>10c0/...</c>). It is not the hash of the registry tarball, so
    /// it cannot be compared with npm's <c>integrity</c>.
    /// </summary>
    public const string ChecksumAlgorithm = "yarn-checksum";

    public static ProjectGraph? Read(string lockfilePath, string text, PackageJson? manifest, DiagnosticBag diagnostics)
    {
        var graph = new YarnPnpmBunGraph(lockfilePath, diagnostics);
        var display = graph.LockfileDisplay;
        var root = YarnPnpmYaml.Load(text, display, diagnostics);
        if (root is null)
        {
            return null;
        }
        var metadata = root.GetMap("__metadata");
        var versionNode = metadata?.Get("version");
        var versionText = (versionNode as YamlScalarNode)?.Value;
        if (!int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || version is < MinVersion or > MaxVersion)
        {
            diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"yarn lockfile __metadata version '{versionText}' is not supported",
                versionNode is null ? new SourceLocation(display, 1, 1) : YarnPnpmYaml.LocationOf(versionNode, display),
                $"supported: yarn 1 lockfiles and __metadata version {MinVersion} to {MaxVersion} (yarn 2 to 4)");
            return null;
        }

        var byDescriptor = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(YamlMappingNode Entry, LockedPackage Package)>();
        LockedPackage? rootEntry = null;
        YamlMappingNode? rootNode = null;
        var files = new List<string> { display };
        if (manifest is not null)
        {
            files.Add(manifest.File);
        }
        var memberManifests = new Dictionary<string, PackageJson>(StringComparer.Ordinal);
        foreach (var (key, value) in root.Children)
        {
            if (key is not YamlScalarNode { Value: { } descriptors } || descriptors == "__metadata")
            {
                continue;
            }
            var location = YarnPnpmYaml.LocationOf(key, display);
            if (value is not YamlMappingNode entry || entry.GetString("resolution") is not { } resolution)
            {
                diagnostics.Warning(DiagnosticIds.InvalidEntry, $"entry '{descriptors}' has no resolution; skipped",
                    location, "the lockfile may be damaged or hand-edited: run yarn install again");
                continue;
            }
            if (Identify(resolution) is not { } identity)
            {
                diagnostics.Warning(DiagnosticIds.InvalidEntry, $"cannot read the resolution '{resolution}'; entry skipped", location);
                continue;
            }
            var (name, reference, origin) = identity;
            var isRoot = origin.Kind == OriginKind.Workspace && origin.Location == ".";
            PackageJson? member = null;
            if (origin.Kind == OriginKind.Workspace && !isRoot)
            {
                member = graph.Member(origin.Location!, location);
                if (member is not null)
                {
                    memberManifests[resolution] = member;
                    files.Add(member.File);
                }
            }
            var entryVersion = entry.GetString("version");
            var package = new LockedPackage
            {
                Id = resolution,
                Name = name,
                // Workspaces are written as "0.0.0-use.local"; their package.json says what they really are.
                Version = (origin.Kind == OriginKind.Workspace ? member?.Version : null) ?? entryVersion ?? reference,
                Origin = origin,
                Integrity = entry.GetString("checksum") is { Length: > 0 } checksum ? [new IntegrityHash(ChecksumAlgorithm, checksum)] : [],
                Location = location,
                IsProject = origin.Kind == OriginKind.Workspace,
            };
            foreach (var descriptor in descriptors.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                byDescriptor[descriptor] = resolution;
            }
            if (isRoot)
            {
                rootEntry = package;
                rootNode = entry;
                continue;
            }
            entries.Add((entry, graph.Add(package)));
            if (package.IsProject)
            {
                graph.AddRootDependency(package.Id, DependencyScopes.Prod);
            }
        }

        if (rootNode is not null)
        {
            foreach (var (target, kind) in Dependencies(rootNode, rootEntry!.Id, manifest))
            {
                graph.AddRootDependency(target, kind);
            }
        }
        else if (manifest is not null)
        {
            diagnostics.Warning(DiagnosticIds.MissingReference, "the lockfile has no entry for the root workspace ('name@workspace:.')",
                new SourceLocation(display), "run yarn install to bring the lockfile up to date");
        }
        foreach (var (entry, package) in entries)
        {
            package.Dependencies.AddRange(Dependencies(entry, package.Id, package.IsProject ? memberManifests.GetValueOrDefault(package.Id) : null));
        }
        return graph.Build(manifest, files, rootEntry?.Name);

        IEnumerable<(string Target, DependencyScopes Kind)> Dependencies(YamlMappingNode entry, string locator, PackageJson? owner)
        {
            var meta = entry.GetMap("dependenciesMeta");
            foreach (var (name, range, _) in entry.GetMap("dependencies").ScalarPairs())
            {
                // Old lockfiles (version 4) write "^1.0.0" where newer ones write "npm:^1.0.0".
                // file: and other relative descriptors are bound to the package that declares them ("::locator=...").
                var target = Lookup(name, range, locator)
                    ?? (Resolution(name, range, locator) is { } resolved ? Lookup(name, resolved, locator) : null)
                    ?? $"{name}@{range}";
                var kind = DependencyScopes.Prod;
                if (owner is not null && owner.Dependencies.Any(d => d.Name == name && d.Scope == DependencyScopes.Dev)
                    && !owner.Dependencies.Any(d => d.Name == name && d.Scope is DependencyScopes.Prod or DependencyScopes.Optional))
                {
                    // A workspace's entry merges dependencies and devDependencies; its package.json tells them apart.
                    kind = DependencyScopes.Dev;
                }
                if (meta?.GetMap(name)?.GetBool("optional") == true
                    || (owner is not null && owner.Dependencies.Any(d => d.Name == name && d.Scope == DependencyScopes.Optional)))
                {
                    kind |= DependencyScopes.Optional;
                }
                yield return (target, kind);
            }
            // peerDependencies are provided by the parent, which has its own edge to the provider.
        }

        string? Lookup(string name, string range, string locator) =>
            byDescriptor.GetValueOrDefault($"{name}@{range}")
            ?? byDescriptor.GetValueOrDefault($"{name}@{range}::locator={Uri.EscapeDataString(locator)}")
            ?? byDescriptor.GetValueOrDefault($"{name}@npm:{range}");

        // The root package.json's resolutions replace a dependent's descriptor before yarn resolves it, and the
        // lockfile keeps the dependent's own descriptor: "next" lists "@next/swc-darwin-x64": "npm:16.4.6" while
        // the entry is "@next/swc-darwin-x64@npm:16.4.5".
        string? Resolution(string name, string range, string locator)
        {
            if (manifest is null || manifest.Resolutions.IsEmpty)
            {
                return null;
            }
            var bare = range.StartsWith("npm:", StringComparison.Ordinal) ? range[4..] : range;
            var parent = YarnPnpmBunGraph.SplitNameAt(locator)?.Name;
            // Most specific first: under this parent, for this range, for the name anywhere.
            string[] underParent = parent is null ? [] : [$"{parent}/{name}@{bare}", $"{parent}/{name}"];
            string[] patterns = [.. underParent, $"{name}@{bare}", $"{name}@{range}", name, $"**/{name}"];
            foreach (var pattern in patterns)
            {
                if (manifest.Resolutions.TryGetValue(pattern, out var replacement))
                {
                    return replacement;
                }
            }
            return null;
        }
    }

    /// <summary>The URL-decoded value of one <c>key=value</c> pair of a locator's <c>&amp;</c>-separated parameters.</summary>
    private static string? Parameter(string parameters, string key)
    {
        foreach (var pair in parameters.Split('&'))
        {
            if (pair.StartsWith(key + "=", StringComparison.Ordinal))
            {
                return Uri.UnescapeDataString(pair[(key.Length + 1)..]);
            }
        }
        return null;
    }

    /// <summary>Name, version-like reference and origin of a locator (<c>name@protocol:reference</c>).</summary>
    private static (string Name, string Reference, Origin Origin)? Identify(string locator)
    {
        string name, reference;
        // A patch of a patch is possible; a hostile lockfile could nest them without end, so the depth is bounded.
        for (var depth = 0; ; depth++)
        {
            if (YarnPnpmBunGraph.SplitNameAt(locator) is not { } split)
            {
                return null;
            }
            (name, reference) = split;
            if (!reference.StartsWith("patch:", StringComparison.Ordinal))
            {
                break;
            }
            if (depth == 8)
            {
                return null;
            }
            // "patch:resolve@npm%3A1.22.8#~builtin<compat/resolve>::version=..."; the patched locator is URL-encoded.
            var hash = reference.IndexOf('#', StringComparison.Ordinal);
            locator = Uri.UnescapeDataString(hash > 0 ? reference[6..hash] : reference[6..]);
        }
        if (reference.StartsWith("npm:", StringComparison.Ordinal))
        {
            // "npm:1.0.0::__archiveUrl=https%3A..." is a package whose tarball is not at the registry's usual place.
            // Searched after "npm:": "npm::1.0.0" has "::" overlapping the protocol's ':'.
            var parameters = reference.IndexOf("::", 4, StringComparison.Ordinal);
            var archive = parameters < 0 ? null : Parameter(reference[(parameters + 2)..], "__archiveUrl");
            return (name, parameters < 0 ? reference[4..] : reference[4..parameters], Origin.Registry(archive));
        }
        if (reference.StartsWith("workspace:", StringComparison.Ordinal))
        {
            return (name, reference, new Origin(OriginKind.Workspace, reference[10..]));
        }
        foreach (var protocol in new[] { "file:", "link:", "portal:", "exec:" })
        {
            if (reference.StartsWith(protocol, StringComparison.Ordinal))
            {
                // "file:./lib#./lib::hash=..&locator=..": the path is before '#' or '::'.
                var path = reference[protocol.Length..];
                var cut = path.IndexOfAny(['#', ':']);
                return (name, reference, new Origin(OriginKind.File, cut > 0 ? path[..cut] : path));
            }
        }
        if (YarnPnpmBunGraph.IsGitSpec(reference))
        {
            return (name, reference, new Origin(OriginKind.Git, reference));
        }
        return (name, reference, new Origin(OriginKind.Url, reference));
    }
}
