using System.Collections.Immutable;
using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Sbom;

/// <summary>
/// Reads CycloneDX JSON (1.2–1.7) and SPDX JSON (2.2, 2.3) into a dependency graph. The file is deserialised
/// from a stream into the few fields a graph needs, so large SBOMs are never held as a document tree.
/// Components of other ecosystems and components without a purl are reported, not dropped silently.
/// </summary>
public static class SbomReader
{
    private static readonly string[] CycloneDxVersions = ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];

    public static DependencyGraph Read(string path, DiagnosticBag diagnostics)
    {
        var shown = InputFile.DisplayPath(path);
        var graph = ReadProject(path, shown, diagnostics);
        return GraphMerger.Merge(graph is null ? [] : [graph], diagnostics.Items);
    }

    private static ProjectGraph? ReadProject(string path, string shown, DiagnosticBag diagnostics)
    {
        SbomProbe? probe;
        if (Directory.Exists(path))
        {
            diagnostics.Error(DiagnosticIds.FileUnreadable, "this is a folder; an SBOM file was expected", new SourceLocation(shown),
                "name the SBOM file itself; to read a project folder's lockfiles, give the folder as PATH without --sbom");
            return null;
        }
        try
        {
            using (var stream = File.OpenRead(path))
            {
                probe = JsonSerializer.Deserialize(stream, SbomProbeContext.Default.SbomProbe);
            }
            if (probe?.BomFormat == "CycloneDX")
            {
                if (probe.SpecVersion is null)
                {
                    diagnostics.Error(DiagnosticIds.UnexpectedShape, "CycloneDX BOM without $.specVersion (required)",
                        new SourceLocation(shown), "add \"specVersion\": \"1.6\" (or the version the BOM follows)");
                    return null;
                }
                if (!CycloneDxVersions.Contains(probe.SpecVersion))
                {
                    diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"CycloneDX specVersion '{probe.SpecVersion}' at $.specVersion is not supported",
                        new SourceLocation(shown), "supported: CycloneDX 1.2 to 1.7 (JSON)");
                    return null;
                }
                using var stream = File.OpenRead(path);
                var bom = JsonSerializer.Deserialize(stream, CycloneDxJsonContext.Default.CdxBom);
                return bom is null ? null : FromCycloneDx(bom, shown, diagnostics);
            }
            if (probe?.SpdxVersion is { } spdxVersion)
            {
                if (spdxVersion is not ("SPDX-2.2" or "SPDX-2.3"))
                {
                    diagnostics.Error(DiagnosticIds.UnsupportedVersion, $"SPDX version '{spdxVersion}' at $.spdxVersion is not supported",
                        new SourceLocation(shown), "supported: SPDX 2.2 and 2.3 JSON");
                    return null;
                }
                using var stream = File.OpenRead(path);
                var document = JsonSerializer.Deserialize(stream, SpdxJsonContext.Default.SpdxDocument);
                return document is null ? null : FromSpdx(document, shown, diagnostics);
            }
            if (probe?.Context is not null)
            {
                diagnostics.Error(DiagnosticIds.UnsupportedVersion, "SPDX 3 (JSON-LD) documents are not supported",
                    new SourceLocation(shown), "write the SBOM as SPDX 2.3 or CycloneDX JSON");
                return null;
            }
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "not a CycloneDX or SPDX JSON document",
                new SourceLocation(shown), "expected \"bomFormat\": \"CycloneDX\" or \"spdxVersion\": \"SPDX-2.3\" at the top level");
            return null;
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var column = (int)(e.BytePositionInLine ?? 0) + 1;
            var at = e.Path is { Length: > 0 } p ? $" at {p}" : "";
            var message = e.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
            if (e.InnerException is InvalidOperationException notText)
            {
                // "could not be converted to System.String" hides the cause: a string that is no Unicode text.
                diagnostics.Error(DiagnosticIds.InvalidJson,
                    notText.InnerException is System.Text.DecoderFallbackException
                        ? $"invalid SBOM JSON{at}: bytes that are not UTF-8 in a string"
                        : $"invalid SBOM JSON{at}: {notText.Message.TrimEnd('.')}",
                    new SourceLocation(shown, line, column), "JSON text is UTF-8: the file is damaged, or was saved in another encoding");
                return null;
            }
            diagnostics.Error(DiagnosticIds.InvalidJson, $"invalid SBOM JSON{at}: {message}", new SourceLocation(shown, line, column),
                "check the value at this JSON path against the format's schema");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(DiagnosticIds.FileUnreadable, $"cannot read file: {e.Message}", new SourceLocation(shown));
            return null;
        }
    }

    private static ProjectGraph FromCycloneDx(CdxBom bom, string shown, DiagnosticBag diagnostics)
    {
        var main = bom.Metadata?.Component;
        var rootKey = ProjectRoot.KeyFor(shown);
        var byRef = new Dictionary<string, string>(StringComparer.Ordinal);
        var components = new Dictionary<string, Component>(StringComparer.Ordinal);
        var skipped = new Dictionary<string, int>(StringComparer.Ordinal);
        var seenRefs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (c, jsonPath) in Flatten(bom.Components ?? [], "$.components"))
        {
            if (c.BomRef is { } dup && !seenRefs.Add(dup))
            {
                // Which component a dependency names would be a guess: the graph cannot be trusted.
                diagnostics.Error(DiagnosticIds.UnexpectedShape, $"duplicate bom-ref '{dup}' at {jsonPath}.bom-ref",
                    new SourceLocation(shown), "bom-refs must be unique within a BOM");
                continue;
            }
            if (string.IsNullOrEmpty(c.Name))
            {
                diagnostics.Error(DiagnosticIds.UnexpectedShape, $"component at {jsonPath} has no name (required)",
                    new SourceLocation(shown), "every component needs \"type\" and \"name\"");
                continue;
            }
            if (c.BomRef is not null && c.Properties?.Any(p => p.Name == "tollgate:file") == true)
            {
                // One of several project roots Tollgate wrote as components: the reader's single root stands for all.
                byRef[c.BomRef] = rootKey;
                continue;
            }
            if (c.Purl is null)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"component '{c.Name}' at {jsonPath} has no purl and cannot be matched",
                    new SourceLocation(shown), "regenerate the SBOM with a tool that records package URLs");
                continue;
            }
            var scopes = ScopesFromCycloneDx(c);
            var component = FromPurl(c.Purl, c.Version, scopes, jsonPath, shown, diagnostics, skipped);
            if (component is null)
            {
                continue;
            }
            var unresolved = c.Properties?.Any(p => p.Name == "tollgate:unresolved" && p.Value == "true") == true;
            component = component with
            {
                Integrity = [.. (c.Hashes ?? []).Select(h => HashFrom(h.Alg, h.Content)).OfType<IntegrityHash>()],
                License = c.Licenses?.Select(l => l.Expression ?? l.License?.Id ?? l.License?.Name).FirstOrDefault(l => l is not null),
                HasInstallScript = c.Properties?.Any(p => p.Name == "tollgate:hasInstallScript" && p.Value == "true") == true ? true : null,
                Resolved = !unresolved,
                // An unpinned component's "version" is its declared range; its purl names no version.
                Purl = unresolved && PackageUrl.TryParse(c.Purl, out var declared, out _) && declared.Version is null
                    ? new PackageUrl(component.Purl.Type, component.Purl.Namespace, component.Purl.Name, null, component.Purl.Qualifiers, component.Purl.Subpath)
                    : component.Purl,
                Origin = OriginFrom(c.Properties?.FirstOrDefault(p => p.Name == "tollgate:origin")?.Value,
                    c.Properties?.FirstOrDefault(p => p.Name == "tollgate:origin-location")?.Value
                        ?? c.ExternalReferences?.FirstOrDefault(r => r.Type == "distribution")?.Url),
            };
            components[component.Key] = components.TryGetValue(component.Key, out var existing) ? GraphMerger.Combine(existing, component) : component;
            if (c.BomRef is not null)
            {
                byRef[c.BomRef] = component.Key;
            }
        }
        ReportSkipped(skipped, shown, diagnostics);

        var mainRef = main?.BomRef;
        var edges = new List<DependencyEdge>();
        var dependents = new HashSet<string>(StringComparer.Ordinal);
        var d = 0;
        foreach (var dependency in bom.Dependencies ?? [])
        {
            var jsonPath = $"$.dependencies[{d++}]";
            var from = dependency.Ref == mainRef ? rootKey : byRef.GetValueOrDefault(dependency.Ref);
            if (from is null)
            {
                if (!IsKnownNonComponent(dependency.Ref, bom) && !seenRefs.Contains(dependency.Ref))
                {
                    diagnostics.Error(DiagnosticIds.DanglingReference, $"dependency ref '{dependency.Ref}' at {jsonPath}.ref names no component",
                        new SourceLocation(shown), "every dependencies[].ref must be the bom-ref of a component");
                }
                continue;
            }
            foreach (var target in dependency.DependsOn ?? [])
            {
                if (byRef.TryGetValue(target, out var to))
                {
                    if (to != from)
                    {
                        edges.Add(new DependencyEdge(from, to));
                        dependents.Add(to);
                    }
                }
                else if (!IsKnownNonComponent(target, bom) && !seenRefs.Contains(target) && target != mainRef)
                {
                    diagnostics.Error(DiagnosticIds.DanglingReference, $"dependsOn '{target}' at {jsonPath}.dependsOn names no component",
                        new SourceLocation(shown), "every dependsOn entry must be the bom-ref of a component");
                }
            }
        }
        // A BOM without a dependency tree: every component hangs off the root, like a flat list.
        var rootEdges = edges.Where(e => e.From == rootKey).ToList();
        if (rootEdges.Count == 0)
        {
            foreach (var key in components.Keys.Where(k => !dependents.Contains(k)))
            {
                edges.Add(new DependencyEdge(rootKey, key));
            }
        }
        return Finish(shown, main?.Name, main?.Version, components, edges, rootKey);
    }

    private static bool IsKnownNonComponent(string reference, CdxBom bom) =>
        bom.Metadata?.Tools?.Components?.Any(t => t.BomRef == reference) == true;

    private static ProjectGraph FromSpdx(SpdxDocument document, string shown, DiagnosticBag diagnostics)
    {
        var rootKey = ProjectRoot.KeyFor(shown);
        var described = new HashSet<string>(document.DocumentDescribes ?? [], StringComparer.Ordinal);
        foreach (var r in document.Relationships ?? [])
        {
            if (r.RelationshipType == "DESCRIBES" && r.SpdxElementId == "SPDXRef-DOCUMENT")
            {
                described.Add(r.RelatedSpdxElement);
            }
            else if (r.RelationshipType == "DESCRIBED_BY" && r.RelatedSpdxElement == "SPDXRef-DOCUMENT")
            {
                described.Add(r.SpdxElementId);
            }
        }
        var devTargets = (document.Relationships ?? []).Where(r => r.RelationshipType == "DEV_DEPENDENCY_OF").Select(r => r.SpdxElementId).ToHashSet(StringComparer.Ordinal);
        var optionalTargets = (document.Relationships ?? []).Where(r => r.RelationshipType == "OPTIONAL_DEPENDENCY_OF").Select(r => r.SpdxElementId).ToHashSet(StringComparer.Ordinal);

        var byId = new Dictionary<string, string>(StringComparer.Ordinal);
        var components = new Dictionary<string, Component>(StringComparer.Ordinal);
        var skipped = new Dictionary<string, int>(StringComparer.Ordinal);
        string? rootName = null, rootVersion = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var p in document.Packages ?? [])
        {
            var jsonPath = $"$.packages[{index++}]";
            if (string.IsNullOrEmpty(p.Spdxid) || string.IsNullOrEmpty(p.Name))
            {
                diagnostics.Error(DiagnosticIds.UnexpectedShape, $"package at {jsonPath} has no {(string.IsNullOrEmpty(p.Spdxid) ? "SPDXID" : "name")} (required)",
                    new SourceLocation(shown), "every package needs \"SPDXID\", \"name\" and \"downloadLocation\"");
                continue;
            }
            if (!seen.Add(p.Spdxid))
            {
                diagnostics.Error(DiagnosticIds.UnexpectedShape, $"duplicate SPDXID '{p.Spdxid}' at {jsonPath}.SPDXID",
                    new SourceLocation(shown), "SPDX identifiers must be unique within a document");
                continue;
            }
            if (described.Contains(p.Spdxid))
            {
                byId[p.Spdxid] = rootKey;
                rootName ??= p.Name;
                rootVersion ??= p.VersionInfo;
                continue;
            }
            var purl = p.ExternalRefs?.FirstOrDefault(r => r.ReferenceType == "purl")?.ReferenceLocator;
            if (purl is null)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"package '{p.Name}' at {jsonPath} has no purl external reference and cannot be matched",
                    new SourceLocation(shown), "regenerate the SBOM with a tool that records package URLs");
                continue;
            }
            var scopes = devTargets.Contains(p.Spdxid) ? DependencyScopes.Dev
                : optionalTargets.Contains(p.Spdxid) ? DependencyScopes.Optional : DependencyScopes.Prod;
            var component = FromPurl(purl, p.VersionInfo, scopes, jsonPath, shown, diagnostics, skipped);
            if (component is null)
            {
                continue;
            }
            component = component with
            {
                Integrity = [.. (p.Checksums ?? []).Select(h => HashFrom(h.Algorithm, h.ChecksumValue)).OfType<IntegrityHash>()],
                License = p.LicenseDeclared is { } l && l is not ("NOASSERTION" or "NONE") ? l : null,
                Origin = SbomHashes.ParseOriginText(p.SourceInfo)
                    ?? OriginFrom(null, p.DownloadLocation is { } dl && dl.StartsWith("http", StringComparison.Ordinal) ? dl : null),
            };
            components[component.Key] = components.TryGetValue(component.Key, out var existing) ? GraphMerger.Combine(existing, component) : component;
            byId[p.Spdxid] = component.Key;
        }
        ReportSkipped(skipped, shown, diagnostics);

        var edges = new List<DependencyEdge>();
        var elements = seen.Concat((document.Files ?? []).Select(f => f.Spdxid)).Concat((document.Snippets ?? []).Select(f => f.Spdxid))
            .Append("SPDXRef-DOCUMENT").ToHashSet(StringComparer.Ordinal);
        var relationshipIndex = 0;
        foreach (var r in document.Relationships ?? [])
        {
            var jsonPath = $"$.relationships[{relationshipIndex++}]";
            foreach (var (id, field) in new[] { (r.SpdxElementId, "spdxElementId"), (r.RelatedSpdxElement, "relatedSpdxElement") })
            {
                // NONE, NOASSERTION and elements of other documents (DocumentRef-...:SPDXRef-...) are legal targets.
                if (!elements.Contains(id) && id is not ("NONE" or "NOASSERTION") && !id.StartsWith("DocumentRef-", StringComparison.Ordinal))
                {
                    diagnostics.Error(DiagnosticIds.DanglingReference, $"{field} '{id}' at {jsonPath}.{field} names no element of the document",
                        new SourceLocation(shown), "every relationship must name a package, file or snippet of this document");
                }
            }
            var (from, to) = r.RelationshipType switch
            {
                "DEPENDS_ON" or "CONTAINS" => (r.SpdxElementId, r.RelatedSpdxElement),
                "DEPENDENCY_OF" or "DEV_DEPENDENCY_OF" or "OPTIONAL_DEPENDENCY_OF" or "RUNTIME_DEPENDENCY_OF" or "BUILD_DEPENDENCY_OF" or "CONTAINED_BY"
                    => (r.RelatedSpdxElement, r.SpdxElementId),
                _ => (null, null),
            };
            if (from is null || to is null || from == "SPDXRef-DOCUMENT")
            {
                continue;
            }
            if (byId.TryGetValue(from, out var fromKey) && byId.TryGetValue(to, out var toKey) && fromKey != toKey)
            {
                edges.Add(new DependencyEdge(fromKey, toKey));
            }
        }
        if (!edges.Any(e => e.From == rootKey))
        {
            var dependents = edges.Select(e => e.To).ToHashSet(StringComparer.Ordinal);
            edges.AddRange(components.Keys.Where(k => !dependents.Contains(k)).Select(k => new DependencyEdge(rootKey, k)));
        }
        return Finish(shown, rootName ?? document.Name, rootVersion, components, edges, rootKey);
    }

    private static ProjectGraph Finish(string shown, string? name, string? version, Dictionary<string, Component> components, List<DependencyEdge> edges, string rootKey)
    {
        var direct = edges.Where(e => e.From == rootKey).Select(e => e.To).ToHashSet(StringComparer.Ordinal);
        var root = new ProjectRoot(rootKey, components.Values.FirstOrDefault()?.Ecosystem ?? Ecosystem.Npm, name, version, shown, [shown]);
        return new ProjectGraph(
            root,
            [.. components.Values.Select(c => c with { Direct = direct.Contains(c.Key) })],
            [.. edges.Distinct()]);
    }

    private static Component? FromPurl(string purlText, string? version, DependencyScopes scopes, string jsonPath, string shown, DiagnosticBag diagnostics, Dictionary<string, int> skipped)
    {
        if (!PackageUrl.TryParse(purlText, out var purl, out var error))
        {
            diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"invalid purl '{purlText}' at {jsonPath}: {error}", new SourceLocation(shown));
            return null;
        }
        if (!EcosystemNames.TryParse(purl.Type, out var ecosystem))
        {
            skipped[purl.Type] = skipped.GetValueOrDefault(purl.Type) + 1;
            return null;
        }
        var resolvedVersion = purl.Version ?? version;
        if (resolvedVersion is null)
        {
            diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"component {purlText} at {jsonPath} has no version", new SourceLocation(shown));
            return null;
        }
        var name = purl.FullName;
        return new Component
        {
            Ecosystem = ecosystem,
            Name = ecosystem == Ecosystem.PyPI ? Component.NormalizePyPIName(name) : name,
            Version = resolvedVersion,
            Purl = PackageUrl.For(ecosystem, name, resolvedVersion, purl.Qualifiers),
            Scopes = scopes,
            Locations = [new SourceLocation(shown)],
        };
    }

    private static void ReportSkipped(Dictionary<string, int> skipped, string shown, DiagnosticBag diagnostics)
    {
        foreach (var (type, count) in skipped.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            diagnostics.Info(DiagnosticIds.UnexpectedShape, $"{count} component(s) of purl type '{type}' skipped: only npm, PyPI and NuGet are analysed",
                new SourceLocation(shown));
        }
    }

    private static DependencyScopes ScopesFromCycloneDx(CdxComponent c)
    {
        var ours = c.Properties?.FirstOrDefault(p => p.Name == "tollgate:scopes")?.Value;
        if (ours is not null)
        {
            var scopes = DependencyScopes.None;
            foreach (var s in ours.Split(','))
            {
                scopes |= s switch { "prod" => DependencyScopes.Prod, "dev" => DependencyScopes.Dev, "optional" => DependencyScopes.Optional, "peer" => DependencyScopes.Peer, _ => DependencyScopes.None };
            }
            return scopes == DependencyScopes.None ? DependencyScopes.Prod : scopes;
        }
        if (c.Properties?.Any(p => p.Name == "cdx:npm:package:development" && p.Value == "true") == true)
        {
            return DependencyScopes.Dev;
        }
        return c.Scope switch
        {
            "excluded" => DependencyScopes.Dev,
            "optional" => DependencyScopes.Optional,
            _ => DependencyScopes.Prod,
        };
    }

    private static Origin OriginFrom(string? kind, string? url) => kind switch
    {
        "git" => new Origin(OriginKind.Git, url),
        "url" => new Origin(OriginKind.Url, url),
        "file" => new Origin(OriginKind.File, url),
        "workspace" => new Origin(OriginKind.Workspace, url),
        _ => Origin.Registry(url),
    };

    private static IntegrityHash? HashFrom(string algorithm, string value)
    {
        var normal = algorithm.ToUpperInvariant().Replace("-", "", StringComparison.Ordinal);
        return normal is "SHA1" or "SHA256" or "SHA384" or "SHA512" or "MD5" ? new IntegrityHash(normal.ToLowerInvariant(), value.ToLowerInvariant()) : null;
    }

    /// <summary>Nested components (cyclonedx-npm nests by node_modules folder) in document order, with their JSON paths.</summary>
    private static IEnumerable<(CdxComponent Component, string JsonPath)> Flatten(IEnumerable<CdxComponent> components, string path)
    {
        var i = 0;
        foreach (var c in components)
        {
            var here = $"{path}[{i++}]";
            yield return (c, here);
            foreach (var nested in Flatten(c.Components ?? [], here + ".components"))
            {
                yield return nested;
            }
        }
    }
}

/// <summary>The top-level fields that tell an SBOM's format and version.</summary>
public sealed class SbomProbe
{
    public string? BomFormat { get; set; }
    public string? SpecVersion { get; set; }
    public string? SpdxVersion { get; set; }
    [System.Text.Json.Serialization.JsonPropertyName("@context")]
    public JsonElement? Context { get; set; }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(SbomProbe))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class SbomProbeContext : System.Text.Json.Serialization.JsonSerializerContext;
