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
        JsonSerializer.Serialize(Build(graph, options), SpdxJsonContext.Default.SpdxDocument);

    /// <summary>Writes the document to <paramref name="utf8"/> as it is serialized, without building it as text first.</summary>
    public static void Write(DependencyGraph graph, SbomOptions options, Stream utf8) =>
        JsonSerializer.Serialize(utf8, Build(graph, options), SpdxJsonContext.Default.SpdxDocument);

    private static SpdxDocument Build(DependencyGraph graph, SbomOptions options)
    {
        if (!SbomOptions.SpdxVersions.Contains(options.SpecVersion))
        {
            throw new ArgumentException($"SPDX {options.SpecVersion} is not supported; use one of {string.Join(", ", SbomOptions.SpdxVersions)}", nameof(options));
        }
        var v23 = options.SpecVersion == "2.3";
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var root in graph.Roots)
        {
            ids[root.Key] = "SPDXRef-Root-" + SbomHashes.Digest(root.Key)[..16];
        }
        foreach (var c in graph.Components)
        {
            ids[c.Key] = "SPDXRef-Package-" + SbomHashes.Digest(c.Key)[..16];
        }

        var packages = new List<SpdxPackage>();
        foreach (var root in graph.Roots)
        {
            packages.Add(new SpdxPackage
            {
                Spdxid = ids[root.Key],
                Name = root.Name ?? root.AuthoritativeFile,
                VersionInfo = root.Version,
                PrimaryPackagePurpose = v23 ? "APPLICATION" : null,
                Comment = $"Project described by {root.AuthoritativeFile}",
                ExternalRefs = root.Name is null ? null : [PurlRef(PackageUrl.For(root.Ecosystem, root.Name, root.Version).ToString(), v23)],
            });
        }
        foreach (var c in graph.Components)
        {
            var checksums = SbomHashes.Distinct(c.Integrity)
                .Select(h => new SpdxChecksum { Algorithm = h.Algorithm.ToUpperInvariant(), ChecksumValue = h.Hex }).ToList();
            var download = c.Origin.Location is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? url
                : "NOASSERTION";
            packages.Add(new SpdxPackage
            {
                Spdxid = ids[c.Key],
                Name = c.Name,
                VersionInfo = c.Version,
                DownloadLocation = download,
                LicenseDeclared = c.License is { } l && LicenseExpression().IsMatch(l) ? l : "NOASSERTION",
                Checksums = checksums.Count == 0 ? null : checksums,
                PrimaryPackagePurpose = v23 ? "LIBRARY" : null,
                SourceInfo = SbomHashes.OriginText(c.Origin),
                ExternalRefs = [PurlRef(c.Purl.ToString(), v23)],
            });
        }

        var devOnly = graph.Components.Where(c => c.Scopes == DependencyScopes.Dev).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        var relationships = new List<SpdxRelationship>();
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

        var name = graph.Roots.Length == 1 ? graph.Roots[0].DisplayName : options.ProjectName;
        var guid = options.Reproducible ? SbomHashes.DerivedGuid(SbomHashes.ContentKey(graph, "spdx", options.SpecVersion)) : Guid.NewGuid();
        var document = new SpdxDocument
        {
            SpdxVersion = "SPDX-" + options.SpecVersion,
            Name = name,
            DocumentNamespace = $"https://spdx.org/spdxdocs/tollgate/{Uri.EscapeDataString(name)}/{guid}",
            CreationInfo = new SpdxCreationInfo
            {
                Created = options.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
                Creators = ["Tool: tollgate-" + options.ToolVersion],
            },
            DocumentDescribes = [.. graph.Roots.Select(r => ids[r.Key]).Order(StringComparer.Ordinal)],
            Packages = [.. packages.OrderBy(p => p.Spdxid, StringComparer.Ordinal)],
            Relationships = [.. relationships
                .OrderBy(r => r.SpdxElementId, StringComparer.Ordinal)
                .ThenBy(r => r.RelationshipType, StringComparer.Ordinal)
                .ThenBy(r => r.RelatedSpdxElement, StringComparer.Ordinal)],
        };
        return document;
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
internal sealed partial class SpdxJsonContext : JsonSerializerContext;
