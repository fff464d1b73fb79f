using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Tollgate.Graph;

namespace Tollgate.Advisories;

/// <summary>What writing one advisory did.</summary>
internal enum UpsertOutcome
{
    /// <summary>A new advisory.</summary>
    Inserted,
    /// <summary>Replaced an older version of the same advisory.</summary>
    Updated,
    /// <summary>The database already had this version or a newer one (by <c>modified</c>).</summary>
    Unchanged,
}

/// <summary>
/// Writes advisories into a database file that nobody else reads yet (the temporary file of an import):
/// one transaction, prepared commands, no journal; the rename afterwards is what makes it safe.
/// </summary>
internal sealed class AdvisoryStoreWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _transaction;
    private readonly Statement _selectModified;
    private readonly Statement _deleteAffected;
    private readonly Statement _deleteAliases;
    private readonly Statement _insertAdvisory;
    private readonly Statement _insertAffected;
    private readonly Statement _insertAlias;
    private readonly Statement _setMeta;
    private readonly HashSet<string> _written = new(StringComparer.Ordinal);
    private readonly bool _startedEmpty;
    private bool _committed;

    private AdvisoryStoreWriter(SqliteConnection connection)
    {
        _connection = connection;
        Execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA locking_mode = EXCLUSIVE;");
        using (var count = connection.CreateCommand())
        {
            count.CommandText = "SELECT NOT EXISTS (SELECT 1 FROM advisories)";
            _startedEmpty = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture) == 1;
        }
        _transaction = connection.BeginTransaction();
        if (_startedEmpty)
        {
            // Filling an index row by row costs more than building it once at the end. Only the index of
            // lookups by package goes: the others serve this import's own deletes of repeated ids.
            Execute("DROP INDEX IF EXISTS affected_by_package;");
        }
        _selectModified = Prepare("SELECT modified FROM advisories WHERE id = $id");
        _deleteAffected = Prepare("DELETE FROM affected WHERE advisory_id = $id");
        _deleteAliases = Prepare("DELETE FROM aliases WHERE advisory_id = $id");
        _insertAdvisory = Prepare("""
            INSERT OR REPLACE INTO advisories (id, modified, published, withdrawn, kind, summary, details, aliases, severity, database_severity, raw)
            VALUES ($id, $modified, $published, $withdrawn, $kind, $summary, $details, $aliases, $severity, $database_severity, $raw)
            """);
        _insertAffected = Prepare("""
            INSERT INTO affected (advisory_id, ecosystem, normalized_name, name, purl, ranges, versions)
            VALUES ($id, $ecosystem, $normalized_name, $name, $purl, $ranges, $versions)
            """);
        _insertAlias = Prepare("INSERT OR IGNORE INTO aliases (alias, advisory_id) VALUES ($alias, $id)");
        _setMeta = Prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ($key, $value)");
    }

    /// <summary>Opens (creating or upgrading the schema) a database file for writing.</summary>
    /// <returns>The writer, or null with <paramref name="error"/> set when the file cannot be used.</returns>
    public static AdvisoryStoreWriter? Open(string path, out string? error)
    {
        var connection = new SqliteConnection(AdvisoryStoreSchema.ConnectionString(path, SqliteOpenMode.ReadWriteCreate));
        try
        {
            connection.Open();
            error = AdvisoryStoreSchema.Migrate(connection);
            if (error is not null)
            {
                connection.Dispose();
                return null;
            }
            return new AdvisoryStoreWriter(connection);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            error = AdvisoryStore.SqliteMessage(e);
            return null;
        }
    }

    /// <summary>Writes an advisory unless the database has the same or a newer version of it.</summary>
    /// <param name="advisory">The mapped record.</param>
    /// <param name="compressedRaw">The record as read, compressed with <see cref="Compress"/>.</param>
    public UpsertOutcome Upsert(Advisory advisory, byte[] compressedRaw) => Upsert(AdvisoryRow.Create(advisory, compressedRaw, new AdvisoryColumns()));

    /// <summary>Writes an advisory's prepared row unless the database has the same or a newer version of it.</summary>
    public UpsertOutcome Upsert(AdvisoryRow row)
    {
        var advisory = row.Advisory;
        var existed = false;
        // A fresh database cannot hold the id unless this import wrote it already (an advisory can
        // appear in several ecosystems' archives), so the lookup is skipped for most records.
        if (!_startedEmpty || _written.Contains(advisory.Id))
        {
            _selectModified.BindText(1, row.Id);
            if (_selectModified.QueryText() is { } existing)
            {
                if (string.CompareOrdinal(existing, row.Modified) >= 0)
                {
                    return UpsertOutcome.Unchanged;
                }
                existed = true;
                _deleteAffected.BindText(1, row.Id);
                _deleteAffected.Execute();
                _deleteAliases.BindText(1, row.Id);
                _deleteAliases.Execute();
            }
        }
        _written.Add(advisory.Id);

        var p = _insertAdvisory;
        p.BindText(1, row.Id);
        p.Bind(2, row.Modified);
        p.Bind(3, row.Published);
        p.Bind(4, row.Withdrawn);
        p.Bind(5, AdvisoryStoreSchema.KindName(advisory.Kind));
        p.BindText(6, row.Summary);
        p.BindText(7, row.Details);
        p.BindText(8, row.Aliases);
        p.BindText(9, row.Severity);
        p.Bind(10, advisory.DatabaseSeverity);
        p.Bind(11, row.Raw);
        p.Execute();

        foreach (var affected in row.Affected)
        {
            var a = _insertAffected;
            a.BindText(1, row.Id);
            a.Bind(2, affected.Ecosystem);
            a.Bind(3, affected.NormalizedName);
            a.Bind(4, affected.Name);
            a.Bind(5, affected.Purl);
            a.BindText(6, affected.Ranges);
            a.BindText(7, affected.Versions);
            a.Execute();
        }
        foreach (var alias in advisory.Aliases)
        {
            _insertAlias.Bind(1, alias);
            _insertAlias.BindText(2, row.Id);
            _insertAlias.Execute();
        }
        return existed ? UpsertOutcome.Updated : UpsertOutcome.Inserted;
    }

    public void SetMeta(string key, string value)
    {
        _setMeta.Bind(1, key);
        _setMeta.Bind(2, value);
        _setMeta.Execute();
    }

    private Dictionary<string, int> CountRecordsByEcosystem()
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = AdvisoryStore.RecordsByEcosystemSql;
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        while (reader.Read())
        {
            counts[reader.GetString(0)] = reader.GetInt32(1);
        }
        return counts;
    }

    /// <summary>Reads a meta value inside the open transaction.</summary>
    public string? Meta(string key)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    public void Commit()
    {
        if (_startedEmpty)
        {
            Execute(AdvisoryStoreSchema.AffectedByPackageIndex);
        }
        // Every scan reports its coverage per ecosystem: counted once here instead of on each scan (a second on a full database).
        SetMeta(AdvisoryMetaKeys.RecordsByEcosystem, AdvisoryStore.FormatCounts(CountRecordsByEcosystem()));
        _transaction.Commit();
        _committed = true;
        Execute("PRAGMA optimize;");
    }

    public void Dispose()
    {
        foreach (var command in new[] { _selectModified, _deleteAffected, _deleteAliases, _insertAdvisory, _insertAffected, _insertAlias, _setMeta })
        {
            command.Dispose();
        }
        if (!_committed)
        {
            // With the journal off a rollback cannot restore anything: the caller deletes the file.
            try
            {
                _transaction.Dispose();
            }
            catch (SqliteException)
            {
            }
        }
        else
        {
            _transaction.Dispose();
        }
        _connection.Dispose();
    }

    /// <summary>The stored form of a raw record; <paramref name="buffer"/> is scratch space reused between calls.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> raw, ref byte[]? buffer)
    {
        var max = BrotliEncoder.GetMaxCompressedLength(raw.Length);
        if (buffer is null || buffer.Length < max)
        {
            buffer = new byte[Math.Max(max, 64 * 1024)];
        }
        // Quality 0 keeps import fast (a third less time than quality 1); records still shrink about 2:1.
        // A 64 KiB window covers a whole typical record.
        if (!BrotliEncoder.TryCompress(raw, buffer, out var written, quality: 0, window: 16))
        {
            throw new InvalidOperationException("Brotli compression failed with a buffer of the maximum compressed size.");
        }
        return buffer.AsSpan(0, written).ToArray();
    }

    private Statement Prepare(string sql) => new(_connection.Handle!, sql);

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _committed ? null : _transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>
/// The stored columns of one advisory, computed on a parsing thread (JSON columns, times, UTF-8 text, the compressed
/// raw record) so that the single writing thread only binds them.
/// </summary>
internal sealed class AdvisoryRow
{
    public required Advisory Advisory { get; init; }
    public required byte[] Id { get; init; }
    public required string Modified { get; init; }
    public string? Published { get; init; }
    public string? Withdrawn { get; init; }
    public byte[]? Summary { get; init; }
    public byte[]? Details { get; init; }
    public required byte[] Aliases { get; init; }
    public required byte[] Severity { get; init; }
    public required byte[] Raw { get; init; }
    public required AffectedRow[] Affected { get; init; }

