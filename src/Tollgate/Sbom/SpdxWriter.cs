using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Tollgate.Graph;

namespace Tollgate.Sbom;

/// <summary>
/// Writes a dependency graph as an SPDX 2.3 (or 2.2) JSON document: one package per component, DESCRIBES
/// for the project roots, DEPENDS_ON for dependencies and DEV_DEPENDENCY_OF for development-only ones.
/// </summary>
public static partial class SpdxWriter
{
    public static string Write(DependencyGraph graph, SbomOptions options) =>
        SbomJsonOutput.ToText(utf8 => Write(graph, options, utf8));

    /// <summary>
    /// Writes the document to <paramref name="utf8"/> one package at a time: neither the text nor an object tree of
    /// the whole document is held, so a large SBOM costs little more memory than the graph itself.
    /// </summary>
    public static void Write(DependencyGraph graph, SbomOptions options, Stream utf8)
    {
        if (!SbomOptions.SpdxVersions.Contains(options.SpecVersion))
        {
            throw new ArgumentException($"SPDX {options.SpecVersion} is not supported; use one of {string.Join(", ", SbomOptions.SpdxVersions)}", nameof(options));
        }
        var v23 = options.SpecVersion == "2.3";
        var roots = graph.Roots;
        var components = graph.Components;
        var ids = new Dictionary<string, string>(roots.Length + components.Length, StringComparer.Ordinal);
        foreach (var root in roots)
        {
            ids[root.Key] = SbomHashes.ShortDigest("SPDXRef-Root-", root.Key);
        }
        foreach (var c in components)
        {
            ids[c.Key] = SbomHashes.ShortDigest("SPDXRef-Package-", c.Key);
        }
        // Each component's purl, computed once, in graph order.
        var purls = new string[components.Length];
        for (var i = 0; i < components.Length; i++)
        {
            purls[i] = components[i].Purl.ToString();
        }
        var name = roots.Length == 1 ? roots[0].DisplayName : options.ProjectName;
        var guid = options.Reproducible ? SbomHashes.DerivedGuid(graph, "spdx", options.SpecVersion, purls) : Guid.NewGuid();

        using var output = new SbomJsonOutput(utf8, Context.Options);
        var json = output.Json;
        // The members of SpdxDocument a written document has, in its order.
        json.WriteStartObject();
        json.WriteString("spdxVersion", "SPDX-" + options.SpecVersion);
        json.WriteString("dataLicense", "CC0-1.0");
        json.WriteString("SPDXID", "SPDXRef-DOCUMENT");
        json.WriteString("name", name);
        json.WriteString("documentNamespace", $"https://spdx.org/spdxdocs/tollgate/{Uri.EscapeDataString(name)}/{guid}");
        json.WritePropertyName("creationInfo");
        JsonSerializer.Serialize(json, new SpdxCreationInfo
        {
            Created = options.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            Creators = ["Tool: tollgate-" + options.ToolVersion],
        }, Context.SpdxCreationInfo);
        json.WriteStartArray("documentDescribes");
        foreach (var id in roots.Select(r => ids[r.Key]).Order(StringComparer.Ordinal))
        {
            json.WriteStringValue(id);
        }
        json.WriteEndArray();

        // Roots first, then components (indexes past the roots), sorted stably by SPDXID.
        json.WriteStartArray("packages");
        var packages = Enumerable.Range(0, roots.Length + components.Length)
            .OrderBy(i => i < roots.Length ? ids[roots[i].Key] : ids[components[i - roots.Length].Key], StringComparer.Ordinal);
        foreach (var i in packages)
        {
            var package = i < roots.Length
                ? RootPackage(roots[i], ids[roots[i].Key], v23)
                : ComponentPackage(components[i - roots.Length], ids[components[i - roots.Length].Key], purls[i - roots.Length], v23);
            JsonSerializer.Serialize(json, package, Context.SpdxPackage);
            output.Checkpoint();
        }
        json.WriteEndArray();

        json.WriteStartArray("relationships");
        foreach (var relationship in Relationships(graph, ids)
            .OrderBy(r => r.SpdxElementId, StringComparer.Ordinal)
            .ThenBy(r => r.RelationshipType, StringComparer.Ordinal)
            .ThenBy(r => r.RelatedSpdxElement, StringComparer.Ordinal))
        {
            JsonSerializer.Serialize(json, relationship, Context.SpdxRelationship);
            output.Checkpoint();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        output.Complete();
    }

    private static SpdxJsonContext Context => SpdxJsonContext.Default;

    private static SpdxPackage RootPackage(ProjectRoot root, string id, bool v23) => new()
    {
        Spdxid = id,
        Name = root.Name ?? root.AuthoritativeFile,
        VersionInfo = root.Version,
        PrimaryPackagePurpose = v23 ? "APPLICATION" : null,
        Comment = $"Project described by {root.AuthoritativeFile}",
        ExternalRefs = root.Name is null ? null : [PurlRef(PackageUrl.For(root.Ecosystem, root.Name, root.Version).ToString(), v23)],
    };

    private static SpdxPackage ComponentPackage(Component c, string id, string purl, bool v23)
    {
        var checksums = SbomHashes.Distinct(c.Integrity).ConvertAll(h => new SpdxChecksum { Algorithm = h.Algorithm.ToUpperInvariant(), ChecksumValue = h.Hex });
        var download = c.Origin.Location is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? url
            : "NOASSERTION";
        return new SpdxPackage
        {
            Spdxid = id,
            Name = c.Name,
            VersionInfo = c.Version,
            DownloadLocation = download,
            LicenseDeclared = c.License is { } l && LicenseExpression().IsMatch(l) ? l : "NOASSERTION",
            Checksums = checksums.Count == 0 ? null : checksums,
            PrimaryPackagePurpose = v23 ? "LIBRARY" : null,
            SourceInfo = SbomHashes.OriginText(c.Origin),
            ExternalRefs = [PurlRef(purl, v23)],
        };
    }

    /// <summary>DESCRIBES for each root, then one relationship per edge whose ends both have an id, unsorted.</summary>
    private static List<SpdxRelationship> Relationships(DependencyGraph graph, Dictionary<string, string> ids)
    {
        var devOnly = graph.Components.Where(c => c.Scopes == DependencyScopes.Dev).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        var relationships = new List<SpdxRelationship>(graph.Roots.Length + graph.Edges.Length);
        foreach (var root in graph.Roots)
        {
            relationships.Add(new SpdxRelationship { SpdxElementId = "SPDXRef-DOCUMENT", RelationshipType = "DESCRIBES", RelatedSpdxElement = ids[root.Key] });
        }
        foreach (var edge in graph.Edges)
        {
            if (!ids.TryGetValue(edge.From, out var from) || !ids.TryGetValue(edge.To, out var to))
            {
                continue;
            }
            relationships.Add(devOnly.Contains(edge.To)
                ? new SpdxRelationship { SpdxElementId = to, RelationshipType = "DEV_DEPENDENCY_OF", RelatedSpdxElement = from }
                : new SpdxRelationship { SpdxElementId = from, RelationshipType = "DEPENDS_ON", RelatedSpdxElement = to });
        }
        return relationships;
    }

    private static SpdxExternalRef PurlRef(string purl, bool v23) => new()
    {
        ReferenceCategory = v23 ? "PACKAGE-MANAGER" : "PACKAGE_MANAGER",
        ReferenceType = "purl",
        ReferenceLocator = purl,
    };

    // A licence that already reads as an SPDX expression; anything else (URLs, prose) becomes NOASSERTION.
    [GeneratedRegex(@"^\(?[A-Za-z0-9.+-]+( (AND|OR|WITH) \(?[A-Za-z0-9.+-]+\)?)*\)?$")]
    private static partial Regex LicenseExpression();
}

/// <summary>An SPDX document as read. <see cref="SpdxWriter"/> writes these members itself, in this order.</summary>
public sealed class SpdxDocument
{
    public string SpdxVersion { get; set; } = "SPDX-2.3";
    public string DataLicense { get; set; } = "CC0-1.0";
    [JsonPropertyName("SPDXID")]
    public string Spdxid { get; set; } = "SPDXRef-DOCUMENT";
    public string Name { get; set; } = "";
    public string? DocumentNamespace { get; set; }
    public SpdxCreationInfo? CreationInfo { get; set; }
    public List<string>? DocumentDescribes { get; set; }
    public List<SpdxPackage>? Packages { get; set; }
    /// <summary>Read only: files and snippets matter to a graph only as relationship targets.</summary>
    public List<SpdxElement>? Files { get; set; }
    /// <summary>Read only, as <see cref="Files"/>.</summary>
    public List<SpdxElement>? Snippets { get; set; }
    public List<SpdxRelationship>? Relationships { get; set; }
}

public sealed class SpdxElement
{
    [JsonPropertyName("SPDXID")]
    public string Spdxid { get; set; } = "";
}

public sealed class SpdxCreationInfo
{
    public string? Created { get; set; }
    public List<string>? Creators { get; set; }
}

public sealed class SpdxPackage
{
    [JsonPropertyName("SPDXID")]
    public string Spdxid { get; set; } = "";
    public string Name { get; set; } = "";
    public string? VersionInfo { get; set; }
    public string DownloadLocation { get; set; } = "NOASSERTION";
    public bool? FilesAnalyzed { get; set; } = false;
    public string? LicenseConcluded { get; set; } = "NOASSERTION";
    public string? LicenseDeclared { get; set; } = "NOASSERTION";
    public string? CopyrightText { get; set; } = "NOASSERTION";
    public string? PrimaryPackagePurpose { get; set; }
    public string? Comment { get; set; }
    public string? SourceInfo { get; set; }
    public List<SpdxChecksum>? Checksums { get; set; }
    public List<SpdxExternalRef>? ExternalRefs { get; set; }
}

public sealed class SpdxChecksum
{
    public string Algorithm { get; set; } = "";
    public string ChecksumValue { get; set; } = "";
}

public sealed class SpdxExternalRef
{
    public string ReferenceCategory { get; set; } = "";
    public string ReferenceType { get; set; } = "";
    public string ReferenceLocator { get; set; } = "";
}

public sealed class SpdxRelationship
{
    [JsonPropertyName("spdxElementId")]
    public string SpdxElementId { get; set; } = "";
    public string RelationshipType { get; set; } = "";
    [JsonPropertyName("relatedSpdxElement")]
    public string RelatedSpdxElement { get; set; } = "";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SpdxDocument))]
[JsonSerializable(typeof(SpdxCreationInfo))]
[JsonSerializable(typeof(SpdxPackage))]
[JsonSerializable(typeof(SpdxRelationship))]
internal sealed partial class SpdxJsonContext : JsonSerializerContext;
