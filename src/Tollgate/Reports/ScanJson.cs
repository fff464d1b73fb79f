using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tollgate.Graph;

namespace Tollgate.Reports;

/// <summary>
/// The JSON form of a scan (<c>tollgate scan --format json</c>): verdict, summary, findings, diagnostics.
/// Every finding has the same keys; absent values are <c>null</c> or empty lists, so consumers need no existence checks.
/// </summary>
public static class ScanJson
{
    // Relaxed escaping keeps quotes, '+' and non-ASCII names readable; the output is a file, never embedded in HTML.
    private static readonly ScanJsonContext s_context = new(new JsonSerializerOptions(ScanJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static string Write(ScanReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var summary = report.Summary;
        var document = new ScanDocument
        {
            Verdict = report.Outcome.ToName(),
            Incomplete = [.. report.Incomplete],
            Advisories = CoverageDto.From(report.Advisories),
            Summary = new ScanSummaryDto
            {
                Total = summary.Total,
                Failing = summary.Failing,
                Warnings = summary.Warnings,
                Suppressed = summary.Suppressed,
                SuppressedByVex = summary.SuppressedByVex,
                BySeverity = summary.BySeverity.ToDictionary(p => p.Key.ToName(), p => p.Value),
                ByKind = summary.ByKind.ToDictionary(p => p.Key.ToName(), p => p.Value),
            },
            Findings = [.. report.Ordered.Select(ToDto)],
            NotMatched = [.. report.NotMatched.Select(n => new UnmatchedDto { Purl = n.Purl, Reason = n.Reason })],
            Diagnostics = [.. report.Diagnostics.Select(DiagnosticDto.From)],
            Vex = [.. report.VexDocuments],
        };
        return JsonSerializer.Serialize(document, s_context.ScanDocument);
    }

    private static ScanFindingDto ToDto(ReportedFinding reported)
    {
        var f = reported.Finding;
        var c = f.Component;
        return new ScanFindingDto
        {
            Kind = f.Kind.ToName(),
            Id = f.Id,
            Aliases = [.. f.Aliases],
            Severity = f.Severity.ToName(),
            Score = f.Score,
            Summary = f.Summary,
            Evidence = f.Evidence,
            Package = new ScanPackageDto
            {
                Ecosystem = c.Ecosystem.ToOsvName(),
                Name = c.Name,
                Version = c.Version,
                Purl = c.Purl.ToString(),
            },
            FixedIn = [.. f.FixedIn],
            Paths = [.. reported.Paths.Select(p => p.ToList())],
            Locations = [.. c.Locations.Select(LocationDto.From)],
            Level = reported.Level.ToName(),
            Suppressed = reported.Suppression is { } s
                ? new ScanSuppressionDto
                {
                    Source = s.Source == SuppressionSource.Vex ? "vex" : "policy",
                    Reason = s.Reason,
                    Owner = s.Owner,
                    Expires = s.Expires?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    Status = s.Status,
                    Justification = s.Justification,
                    Document = s.Document,
                }
                : null,
        };
    }
}

public sealed class ScanDocument
{
    /// <summary>pass, warn, fail or incomplete.</summary>
    public required string Verdict { get; init; }

    /// <summary>Why the scan is incomplete; empty when everything was checked.</summary>
    public List<string> Incomplete { get; init; } = [];

    /// <summary>What the advisory check covered.</summary>
    public required CoverageDto Advisories { get; init; }

    public required ScanSummaryDto Summary { get; init; }
    public List<ScanFindingDto> Findings { get; init; } = [];
    public List<UnmatchedDto> NotMatched { get; init; } = [];
    public List<DiagnosticDto> Diagnostics { get; init; } = [];

    /// <summary>The VEX documents applied, in the order read.</summary>
    public List<string> Vex { get; init; } = [];
}

/// <summary>The advisory coverage of a scan: whether advisories were checked, from where, and records per scanned ecosystem.</summary>
public sealed class CoverageDto
{
    public required bool Checked { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Source { get; init; }

    public List<EcosystemCoverageDto> Ecosystems { get; init; } = [];

    public static CoverageDto From(AdvisoryCoverage? coverage) => coverage is null
        ? new CoverageDto { Checked = false }
        : new CoverageDto
        {
            Checked = true,
            Source = coverage.Source,
            Ecosystems = [.. coverage.Ecosystems.Select(e => new EcosystemCoverageDto { Ecosystem = e.Ecosystem.ToOsvName(), Packages = e.Packages, Records = e.Records })],
        };
}

public sealed class EcosystemCoverageDto
{
    public required string Ecosystem { get; init; }
    public int Packages { get; init; }
    public int Records { get; init; }
}

public sealed class UnmatchedDto
{
    public required string Purl { get; init; }
    public required string Reason { get; init; }
}

public sealed class ScanSummaryDto
{
    public int Total { get; init; }
    public int Failing { get; init; }
    public int Warnings { get; init; }
    public int Suppressed { get; init; }

    /// <summary>Of the suppressed findings, those a VEX statement applies to.</summary>
    public int SuppressedByVex { get; init; }

    public Dictionary<string, int> BySeverity { get; init; } = [];
    public Dictionary<string, int> ByKind { get; init; } = [];
}

public sealed class ScanFindingDto
{
    public required string Kind { get; init; }
    public required string Id { get; init; }
    public List<string> Aliases { get; init; } = [];
    public required string Severity { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public double? Score { get; init; }

    public required string Summary { get; init; }

    /// <summary>Why the rule fired, in words (the resolved URL, the script, the source); left out when the finding has none.</summary>
    public string? Evidence { get; init; }

    public required ScanPackageDto Package { get; init; }
    public List<string> FixedIn { get; init; } = [];
    public List<List<string>> Paths { get; init; } = [];
    public List<LocationDto> Locations { get; init; } = [];
    public required string Level { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ScanSuppressionDto? Suppressed { get; init; }
}

public sealed class ScanPackageDto
{
    public required string Ecosystem { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Purl { get; init; }
}

public sealed class ScanSuppressionDto
{
    /// <summary>policy (an ignore entry of tollgate.yaml) or vex (a VEX statement).</summary>
    public required string Source { get; init; }

    public required string Reason { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Owner { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Expires { get; init; }

    /// <summary>VEX only: not_affected or fixed.</summary>
    public string? Status { get; init; }

    /// <summary>VEX only: the statement's justification label.</summary>
    public string? Justification { get; init; }

    /// <summary>VEX only: the document the statement is in.</summary>
    public string? Document { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ScanDocument))]
internal sealed partial class ScanJsonContext : JsonSerializerContext;
