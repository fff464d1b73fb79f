using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>One dependency a manifest declares (a range, not a resolved version).</summary>
/// <param name="Name">The name as written.</param>
/// <param name="Specifier">The version range as written (PEP 440 specifier, or poetry's <c>^1.2</c>); empty for any version.</param>
/// <param name="Scope">Prod, Optional (extras) or Dev (groups).</param>
/// <param name="Origin">Where it comes from when the manifest says (git, path, URL); the registry otherwise.</param>
/// <param name="Location">Where it is declared.</param>
/// <param name="Marker">The environment marker, recorded but not evaluated.</param>
/// <param name="Group">The extra or group it belongs to, when not the main dependencies.</param>
internal sealed record DeclaredDependency(
    string Name,
    string Specifier,
    DependencyScopes Scope,
    Origin Origin,
    SourceLocation Location,
    string? Marker = null,
    string? Group = null);

/// <summary>What a pyproject.toml or Pipfile declares: the project's name and version and its direct dependencies.</summary>
internal sealed record PythonManifest(string File, string? Name, string? Version, ImmutableArray<DeclaredDependency> Dependencies)
{
    /// <summary>Normalised names declared with each scope, for marking lockfile packages direct.</summary>
    public ILookup<string, DeclaredDependency> ByName => Dependencies.ToLookup(d => Component.NormalizePyPIName(d.Name), StringComparer.Ordinal);
}

/// <summary>Reads the dependency declarations of pyproject.toml (PEP 621, PEP 735, poetry, pdm, uv) and Pipfile.</summary>
internal static class PythonManifestReader
{
    /// <summary>Reads pyproject.toml; null (with diagnostics) when it cannot be parsed.</summary>
    public static PythonManifest? ReadPyProject(string path, DiagnosticBag diagnostics)
    {
        var file = InputFile.DisplayPath(path);
        var doc = LocatedToml.ParseFile(path, diagnostics);
        if (doc is null)
        {
            return null;
        }
        var shape = new TomlShape(file, diagnostics);
        var deps = new List<DeclaredDependency>();
        var project = shape.Table(doc, "project");
        var poetry = doc.GetTablePath("tool.poetry");
        var name = project is null ? null : shape.String(project, "name");
        var version = project is null ? null : shape.String(project, "version");
        if (poetry is not null)
        {
            name ??= shape.String(poetry, "name");
            version ??= shape.String(poetry, "version");
        }

        if (project is not null)
        {
            if (shape.Array(project, "dependencies") is { } list)
            {
                AddPep508List(list, DependencyScopes.Prod, null, file, shape, deps);
            }
            if (shape.Table(project, "optional-dependencies") is { } extras)
            {
                foreach (var (extra, value) in extras.Entries)
                {
                    if (shape.Expect<TomlArrayNode>(value, $"project.optional-dependencies.{extra}", "array") is { } extraList)
                    {
                        AddPep508List(extraList, DependencyScopes.Optional, extra, file, shape, deps);
                    }
                }
            }
        }
        if (shape.Table(doc, "dependency-groups") is { } groups)
        {
            foreach (var (group, value) in groups.Entries)
            {
                if (shape.Expect<TomlArrayNode>(value, $"dependency-groups.{group}", "array") is { } groupList)
                {
                    // {include-group = "x"} tables pull in another group, whose entries are read on their own.
                    AddPep508List(groupList, DependencyScopes.Dev, group, file, shape, deps, skipTables: true);
                }
            }
        }
        if (poetry is not null)
        {
            AddPoetryTable(poetry.GetTable("dependencies"), DependencyScopes.Prod, null, file, shape, deps);
            AddPoetryTable(poetry.GetTable("dev-dependencies"), DependencyScopes.Dev, "dev", file, shape, deps);
            if (poetry.GetTable("group") is { } poetryGroups)
            {
                foreach (var (group, value) in poetryGroups.Entries)
                {
                    if (value is TomlTableNode g)
                    {
                        AddPoetryTable(g.GetTable("dependencies"), group == "main" ? DependencyScopes.Prod : DependencyScopes.Dev, group, file, shape, deps);
                    }
                }
            }
        }
        if (doc.GetTablePath("tool.pdm.dev-dependencies") is { } pdmDev)
        {
            foreach (var (group, value) in pdmDev.Entries)
            {
                if (shape.Expect<TomlArrayNode>(value, $"tool.pdm.dev-dependencies.{group}", "array") is { } groupList)
                {
                    AddPep508List(groupList, DependencyScopes.Dev, group, file, shape, deps);
                }
            }
        }
        if (doc.GetTablePath("tool.uv") is { } uv && shape.Array(uv, "dev-dependencies") is { } uvDev)
        {
            AddPep508List(uvDev, DependencyScopes.Dev, "dev", file, shape, deps);
        }
        return new PythonManifest(file, name, version, [.. deps]);
    }