    public static AdvisoryRow Create(Advisory advisory, byte[] compressedRaw, AdvisoryColumns columns) => new()
    {
        Advisory = advisory,
        Id = Encoding.UTF8.GetBytes(advisory.Id),
        Modified = AdvisoryStoreSchema.FormatTime(advisory.Modified),
        Published = advisory.Published is { } published ? AdvisoryStoreSchema.FormatTime(published) : null,
        Withdrawn = advisory.Withdrawn is { } withdrawn ? AdvisoryStoreSchema.FormatTime(withdrawn) : null,
        Summary = advisory.Summary is { } summary ? Encoding.UTF8.GetBytes(summary) : null,
        Details = advisory.Details is { } details ? Encoding.UTF8.GetBytes(details) : null,
        Aliases = columns.JsonStrings(advisory.Aliases),
        Severity = columns.SeverityJson(advisory),
        Raw = compressedRaw,
        Affected = [.. advisory.Affected.Select(a => new AffectedRow(a.Ecosystem.ToOsvName(), a.NormalizedName, a.Name, a.Purl, columns.RangesJson(a), columns.JsonStrings(a.Versions)))],
    };
}

/// <summary>One <c>affected</c> row of an <see cref="AdvisoryRow"/>.</summary>
internal sealed record AffectedRow(string Ecosystem, string NormalizedName, string Name, string? Purl, byte[] Ranges, byte[] Versions);

