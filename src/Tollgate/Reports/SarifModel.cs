using System.Text.Json.Serialization;

namespace Tollgate.Reports;

// The subset of SARIF 2.1.0 Tollgate writes. Property names follow the specification; nulls are omitted.

internal sealed class SarifLog
{
    [JsonPropertyName("$schema")]
    public required string Schema { get; init; }
    public required string Version { get; init; }
    public required List<SarifRun> Runs { get; init; }
}

internal sealed class SarifRun
{
    public required SarifTool Tool { get; init; }
    public required SarifAutomationDetails AutomationDetails { get; init; }
    public required Dictionary<string, SarifArtifactLocation> OriginalUriBaseIds { get; init; }
    public required List<SarifInvocation> Invocations { get; init; }
    public required List<SarifResult> Results { get; init; }
    public SarifRunProperties? Properties { get; init; }
}

/// <summary>The run's verdict and what the advisory check covered, as a SARIF property bag.</summary>
internal sealed class SarifRunProperties
{
    public required string Verdict { get; init; }
    public List<string>? Incomplete { get; init; }
    public required CoverageDto Advisories { get; init; }
}

internal sealed class SarifAutomationDetails
{
    public required string Id { get; init; }
}

internal sealed class SarifTool
{
    public required SarifDriver Driver { get; init; }
}

internal sealed class SarifDriver
{
    public required string Name { get; init; }
    public required string FullName { get; init; }
    public string? InformationUri { get; init; }
    public required string Version { get; init; }
    public required string SemanticVersion { get; init; }
    public required List<SarifRule> Rules { get; init; }
}

internal sealed class SarifRule
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required SarifMessage ShortDescription { get; init; }
    public required SarifMessage FullDescription { get; init; }
    public required SarifMultiformatMessage Help { get; init; }
    public string? HelpUri { get; init; }
    public required SarifConfiguration DefaultConfiguration { get; init; }
    public required SarifRuleProperties Properties { get; init; }
}

internal sealed class SarifConfiguration
{
    public required string Level { get; init; }
}

internal sealed class SarifRuleProperties
{
    public required List<string> Tags { get; init; }

    /// <summary>The 0.0–10.0 score GitHub code scanning turns into critical/high/medium/low.</summary>
    [JsonPropertyName("security-severity")]
    public required string SecuritySeverity { get; init; }
}

internal sealed class SarifMessage
{
    public required string Text { get; init; }
}

internal sealed class SarifMultiformatMessage
{
    public required string Text { get; init; }
    public string? Markdown { get; init; }
}

internal sealed class SarifInvocation
{
    public required bool ExecutionSuccessful { get; init; }
    public List<SarifNotification>? ToolExecutionNotifications { get; init; }
}

internal sealed class SarifNotification
{
    public required SarifDescriptorReference Descriptor { get; init; }
    public required string Level { get; init; }
    public required SarifMessage Message { get; init; }
    public List<SarifLocation>? Locations { get; init; }
}

internal sealed class SarifDescriptorReference
{
    public required string Id { get; init; }
}

internal sealed class SarifResult
{
    public required string RuleId { get; init; }
    public required int RuleIndex { get; init; }
    public required string Level { get; init; }
    public required SarifMessage Message { get; init; }
    public required List<SarifLocation> Locations { get; init; }
    public required Dictionary<string, string> PartialFingerprints { get; init; }
    public List<SarifSuppression>? Suppressions { get; init; }
    public required SarifResultProperties Properties { get; init; }
}

internal sealed class SarifResultProperties
{
    public required string Purl { get; init; }
    public required string Severity { get; init; }
    public List<string>? Paths { get; init; }
}

internal sealed class SarifLocation
{
    public required SarifPhysicalLocation PhysicalLocation { get; init; }
}

internal sealed class SarifPhysicalLocation
{
    public required SarifArtifactLocation ArtifactLocation { get; init; }
    public SarifRegion? Region { get; init; }
}

internal sealed class SarifArtifactLocation
{
    public string? Uri { get; init; }
    public string? UriBaseId { get; init; }
    public SarifMessage? Description { get; init; }
}

internal sealed class SarifRegion
{
    public required int StartLine { get; init; }
    public int? StartColumn { get; init; }
}

internal sealed class SarifSuppression
{
    public required string Kind { get; init; }
    public required string Status { get; init; }
    public required string Justification { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SarifLog))]
internal sealed partial class SarifJsonContext : JsonSerializerContext;
