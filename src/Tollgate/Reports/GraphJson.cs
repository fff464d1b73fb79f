using System.Text.Json;
using System.Text.Json.Serialization;
using Tollgate.Graph;

namespace Tollgate.Reports;

/// <summary>The JSON form of a dependency graph (<c>tollgate deps --format json</c>), documented in docs/cli.md.</summary>
public static class GraphJson
{
    public static string Write(DependencyGraph graph)
    {
        var purlByKey = graph.Components.ToDictionary(c => c.Key, c => c.Purl.ToString(), StringComparer.Ordinal);
        string NodeId(string key) => purlByKey.GetValueOrDefault(key) ?? key;

        var document = new GraphDocument
        {
            Complete = !graph.Roots.IsEmpty && !graph.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error),
            Components = [.. graph.Components.Select(c => new ComponentDto
            {
                Purl = c.Purl.ToString(),
                Ecosystem = c.Ecosystem.ToOsvName(),
                Name = c.Name,
                Version = c.Version,
                Resolved = c.Resolved,
                Direct = c.Direct,
                Scopes = ScopeNames(c.Scopes),
                Origin = new OriginDto { Kind = c.Origin.Kind.ToString().ToLowerInvariant(), Location = c.Origin.Location },
                Integrity = [.. c.Integrity.Select(i => i.ToString())],
                HasInstallScript = c.HasInstallScript,
                License = c.License,
                Locations = [.. c.Locations.Select(LocationDto.From)],
            })],
            Edges = [.. graph.Edges.Select(e => new EdgeDto { From = NodeId(e.From), To = NodeId(e.To) })],
            Roots = [.. graph.Roots.Select(r => new RootDto
            {
                Id = r.Key,
                Ecosystem = r.Ecosystem.ToOsvName(),
                Name = r.Name,
                Version = r.Version,
                File = r.AuthoritativeFile,
                Files = [.. r.Files],
            })],
            Files = [.. graph.Files],
            Diagnostics = [.. graph.Diagnostics.Select(DiagnosticDto.From)],
        };
        return JsonSerializer.Serialize(document, GraphJsonContext.Default.GraphDocument);
    }

    public static List<string> ScopeNames(DependencyScopes scopes)
    {
        var names = new List<string>(4);
        if (scopes.HasFlag(DependencyScopes.Prod))
        {
            names.Add("prod");
        }
        if (scopes.HasFlag(DependencyScopes.Dev))
        {
            names.Add("dev");
        }
        if (scopes.HasFlag(DependencyScopes.Optional))
        {
            names.Add("optional");
        }
        if (scopes.HasFlag(DependencyScopes.Peer))
        {
            names.Add("peer");
        }
        return names;
    }
}

public sealed class GraphDocument
{
    /// <summary>False when an input could not be read or none was found: the graph is then not the whole truth.</summary>
    public required bool Complete { get; init; }

    public List<ComponentDto> Components { get; init; } = [];
    public List<EdgeDto> Edges { get; init; } = [];
    public List<RootDto> Roots { get; init; } = [];
    public List<string> Files { get; init; } = [];
    public List<DiagnosticDto> Diagnostics { get; init; } = [];
}

public sealed class ComponentDto
{
    public required string Purl { get; init; }
    public required string Ecosystem { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public bool Resolved { get; init; }
    public bool Direct { get; init; }
    public List<string> Scopes { get; init; } = [];
    public required OriginDto Origin { get; init; }
    public List<string> Integrity { get; init; } = [];
    public bool? HasInstallScript { get; init; }
    public string? License { get; init; }
    public List<LocationDto> Locations { get; init; } = [];
}

public sealed class OriginDto
{
    public required string Kind { get; init; }
    public string? Location { get; init; }
}

public sealed class LocationDto
{
    public required string File { get; init; }
    public int Line { get; init; }

    public static LocationDto From(SourceLocation l) => new() { File = l.File, Line = l.Line };
}

public sealed class EdgeDto
{
    public required string From { get; init; }
    public required string To { get; init; }
}

public sealed class RootDto
{
    public required string Id { get; init; }
    public required string Ecosystem { get; init; }
    public string? Name { get; init; }
    public string? Version { get; init; }
    public required string File { get; init; }
    public List<string> Files { get; init; } = [];
}

public sealed class DiagnosticDto
{
    public required string Id { get; init; }
    public required string Severity { get; init; }
    public required string Message { get; init; }
    public string? File { get; init; }
    public int? Line { get; init; }
    public int? Column { get; init; }
    public string? Hint { get; init; }

    public static DiagnosticDto From(Diagnostic d) => new()
    {
        Id = d.Id,
        Severity = d.Severity.ToString().ToLowerInvariant(),
        Message = d.Message,
        File = d.Location?.File,
        Line = d.Location is { Line: > 0 } l ? l.Line : null,
        Column = d.Location is { Column: > 0 } c ? c.Column : null,
        Hint = d.Hint,
    };
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GraphDocument))]
internal sealed partial class GraphJsonContext : JsonSerializerContext;
