using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// Reads pip requirements files: pins and ranges, hashes, extras, markers, editable and direct (VCS, URL, path)
/// requirements, and <c>-r</c>/<c>-c</c> includes relative to the including file. A requirements file has no edges,
/// so every requirement hangs from the root, except in files compiled by pip-compile or uv, whose <c># via</c>
/// comments say which package pulled each one in: those become the edges, and only packages "via -r" are direct.
/// </summary>
internal static partial class RequirementsFileReader
{
    private sealed record Entry(
        string Name,
        string Version,
        bool Resolved,
        Origin Origin,
        ImmutableArray<IntegrityHash> Hashes,
        SourceLocation Location,
        string? Marker,
        bool Editable)
    {
        public List<string> Via { get; } = [];
    }

    /// <summary>Longest chain of files including each other (pip itself stops near a thousand, its recursion limit).</summary>
    private const int MaxIncludeDepth = 100;

    private sealed class State(string topFile, DiagnosticBag diagnostics)
    {
        public string TopFile { get; } = topFile;
        public DiagnosticBag Diagnostics { get; } = diagnostics;
        public List<Entry> Entries { get; } = [];
        public Dictionary<string, string> Constraints { get; } = new(StringComparer.Ordinal);
        public List<string> Files { get; } = [];
        public HashSet<string> Visited { get; } = new(StringComparer.Ordinal);
        public string? IndexUrl { get; set; }
        public bool Compiled { get; set; }
    }

    /// <summary>Reads one top-level requirements file (and what it includes) as one project.</summary>
    public static IReadOnlyList<ProjectGraph> Read(string path, DiagnosticBag diagnostics)
    {
        var full = Path.GetFullPath(path);
        var state = new State(full, diagnostics);
        if (!ReadFile(full, [full], constraint: false, state))
        {
            return [];
        }
        var file = InputFile.DisplayPath(full);
        var scope = IsDevFileName(Path.GetFileName(full)) ? DependencyScopes.Dev : DependencyScopes.Prod;
        var graph = new LockGraph();
        var keys = new List<(Entry Entry, string Key)>();
        var unresolved = 0;
        foreach (var entry in state.Entries)
        {
            if (!PackageNames.Check(Ecosystem.PyPI, entry.Name, entry.Location, diagnostics))
            {
                continue;
            }
            var version = entry.Version;
            var resolved = entry.Resolved;
            // A constraints file may pin what the requirements leave open: pip installs the constrained version.
            if (!resolved && entry.Origin.Kind == OriginKind.Registry && state.Constraints.TryGetValue(Component.NormalizePyPIName(entry.Name), out var pinned))
            {
                version = pinned;
                resolved = true;
            }
            if (!resolved)
            {
                unresolved++;
            }
            var origin = entry.Origin.Kind == OriginKind.Registry && state.IndexUrl is not null ? Origin.Registry(state.IndexUrl) : entry.Origin;
            var component = PyPIComponents.Create(entry.Name, version, entry.Location, origin, resolved, scope, integrity: entry.Hashes);
            keys.Add((entry, graph.Add(component)));
        }

        var direct = new List<(string, DependencyScopes)>();
        if (state.Compiled)
        {
            var byName = keys.ToLookup(k => Component.NormalizePyPIName(k.Entry.Name), StringComparer.Ordinal);
            foreach (var (entry, key) in keys)
            {
                var fromRoot = entry.Via.Count == 0;
                foreach (var via in entry.Via)
                {
                    if (IsRootVia(via))
                    {
                        fromRoot = true;
                        continue;
                    }
                    if (via.StartsWith("-c", StringComparison.Ordinal))
                    {
                        continue;
                    }
                    var parents = byName[Component.NormalizePyPIName(via)].ToList();
                    foreach (var parent in parents)
                    {
                        graph.AddEdge(parent.Key, key);
                    }
                }
                // A package whose every "via" names something the file does not pin (pip-compile leaves out
                // setuptools unless --allow-unsafe) would be unreachable; hang it from the root.
                if (fromRoot || !entry.Via.Any(v => byName[Component.NormalizePyPIName(v)].Any() || v.StartsWith("-c", StringComparison.Ordinal)))
                {
                    direct.Add((key, scope));
                }
            }
        }
        else
        {
            direct.AddRange(keys.Select(k => (k.Key, scope)));
        }
        if (unresolved > 0)
        {
            diagnostics.Warning(DiagnosticIds.Unresolved, $"{unresolved} requirement(s) are not pinned to one version; their versions are ranges",
                new SourceLocation(file), "pin every requirement (pip-compile or 'uv pip compile' write a fully pinned file)");
        }
        var root = new ProjectRoot(ProjectRoot.KeyFor(file), Ecosystem.PyPI, null, null, file, [.. state.Files.Select(InputFile.DisplayPath)]);
        return [graph.Build(root, direct, propagateScopes: false)];
    }

