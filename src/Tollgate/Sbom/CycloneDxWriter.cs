using System.Text.Json;
using System.Text.Json.Serialization;
using Tollgate.Graph;

namespace Tollgate.Sbom;

/// <summary>Writes a dependency graph as a CycloneDX JSON BOM (1.5, 1.6 or 1.7), sorted so equal input gives equal output.</summary>
public static class CycloneDxWriter
{
    public static string Write(DependencyGraph graph, SbomOptions options) =>
        JsonSerializer.Serialize(Build(graph, options), CycloneDxJsonContext.Default.CdxBom);

    /// <summary>Writes the document to <paramref name="utf8"/> as it is serialized, without building it as text first.</summary>
    public static void Write(DependencyGraph graph, SbomOptions options, Stream utf8) =>
        JsonSerializer.Serialize(utf8, Build(graph, options), CycloneDxJsonContext.Default.CdxBom);

    private static CdxBom Build(DependencyGraph graph, SbomOptions options)
    {
        if (!SbomOptions.CycloneDxVersions.Contains(options.SpecVersion))
        {
            throw new ArgumentException($"CycloneDX {options.SpecVersion} is not supported; use one of {string.Join(", ", SbomOptions.CycloneDxVersions)}", nameof(options));
        }
        var serial = options.Reproducible
            ? SbomHashes.DerivedGuid(SbomHashes.ContentKey(graph, "cyclonedx", options.SpecVersion))
            : Guid.NewGuid();
        var refs = graph.Components.ToDictionary(c => c.Key, BomRef, StringComparer.Ordinal);
        string RefOf(string key) => refs.GetValueOrDefault(key) ?? key;

        var components = graph.Components.Select(ToDto).OrderBy(c => c.BomRef, StringComparer.Ordinal).ToList();
        CdxComponent mainComponent;
        if (graph.Roots.Length == 1)
        {
            mainComponent = RootDto(graph.Roots[0]);
        }
        else
        {
            mainComponent = new CdxComponent { Type = "application", BomRef = "root:" + options.ProjectName, Name = options.ProjectName };
            components.InsertRange(0, graph.Roots.Select(RootDto).OrderBy(r => r.BomRef, StringComparer.Ordinal));
        }

        var children = graph.Edges.GroupBy(e => e.From, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => RefOf(e.To)).Distinct().Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var dependencies = new List<CdxDependency>();
        if (graph.Roots.Length != 1)
        {
            dependencies.Add(new CdxDependency { Ref = mainComponent.BomRef!, DependsOn = [.. graph.Roots.Select(r => r.Key).Order(StringComparer.Ordinal)] });
        }
        foreach (var root in graph.Roots)
        {
            dependencies.Add(new CdxDependency { Ref = root.Key, DependsOn = children.GetValueOrDefault(root.Key) ?? [] });
        }
        foreach (var c in graph.Components)
        {
            dependencies.Add(new CdxDependency { Ref = RefOf(c.Key), DependsOn = children.GetValueOrDefault(c.Key) ?? [] });
        }

        var bom = new CdxBom
        {
            Schema = $"http://cyclonedx.org/schema/bom-{options.SpecVersion}.schema.json",
            SpecVersion = options.SpecVersion,
            SerialNumber = $"urn:uuid:{serial}",
            Metadata = new CdxMetadata
            {
                Timestamp = options.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                Tools = new CdxTools { Components = [new CdxComponent { Type = "application", Name = "tollgate", Version = options.ToolVersion, BomRef = "tool:tollgate" }] },
                Component = mainComponent,
            },
            Components = components,
            Dependencies = [.. dependencies.OrderBy(d => d.Ref, StringComparer.Ordinal)],
        };
        return bom;
    }

    /// <summary>The bom-ref of a component: its purl, made unique for non-registry origins by the purl's qualifiers.</summary>
    public static string BomRef(Component c) => c.Purl.ToString();

    private static CdxComponent RootDto(ProjectRoot root) => new()
    {
        Type = "application",
        BomRef = root.Key,
        Name = root.Name ?? Path.GetFileName(Path.GetDirectoryName(root.AuthoritativeFile)) ?? root.AuthoritativeFile,
        Version = root.Version,
        Purl = root.Name is null ? null : PackageUrl.For(root.Ecosystem, root.Name, root.Version).ToString(),
        Properties = [new CdxProperty { Name = "tollgate:file", Value = root.AuthoritativeFile }],
    };

