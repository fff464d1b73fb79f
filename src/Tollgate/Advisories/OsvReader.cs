using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Advisories;

/// <summary>What became of one OSV record.</summary>
public enum OsvReadStatus
{
    /// <summary>Read, and it affects at least one package of a supported ecosystem.</summary>
    Read,
    /// <summary>Well-formed, but it affects no npm, PyPI or NuGet package.</summary>
    OtherEcosystem,
    /// <summary>Malformed (bad JSON, wrong types, missing id or modified): skipped with a diagnostic.</summary>
    Rejected,
}

/// <summary>The outcome of reading one record: the advisory when <see cref="Status"/> is <see cref="OsvReadStatus.Read"/>.</summary>
public readonly record struct OsvReadResult(OsvReadStatus Status, Advisory? Advisory);

/// <summary>
/// Reads one OSV JSON record (schema 1.7) into an <see cref="Advisory"/>. Unknown members are ignored;
/// a member of the wrong type or a missing id/modified rejects the record with a diagnostic that names
/// the source, the JSON path and what was wrong.
/// </summary>
public static class OsvReader
{
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>Reads a record; <paramref name="source"/> names it in diagnostics (file, or archive!entry).</summary>
    public static OsvReadResult Read(ReadOnlySpan<byte> utf8Json, string source, DiagnosticBag diagnostics)
    {
        if (utf8Json.StartsWith(Utf8Bom))
        {
            utf8Json = utf8Json[Utf8Bom.Length..];
        }
        OsvRecordDto? dto;
        try
        {
            dto = JsonSerializer.Deserialize(utf8Json, OsvJsonContext.Default.OsvRecordDto);
        }
        catch (JsonException e)
        {
            var line = e.LineNumber is { } l ? (int)l + 1 : 0;
            var column = e.BytePositionInLine is { } c ? (int)c + 1 : 0;
            var path = string.IsNullOrEmpty(e.Path) ? "$" : e.Path;
            var id = e.Message.Contains("could not be converted", StringComparison.Ordinal) ? DiagnosticIds.UnexpectedShape : DiagnosticIds.InvalidJson;
            diagnostics.Warning(id, $"OSV record skipped: {path}: {FirstSentence(e.Message)}",
                new SourceLocation(source, line, column),
                "the rest of the input is imported; check the record against the OSV schema");
            return new OsvReadResult(OsvReadStatus.Rejected, null);
        }
        if (dto is null)
        {
            Reject(diagnostics, source, "$", "the record is null, not an object");
            return new OsvReadResult(OsvReadStatus.Rejected, null);
        }
        try
        {
            return Map(dto, source, diagnostics);
        }
        catch (InvalidOperationException e)
        {
            // The members kept as JSON (database_specific, ecosystem_specific, related) are decoded only here: a string
            // among them that is not valid UTF-8 (or a lone surrogate escape) makes the record malformed, not the import.
            var which = string.IsNullOrWhiteSpace(dto.Id) ? "OSV record" : $"OSV record {dto.Id}";
            diagnostics.Warning(DiagnosticIds.InvalidJson, $"{which} skipped: {e.Message}", new SourceLocation(source),
                "the rest of the input is imported; the record has text that is not valid UTF-8");
            return new OsvReadResult(OsvReadStatus.Rejected, null);
        }
    }