    /// <summary>"-r requirements.in" or "name (pyproject.toml)": the compiled file's own inputs, so the package is direct.</summary>
    private static bool IsRootVia(string via) =>
        via.StartsWith("-r", StringComparison.Ordinal) || via.EndsWith(')') && via.Contains(" (", StringComparison.Ordinal);

    /// <summary>requirements-dev.txt, test-requirements.txt and the like hold development tools.</summary>
    internal static bool IsDevFileName(string fileName) => DevName().IsMatch(fileName);

    [GeneratedRegex(@"(^|[-_.])(dev|develop|development|test|tests|testing|lint|docs|doc)([-_.]|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DevName();

    /// <summary>
    /// The files a requirements file includes with -r or -c (full paths), read without diagnostics, so a folder's
    /// included files are not read again as projects of their own.
    /// </summary>
    public static IEnumerable<string> Includes(string path)
    {
        // Through InputFile, for its size limits; problems are reported when the file is read as a project.
        var text = InputFile.ReadText(path, new DiagnosticBag());
        if (text is null)
        {
            yield break;
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        foreach (var line in text.Split('\n'))
        {
            // A path no file can have includes nothing; reading the file reports it.
            if (IncludeLine().Match(line) is { Success: true } m && !m.Groups["path"].Value.Contains("://", StringComparison.Ordinal)
                && InputPath.TryResolve(dir, m.Groups["path"].Value) is { } included)
            {
                yield return included;
            }
        }
    }

    [GeneratedRegex(@"^\s*(-r|-c|--requirement|--constraint)(\s*=\s*|\s+|(?=[^-\s]))(?<path>[^\s#]+)", RegexOptions.CultureInvariant)]
    private static partial Regex IncludeLine();

    /// <summary>A joined logical line: its text, the physical line it starts on, and where each physical line's text begins in it.</summary>
    private sealed record LogicalLine(string Text, int Line, bool IsComment, string Raw);

    private static bool ReadFile(string fullPath, List<string> chain, bool constraint, State state)
    {
        var text = InputFile.ReadText(fullPath, state.Diagnostics);
        if (text is null || InputFile.RefuseNul(text, InputFile.DisplayPath(fullPath), state.Diagnostics))
        {
            return false;
        }
        state.Visited.Add(fullPath);
        state.Files.Add(fullPath);
        var file = InputFile.DisplayPath(fullPath);
        var dir = Path.GetDirectoryName(fullPath) ?? ".";
        Entry? last = null;
        var viaBlock = false;
        foreach (var line in JoinLines(text))
        {
            if (line.IsComment)
            {
                var comment = line.Raw.TrimStart()[1..];
                var trimmed = comment.Trim();
                if (last is not null && trimmed == "via")
                {
                    viaBlock = true;
                    state.Compiled = state.Compiled || fullPath == state.TopFile;
                }
                else if (last is not null && trimmed.StartsWith("via ", StringComparison.Ordinal))
                {
                    last.Via.Add(trimmed[4..].Trim());
                    viaBlock = false;
                    state.Compiled = state.Compiled || fullPath == state.TopFile;
                }
                else if (viaBlock && last is not null && comment.StartsWith("   ", StringComparison.Ordinal) && trimmed.Length > 0)
                {
                    last.Via.Add(trimmed);
                }
                else
                {
                    viaBlock = false;
                }
                continue;
            }
            viaBlock = false;
            var content = StripComment(line.Text);
            var start = content.Length - content.TrimStart().Length;
            content = content.Trim();
            if (content.Length == 0)
            {
                continue;
            }
            var column = start + 1;
            if (content.StartsWith('-'))
            {
                var (option, value, valueColumn) = SplitOption(content, column);
                switch (option)
                {
                    case "-r" or "--requirement" or "-c" or "--constraint":
                        Include(option is "-c" or "--constraint" || constraint, value, new SourceLocation(file, line.Line, valueColumn), dir, chain, state);
                        break;
                    case "-e" or "--editable":
                        last = Requirement(value, new SourceLocation(file, line.Line, valueColumn), dir, editable: true, constraint, state) ?? last;
                        break;
                    case "-i" or "--index-url":
                        state.IndexUrl ??= value;
                        break;
                    case "--extra-index-url" or "-f" or "--find-links" or "--no-binary" or "--only-binary" or "--prefer-binary"
                        or "--require-hashes" or "--pre" or "--trusted-host" or "--use-feature" or "--no-index" or "--hash"
                        or "--config-settings" or "-C" or "--global-option" or "-Z" or "--always-unzip" or "--no-deps":
                        // Options that change how pip finds or builds packages, not which ones: nothing to record.
                        break;
                    default:
                        state.Diagnostics.Warning(DiagnosticIds.InvalidEntry, $"unknown option '{option}'; the line is skipped",
                            new SourceLocation(file, line.Line, column), "pip rejects unknown options too: check the spelling");
                        break;
                }
                continue;
            }
            last = Requirement(content, new SourceLocation(file, line.Line, column), dir, editable: false, constraint, state) ?? last;
        }
        return true;
    }

    private static void Include(bool constraint, string value, SourceLocation at, string dir, List<string> chain, State state)
    {
        if (value.Length == 0)
        {
            state.Diagnostics.Error(DiagnosticIds.InvalidEntry, "-r/-c needs a file name", at);
            return;
        }
        if (value.Contains("://", StringComparison.Ordinal))
        {
            state.Diagnostics.Warning(DiagnosticIds.MissingReference, $"remote include '{value}' is not fetched", at,
                "tollgate reads local files only: download the file and include it by path");
            return;
        }
        if (InputPath.Resolve(dir, value, at, state.Diagnostics) is not { } target)
        {
            return;
        }
        if (chain.Contains(target, StringComparer.Ordinal))
        {
            var cycle = string.Join(" -> ", chain.Append(target).SkipWhile(p => p != target).Select(p => Path.GetFileName(p)));
            state.Diagnostics.Error(DiagnosticIds.IncludeCycle, $"include cycle: {cycle}", at,
                "remove one of the -r/-c lines; pip stops with an error on this file");
            return;
        }
        if (!File.Exists(target))
        {
            state.Diagnostics.Error(DiagnosticIds.MissingReference, $"included file '{value}' does not exist", at,
                "paths in -r/-c are relative to the file that includes them");
            return;
        }
        if (state.Visited.Contains(target))
        {
            return;
        }
        if (chain.Count >= MaxIncludeDepth)
        {
            // Each level is a nested call: thousands of files including each other in a chain would overflow the stack.
            state.Diagnostics.Error(DiagnosticIds.TooDeep, $"-r/-c includes nested more than {MaxIncludeDepth} files deep", at,
                "no project chains its requirements this deep: the files are damaged or hostile");
            return;
        }
        ReadFile(target, [.. chain, target], constraint, state);
    }

    /// <summary>Parses one requirement (with its per-line options) and records it; null when it is not one.</summary>
    private static Entry? Requirement(string content, SourceLocation at, string dir, bool editable, bool constraint, State state)
    {
        var (text, hashes) = SplitRequirementOptions(content);
        Entry? entry;
        if (LooksLikeUrlOrPath(text))
        {
            entry = DirectReference(text, at, dir, editable, hashes, state);
        }
        else if (!PythonRequirement.TryParse(text, out var req, out var error, out var offset))
        {
            state.Diagnostics.Error(DiagnosticIds.InvalidEntry, $"cannot parse requirement '{text}': {error}",
                at with { Column = at.Column + offset }, "write it as PEP 508: name[extras] specifier ; marker");
            return null;
        }
        else if (req.Url is not null)
        {
            var (version, resolved) = PyPIComponents.DirectVersion(req.Url, req.Name);
            entry = new Entry(req.Name, version, resolved, PyPIComponents.OriginOfUrl(req.Url), hashes, at, req.Marker, editable);
        }
        else
        {
            var pin = req.PinnedVersion;
            entry = new Entry(req.Name, pin ?? (req.Specifier.Length == 0 ? "*" : req.Specifier), pin is not null, Origin.Registry(), hashes, at, req.Marker, editable);
        }
        if (entry is null)
        {
            return null;
        }
        if (constraint)
        {
            if (entry.Resolved && entry.Origin.Kind == OriginKind.Registry)
            {
                state.Constraints[Component.NormalizePyPIName(entry.Name)] = entry.Version;
            }
            return null;
        }
        state.Entries.Add(entry);
        return entry;
    }

    /// <summary>A bare URL or path (<c>git+https://…#egg=name</c>, <c>./pkg</c>, <c>file:…</c>, <c>dist/x.whl</c>), as pip accepts.</summary>
    private static bool LooksLikeUrlOrPath(string text) =>
        !NamedReference().IsMatch(text) && (text.Contains("://", StringComparison.Ordinal) && !text.Contains(" @", StringComparison.Ordinal) && !text.Contains("@ ", StringComparison.Ordinal)
        || text.StartsWith("file:", StringComparison.OrdinalIgnoreCase)
        || text.StartsWith('.') || text.StartsWith('/') || text.StartsWith('~') || text.StartsWith('\\')
        || (text.Length > 2 && text[1] == ':' && text[2] is '\\' or '/')
        || text.EndsWith(".whl", StringComparison.OrdinalIgnoreCase) || text.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase)
        || text.EndsWith(".zip", StringComparison.OrdinalIgnoreCase));

    /// <summary><c>name @ url</c> and <c>name[extras] @ url</c>: a PEP 508 direct reference, not a bare URL.</summary>
    // Not "\s*(\[...\])?\s*@": two runs of spaces that can share the same spaces are tried in every split, which
    // took seconds on lines with thousands of spaces.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\]\s*)?@", RegexOptions.CultureInvariant)]
    private static partial Regex NamedReference();

    private static Entry? DirectReference(string text, SourceLocation at, string dir, bool editable, ImmutableArray<IntegrityHash> hashes, State state)
    {
        var (reference, marker) = SplitMarker(text);
        var egg = EggName().Match(reference) is { Success: true } m ? m.Groups[1].Value : null;
        var isUrl = reference.Contains("://", StringComparison.Ordinal);
        var origin = isUrl ? PyPIComponents.OriginOfUrl(reference) : new Origin(OriginKind.File, reference);
        var name = egg;
        if (name is null && !PyPIComponents.IsVcsUrl(reference))
        {
            name = NameFromFileName(reference);
            if (name is null && !isUrl)
            {
                // A local project folder: its pyproject.toml says its name; the folder name is the best guess otherwise.
                var local = reference.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? reference[5..].TrimStart('/') : reference;
                name = ProjectName(Path.Combine(dir, local)) ?? Path.GetFileName(local.TrimEnd('/', '\\'));
            }
        }
        if (string.IsNullOrEmpty(name))
        {
            state.Diagnostics.Error(DiagnosticIds.InvalidEntry, $"cannot tell the package name of '{reference}'", at,
                "add '#egg=NAME' to the URL, or write it as 'NAME @ URL'");
            return null;
        }
        var (version, resolved) = PyPIComponents.DirectVersion(reference, name);
        return new Entry(name, version, resolved, origin, hashes, at, marker, editable);
    }

    private static string? NameFromFileName(string reference)
    {
        var file = reference;
        var cut = file.IndexOfAny(['#', '?']);
        if (cut >= 0)
        {
            file = file[..cut];
        }
        file = file[(file.LastIndexOfAny(['/', '\\']) + 1)..];
        if (file.EndsWith(".whl", StringComparison.OrdinalIgnoreCase))
        {
            var dash = file.IndexOf('-', StringComparison.Ordinal);
            return dash > 0 ? file[..dash] : null;
        }
        foreach (var suffix in new[] { ".tar.gz", ".zip" })
        {
            if (file.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                var stem = file[..^suffix.Length];
                var dash = stem.LastIndexOf('-');
                return dash > 0 ? stem[..dash] : null;
            }
        }
        return null;
    }

    private static string? ProjectName(string folder)
    {
        var pyproject = Path.Combine(folder, "pyproject.toml");
        if (!File.Exists(pyproject))
        {
            return null;
        }
        // Problems in the local project's own pyproject.toml are that project's business, not this file's.
        var doc = LocatedToml.ParseFile(pyproject, new DiagnosticBag());
        return doc?.GetTable("project")?.GetString("name") ?? doc?.GetTablePath("tool.poetry")?.GetString("name");
    }

    [GeneratedRegex(@"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)", RegexOptions.CultureInvariant)]
    private static partial Regex EggName();

    private static (string Reference, string? Marker) SplitMarker(string text)
    {
        var semicolon = text.IndexOf(" ;", StringComparison.Ordinal);
        return semicolon < 0 ? (text.Trim(), null) : (text[..semicolon].Trim(), text[(semicolon + 2)..].Trim());
    }

    /// <summary>Splits <c>req --hash=sha256:… --hash sha256:…</c> into the requirement and its hashes.</summary>
    private static (string Requirement, ImmutableArray<IntegrityHash> Hashes) SplitRequirementOptions(string content)
    {
        var match = OptionStart().Match(content);
        if (!match.Success)
        {
            return (content.Trim(), []);
        }
        var requirement = content[..match.Index].Trim();
        var hashes = ImmutableArray.CreateBuilder<IntegrityHash>();
        var tokens = content[match.Index..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < tokens.Length; i++)
        {
            string? value = null;
            if (tokens[i].StartsWith("--hash=", StringComparison.Ordinal))
            {
                value = tokens[i][7..];
            }
            else if (tokens[i] == "--hash" && i + 1 < tokens.Length)
            {
                value = tokens[++i];
            }
            if (PyPIComponents.ParseHash(value) is { } hash)
            {
                hashes.Add(hash);
            }
        }
        return (requirement, hashes.ToImmutable());
    }

    [GeneratedRegex(@"(^|\s)--?[A-Za-z]", RegexOptions.CultureInvariant)]
    private static partial Regex OptionStart();

    /// <summary>An option line: <c>-r file</c>, <c>-rfile</c>, <c>--requirement file</c> or <c>--requirement=file</c>.</summary>
    private static (string Option, string Value, int ValueColumn) SplitOption(string content, int column)
    {
        int nameEnd;
        if (content.StartsWith("--", StringComparison.Ordinal))
        {
            nameEnd = 2;
            while (nameEnd < content.Length && !char.IsWhiteSpace(content[nameEnd]) && content[nameEnd] != '=')
            {
                nameEnd++;
            }
        }
        else
        {
            nameEnd = Math.Min(2, content.Length);
        }
        var option = content[..nameEnd];
        var rest = content[nameEnd..];
        var skipped = rest.Length - rest.TrimStart().Length;
        rest = rest.TrimStart();
        if (rest.StartsWith('='))
        {
            skipped += 1 + (rest.Length - 1 - rest[1..].TrimStart().Length);
            rest = rest[1..].TrimStart();
        }
        return (option, rest.Trim(), column + nameEnd + skipped);
    }

    /// <summary>pip drops <c>#</c> comments that start a line or follow whitespace (a '#' inside a URL is kept).</summary>
    /// <remarks>
    /// A scan, not a pattern: the pattern <c>(^|\s+)#</c> tried every start in a run of spaces, so a line of a few
    /// thousand spaces took seconds. The whitespace before the comment stays; callers trim.
    /// </remarks>
    private static string StripComment(string line)
    {
        for (var i = line.IndexOf('#', StringComparison.Ordinal); i >= 0; i = line.IndexOf('#', i + 1))
        {
            if (i == 0 || char.IsWhiteSpace(line[i - 1]))
            {
                return line[..i];
            }
        }
        return line;
    }

    /// <summary>
    /// Joins lines ending in a backslash with the next, as pip does: a comment line ends a continued line. Each result
    /// keeps the number of the physical line it starts on.
    /// </summary>
    private static IEnumerable<LogicalLine> JoinLines(string text)
    {
        var lines = text.Split('\n');
        var pending = new List<string>();
        var pendingStart = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var isComment = line.TrimStart().StartsWith('#');
            if (!line.EndsWith('\\') || isComment)
            {
                if (pending.Count > 0)
                {
                    if (!isComment)
                    {
                        pending.Add(line);
                    }
                    yield return new LogicalLine(string.Concat(pending), pendingStart, false, string.Concat(pending));
                    pending.Clear();
                    if (!isComment)
                    {
                        continue;
                    }
                }
                yield return new LogicalLine(line, i + 1, isComment, line);
            }
            else
            {
                if (pending.Count == 0)
                {
                    pendingStart = i + 1;
                }
                pending.Add(line[..^1]);
            }
        }
        if (pending.Count > 0)
        {
            yield return new LogicalLine(string.Concat(pending), pendingStart, false, string.Concat(pending));
        }
    }
}
