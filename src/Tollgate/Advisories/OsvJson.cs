using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tollgate.Advisories;

// Wire-format DTOs of an OSV record (schema 1.7). No logic here: OsvReader maps them to the domain records.
// Unknown members are ignored; a member of the wrong JSON type makes deserialisation fail with its path.

internal sealed class OsvRecordDto
{
    [JsonPropertyName("schema_version")] public string? SchemaVersion { get; set; }
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("modified")] public string? Modified { get; set; }
    [JsonPropertyName("published")] public string? Published { get; set; }
    [JsonPropertyName("withdrawn")] public string? Withdrawn { get; set; }
    [JsonPropertyName("aliases")] public List<string>? Aliases { get; set; }
    // Strings in the published schema; some drafts allow {type, id} objects, so both are accepted.
    [JsonPropertyName("related")] public List<JsonElement>? Related { get; set; }
    [JsonPropertyName("upstream")] public List<string>? Upstream { get; set; }
    [JsonPropertyName("summary")] public string? Summary { get; set; }
    [JsonPropertyName("details")] public string? Details { get; set; }
    [JsonPropertyName("severity")] public List<OsvSeverityDto>? Severity { get; set; }
    [JsonPropertyName("affected")] public List<OsvAffectedDto>? Affected { get; set; }
    [JsonPropertyName("references")] public List<OsvReferenceDto>? References { get; set; }
    [JsonPropertyName("credits")] public List<OsvCreditDto>? Credits { get; set; }
    [JsonPropertyName("database_specific")] public JsonElement? DatabaseSpecific { get; set; }
}

internal sealed class OsvSeverityDto
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("score")] public string? Score { get; set; }
}

internal sealed class OsvPackageDto
{
    [JsonPropertyName("ecosystem")] public string? Ecosystem { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("purl")] public string? Purl { get; set; }
}

internal sealed class OsvAffectedDto
{
    [JsonPropertyName("package")] public OsvPackageDto? Package { get; set; }
    [JsonPropertyName("severity")] public List<OsvSeverityDto>? Severity { get; set; }
    [JsonPropertyName("ranges")] public List<OsvRangeDto>? Ranges { get; set; }
    [JsonPropertyName("versions")] public List<string>? Versions { get; set; }
    [JsonPropertyName("ecosystem_specific")] public JsonElement? EcosystemSpecific { get; set; }
    [JsonPropertyName("database_specific")] public JsonElement? DatabaseSpecific { get; set; }
}

internal sealed class OsvRangeDto
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("repo")] public string? Repo { get; set; }
    [JsonPropertyName("events")] public List<OsvEventDto>? Events { get; set; }
    [JsonPropertyName("database_specific")] public JsonElement? DatabaseSpecific { get; set; }
}

internal sealed class OsvEventDto
{
    [JsonPropertyName("introduced")] public string? Introduced { get; set; }
    [JsonPropertyName("fixed")] public string? Fixed { get; set; }
    [JsonPropertyName("last_affected")] public string? LastAffected { get; set; }
    [JsonPropertyName("limit")] public string? Limit { get; set; }
}

internal sealed class OsvReferenceDto
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("url")] public string? Url { get; set; }
}

internal sealed class OsvCreditDto
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("contact")] public List<string>? Contact { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
}

/// <summary>The parts of an advisory stored beside the raw record, in OSV's own JSON shape.</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    MaxDepth = 64)]
[JsonSerializable(typeof(OsvRecordDto))]
[JsonSerializable(typeof(List<OsvRangeDto>))]
[JsonSerializable(typeof(List<OsvSeverityDto>))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class OsvJsonContext : JsonSerializerContext;