    private static CdxComponent ToDto(Component c)
    {
        string? group = null;
        var name = c.Name;
        if (c.Ecosystem == Ecosystem.Npm && name.StartsWith('@') && name.IndexOf('/', StringComparison.Ordinal) is > 0 and var slash)
        {
            group = name[..slash];
            name = name[(slash + 1)..];
        }
        var properties = new List<CdxProperty>();
        var scopes = Reports.GraphJson.ScopeNames(c.Scopes);
        if (c.Scopes != DependencyScopes.Prod)
        {
            properties.Add(new CdxProperty { Name = "tollgate:scopes", Value = string.Join(',', scopes) });
        }
        if (c.Scopes.HasFlag(DependencyScopes.Dev) && !c.Scopes.HasFlag(DependencyScopes.Prod) && c.Ecosystem == Ecosystem.Npm)
        {
            properties.Add(new CdxProperty { Name = "cdx:npm:package:development", Value = "true" });
        }
        if (c.HasInstallScript == true)
        {
            properties.Add(new CdxProperty { Name = "tollgate:hasInstallScript", Value = "true" });
        }
        if (!c.Resolved)
        {
            properties.Add(new CdxProperty { Name = "tollgate:unresolved", Value = "true" });
        }
        if (c.Direct)
        {
            properties.Add(new CdxProperty { Name = "tollgate:direct", Value = "true" });
        }
        if (c.Origin.Kind != OriginKind.Registry)
        {
            properties.Add(new CdxProperty { Name = "tollgate:origin", Value = c.Origin.Kind.ToString().ToLowerInvariant() });
            if (c.Origin.Location is { } location)
            {
                // The location is part of a non-registry component's identity (two workspace packages may share
                // a name and version), and paths or git+ssh URLs fit no external reference type.
                properties.Add(new CdxProperty { Name = "tollgate:origin-location", Value = location });
            }
        }
        // Every declared hash is kept: a PyPI release has one per file (sdist and each wheel), and any of them
        // may be the one installed.
        var hashes = SbomHashes.Distinct(c.Integrity)
            .Select(h => new CdxHash { Alg = CdxAlgorithm(h.Algorithm), Content = h.Hex }).ToList();
        return new CdxComponent
        {
            Type = "library",
            BomRef = BomRef(c),
            Group = group,
            Name = name,
            Version = c.Version,
            Scope = c.Scopes.HasFlag(DependencyScopes.Prod) ? "required" : c.Scopes == DependencyScopes.Dev ? "excluded" : "optional",
            Hashes = hashes.Count == 0 ? null : hashes,
            Licenses = string.IsNullOrWhiteSpace(c.License) ? null : [new CdxLicenseChoice { Expression = c.License }],
            Purl = c.Purl.ToString(),
            ExternalReferences = c.Origin.Location is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? [new CdxExternalReference { Type = "distribution", Url = url }]
                : null,
            Properties = properties.Count == 0 ? null : [.. properties.OrderBy(p => p.Name, StringComparer.Ordinal)],
        };
    }

    private static string CdxAlgorithm(string algorithm) => algorithm switch
    {
        "sha1" => "SHA-1",
        "sha256" => "SHA-256",
        "sha384" => "SHA-384",
        "sha512" => "SHA-512",
        _ => "MD5",
    };
}

public sealed class CdxBom
{
    [JsonPropertyName("$schema")]
    public string? Schema { get; set; }
    public string BomFormat { get; set; } = "CycloneDX";
    public string SpecVersion { get; set; } = "1.6";
    public string? SerialNumber { get; set; }
    public int Version { get; set; } = 1;
    public CdxMetadata? Metadata { get; set; }
    public List<CdxComponent>? Components { get; set; }
    public List<CdxDependency>? Dependencies { get; set; }
}

public sealed class CdxMetadata
{
    public string? Timestamp { get; set; }
    public CdxTools? Tools { get; set; }
    public CdxComponent? Component { get; set; }
}

/// <summary>
/// <c>metadata.tools</c>: an object with <c>components</c> (1.5 and later), or the legacy array of tools that
/// 1.2–1.4 wrote and later versions still accept. Both read into <see cref="Components"/>; Tollgate writes the object.
/// </summary>
[JsonConverter(typeof(CdxToolsConverter))]
public sealed class CdxTools
{
    public List<CdxComponent>? Components { get; set; }
}

internal sealed class CdxToolsConverter : JsonConverter<CdxTools>
{
    public override CdxTools? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            return new CdxTools { Components = JsonSerializer.Deserialize(ref reader, CycloneDxJsonContext.Default.ListCdxComponent) };
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("metadata.tools must be an object or an array");
        }
        var tools = new CdxTools();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            if (name == "components")
            {
                tools.Components = JsonSerializer.Deserialize(ref reader, CycloneDxJsonContext.Default.ListCdxComponent);
            }
            else
            {
                reader.Skip();
            }
        }
        return tools;
    }

    public override void Write(Utf8JsonWriter writer, CdxTools value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        if (value.Components is not null)
        {
            writer.WritePropertyName("components");
            JsonSerializer.Serialize(writer, value.Components, CycloneDxJsonContext.Default.ListCdxComponent);
        }
        writer.WriteEndObject();
    }
}

public sealed class CdxComponent
{
    public string Type { get; set; } = "library";
    [JsonPropertyName("bom-ref")]
    public string? BomRef { get; set; }
    public string? Group { get; set; }
    public string Name { get; set; } = "";
    public string? Version { get; set; }
    public string? Scope { get; set; }
    public List<CdxHash>? Hashes { get; set; }
    public List<CdxLicenseChoice>? Licenses { get; set; }
    public string? Purl { get; set; }
    public List<CdxExternalReference>? ExternalReferences { get; set; }
    public List<CdxProperty>? Properties { get; set; }
    /// <summary>Nested components (read only: some tools nest, Tollgate writes a flat list).</summary>
    public List<CdxComponent>? Components { get; set; }
}

public sealed class CdxHash
{
    public string Alg { get; set; } = "";
    public string Content { get; set; } = "";
}

public sealed class CdxLicenseChoice
{
    public string? Expression { get; set; }
    public CdxLicense? License { get; set; }
}

public sealed class CdxLicense
{
    public string? Id { get; set; }
    public string? Name { get; set; }
}

public sealed class CdxExternalReference
{
    public string Type { get; set; } = "";
    public string Url { get; set; } = "";
}

public sealed class CdxProperty
{
    public string Name { get; set; } = "";
    public string? Value { get; set; }
}

public sealed class CdxDependency
{
    public string Ref { get; set; } = "";
    public List<string>? DependsOn { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CdxBom))]
[JsonSerializable(typeof(List<CdxComponent>))]
internal sealed partial class CycloneDxJsonContext : JsonSerializerContext;
