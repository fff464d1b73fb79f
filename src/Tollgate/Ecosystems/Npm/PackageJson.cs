using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>A dependency declared in a package.json: the name, the range (or alias/URL spec) and where.</summary>
public sealed record DeclaredDependency(string Name, string Spec, DependencyScopes Scope, SourceLocation Location);

/// <summary>The parts of a package.json that a dependency graph needs.</summary>
public sealed record PackageJson(
    string File,
    string? Name,
    string? Version,
    ImmutableArray<DeclaredDependency> Dependencies,
    ImmutableArray<string> Workspaces,
    bool HasInstallScript,
    string? License)
{
    /// <summary>
    /// The root's <c>resolutions</c> (yarn): a pattern (<c>name</c>, <c>name@range</c>, <c>parent/name</c>,
    /// <c>**/name</c>) mapped to the range or descriptor that replaces what dependents ask for.
    /// </summary>
    public ImmutableDictionary<string, string> Resolutions { get; init; } = ImmutableDictionary<string, string>.Empty;

    private static readonly (string Field, DependencyScopes Scope)[] DependencyFields =
    [
        ("dependencies", DependencyScopes.Prod),
        ("devDependencies", DependencyScopes.Dev),
        ("optionalDependencies", DependencyScopes.Optional),
        ("peerDependencies", DependencyScopes.Peer),
    ];

    /// <summary>Reads a package.json; null (with a diagnostic) when it cannot be read or is not an object.</summary>
    public static PackageJson? Read(string path, DiagnosticBag diagnostics)
    {
        var root = LocatedJson.ParseFile(path, diagnostics);
        return root is null ? null : From(root, InputFile.DisplayPath(path), diagnostics);
    }

    public static PackageJson? From(JsonNode root, string displayPath, DiagnosticBag diagnostics)
    {
        if (!root.IsObject)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "expected a JSON object at the top of package.json",
                root.LocationIn(displayPath));
            return null;
        }
        var dependencies = ImmutableArray.CreateBuilder<DeclaredDependency>();
        foreach (var (field, scope) in DependencyFields)
        {
            var node = root[field];
            if (node is null)
            {
                continue;
            }
            if (!node.IsObject)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"'{field}' should be an object of name: range; ignored",
                    node.LocationIn(displayPath));
                continue;
            }
            foreach (var (name, value) in node.Properties)
            {
                // An optional dependency is also listed by npm as a dependency; the later field wins as npm does.
                dependencies.Add(new DeclaredDependency(name, value.Text ?? "", scope, value.LocationIn(displayPath)));
            }
        }

        var workspaces = ImmutableArray.CreateBuilder<string>();
        var ws = root["workspaces"];
        // "workspaces": ["packages/*"] or, in yarn's form, { "packages": [...] }.
        var wsList = ws is { IsObject: true } ? ws["packages"] : ws;
        foreach (var item in wsList?.Items ?? [])
        {
            if (item.IsString && item.Text is { Length: > 0 } pattern)
            {
                workspaces.Add(pattern);
            }
        }

        var scripts = root["scripts"];
        var hasInstallScript = scripts is { IsObject: true }
            && (scripts["preinstall"] is not null || scripts["install"] is not null || scripts["postinstall"] is not null);

        return new PackageJson(
            displayPath,
            root.GetString("name"),
            root.GetString("version"),
            dependencies.ToImmutable(),
            workspaces.ToImmutable(),
            hasInstallScript,
            root.GetString("license"))
        {
            Resolutions = ReadResolutions(root["resolutions"]),
        };
    }

    private static ImmutableDictionary<string, string> ReadResolutions(JsonNode? node)
    {
        var result = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (pattern, value) in node is { IsObject: true } ? node.Properties : [])
        {
            if (value.IsString && value.Text is { Length: > 0 } text)
            {
                result[pattern] = text;
            }
        }
        return result.ToImmutable();
    }
}
