using System.Text;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// Reads the yarn 1 lockfile: a text format of its own (not YAML). Entries start at column 0 with one or more
/// descriptors (<c>"name@range", name@range2:</c>); indented fields follow (<c>version</c>, <c>resolved</c>,
/// <c>integrity</c>, <c>dependencies:</c> with one <c>name "range"</c> per line). The lockfile has no root entry and no
/// workspace entries: direct dependencies and workspace members come from the package.json files.
/// </summary>
internal static class YarnClassicLockReader
{
    private sealed class Entry
    {
        public required List<string> Descriptors { get; init; }
        public required int Line { get; init; }
        public Dictionary<string, string> Fields { get; } = new(StringComparer.Ordinal);
        public List<(string Name, string Range, DependencyScopes Kind)> Dependencies { get; } = [];
    }

    public static ProjectGraph? Read(string lockfilePath, string text, PackageJson? manifest, DiagnosticBag diagnostics)
    {
        var graph = new YarnPnpmBunGraph(lockfilePath, diagnostics);
        if (string.IsNullOrWhiteSpace(text))
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "the file is empty; yarn writes at least the '# yarn lockfile v1' line, even for a project without dependencies",
                graph.At(1, 1), "was the file truncated when it was written? run yarn install again");
            return null;
        }
        var entries = Parse(text, graph, diagnostics, out var supported);
        if (!supported)
        {
            return null;
        }

        var byDescriptor = new Dictionary<string, string>(StringComparer.Ordinal);
        var packages = new List<(Entry Entry, LockedPackage Package)>();
        foreach (var entry in entries)
        {
            if (!entry.Fields.TryGetValue("version", out var version))
            {
                diagnostics.Error(DiagnosticIds.InvalidEntry, $"entry '{entry.Descriptors[0]}' has no version, so its package cannot be checked",
                    graph.At(entry.Line), "the lockfile may be truncated: run yarn install again");
                continue;
            }
            var package = graph.Add(ToPackage(entry, version, graph));
            packages.Add((entry, package));
            foreach (var descriptor in entry.Descriptors)
            {
                byDescriptor[descriptor] = package.Id;
            }
        }

        var files = new List<string> { graph.LockfileDisplay };
        var members = new Dictionary<string, LockedPackage>(StringComparer.Ordinal);
        var memberManifests = new List<(LockedPackage Package, PackageJson Manifest)>();
        if (manifest is not null)
        {
            files.Add(manifest.File);
            foreach (var folder in YarnWorkspaces.Expand(graph.LockDirectory, manifest.Workspaces))
            {
                var member = graph.Member(folder, new SourceLocation(manifest.File));
                if (member?.Name is null)
                {
                    continue;
                }
                files.Add(member.File);
                var package = graph.Add(new LockedPackage
                {
                    Id = "workspace:" + folder,
                    Name = member.Name,
                    Version = member.Version ?? "0.0.0",
                    Origin = new Origin(OriginKind.Workspace, folder),
                    Location = new SourceLocation(member.File, 1, 1),
                    IsProject = true,
                });
                members.TryAdd(member.Name, package);
                memberManifests.Add((package, member));
                graph.AddRootDependency(package.Id, DependencyScopes.Prod);
            }
            foreach (var declared in manifest.Dependencies)
            {
                if (Resolve(declared.Name, declared.Spec, declared.Scope) is { } target)
                {
                    graph.AddRootDependency(target, declared.Scope);
                }
            }
            foreach (var (package, member) in memberManifests)
            {
                foreach (var declared in member.Dependencies)
                {
                    if (Resolve(declared.Name, declared.Spec, declared.Scope) is { } target)
                    {
                        package.Dependencies.Add((target, declared.Scope));
                    }
                }
            }
        }
        else
        {
            diagnostics.Warning(DiagnosticIds.MissingReference, "no package.json beside yarn.lock: direct dependencies and scopes are unknown",
                new SourceLocation(graph.LockfileDisplay), "a yarn 1 lockfile lists packages but not the project's own dependencies; keep package.json beside it");
        }

        foreach (var (entry, package) in packages)
        {
            foreach (var (name, range, kind) in entry.Dependencies)
            {
                package.Dependencies.Add((Resolve(name, range, kind) ?? $"{name}@{range}", kind));
            }
        }
        return graph.Build(manifest, files);

        string? Resolve(string name, string spec, DependencyScopes kind)
        {
            if (byDescriptor.TryGetValue($"{name}@{spec}", out var id))
            {
                return id;
            }
            if (members.TryGetValue(name, out var member))
            {
                return member.Id;
            }
            // yarn 1 does not install peer dependencies: a declared peer with no entry is not an error.
            return kind == DependencyScopes.Peer ? null : $"{name}@{spec}";
        }
    }

    private static LockedPackage ToPackage(Entry entry, string version, YarnPnpmBunGraph graph)
    {
        // The key's name may be an alias ("chalk4@npm:chalk@^4"); the package is the aliased one.
        string? name = null;
        string? spec = null;
        foreach (var descriptor in entry.Descriptors)
        {
            if (YarnPnpmBunGraph.SplitNameAt(descriptor) is not { } split)
            {
                continue;
            }
            if (YarnPnpmBunGraph.NpmAlias(split.Reference) is { } alias)
            {
                name ??= alias.Name;
                spec ??= alias.Range;
            }
            else
            {
                name = split.Name;
                spec = split.Reference;
                break;
            }
        }
        name ??= entry.Descriptors[0];
        spec ??= "";
        entry.Fields.TryGetValue("resolved", out var resolved);
        Origin origin;
        if (spec.StartsWith("file:", StringComparison.Ordinal) || spec.StartsWith("link:", StringComparison.Ordinal))
        {
            origin = new Origin(OriginKind.File, spec[5..]);
        }
        else if (YarnPnpmBunGraph.IsGitSpec(spec) || (resolved is not null && YarnPnpmBunGraph.IsGitSpec(resolved))
            || (!spec.StartsWith('@') && spec.Contains('/', StringComparison.Ordinal) && !spec.Contains(':', StringComparison.Ordinal)))
        {
            // "git+ssh://...", "github:owner/repo" and the "owner/repo" shorthand.
            origin = new Origin(OriginKind.Git, resolved ?? spec);
        }
        else if (YarnPnpmBunGraph.IsUrl(spec))
        {
            origin = new Origin(OriginKind.Url, resolved ?? spec);
        }
        else
        {
            // The fragment of a registry URL is the tarball's sha1, not part of where it comes from.
            var hash = resolved?.IndexOf('#', StringComparison.Ordinal) ?? -1;
            origin = Origin.Registry(hash > 0 ? resolved![..hash] : resolved);
        }
        entry.Fields.TryGetValue("integrity", out var integrity);
        return new LockedPackage
        {
            Id = entry.Descriptors[0],
            Name = name,
            Version = version,
            Origin = origin,
            Integrity = IntegrityHash.ParseSri(integrity),
            Location = graph.At(entry.Line, 1),
        };
    }

    /// <summary>Parses the text into entries; unreadable lines become TG0010 warnings and are skipped.</summary>
    private static List<Entry> Parse(string text, YarnPnpmBunGraph graph, DiagnosticBag diagnostics, out bool supported)
    {
        supported = true;
        var entries = new List<Entry>();
        Entry? current = null;
        string? section = null;
        var lineNumber = 0;
        var skipping = false;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r', ' ', '\t');
            if (line.Length == 0)
            {
                continue;
            }
            var indent = line.Length - line.TrimStart(' ').Length;
            var content = line[indent..];
            if (content.StartsWith('#'))
            {
                if (indent == 0 && content.StartsWith("# yarn lockfile v", StringComparison.Ordinal) && content[17..].Trim() != "1")
                {
                    diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"yarn lockfile version '{content[17..].Trim()}' is not supported",
                        graph.At(lineNumber, 1), "supported: yarn 1 lockfiles (\"# yarn lockfile v1\") and yarn 2+ lockfiles (__metadata version 4 to 10)");
                    supported = false;
                    return entries;
                }
                continue;
            }
            if (indent == 0)
            {
                section = null;
                current = null;
                skipping = false;
                if (!content.EndsWith(':') || SplitDescriptors(content[..^1]) is not { Count: > 0 } descriptors)
                {
                    // yarn itself refuses such a lockfile; skipping the lines would leave their package unchecked.
                    diagnostics.Error(DiagnosticIds.InvalidEntry, "expected an entry header ('name@range:'); the lines up to the next entry could not be read",
                        graph.At(lineNumber, 1), "the lockfile may be damaged or hand-edited: run yarn install again");
                    skipping = true;
                    continue;
                }
                current = new Entry { Descriptors = descriptors, Line = lineNumber };
                entries.Add(current);
                continue;
            }
            if (skipping || current is null)
            {
                if (!skipping)
                {
                    diagnostics.Warning(DiagnosticIds.InvalidEntry, "indented line outside an entry; skipped", graph.At(lineNumber, indent + 1));
                }
                continue;
            }
            if (indent <= 2)
            {
                section = null;
                if (content.EndsWith(':'))
                {
                    section = Unquote(content[..^1]);
                    continue;
                }
                if (SplitPair(content) is { } field)
                {
                    current.Fields[field.Key] = field.Value;
                    continue;
                }
            }
            else if (section is "dependencies" or "optionalDependencies" && SplitPair(content) is { } dependency)
            {
                var kind = section == "optionalDependencies" ? DependencyScopes.Optional : DependencyScopes.Prod;
                current.Dependencies.Add((dependency.Key, dependency.Value, kind));
                continue;
            }
            else if (section is not null)
            {
                // Other nested maps (none in yarn 1 output today) carry nothing the graph needs.
                continue;
            }
            diagnostics.Warning(DiagnosticIds.InvalidEntry, $"cannot read this line of entry '{current.Descriptors[0]}'; skipped",
                graph.At(lineNumber, indent + 1), "expected 'field value' or 'field:'");
        }
        return entries;
    }

    /// <summary>"key value" where either may be double-quoted.</summary>
    private static (string Key, string Value)? SplitPair(string content)
    {
        int end;
        if (content.StartsWith('"'))
        {
            end = ClosingQuote(content, 0);
            if (end < 0)
            {
                return null;
            }
            end++;
        }
        else
        {
            end = content.IndexOf(' ', StringComparison.Ordinal);
            if (end < 0)
            {
                return null;
            }
        }
        var key = Unquote(content[..end]);
        var value = content[end..].Trim();
        if (value.Length == 0 || (value.StartsWith('"') && ClosingQuote(value, 0) != value.Length - 1))
        {
            return null;
        }
        return (key, Unquote(value));
    }

    /// <summary>Splits a header's descriptors on commas outside quotes.</summary>
    private static List<string>? SplitDescriptors(string header)
    {
        var result = new List<string>();
        var i = 0;
        while (i < header.Length)
        {
            while (i < header.Length && header[i] == ' ')
            {
                i++;
            }
            if (i >= header.Length)
            {
                break;
            }
            int end;
            if (header[i] == '"')
            {
                var close = ClosingQuote(header, i);
                if (close < 0)
                {
                    return null;
                }
                result.Add(Unquote(header[i..(close + 1)]));
                end = close + 1;
            }
            else
            {
                end = header.IndexOf(',', i);
                if (end < 0)
                {
                    end = header.Length;
                }
                result.Add(header[i..end].Trim());
            }
            while (end < header.Length && header[end] == ' ')
            {
                end++;
            }
            if (end < header.Length && header[end] != ',')
            {
                return null;
            }
            i = end + 1;
        }
        return result.All(d => d.Length > 0) ? result : null;
    }

    private static int ClosingQuote(string text, int open)
    {
        for (var i = open + 1; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == '"')
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Removes double quotes and resolves the JSON-style escapes yarn writes inside them.</summary>
    private static string Unquote(string text)
    {
        if (text.Length < 2 || text[0] != '"' || text[^1] != '"')
        {
            return text;
        }
        var sb = new StringBuilder(text.Length);
        for (var i = 1; i < text.Length - 1; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length - 1)
            {
                i++;
                sb.Append(text[i] switch
                {
                    'n' => '\n',
                    't' => '\t',
                    _ => text[i],
                });
            }
            else
            {
                sb.Append(text[i]);
            }
        }
        return sb.ToString();
    }
}
