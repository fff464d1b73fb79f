using System.Text.Json;
using System.Text.Unicode;
using Tollgate.Graph;

namespace Tollgate.Advisories;

/// <summary>
/// Reads only what the advisory database stores of an OSV record (id, modified, withdrawn, kind, affected package names,
/// aliases) in one pass of a <see cref="Utf8JsonReader"/>, for the import, where mapping every record into the whole
/// <see cref="Advisory"/> cost most of the time. It accepts only records <see cref="OsvReader"/> reads without a
/// problem and then gives the same status and row; whenever it is not sure (a wrong type, a missing member, a null in a
/// list, a string that is not valid UTF-8, a repeated member, anything unusual) it declines, and the caller reads the
/// record with <see cref="OsvReader"/>, which says what is wrong.
/// </summary>
/// <remarks>
/// What the full reader checks on the way, this one checks too, or declines: the JSON type of every member the OSV
/// DTOs know (exact, case-sensitive names), that every string decodes (it checks every string of the record, even of
/// members nobody reads), timestamps, range types, one key per event, a score per severity, objects where
/// <c>database_specific</c> and <c>ecosystem_specific</c> are. The JSON itself is read with the options of
/// <see cref="OsvJsonContext"/> (no comments, no trailing commas, the same depth limit). One instance per thread: it
/// keeps its buffers between records.
/// </remarks>
internal sealed class OsvRowReader
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowTrailingCommas = OsvJsonContext.Default.Options.AllowTrailingCommas,
        CommentHandling = OsvJsonContext.Default.Options.ReadCommentHandling,
        MaxDepth = OsvJsonContext.Default.Options.MaxDepth,
    };

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private char[] _chars = new char[256];
    private readonly List<(Ecosystem, string)> _affected = [];
    private readonly List<string> _aliases = [];
    private string? _id;
    private DateTimeOffset? _modified;
    private DateTimeOffset? _withdrawn;
    private bool _malwareCwe;
    private bool _malwareType;
    private bool _malwareFlag;

    /// <summary>
    /// Reads a record; true with its status (<see cref="OsvReadStatus.Read"/> or <see cref="OsvReadStatus.OtherEcosystem"/>)
    /// when it is sure, false when the record must be read with <see cref="OsvReader.Read"/>.
    /// </summary>
    public bool TryRead(ReadOnlySpan<byte> utf8Json, out OsvReadStatus status)
    {
        status = OsvReadStatus.Rejected;
        if (utf8Json.StartsWith(Utf8Bom))
        {
            utf8Json = utf8Json[Utf8Bom.Length..];
        }
        _affected.Clear();
        _aliases.Clear();
        _id = null;
        _modified = null;
        _withdrawn = null;
        _malwareCwe = _malwareType = _malwareFlag = false;
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        try
        {
            // The last Read: nothing but white space may follow the record.
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject || !Record(ref reader) || reader.Read())
            {
                return false;
            }
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            // A string that does not decode (invalid UTF-8, a lone surrogate escape).
            return false;
        }
        if (string.IsNullOrWhiteSpace(_id) || _modified is null)
        {
            return false;
        }
        status = _affected.Count == 0 ? OsvReadStatus.OtherEcosystem : OsvReadStatus.Read;
        return true;
    }

    /// <summary>The row of the record <see cref="TryRead"/> last read with status <see cref="OsvReadStatus.Read"/>.</summary>
    /// <param name="raw">The record as stored (<see cref="RecordCompression"/>).</param>
    public AdvisoryRow Row(byte[] raw)
    {
        var id = _id!.Trim();
        var kind = OsvReader.KindOf(id, _malwareCwe, _malwareType, _malwareFlag);
        return AdvisoryRow.Create(id, _modified!.Value, _withdrawn, kind, _affected, _aliases, raw);
    }

    // Each reader of a member is called with the reader on the member's value and leaves it on the value's last token.
    // A false return means "not sure": the whole record is declined.

    private bool Record(ref Utf8JsonReader r)
    {
        var seen = 0;
        while (NextMember(ref r))
        {
            var member = r.ValueTextEquals("id"u8) ? 0
                : r.ValueTextEquals("modified"u8) ? 1
                : r.ValueTextEquals("published"u8) ? 2
                : r.ValueTextEquals("withdrawn"u8) ? 3
                : r.ValueTextEquals("aliases"u8) ? 4
                : r.ValueTextEquals("related"u8) ? 5
                : r.ValueTextEquals("upstream"u8) ? 6
                : r.ValueTextEquals("summary"u8) ? 7
                : r.ValueTextEquals("details"u8) ? 8
                : r.ValueTextEquals("severity"u8) ? 9
                : r.ValueTextEquals("affected"u8) ? 10
                : r.ValueTextEquals("references"u8) ? 11
                : r.ValueTextEquals("credits"u8) ? 12
                : r.ValueTextEquals("database_specific"u8) ? 13
                : r.ValueTextEquals("schema_version"u8) ? 14
                : -1;
            if (!FirstTime(member, ref seen) || !r.Read())
            {
                return false;
            }
            var ok = member switch
            {
                0 => OptionalString(ref r, out _id),
                1 => Timestamp(ref r, out _modified),
                2 => Timestamp(ref r, out _),
                3 => Timestamp(ref r, out _withdrawn),
                4 => Strings(ref r, _aliases),
                // A list of any values (strings, or {type, id} objects in some drafts).
                5 => r.TokenType == JsonTokenType.Null || (r.TokenType == JsonTokenType.StartArray && AnyValue(ref r)),
                6 => Strings(ref r, null),
                7 or 8 or 14 => OptionalString(ref r),
                9 => Objects(ref r, static (OsvRowReader self, ref Utf8JsonReader reader) => self.Severity(ref reader)),
                10 => Objects(ref r, static (OsvRowReader self, ref Utf8JsonReader reader) => self.Affected(ref reader)),
                11 => Objects(ref r, static (OsvRowReader self, ref Utf8JsonReader reader) => self.Reference(ref reader)),
                12 => Objects(ref r, static (OsvRowReader self, ref Utf8JsonReader reader) => self.Credit(ref reader)),
                13 => RecordDatabaseSpecific(ref r),
                _ => AnyValue(ref r),
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }

    private bool Affected(ref Utf8JsonReader r)
    {
        var seen = 0;
        Ecosystem? ecosystem = null;
        string? name = null;
        while (NextMember(ref r))
        {
            var member = r.ValueTextEquals("package"u8) ? 0
                : r.ValueTextEquals("severity"u8) ? 1
                : r.ValueTextEquals("ranges"u8) ? 2
                : r.ValueTextEquals("versions"u8) ? 3
                : r.ValueTextEquals("ecosystem_specific"u8) ? 4
                : r.ValueTextEquals("database_specific"u8) ? 5
                : -1;
            if (!FirstTime(member, ref seen) || !r.Read())
            {
                return false;
            }
            var ok = member switch
            {
                0 => Package(ref r, out ecosystem, out name),
                1 => Objects(ref r, static (OsvRowReader self, ref Utf8JsonReader reader) => self.Severity(ref reader)),
                2 => Objects(ref r, static (OsvRowReader self, ref Utf8JsonReader reader) => self.Range(ref reader)),
                3 => Strings(ref r, null),
                4 or 5 => OptionalObject(ref r),
                _ => AnyValue(ref r),
            };
            if (!ok)
            {
                return false;
            }
        }
        if (ecosystem is { } e)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                return false;
            }
            _affected.Add((e, Component.NormalizeName(e, name.Trim())));
        }
        return true;
    }

    /// <summary>The package of an affected entry: its ecosystem when it is one of ours (null otherwise), and its name.</summary>
    private bool Package(ref Utf8JsonReader r, out Ecosystem? ecosystem, out string? name)
    {
        ecosystem = null;
        name = null;
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }
        var seen = 0;
        while (NextMember(ref r))
        {
            var member = r.ValueTextEquals("ecosystem"u8) ? 0 : r.ValueTextEquals("name"u8) ? 1 : r.ValueTextEquals("purl"u8) ? 2 : -1;
            if (!FirstTime(member, ref seen) || !r.Read())
            {
                return false;
            }
            switch (member)
            {
                case 0:
                    if (r.TokenType == JsonTokenType.String)
                    {
                        ecosystem = OsvReader.TryEcosystem(Chars(ref r), out var e) ? e : null;
                    }
                    else if (r.TokenType != JsonTokenType.Null)
                    {
                        return false;
                    }
                    break;
                case 1:
                    if (!OptionalString(ref r, out name))
                    {
                        return false;
                    }
                    break;
                case 2:
                    if (!OptionalString(ref r))
                    {
                        return false;
                    }
                    break;
                default:
                    if (!AnyValue(ref r))
                    {
                        return false;
                    }
                    break;
            }
        }
        return true;
    }

    private bool Range(ref Utf8JsonReader r)
    {
        var seen = 0;
        var typed = false;
        var events = 0;
        while (NextMember(ref r))
        {
            var member = r.ValueTextEquals("type"u8) ? 0 : r.ValueTextEquals("events"u8) ? 1 : r.ValueTextEquals("repo"u8) ? 2
                : r.ValueTextEquals("database_specific"u8) ? 3 : -1;
            if (!FirstTime(member, ref seen) || !r.Read())
            {
                return false;
            }
            var ok = member switch
            {
                // Unknown or missing range types reject the record in the full reader.
                0 => typed = r.TokenType == JsonTokenType.String && OsvReader.TryRangeType(Chars(ref r), out _),
                1 => Events(ref r, out events),
                2 => OptionalString(ref r),
                3 => OptionalObject(ref r),
                _ => AnyValue(ref r),
            };
            if (!ok)
            {
                return false;
            }
        }
        return typed && events > 0;
    }

    private bool Events(ref Utf8JsonReader r, out int count)
    {
        count = 0;
        if (r.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (r.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            // Exactly one of the four keys with a non-null value.
            var seen = 0;
            var keys = 0;
            while (NextMember(ref r))
            {
                var member = r.ValueTextEquals("introduced"u8) ? 0 : r.ValueTextEquals("fixed"u8) ? 1
                    : r.ValueTextEquals("last_affected"u8) ? 2 : r.ValueTextEquals("limit"u8) ? 3 : -1;
                if (!FirstTime(member, ref seen) || !r.Read())
                {
                    return false;
                }
                if (member < 0)
                {
                    if (!AnyValue(ref r))
                    {
                        return false;
                    }
                    continue;
                }
                if (r.TokenType == JsonTokenType.String)
                {
                    if (!ValidString(ref r))
                    {
                        return false;
                    }
                    keys++;
                }
                else if (r.TokenType != JsonTokenType.Null)
                {
                    return false;
                }
            }
            if (keys != 1)
            {
                return false;
            }
            count++;
        }
        return r.TokenType == JsonTokenType.EndArray;
    }

    private bool Severity(ref Utf8JsonReader r)
    {
        var seen = 0;
        var scored = false;
        while (NextMember(ref r))
        {
            var member = r.ValueTextEquals("type"u8) ? 0 : r.ValueTextEquals("score"u8) ? 1 : -1;
            if (!FirstTime(member, ref seen) || !r.Read())
            {
                return false;
            }
            var ok = member switch
            {
                0 => OptionalString(ref r),
                1 => scored = r.TokenType == JsonTokenType.String && ValidString(ref r),
                _ => AnyValue(ref r),
            };
            if (!ok)
            {
                return false;
            }
        }
        return scored;
    }

    private bool Reference(ref Utf8JsonReader r)
    {
        var seen = 0;
        while (NextMember(ref r))
        {
            var member = r.ValueTextEquals("type"u8) ? 0 : r.ValueTextEquals("url"u8) ? 1 : -1;
            if (!FirstTime(member, ref seen) || !r.Read() || !(member < 0 ? AnyValue(ref r) : OptionalString(ref r)))
            {
                return false;
            }
        }
        return true;
    }

    private bool Credit(ref Utf8JsonReader r)
    {
        var seen = 0;
        while (NextMember(ref r))
        {
            var member = r.ValueTextEquals("name"u8) ? 0 : r.ValueTextEquals("type"u8) ? 1 : r.ValueTextEquals("contact"u8) ? 2 : -1;
            if (!FirstTime(member, ref seen) || !r.Read())
            {
                return false;
            }
            var ok = member switch
            {
                0 or 1 => OptionalString(ref r),
                2 => Strings(ref r, null),
                _ => AnyValue(ref r),
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The record's <c>database_specific</c>: an object (or null) whose <c>cwe_ids</c>, <c>type</c> and <c>malware</c> can mark the record malicious.</summary>
    private bool RecordDatabaseSpecific(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }
        if (r.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }
        // A repeated marker member would need the full reader's rule for which copy counts: declined.
        var seen = 0;
        while (NextMember(ref r))
        {
            var member = r.ValueTextEquals("cwe_ids"u8) ? 0 : r.ValueTextEquals("type"u8) ? 1 : r.ValueTextEquals("malware"u8) ? 2 : -1;
            if (!FirstTime(member, ref seen) || !r.Read())
            {
                return false;
            }
            switch (member)
            {
                case 0 when r.TokenType == JsonTokenType.StartArray:
                    while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                    {
                        if (r.TokenType == JsonTokenType.String)
                        {
                            _malwareCwe |= OsvReader.IsMalwareCwe(Chars(ref r));
                        }
                        else if (!AnyValue(ref r))
                        {
                            return false;
                        }
                    }
                    break;
                case 1 when r.TokenType == JsonTokenType.String:
                    _malwareType = OsvReader.IsMalwareType(Chars(ref r));
                    break;
                case 2:
                    _malwareFlag = r.TokenType == JsonTokenType.True;
                    if (!AnyValue(ref r))
                    {
                        return false;
                    }
                    break;
                default:
                    if (!AnyValue(ref r))
                    {
                        return false;
                    }
                    break;
            }
        }
        return true;
    }

    private delegate bool ObjectReader(OsvRowReader self, ref Utf8JsonReader reader);

    /// <summary>A list of objects, or null; a null element is declined.</summary>
    private bool Objects(ref Utf8JsonReader r, ObjectReader read)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }
        if (r.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (r.TokenType != JsonTokenType.StartObject || !read(this, ref r))
            {
                return false;
            }
        }
        return r.TokenType == JsonTokenType.EndArray;
    }

    /// <summary>A list of strings, or null, each kept in <paramref name="into"/> when given; a null element is declined.</summary>
    private bool Strings(ref Utf8JsonReader r, List<string>? into)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }
        if (r.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }
        while (r.Read() && r.TokenType == JsonTokenType.String)
        {
            if (into is null)
            {
                if (!ValidString(ref r))
                {
                    return false;
                }
            }
            else
            {
                into.Add(r.GetString()!);
            }
        }
        return r.TokenType == JsonTokenType.EndArray;
    }

    /// <summary>An object, or null, of any content (each string checked).</summary>
    private bool OptionalObject(ref Utf8JsonReader r) =>
        r.TokenType == JsonTokenType.Null || (r.TokenType == JsonTokenType.StartObject && AnyValue(ref r));

    private bool OptionalString(ref Utf8JsonReader r) =>
        r.TokenType == JsonTokenType.Null || (r.TokenType == JsonTokenType.String && ValidString(ref r));

    private static bool OptionalString(ref Utf8JsonReader r, out string? value)
    {
        value = null;
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }
        if (r.TokenType != JsonTokenType.String)
        {
            return false;
        }
        value = r.GetString();
        return true;
    }

    private bool Timestamp(ref Utf8JsonReader r, out DateTimeOffset? value)
    {
        value = null;
        if (r.TokenType == JsonTokenType.Null)
        {
            return true;
        }
        if (r.TokenType != JsonTokenType.String || !OsvReader.TryParseTimestamp(Chars(ref r), out var parsed))
        {
            return false;
        }
        value = parsed;
        return true;
    }

    /// <summary>Any JSON value, walked to its end with every string and member name checked.</summary>
    private bool AnyValue(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.String)
        {
            return ValidString(ref r);
        }
        if (r.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return true;
        }
        var depth = r.CurrentDepth;
        while (r.Read())
        {
            switch (r.TokenType)
            {
                case JsonTokenType.String or JsonTokenType.PropertyName:
                    if (!ValidString(ref r))
                    {
                        return false;
                    }
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray when r.CurrentDepth == depth:
                    return true;
            }
        }
        return false;
    }

    /// <summary>Moves to the next member name of the object the reader is in; false at its end.</summary>
    /// <remarks>A member name that does not decode throws <see cref="InvalidOperationException"/>, which declines the record.</remarks>
    private bool NextMember(ref Utf8JsonReader r)
    {
        if (!r.Read())
        {
            throw new InvalidOperationException("the record ends inside an object");
        }
        if (r.TokenType == JsonTokenType.EndObject)
        {
            return false;
        }
        // Member names are checked like strings (the full reader decodes those of the objects it keeps as text).
        if (r.TokenType != JsonTokenType.PropertyName || !ValidString(ref r))
        {
            throw new InvalidOperationException("not a member name that decodes");
        }
        return true;
    }

    /// <summary>False when the member was already seen in this object (<paramref name="member"/> below 0: not a known member).</summary>
    private static bool FirstTime(int member, ref int seen)
    {
        if (member < 0)
        {
            return true;
        }
        if ((seen & (1 << member)) != 0)
        {
            return false;
        }
        seen |= 1 << member;
        return true;
    }

    /// <summary>
    /// True when the string (or member name) decodes as <see cref="Utf8JsonReader.GetString"/> would decode it: valid
    /// UTF-8, and escapes that make valid UTF-16. An escaped string is decoded into a reused buffer (decoding throws
    /// <see cref="InvalidOperationException"/> when it does not decode).
    /// </summary>
    private bool ValidString(ref Utf8JsonReader r)
    {
        if (!r.ValueIsEscaped)
        {
            return Utf8.IsValid(r.ValueSpan);
        }
        Chars(ref r);
        return true;
    }

    /// <summary>The string decoded into the reused buffer (valid until the next call).</summary>
    private ReadOnlySpan<char> Chars(ref Utf8JsonReader r)
    {
        // Decoded, a string has at most as many UTF-16 units as it has bytes.
        if (_chars.Length < r.ValueSpan.Length)
        {
            _chars = new char[Math.Max(r.ValueSpan.Length, _chars.Length * 2)];
        }
        var length = r.CopyString(_chars);
        return _chars.AsSpan(0, length);
    }
}
