using System.Text.Json;
using System.Text.Json.Serialization;
using Tollgate.Graph;

namespace Tollgate.Sbom;

/// <summary>Writes a dependency graph as a CycloneDX JSON BOM (1.5, 1.6 or 1.7), sorted so equal input gives equal output.</summary>
public static class CycloneDxWriter
{
    public static string Write(DependencyGraph graph, SbomOptions options) =>
        SbomJsonOutput.ToText(utf8 => Write(graph, options, utf8));

    /// <summary>
    /// Writes the document to <paramref name="utf8"/> one component at a time: neither the text nor an object tree of
    /// the whole document is held, so a large SBOM costs little more memory than the graph itself.
    /// </summary>
    public static void Write(DependencyGraph graph, SbomOptions options, Stream utf8)
    {
        if (!SbomOptions.CycloneDxVersions.Contains(options.SpecVersion))
        {
            throw new ArgumentException($"CycloneDX {options.SpecVersion} is not supported; use one of {string.Join(", ", SbomOptions.CycloneDxVersions)}", nameof(options));
        }
        // A component's bom-ref is its purl; each is computed once, in graph order.
        var components = graph.Components;
        var purls = new string[components.Length];
        var refs = new Dictionary<string, string>(components.Length, StringComparer.Ordinal);
        for (var i = 0; i < components.Length; i++)
        {
            purls[i] = BomRef(components[i]);
            refs.Add(components[i].Key, purls[i]);
        }
        var serial = options.Reproducible
            ? SbomHashes.DerivedGuid(graph, "cyclonedx", options.SpecVersion, purls)
            : Guid.NewGuid();
        var singleRoot = graph.Roots.Length == 1;
        var mainComponent = singleRoot
            ? RootDto(graph.Roots[0])
            : new CdxComponent { Type = "application", BomRef = "root:" + options.ProjectName, Name = options.ProjectName };

        using var output = new SbomJsonOutput(utf8, Context.Options);
        var json = output.Json;
        // The members of CdxBom, in its order.
        json.WriteStartObject();
        json.WriteString("$schema", $"http://cyclonedx.org/schema/bom-{options.SpecVersion}.schema.json");
        json.WriteString("bomFormat", "CycloneDX");
        json.WriteString("specVersion", options.SpecVersion);
        json.WriteString("serialNumber", $"urn:uuid:{serial}");
        json.WriteNumber("version", 1);
        json.WritePropertyName("metadata");
        JsonSerializer.Serialize(json, new CdxMetadata
        {
            Timestamp = options.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            Tools = new CdxTools { Components = [new CdxComponent { Type = "application", Name = "tollgate", Version = options.ToolVersion, BomRef = "tool:tollgate" }] },
            Component = mainComponent,
        }, Context.CdxMetadata);

        json.WriteStartArray("components");
        if (!singleRoot)
        {
            foreach (var root in graph.Roots.OrderBy(r => r.Key, StringComparer.Ordinal))
            {
                JsonSerializer.Serialize(json, RootDto(root), Context.CdxComponent);
            }
        }
        foreach (var i in Enumerable.Range(0, components.Length).OrderBy(i => purls[i], StringComparer.Ordinal))
        {
            JsonSerializer.Serialize(json, ToDto(components[i], purls[i]), Context.CdxComponent);
            output.Checkpoint();
        }
        json.WriteEndArray();

        // One entry for the main component when it stands for several roots, one per root and one per component;
        // sorted by ref (stably, as entries may share one).
        var dependencies = new List<(string Ref, string? Key)>(components.Length + graph.Roots.Length + 1);
        if (!singleRoot)
        {
            dependencies.Add((mainComponent.BomRef!, null));
        }
        foreach (var root in graph.Roots)
        {
            dependencies.Add((root.Key, root.Key));
        }
        for (var i = 0; i < components.Length; i++)
        {
            dependencies.Add((purls[i], components[i].Key));
        }
        json.WriteStartArray("dependencies");
        foreach (var (reference, key) in dependencies.OrderBy(d => d.Ref, StringComparer.Ordinal))
        {
            var dependsOn = key is null
                ? [.. graph.Roots.Select(r => r.Key).Order(StringComparer.Ordinal)]
                : DependsOn(graph, key, refs);
            JsonSerializer.Serialize(json, new CdxDependency { Ref = reference, DependsOn = dependsOn }, Context.CdxDependency);
            output.Checkpoint();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        output.Complete();
    }

    private static CycloneDxJsonContext Context => CycloneDxJsonContext.Default;

    /// <summary>The bom-refs <paramref name="key"/> depends on, once each, sorted.</summary>
    private static List<string> DependsOn(DependencyGraph graph, string key, Dictionary<string, string> refs)
    {
        var children = graph.ChildrenOf(key);
        var result = new List<string>(children.Length);
        foreach (var child in children)
        {
            result.Add(refs.GetValueOrDefault(child) ?? child);
        }
        result.Sort(StringComparer.Ordinal);
        // Sorted, so repeats are neighbours.
        for (var i = result.Count - 1; i > 0; i--)
        {
            if (result[i] == result[i - 1])
            {
                result.RemoveAt(i);
            }
        }
        return result;
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

    private static CdxComponent ToDto(Component c, string purl)
    {
        string? group = null;
        var name = c.Name;
        if (c.Ecosystem == Ecosystem.Npm && name.StartsWith('@') && name.IndexOf('/', StringComparison.Ordinal) is > 0 and var slash)
        {
            group = name[..slash];
            name = name[(slash + 1)..];
        }
        var properties = new List<CdxProperty>();
        if (c.Scopes != DependencyScopes.Prod)
        {
            properties.Add(new CdxProperty { Name = "tollgate:scopes", Value = string.Join(',', Reports.GraphJson.ScopeNames(c.Scopes)) });
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
        var hashes = SbomHashes.Distinct(c.Integrity).ConvertAll(h => new CdxHash { Alg = CdxAlgorithm(h.Algorithm), Content = h.Hex });
        return new CdxComponent
        {
            Type = "library",
            BomRef = purl,
            Group = group,
            Name = name,
            Version = c.Version,
            Scope = c.Scopes.HasFlag(DependencyScopes.Prod) ? "required" : c.Scopes == DependencyScopes.Dev ? "excluded" : "optional",
            Hashes = hashes.Count == 0 ? null : hashes,
            Licenses = string.IsNullOrWhiteSpace(c.License) ? null : [new CdxLicenseChoice { Expression = c.License }],
            Purl = purl,
            ExternalReferences = c.Origin.Location is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? [new CdxExternalReference { Type = "distribution", Url = url }]
                : null,
            Properties = properties.Count == 0 ? null : SortedByName(properties),
        };
    }

    private static List<CdxProperty> SortedByName(List<CdxProperty> properties)
    {
        // Names are distinct, so an unstable sort gives the one order.
        properties.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return properties;
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

/// <summary>A CycloneDX document as read. <see cref="CycloneDxWriter"/> writes these members itself, in this order.</summary>
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
[JsonSerializable(typeof(CdxMetadata))]
[JsonSerializable(typeof(CdxComponent))]
[JsonSerializable(typeof(CdxDependency))]
internal sealed partial class CycloneDxJsonContext : JsonSerializerContext;