    /// <summary>Reads a Pipfile: <c>[packages]</c> are prod, <c>[dev-packages]</c> dev.</summary>
    public static PythonManifest? ReadPipfile(string path, DiagnosticBag diagnostics)
    {
        var file = InputFile.DisplayPath(path);
        var doc = LocatedToml.ParseFile(path, diagnostics);
        if (doc is null)
        {
            return null;
        }
        var shape = new TomlShape(file, diagnostics);
        var deps = new List<DeclaredDependency>();
        AddPoetryTable(shape.Table(doc, "packages"), DependencyScopes.Prod, null, file, shape, deps);
        AddPoetryTable(shape.Table(doc, "dev-packages"), DependencyScopes.Dev, "dev", file, shape, deps);
        return new PythonManifest(file, null, null, [.. deps]);
    }

    private static void AddPep508List(TomlArrayNode list, DependencyScopes scope, string? group, string file, TomlShape shape,
        List<DeclaredDependency> deps, bool skipTables = false)
    {
        foreach (var item in list.Items)
        {
            if (item is TomlTableNode && skipTables)
            {
                continue;
            }
            if (item is not TomlScalarNode { Kind: TomlScalarKind.String } s)
            {
                shape.WrongType(item, "a dependency", "string");
                continue;
            }
            if (!PythonRequirement.TryParse(s.Text, out var req, out var error, out var offset))
            {
                // The value starts after its opening quote.
                shape.Diagnostics.Error(DiagnosticIds.InvalidEntry, $"cannot parse dependency '{s.Text}': {error}",
                    new SourceLocation(file, s.Line, s.Column + 1 + offset), "write it as PEP 508: name[extras] specifier ; marker");
                continue;
            }
            var origin = req.Url is null ? Origin.Registry() : PyPIComponents.OriginOfUrl(req.Url);
            // A direct reference fixes no range; its ref or file name says what it points at.
            var spec = req.Url is null ? req.Specifier : PyPIComponents.DirectVersion(req.Url, req.Name).Version;
            deps.Add(new DeclaredDependency(req.Name, spec == "*" ? "" : spec, scope, origin,
                s.LocationIn(file), req.Marker, group));
        }
    }