/// <summary>Writes the JSON columns of advisories as UTF-8, reusing one buffer and writer (one instance per thread).</summary>
internal sealed class AdvisoryColumns : IDisposable
{
    private static readonly byte[] EmptyArray = "[]"u8.ToArray();
    private readonly ArrayBufferWriter<byte> _json = new(4096);
    private readonly Utf8JsonWriter _jsonWriter;

    public AdvisoryColumns()
    {
        _jsonWriter = new Utf8JsonWriter(_json);
    }

    public void Dispose() => _jsonWriter.Dispose();

    public byte[] JsonStrings(IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return EmptyArray;
        }
        var writer = Start();
        {
            writer.WriteStartArray();
            foreach (var value in values)
            {
                writer.WriteStringValue(value);
            }
            writer.WriteEndArray();
        }
        return Finish();
    }

    public byte[] SeverityJson(Advisory advisory)
    {
        if (advisory.Severity.IsEmpty)
        {
            return EmptyArray;
        }
        var writer = Start();
        {
            writer.WriteStartArray();
            foreach (var s in advisory.Severity)
            {
                writer.WriteStartObject();
                writer.WriteString("type", OsvNames.Severity(s.Type));
                writer.WriteString("score", s.Score);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return Finish();
    }

    public byte[] RangesJson(AffectedPackage affected)
    {
        if (affected.Ranges.IsEmpty)
        {
            return EmptyArray;
        }
        var writer = Start();
        {
            writer.WriteStartArray();
            foreach (var range in affected.Ranges)
            {
                writer.WriteStartObject();
                writer.WriteString("type", OsvNames.Range(range.Type));
                if (range.Repo is not null)
                {
                    writer.WriteString("repo", range.Repo);
                }
                writer.WriteStartArray("events");
                foreach (var e in range.Events)
                {
                    writer.WriteStartObject();
                    writer.WriteString(OsvNames.Event(e.Kind), e.Version);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                if (range.DatabaseSpecific is not null)
                {
                    writer.WritePropertyName("database_specific");
                    writer.WriteRawValue(range.DatabaseSpecific, skipInputValidation: true);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return Finish();
    }

    /// <summary>The JSON writer, reset to write a new value into the reused buffer.</summary>
    private Utf8JsonWriter Start()
    {
        _json.ResetWrittenCount();
        _jsonWriter.Reset(_json);
        return _jsonWriter;
    }

    private byte[] Finish()
    {
        _jsonWriter.Flush();
        return _json.WrittenSpan.ToArray();
    }

}

/// <summary>
/// A prepared statement run through SQLite's C API. An import runs a few statements per record hundreds of thousands
/// of times, and ADO.NET's per-call work (parameters looked up by name, a data reader per call) cost more than the
/// inserts themselves. Parameters are numbered from 1 in the order of the SQL text.
/// </summary>
internal sealed class Statement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public Statement(sqlite3 db, string sql)
    {
        _db = db;
        Check(raw.sqlite3_prepare_v2(db, sql, out _statement));
    }

    public void Bind(int index, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text(_statement, index, value));

    public void Bind(int index, byte[] value) => Check(raw.sqlite3_bind_blob(_statement, index, value));

    /// <summary>Binds UTF-8 text (null binds NULL).</summary>
    public void BindText(int index, byte[]? utf8) =>
        Check(utf8 is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text(_statement, index, utf8.AsSpan()));

    /// <summary>Runs the statement to its end.</summary>
    public void Execute()
    {
        int rc;
        while ((rc = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
        {
        }
        Finish(rc);
    }

    /// <summary>The first column of the first row as text, or null when there is no row (or the value is null).</summary>
    public string? QueryText()
    {
        var rc = raw.sqlite3_step(_statement);
        string? value = null;
        if (rc == raw.SQLITE_ROW)
        {
            value = raw.sqlite3_column_type(_statement, 0) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(_statement, 0).utf8_to_string();
            while ((rc = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
            {
            }
        }
        Finish(rc);
        return value;
    }

    public void Dispose() => _statement.Dispose();

    private void Finish(int rc)
    {
        raw.sqlite3_reset(_statement);
        raw.sqlite3_clear_bindings(_statement);
        if (rc != raw.SQLITE_DONE)
        {
            throw new SqliteException(raw.sqlite3_errstr(rc).utf8_to_string(), rc);
        }
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
        }
    }
}

/// <summary>The OSV spellings of the enum values of the domain model.</summary>
internal static class OsvNames
{
    public static string Severity(SeverityType type) => type switch
    {
        SeverityType.CvssV2 => "CVSS_V2",
        SeverityType.CvssV3 => "CVSS_V3",
        SeverityType.CvssV4 => "CVSS_V4",
        _ => "Ubuntu",
    };

    public static string Range(RangeType type) => type switch
    {
        RangeType.Semver => "SEMVER",
        RangeType.Git => "GIT",
        _ => "ECOSYSTEM",
    };

    public static string Event(RangeEventKind kind) => kind switch
    {
        RangeEventKind.Introduced => "introduced",
        RangeEventKind.Fixed => "fixed",
        RangeEventKind.LastAffected => "last_affected",
        _ => "limit",
    };
}