    private static OsvReadResult Map(OsvRecordDto dto, string source, DiagnosticBag diagnostics)
    {
        var problems = new List<(string Path, string Message)>();
        if (string.IsNullOrWhiteSpace(dto.Id))
        {
            problems.Add(("$.id", "the required id is missing or empty"));
        }
        var modified = Timestamp(dto.Modified, "$.modified", required: true, problems);
        var published = Timestamp(dto.Published, "$.published", required: false, problems);
        var withdrawn = Timestamp(dto.Withdrawn, "$.withdrawn", required: false, problems);
        var severity = Severities(dto.Severity, "$.severity", problems);
        var databaseSpecific = ObjectText(dto.DatabaseSpecific, "$.database_specific", problems);

        var affected = ImmutableArray.CreateBuilder<AffectedPackage>();
        for (var i = 0; i < (dto.Affected?.Count ?? 0); i++)
        {
            var a = dto.Affected![i];
            var path = $"$.affected[{i}]";
            if (a is null)
            {
                problems.Add((path, "null instead of an object"));
                continue;
            }
            var mapped = Affected(a, path, problems);
            if (mapped is not null)
            {
                affected.Add(mapped);
            }
        }

        if (problems.Count > 0)
        {
            var (path, message) = problems[0];
            var more = problems.Count > 1 ? $" (and {problems.Count - 1} more problem(s))" : "";
            Reject(diagnostics, source, path, message + more, dto.Id);
            return new OsvReadResult(OsvReadStatus.Rejected, null);
        }
        if (affected.Count == 0)
        {
            return new OsvReadResult(OsvReadStatus.OtherEcosystem, null);
        }

        var id = dto.Id!.Trim();
        var cweIds = StringArrayMember(dto.DatabaseSpecific, "cwe_ids");
        var advisory = new Advisory
        {
            Id = id,
            Kind = KindOf(id, dto.DatabaseSpecific, cweIds),
            Modified = modified!.Value,
            Published = published,
            Withdrawn = withdrawn,
            SchemaVersion = dto.SchemaVersion,
            Aliases = Strings(dto.Aliases),
            Related = Related(dto.Related),
            Upstream = Strings(dto.Upstream),
            Summary = dto.Summary,
            Details = dto.Details,
            Severity = severity,
            DatabaseSeverity = StringMember(dto.DatabaseSpecific, "severity"),
            CweIds = cweIds,
            Affected = affected.ToImmutable(),
            References = [.. (dto.References ?? []).Where(r => r?.Url is not null).Select(r => new AdvisoryReference(r.Type ?? "WEB", r.Url!))],
            Credits = [.. (dto.Credits ?? []).Where(c => c?.Name is not null).Select(c => new AdvisoryCredit(c.Name!, c.Type, Strings(c.Contact)))],
            DatabaseSpecific = databaseSpecific,
        };
        return new OsvReadResult(OsvReadStatus.Read, advisory);
    }

    private static AffectedPackage? Affected(OsvAffectedDto a, string path, List<(string, string)> problems)
    {
        var severity = Severities(a.Severity, path + ".severity", problems);
        var ecosystemSpecific = ObjectText(a.EcosystemSpecific, path + ".ecosystem_specific", problems);
        var databaseSpecific = ObjectText(a.DatabaseSpecific, path + ".database_specific", problems);
        var ranges = ImmutableArray.CreateBuilder<AdvisoryRange>();
        for (var j = 0; j < (a.Ranges?.Count ?? 0); j++)
        {
            var range = Range(a.Ranges![j], $"{path}.ranges[{j}]", problems);
            if (range is not null)
            {
                ranges.Add(range);
            }
        }
        // Entries without a package (git-only) or of another ecosystem are not ours; OSV spells
        // ecosystems exactly ("PyPI"), and suffixed forms ("Debian:12") are distinct ecosystems.
        if (a.Package is null || !TryEcosystem(a.Package.Ecosystem, out var ecosystem))
        {
            return null;
        }
        if (string.IsNullOrWhiteSpace(a.Package.Name))
        {
            problems.Add((path + ".package.name", "the package name is missing or empty"));
            return null;
        }
        var name = a.Package.Name.Trim();
        return new AffectedPackage
        {
            Ecosystem = ecosystem,
            Name = name,
            NormalizedName = Component.NormalizeName(ecosystem, name),
            Purl = a.Package.Purl,
            Severity = severity,
            Ranges = ranges.ToImmutable(),
            Versions = Strings(a.Versions),
            EcosystemSpecific = ecosystemSpecific,
            DatabaseSpecific = databaseSpecific,
        };
    }

    private static AdvisoryRange? Range(OsvRangeDto? r, string path, List<(string, string)> problems)
    {
        if (r is null)
        {
            problems.Add((path, "null instead of an object"));
            return null;
        }
        if (r.Type is null || !TryRangeType(r.Type, out var type))
        {
            // Dropping a range silently could hide an affected version, so the record is rejected instead.
            problems.Add((path + ".type", r.Type is null ? "the range type is missing" : $"unknown range type '{r.Type}' (expected SEMVER, ECOSYSTEM or GIT)"));
            return null;
        }
        if (r.Events is null || r.Events.Count == 0)
        {
            problems.Add((path + ".events", "a range needs at least one event"));
            return null;
        }
        var events = ImmutableArray.CreateBuilder<RangeEvent>(r.Events.Count);
        for (var k = 0; k < r.Events.Count; k++)
        {
            var e = r.Events[k];
            var count = e is null ? 0 : (e.Introduced is null ? 0 : 1) + (e.Fixed is null ? 0 : 1) + (e.LastAffected is null ? 0 : 1) + (e.Limit is null ? 0 : 1);
            if (count != 1)
            {
                problems.Add(($"{path}.events[{k}]", "an event needs exactly one of introduced, fixed, last_affected or limit"));
                return null;
            }
            events.Add(e!.Introduced is not null ? new RangeEvent(RangeEventKind.Introduced, e.Introduced)
                : e.Fixed is not null ? new RangeEvent(RangeEventKind.Fixed, e.Fixed)
                : e.LastAffected is not null ? new RangeEvent(RangeEventKind.LastAffected, e.LastAffected)
                : new RangeEvent(RangeEventKind.Limit, e.Limit!));
        }
        return new AdvisoryRange
        {
            Type = type,
            Repo = r.Repo,
            Events = events.MoveToImmutable(),
            DatabaseSpecific = ObjectText(r.DatabaseSpecific, path + ".database_specific", problems),
        };
    }

