using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Vex;

/// <summary>The impact a VEX statement states, in OpenVEX's words (CycloneDX analysis states are mapped onto these).</summary>
public enum VexStatus
{
    /// <summary>No remediation is needed: the product is not affected (OpenVEX <c>not_affected</c>; CycloneDX <c>not_affected</c>, <c>false_positive</c>).</summary>
    NotAffected,
    /// <summary>The product is affected (OpenVEX <c>affected</c>; CycloneDX <c>exploitable</c>).</summary>
    Affected,
    /// <summary>These product versions contain a fix (OpenVEX <c>fixed</c>; CycloneDX <c>resolved</c>, <c>resolved_with_pedigree</c>).</summary>
    Fixed,
    /// <summary>Not yet known (OpenVEX <c>under_investigation</c>; CycloneDX <c>in_triage</c>).</summary>
    UnderInvestigation,
}

/// <summary>The format a VEX document was written in.</summary>
public enum VexFormat
{
    OpenVex,
    CycloneDx,
}

/// <summary>
/// Something a VEX statement is about: package URLs that identify it (OpenVEX <c>@id</c> and <c>identifiers.purl</c>,
/// a CycloneDX component's <c>purl</c>), and its subcomponents' purls (OpenVEX only).
/// </summary>
/// <param name="Purls">The product's own package URLs.</param>
/// <param name="Subcomponents">Package URLs of the components within the product the statement is about.</param>
/// <param name="Versions">CycloneDX <c>affects[].versions</c> with an exact <c>version</c>: the statement covers only these versions; empty means every version the purl names.</param>
/// <param name="HasRanges">True when CycloneDX named versions by <c>range</c> (vers), which Tollgate does not evaluate: such an entry matches nothing.</param>
public sealed record VexProduct(
    ImmutableArray<PackageUrl> Purls,
    ImmutableArray<PackageUrl> Subcomponents,
    ImmutableArray<string> Versions = default,
    bool HasRanges = false);

/// <summary>One statement of a VEX document: a status of one vulnerability in some products.</summary>
public sealed record VexStatement
{
    /// <summary>The vulnerability's name (OpenVEX <c>vulnerability.name</c>, CycloneDX <c>id</c>).</summary>
    public required string Vulnerability { get; init; }

    /// <summary>Other names of the vulnerability (OpenVEX <c>aliases</c>, CycloneDX <c>references[].id</c>).</summary>
    public ImmutableArray<string> Aliases { get; init; } = [];

    public required ImmutableArray<VexProduct> Products { get; init; }

    public required VexStatus Status { get; init; }

    /// <summary>The machine-readable justification label (<c>vulnerable_code_not_in_execute_path</c>, <c>code_not_reachable</c>, …), or null.</summary>
    public string? Justification { get; init; }

    /// <summary>Free text: OpenVEX <c>impact_statement</c> or <c>status_notes</c>, CycloneDX <c>analysis.detail</c>.</summary>
    public string? Detail { get; init; }

    /// <summary>Who made the statement: the document's author (CycloneDX: <c>metadata.authors</c>, else the manufacturer or supplier).</summary>
    public required string Author { get; init; }

    /// <summary>When the statement was known true (the statement's timestamp, else the document's); null when neither gives one.</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The document the statement came from, as shown to users.</summary>
    public required string Document { get; init; }

    public required VexFormat Format { get; init; }

    /// <summary>Where in the document the statement is.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>Every name of the vulnerability.</summary>
    public IEnumerable<string> AllIds => Aliases.Prepend(Vulnerability);

    /// <summary>True when the statement takes a finding off the verdict: <c>not_affected</c> or <c>fixed</c>.</summary>
    public bool Suppresses => Status is VexStatus.NotAffected or VexStatus.Fixed;
}

public static class VexNames
{
    /// <summary>The OpenVEX label of a status.</summary>
    public static string ToName(this VexStatus status) => status switch
    {
        VexStatus.NotAffected => "not_affected",
        VexStatus.Affected => "affected",
        VexStatus.Fixed => "fixed",
        _ => "under_investigation",
    };
}
