using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Vex;

/// <summary>
/// Reads OpenVEX (v0.0.1 and v0.2.0 / v1 documents) and CycloneDX VEX (a BOM with <c>vulnerabilities</c>) JSON into
/// <see cref="VexStatement"/>s. The format is told by content: <c>@context</c> under openvex.dev, or
/// <c>bomFormat: CycloneDX</c>. Problems are diagnostics with the file, line and column; a document with an error
/// yields no statements at all (a half-read VEX document must not suppress anything).
/// </summary>
public static class VexReader
{
    private static readonly FrozenSet<string> OpenVexJustifications = FrozenSet.Create(StringComparer.Ordinal,
        "component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
        "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist");

    /// <summary>Reads the VEX document at <paramref name="path"/>; null (with error diagnostics) when it cannot be used.</summary>
    public static ImmutableArray<VexStatement>? ReadFile(string path, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        var bytes = InputFile.ReadBytes(path, diagnostics);
        return bytes is null ? null : Read(bytes, InputFile.DisplayPath(path), diagnostics);
    }

    /// <summary>Reads a VEX document from UTF-8 JSON; null (with error diagnostics) when it cannot be used.</summary>
    public static ImmutableArray<VexStatement>? Read(ReadOnlySpan<byte> utf8, string displayPath, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        var local = new DiagnosticBag();
        var root = LocatedJson.Parse(utf8, displayPath, local);
        ImmutableArray<VexStatement> statements = [];
        if (root is not null)
        {
            if (!root.IsObject)
            {
                local.Error(DiagnosticIds.UnexpectedShape, "expected a VEX document (a JSON object), found " + root.Kind.ToString().ToLowerInvariant(),
                    root.LocationIn(displayPath), "give an OpenVEX document or a CycloneDX BOM with vulnerabilities");
            }
            else if (root.GetString("@context") is { } context && context.StartsWith("https://openvex.dev/ns", StringComparison.Ordinal))
            {
                statements = ReadOpenVex(root, displayPath, local);
            }
            else if (root.GetString("bomFormat") == "CycloneDX")
            {
                statements = ReadCycloneDx(root, displayPath, local);
            }
            else
            {
                local.Error(DiagnosticIds.UnexpectedShape, "not a VEX document: expected an OpenVEX '@context' (https://openvex.dev/ns/…) or a CycloneDX BOM ('bomFormat': 'CycloneDX')",
                    root.LocationIn(displayPath), "give an OpenVEX document or a CycloneDX BOM with vulnerabilities");
            }
        }
        foreach (var d in local.Items)
        {
            diagnostics.Add(d);
        }
        return local.HasErrors ? null : statements;
    }