    private static ImmutableArray<SeverityScore> Severities(List<OsvSeverityDto>? list, string path, List<(string, string)> problems)
    {
        if (list is null || list.Count == 0)
        {
            return [];
        }
        var result = ImmutableArray.CreateBuilder<SeverityScore>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var s = list[i];
            if (s?.Score is null)
            {
                problems.Add(($"{path}[{i}].score", "the score is missing"));
                continue;
            }
            SeverityType? type = s.Type switch
            {
                "CVSS_V2" => SeverityType.CvssV2,
                "CVSS_V3" => SeverityType.CvssV3,
                "CVSS_V4" => SeverityType.CvssV4,
                "Ubuntu" => SeverityType.Ubuntu,
                _ => null,
            };
            // A scoring system we do not know cannot be compared; it is left out, not an error.
            if (type is { } t)
            {
                result.Add(new SeverityScore(t, s.Score));
            }
        }
        return result.ToImmutable();
    }

    /// <summary>The ecosystem of an OSV ecosystem name, for the three Tollgate covers (a null string reads as empty: none).</summary>
    internal static bool TryEcosystem(ReadOnlySpan<char> osvName, out Ecosystem ecosystem)
    {
        switch (osvName)
        {
            case "npm": ecosystem = Ecosystem.Npm; return true;
            case "PyPI": ecosystem = Ecosystem.PyPI; return true;
            case "NuGet": ecosystem = Ecosystem.NuGet; return true;
            default: ecosystem = default; return false;
        }
    }

    /// <summary>The range type of an OSV <c>ranges[].type</c>; false for any other (the record is then rejected).</summary>
    internal static bool TryRangeType(ReadOnlySpan<char> osvName, out RangeType type)
    {
        switch (osvName)
        {
            case "SEMVER": type = RangeType.Semver; return true;
            case "ECOSYSTEM": type = RangeType.Ecosystem; return true;
            case "GIT": type = RangeType.Git; return true;
            default: type = default; return false;
        }
    }

    private static AdvisoryKind KindOf(string id, JsonElement? databaseSpecific, ImmutableArray<string> cweIds)
    {
        var kind = KindOf(id, cweIds.Any(c => IsMalwareCwe(c)), malwareType: false, malwareFlag: false);
        // database_specific is looked at only when the id and CWEs have not decided.
        if (kind == AdvisoryKind.Vulnerability && databaseSpecific is { ValueKind: JsonValueKind.Object } ds)
        {
            kind = KindOf(id, malwareCwe: false,
                malwareType: ds.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && IsMalwareType(type.GetString()),
                malwareFlag: ds.TryGetProperty("malware", out var flag) && flag.ValueKind == JsonValueKind.True);
        }
        return kind;
    }

    /// <summary>
    /// Malicious when the id is a malicious-package report's (<c>MAL-</c>) or <c>database_specific</c> marks it as malware:
    /// <c>cwe_ids</c> holds CWE-506 (<see cref="IsMalwareCwe"/>), <c>type</c> is "malware" (<see cref="IsMalwareType"/>), or
    /// <c>malware</c> is true.
    /// </summary>
    internal static AdvisoryKind KindOf(ReadOnlySpan<char> id, bool malwareCwe, bool malwareType, bool malwareFlag) =>
        id.StartsWith("MAL-", StringComparison.Ordinal) || malwareCwe || malwareType || malwareFlag ? AdvisoryKind.Malicious : AdvisoryKind.Vulnerability;

    /// <summary>CWE-506 is "Embedded Malicious Code": GitHub tags its malware advisories with it.</summary>
    internal static bool IsMalwareCwe(ReadOnlySpan<char> cweId) => cweId.Equals("CWE-506", StringComparison.OrdinalIgnoreCase);

    internal static bool IsMalwareType(ReadOnlySpan<char> type) => type.Equals("malware", StringComparison.OrdinalIgnoreCase);

    private static DateTimeOffset? Timestamp(string? text, string path, bool required, List<(string, string)> problems)
    {
        if (text is null)
        {
            if (required)
            {
                problems.Add((path, "the required timestamp is missing"));
            }
            return null;
        }
        if (TryParseTimestamp(text, out var value))
        {
            return value;
        }
        problems.Add((path, $"'{text}' is not an RFC 3339 timestamp"));
        return null;
    }

    /// <summary>Parses an RFC 3339 timestamp; fractions longer than 7 digits (nanoseconds) are cut to ticks.</summary>
    internal static bool TryParseTimestamp(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        var s = text.Trim();
        if (TryParseUtc(s, out value))
        {
            return true;
        }
        var dot = s.IndexOf('.');
        if (dot > 0)
        {
            var end = dot + 1;
            while (end < s.Length && char.IsAsciiDigit(s[end]))
            {
                end++;
            }
            if (end - dot - 1 > 7)
            {
                s = string.Concat(s[..(dot + 8)], s[end..]);
            }
        }
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value)
            && s.Length >= 10 && s[4] == '-';
    }

    /// <summary>
    /// The form nearly every record uses, <c>2024-01-31T12:00:00Z</c> with up to 7 fraction digits, read directly (a
    /// general date parse costs more than the rest of a timestamp's handling). False for anything else, which the
    /// general parse then reads.
    /// </summary>
    private static bool TryParseUtc(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        if (s.Length < 20 || s.Length == 21 || s.Length > 28 || s[^1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        {
            return false;
        }
        if (!Digits(s[..4], out var year) || !Digits(s.Slice(5, 2), out var month) || !Digits(s.Slice(8, 2), out var day)
            || !Digits(s.Slice(11, 2), out var hour) || !Digits(s.Slice(14, 2), out var minute) || !Digits(s.Slice(17, 2), out var second))
        {
            return false;
        }
        var ticks = 0;
        if (s.Length > 20)
        {
            if (s[19] != '.' || !Digits(s[20..^1], out ticks))
            {
                return false;
            }
            for (var i = s.Length - 21; i < 7; i++)
            {
                ticks *= 10;
            }
        }
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }
        value = new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero).AddTicks(ticks);
        return true;

        static bool Digits(ReadOnlySpan<char> digits, out int number)
        {
            number = 0;
            foreach (var c in digits)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }
                number = number * 10 + (c - '0');
            }
            return true;
        }
    }

    private static string? ObjectText(JsonElement? element, string path, List<(string, string)> problems)
    {
        if (element is not { } e || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (e.ValueKind != JsonValueKind.Object)
        {
            problems.Add((path, $"expected an object, found {e.ValueKind.ToString().ToLowerInvariant()}"));
            return null;
        }
        return e.GetRawText();
    }

    private static string? StringMember(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;

    private static ImmutableArray<string> StringArrayMember(JsonElement? element, string name)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e || !e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        var result = ImmutableArray.CreateBuilder<string>();
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String && item.GetString() is { } s)
            {
                result.Add(s);
            }
        }
        return result.ToImmutable();
    }

    private static ImmutableArray<string> Related(List<JsonElement>? related)
    {
        if (related is null)
        {
            return [];
        }
        var result = ImmutableArray.CreateBuilder<string>(related.Count);
        foreach (var r in related)
        {
            if (r.ValueKind == JsonValueKind.String && r.GetString() is { } s)
            {
                result.Add(s);
            }
            else if (r.ValueKind == JsonValueKind.Object && r.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { } i)
            {
                result.Add(i);
            }
        }
        return result.ToImmutable();
    }

    private static ImmutableArray<string> Strings(List<string>? list) =>
        list is null || list.Count == 0 ? [] : [.. list.Where(s => s is not null)];

    private static void Reject(DiagnosticBag diagnostics, string source, string path, string message, string? id = null)
    {
        var which = string.IsNullOrWhiteSpace(id) ? "OSV record" : $"OSV record {id}";
        diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"{which} skipped: {path}: {message}",
            new SourceLocation(source), "the rest of the input is imported; check the record against the OSV schema");
    }

    private static string FirstSentence(string message)
    {
        // System.Text.Json appends "Path: ... | LineNumber: ..." which the location already says.
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