    /// <summary>
    /// A poetry or Pipfile dependency table: <c>name = "spec"</c>, <c>name = {version, git, path, url, optional, markers}</c>
    /// or (poetry) an array of such tables for per-environment constraints.
    /// </summary>
    private static void AddPoetryTable(TomlTableNode? table, DependencyScopes scope, string? group, string file, TomlShape shape, List<DeclaredDependency> deps)
    {
        if (table is null)
        {
            return;
        }
        foreach (var (name, value) in table.Entries)
        {
            if (name.Equals("python", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            foreach (var constraint in value is TomlArrayNode a ? a.Items : [value])
            {
                var (spec, origin, optional, marker) = PoetryConstraint(constraint, shape);
                if (spec is null)
                {
                    continue;
                }
                deps.Add(new DeclaredDependency(name, spec, optional ? DependencyScopes.Optional : scope, origin,
                    constraint.LocationIn(file), marker, group));
            }
        }
    }

    /// <summary>The version text, origin, optional flag and marker of one poetry/Pipfile constraint; a null spec when malformed.</summary>
    internal static (string? Spec, Origin Origin, bool Optional, string? Marker) PoetryConstraint(TomlNode constraint, TomlShape shape)
    {
        switch (constraint)
        {
            case TomlScalarNode { Kind: TomlScalarKind.String } s:
                return (s.Text == "*" ? "" : s.Text, Origin.Registry(), false, null);
            case TomlTableNode t:
            {
                var marker = t.GetString("markers") ?? t.GetString("marker");
                var optional = t.GetBool("optional") == true;
                if (t.GetString("git") is { } git)
                {
                    var reference = t.GetString("rev") ?? t.GetString("tag") ?? t.GetString("branch") ?? t.GetString("ref");
                    return (reference ?? "", new Origin(OriginKind.Git, git), optional, marker);
                }
                if (t.GetString("path") is { } path)
                {
                    return ("", new Origin(OriginKind.File, path), optional, marker);
                }
                if (t.GetString("file") is { } fileRef)
                {
                    return ("", PyPIComponents.OriginOfUrl(fileRef), optional, marker);
                }
                if (t.GetString("url") is { } url)
                {
                    return ("", new Origin(OriginKind.Url, url), optional, marker);
                }
                var version = shape.String(t, "version") ?? "";
                return (version == "*" ? "" : version, Origin.Registry(), optional, marker);
            }
            default:
                shape.WrongType(constraint, "a dependency", "string or table");
                return (null, Origin.Registry(), false, null);
        }
    }
}

/// <summary>Typed access to TOML values that reports missing or wrongly typed fields as TG0009 diagnostics.</summary>
internal sealed class TomlShape(string file, DiagnosticBag diagnostics)
{
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    public string File { get; } = file;
    public DiagnosticBag Diagnostics { get; } = diagnostics;

    /// <summary>Adds a diagnostic once: readers look at some entries more than once (edges, then extras).</summary>
    public void Report(string id, DiagnosticSeverity severity, string message, SourceLocation location, string? hint)
    {
        if (_reported.Add($"{id}|{location}|{message}"))
        {
            Diagnostics.Add(new Diagnostic(id, severity, message, location, hint));
        }
    }

    /// <summary>An optional string; a value of another type is reported and treated as absent.</summary>
    public string? String(TomlTableNode table, string key) => Expect<TomlScalarNode>(table[key], key, "string") is { Kind: TomlScalarKind.String } s ? s.Text : Mismatch<string>(table[key], key, "string");

    /// <summary>A string that must be present.</summary>
    public string? RequiredString(TomlTableNode table, string key, string what)
    {
        if (table[key] is null)
        {
            Report(DiagnosticIds.UnexpectedShape, DiagnosticSeverity.Error, $"{what} has no '{key}'", table.LocationIn(File),
                "the lockfile is incomplete: regenerate it with the tool that wrote it");
            return null;
        }
        return String(table, key);
    }

    public TomlTableNode? Table(TomlTableNode table, string key) => Expect<TomlTableNode>(table[key], key, "table");

    public TomlArrayNode? Array(TomlTableNode table, string key) => Expect<TomlArrayNode>(table[key], key, "array");

    /// <summary>The value as <typeparamref name="T"/>, or null (reported when present with another type).</summary>
    public T? Expect<T>(TomlNode? value, string key, string expected) where T : TomlNode
    {
        if (value is null or T)
        {
            return value as T;
        }
        Report(DiagnosticIds.UnexpectedShape, DiagnosticSeverity.Error, $"'{key}' is {ArticleFor(value.TypeName)} {value.TypeName}; expected {ArticleFor(expected)} {expected}",
            value.LocationIn(File), "the file does not have the shape its format requires; was it edited by hand?");
        return null;
    }

    public void WrongType(TomlNode value, string what, string expected) =>
        Report(DiagnosticIds.UnexpectedShape, DiagnosticSeverity.Error, $"{what} is {ArticleFor(value.TypeName)} {value.TypeName}; expected {ArticleFor(expected)} {expected}",
            value.LocationIn(File), "the file does not have the shape its format requires; was it edited by hand?");

    private T? Mismatch<T>(TomlNode? value, string key, string expected) where T : class
    {
        // Expect<TomlScalarNode> accepts any scalar; a scalar that is not a string is still the wrong type.
        if (value is TomlScalarNode { Kind: not TomlScalarKind.String })
        {
            Report(DiagnosticIds.UnexpectedShape, DiagnosticSeverity.Error, $"'{key}' is {ArticleFor(value.TypeName)} {value.TypeName}; expected {ArticleFor(expected)} {expected}",
                value.LocationIn(File), "the file does not have the shape its format requires; was it edited by hand?");
        }
        return null;
    }

    private static string ArticleFor(string word) => word.Length > 0 && "aeiou".Contains(word[0], StringComparison.Ordinal) ? "an" : "a";
}