    private static ImmutableArray<VexStatement> ReadOpenVex(JsonNode root, string file, DiagnosticBag diagnostics)
    {
        var author = root.GetString("author");
        if (string.IsNullOrWhiteSpace(author))
        {
            diagnostics.Error(DiagnosticIds.InvalidEntry, "the OpenVEX document has no 'author' (it is required: who makes these statements)", root.LocationIn(file));
            author = "";
        }
        var documentTime = Timestamp(root["timestamp"], file, diagnostics);
        if (root["statements"] is not { IsArray: true } list)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "the OpenVEX document has no 'statements' array", (root["statements"] ?? root).LocationIn(file));
            return [];
        }
        var documentProducts = root["products"] is { IsArray: true } dp ? OpenVexProducts(dp, file, diagnostics) : [];
        var result = ImmutableArray.CreateBuilder<VexStatement>();
        foreach (var s in list.Items)
        {
            var where = s.LocationIn(file);
            if (!s.IsObject)
            {
                diagnostics.Error(DiagnosticIds.UnexpectedShape, "a statement must be a JSON object", where);
                continue;
            }
            // v0.0.1 writes the vulnerability as a string; v0.2.0 as { name, aliases }.
            var vulnerability = s["vulnerability"];
            var name = vulnerability switch
            {
                { IsString: true } v => v.Text,
                { IsObject: true } v => v.GetString("name"),
                _ => null,
            };
            if (string.IsNullOrWhiteSpace(name))
            {
                diagnostics.Error(DiagnosticIds.InvalidEntry, "the statement names no vulnerability ('vulnerability.name')", (vulnerability ?? s).LocationIn(file));
                continue;
            }
            var aliases = vulnerability is { IsObject: true } && vulnerability["aliases"] is { IsArray: true } a
                ? a.Items.Where(i => i.IsString && !string.IsNullOrWhiteSpace(i.Text)).Select(i => i.Text!).ToImmutableArray()
                : [];
            var status = s.GetString("status") switch
            {
                "not_affected" => VexStatus.NotAffected,
                "affected" => VexStatus.Affected,
                "fixed" => VexStatus.Fixed,
                "under_investigation" => VexStatus.UnderInvestigation,
                _ => (VexStatus?)null,
            };
            if (status is null)
            {
                diagnostics.Error(DiagnosticIds.InvalidEntry, $"the statement about {name} has status '{s["status"]?.ToString() ?? "(none)"}'; expected not_affected, affected, fixed or under_investigation",
                    (s["status"] ?? s).LocationIn(file));
                continue;
            }
            var justification = s.GetString("justification");
            var impact = s.GetString("impact_statement");
            if (status == VexStatus.NotAffected && string.IsNullOrWhiteSpace(justification) && string.IsNullOrWhiteSpace(impact))
            {
                diagnostics.Error(DiagnosticIds.InvalidEntry, $"the not_affected statement about {name} has neither a 'justification' nor an 'impact_statement' (the OpenVEX specification requires one)", where,
                    "add a justification label such as vulnerable_code_not_in_execute_path");
                continue;
            }
            if (justification is not null && !OpenVexJustifications.Contains(justification))
            {
                diagnostics.Warning(DiagnosticIds.InvalidEntry, $"'{justification}' is not an OpenVEX justification label", s["justification"]!.LocationIn(file),
                    "the labels are component_not_present, vulnerable_code_not_present, vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist");
            }
            var products = s["products"] is { IsArray: true } p ? OpenVexProducts(p, file, diagnostics) : documentProducts;
            if (products.IsEmpty)
            {
                diagnostics.Error(DiagnosticIds.InvalidEntry, $"the statement about {name} names no product", where, "list the packages it is about in 'products' (by purl)");
                continue;
            }
            result.Add(new VexStatement
            {
                Vulnerability = name,
                Aliases = aliases,
                Products = products,
                Status = status.Value,
                Justification = justification,
                Detail = impact ?? s.GetString("status_notes"),
                Author = author,
                Timestamp = Timestamp(s["timestamp"], file, diagnostics) ?? documentTime,
                Document = file,
                Format = VexFormat.OpenVex,
                Location = where,
            });
        }
        return result.ToImmutable();
    }

    private static ImmutableArray<VexProduct> OpenVexProducts(JsonNode list, string file, DiagnosticBag diagnostics)
    {
        var result = ImmutableArray.CreateBuilder<VexProduct>();
        foreach (var item in list.Items)
        {
            var own = OpenVexPurls(item, file, diagnostics);
            var subs = item is { IsObject: true } && item["subcomponents"] is { IsArray: true } sc
                ? sc.Items.SelectMany(i => OpenVexPurls(i, file, diagnostics)).ToImmutableArray()
                : [];
            if (own.IsEmpty && subs.IsEmpty)
            {
                diagnostics.Warning(DiagnosticIds.InvalidEntry, "this product has no package URL (purl), so it matches no package", item.LocationIn(file),
                    "identify products by purl in '@id' or 'identifiers.purl'");
            }
            result.Add(new VexProduct(own, subs, []));
        }
        return result.ToImmutable();
    }

    /// <summary>The purls of an OpenVEX component: a v0.0.1 string, or <c>@id</c> and <c>identifiers.purl</c>.</summary>
    private static ImmutableArray<PackageUrl> OpenVexPurls(JsonNode component, string file, DiagnosticBag diagnostics)
    {
        var texts = component.IsString ? [component] : new[] { component["@id"], component["identifiers"]?["purl"] }.OfType<JsonNode>();
        var result = ImmutableArray.CreateBuilder<PackageUrl>();
        foreach (var node in texts.Where(n => n.IsString && n.Text!.StartsWith("pkg:", StringComparison.Ordinal)))
        {
            if (PackageUrl.TryParse(node.Text, out var purl, out var error))
            {
                result.Add(purl);
            }
            else
            {
                diagnostics.Error(DiagnosticIds.InvalidEntry, $"invalid package URL '{node.Text}': {error}", node.LocationIn(file));
            }
        }
        return result.ToImmutable();
    }

    private static ImmutableArray<VexStatement> ReadCycloneDx(JsonNode root, string file, DiagnosticBag diagnostics)
    {
        if (root["vulnerabilities"] is not { IsArray: true } list)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "the CycloneDX BOM has no 'vulnerabilities' array, so it states nothing about vulnerabilities (it is an SBOM, not VEX)",
                (root["vulnerabilities"] ?? root).LocationIn(file), "give it to 'scan --sbom' instead, or add the VEX analysis under 'vulnerabilities'");
            return [];
        }
        var metadata = root["metadata"];
        var author = metadata?["authors"] is { IsArray: true } authors && authors.Items.Select(x => x.GetString("name")).FirstOrDefault(n => !string.IsNullOrWhiteSpace(n)) is { } first
            ? first
            : metadata?["manufacturer"]?.GetString("name") ?? metadata?["manufacture"]?.GetString("name") ?? metadata?["supplier"]?.GetString("name") ?? "(no author in the document)";
        var documentTime = Timestamp(metadata?["timestamp"], file, diagnostics);

        // bom-ref → the component's purl, over metadata.component and every (nested) component.
        var refs = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        void Index(JsonNode? component)
        {
            if (component is not { IsObject: true })
            {
                return;
            }
            if (component.GetString("bom-ref") is { } r)
            {
                refs[r] = component;
            }
            foreach (var child in component["components"]?.Items ?? [])
            {
                Index(child);
            }
        }
        Index(metadata?["component"]);
        foreach (var c in root["components"]?.Items ?? [])
        {
            Index(c);
        }

        var result = ImmutableArray.CreateBuilder<VexStatement>();
        foreach (var v in list.Items)
        {
            var where = v.LocationIn(file);
            var id = v.GetString("id");
            if (string.IsNullOrWhiteSpace(id))
            {
                diagnostics.Error(DiagnosticIds.InvalidEntry, "the vulnerability has no 'id'", where);
                continue;
            }
            var analysis = v["analysis"];
            if (analysis is null)
            {
                // A vulnerability without analysis is an SBOM-style listing, not a VEX statement.
                continue;
            }
            var stateNode = analysis["state"];
            var status = stateNode?.Text switch
            {
                "not_affected" or "false_positive" => VexStatus.NotAffected,
                "exploitable" => VexStatus.Affected,
                "resolved" or "resolved_with_pedigree" => VexStatus.Fixed,
                "in_triage" => VexStatus.UnderInvestigation,
                _ => (VexStatus?)null,
            };
            if (status is null)
            {
                diagnostics.Error(DiagnosticIds.InvalidEntry, $"the analysis of {id} has state '{stateNode?.ToString() ?? "(none)"}'; expected not_affected, false_positive, exploitable, resolved, resolved_with_pedigree or in_triage",
                    (stateNode ?? analysis).LocationIn(file));
                continue;
            }
            var justification = analysis.GetString("justification");
            var detail = analysis.GetString("detail");
            if (status == VexStatus.NotAffected && stateNode!.Text == "not_affected" && string.IsNullOrWhiteSpace(justification) && string.IsNullOrWhiteSpace(detail))
            {
                diagnostics.Error(DiagnosticIds.InvalidEntry, $"the not_affected analysis of {id} has neither a 'justification' nor a 'detail'", analysis.LocationIn(file),
                    "add a justification such as code_not_reachable");
                continue;
            }
            if (v["affects"] is not { IsArray: true } affects || affects.Items.Count == 0)
            {
                diagnostics.Error(DiagnosticIds.InvalidEntry, $"the analysis of {id} names nothing it affects ('affects')", where);
                continue;
            }
            var products = ImmutableArray.CreateBuilder<VexProduct>();
            foreach (var affect in affects.Items)
            {
                var purls = CycloneDxPurls(affect.GetString("ref"), refs, affect.LocationIn(file), file, diagnostics);
                var versions = ImmutableArray.CreateBuilder<string>();
                var ranges = false;
                foreach (var entry in affect["versions"]?.Items ?? [])
                {
                    var versionStatus = entry.GetString("status") ?? "affected";
                    var relevant = status is VexStatus.NotAffected or VexStatus.Fixed ? versionStatus != "affected" : versionStatus != "unaffected";
                    if (entry.GetString("version") is { } exact && relevant)
                    {
                        versions.Add(exact);
                    }
                    else if (entry.GetString("range") is not null && relevant)
                    {
                        ranges = true;
                    }
                }
                if (ranges && versions.Count == 0)
                {
                    diagnostics.Warning(DiagnosticIds.InvalidEntry, $"the analysis of {id} names versions by range (vers), which Tollgate does not evaluate: this entry matches no package",
                        affect.LocationIn(file), "name the exact versions with 'version'");
                }
                products.Add(new VexProduct(purls, [], versions.ToImmutable(), ranges));
            }
            result.Add(new VexStatement
            {
                Vulnerability = id,
                Aliases = [.. (v["references"]?.Items ?? []).Select(r => r.GetString("id")).OfType<string>()],
                Products = products.ToImmutable(),
                Status = status.Value,
                Justification = justification,
                Detail = detail,
                Author = author,
                Timestamp = Timestamp(analysis["lastUpdated"], file, diagnostics) ?? Timestamp(v["updated"], file, diagnostics) ?? documentTime,
                Document = file,
                Format = VexFormat.CycloneDx,
                Location = where,
            });
        }
        return result.ToImmutable();
    }

    /// <summary>
    /// The purl of an <c>affects[].ref</c>: a component of this BOM by bom-ref, a BOM-Link
    /// (<c>urn:cdx:serial/version#bom-ref</c>) whose fragment is one, or a ref that is itself a purl.
    /// </summary>
    private static ImmutableArray<PackageUrl> CycloneDxPurls(string? reference, Dictionary<string, JsonNode> refs, SourceLocation where, string file, DiagnosticBag diagnostics)
    {
        if (string.IsNullOrWhiteSpace(reference))
        {
            diagnostics.Error(DiagnosticIds.InvalidEntry, "an 'affects' entry has no 'ref'", where);
            return [];
        }
        var target = reference;
        if (reference.StartsWith("urn:cdx:", StringComparison.Ordinal) && reference.IndexOf('#', StringComparison.Ordinal) is var hash and > 0)
        {
            target = Uri.UnescapeDataString(reference[(hash + 1)..]);
        }
        var text = refs.TryGetValue(target, out var component) ? component.GetString("purl") : target.StartsWith("pkg:", StringComparison.Ordinal) ? target : null;
        if (text is not null && PackageUrl.TryParse(text, out var purl))
        {
            return [purl];
        }
        diagnostics.Warning(DiagnosticIds.MissingReference,
            component is null ? $"'{reference}' names no component of this document and is no package URL, so it matches no package"
                : $"the component '{target}' has no package URL (purl), so it matches no package",
            where, "Tollgate matches VEX statements to packages by purl");
        _ = file;
        return [];
    }

    private static DateTimeOffset? Timestamp(JsonNode? node, string file, DiagnosticBag diagnostics)
    {
        if (node is not { IsString: true, Text: { } text })
        {
            return null;
        }
        // RFC 3339 allows more fractional digits than .NET parses (Go writes nanoseconds): keep seven.
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            var end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }
            if (end - dot - 1 > 7)
            {
                text = text[..(dot + 8)] + text[end..];
            }
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return value;
        }
        diagnostics.Error(DiagnosticIds.InvalidEntry, $"'{node.Text}' is not an RFC 3339 timestamp", node.LocationIn(file), "write it like 2024-05-01T12:00:00Z");
        return null;
    }
}
