using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tollgate.Graph;

namespace Tollgate.Reports;

/// <summary>
/// An OpenVEX v0.2.0 skeleton of a scan's vulnerability findings, for a team to fill in: one statement per
/// vulnerability with the affected packages as products (by purl). Findings a VEX statement already suppresses keep
/// its status, justification and detail; every other statement is <c>under_investigation</c>.
/// </summary>
public static class OpenVexWriter
{
    public const string Context = "https://openvex.dev/ns/v0.2.0";

    /// <summary>The author written into a skeleton; replace it before the document is used.</summary>
    public const string PlaceholderAuthor = "unknown (replace with who makes these statements)";

    private static readonly OpenVexJsonContext s_context = new(new JsonSerializerOptions(OpenVexJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>The skeleton, or null when the report has no vulnerability finding (an OpenVEX document needs a statement).</summary>
    /// <param name="report">The scan report.</param>
    /// <param name="timestamp">The document's timestamp (the scan time, or SOURCE_DATE_EPOCH for reproducible output).</param>
    public static string? Write(ScanReport report, DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(report);
        var statements = report.Ordered
            .Where(f => f.Finding.Kind == FindingKind.Vulnerability)
            .GroupBy(f => f.Finding.Id, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var first = g.First();
                var vex = first.Suppression is { Source: SuppressionSource.Vex } s ? s : null;
                return new OpenVexStatementDto
                {
                    Vulnerability = new OpenVexVulnerabilityDto
                    {
                        Name = g.Key,
                        Aliases = first.Finding.Aliases.IsEmpty ? null : [.. first.Finding.Aliases.Distinct(StringComparer.Ordinal).Where(a => a != g.Key)],
                    },
                    Products = [.. g.Select(f => f.Finding.Component.Purl.ToString()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
                        .Select(p => new OpenVexProductDto { Id = p })],
                    Status = vex?.Status ?? "under_investigation",
                    Justification = vex?.Justification,
                    ImpactStatement = vex is not null && vex.Status == "not_affected" && vex.Reason != vex.Justification ? vex.Reason : null,
                    StatusNotes = vex is null ? $"{first.Finding.Severity.ToName()}: {first.Finding.Summary}" : null,
                };
            })
            .ToList();
        if (statements.Count == 0)
        {
            return null;
        }
        var document = new OpenVexDocumentDto
        {
            Context = Context,
            Id = "",
            Author = PlaceholderAuthor,
            Timestamp = timestamp.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Version = 1,
            Tooling = $"Tollgate {report.ToolVersion}",
            Statements = statements,
        };
        // The document's IRI is a name-based UUID of its statements, so the same findings give the same document.
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(document, s_context.OpenVexDocumentDto)));
        digest[6] = (byte)((digest[6] & 0x0F) | 0x80);
        digest[8] = (byte)((digest[8] & 0x3F) | 0x80);
        var id = new Guid(digest.AsSpan(0, 16), bigEndian: true);
        return JsonSerializer.Serialize(document with { Id = $"urn:uuid:{id}" }, s_context.OpenVexDocumentDto);
    }
}

internal sealed record OpenVexDocumentDto
{
    [JsonPropertyName("@context")]
    public required string Context { get; init; }

    [JsonPropertyName("@id")]
    public required string Id { get; init; }

    public required string Author { get; init; }
    public required string Timestamp { get; init; }
    public required int Version { get; init; }
    public string? Tooling { get; init; }
    public required List<OpenVexStatementDto> Statements { get; init; }
}

internal sealed class OpenVexStatementDto
{
    public required OpenVexVulnerabilityDto Vulnerability { get; init; }
    public required List<OpenVexProductDto> Products { get; init; }
    public required string Status { get; init; }
    public string? Justification { get; init; }

    [JsonPropertyName("impact_statement")]
    public string? ImpactStatement { get; init; }

    [JsonPropertyName("status_notes")]
    public string? StatusNotes { get; init; }
}

internal sealed class OpenVexVulnerabilityDto
{
    public required string Name { get; init; }
    public List<string>? Aliases { get; init; }
}

internal sealed class OpenVexProductDto
{
    [JsonPropertyName("@id")]
    public required string Id { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OpenVexDocumentDto))]
internal sealed partial class OpenVexJsonContext : JsonSerializerContext;
