using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
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
    private readonly SqliteCommand _selectModified;
    private readonly SqliteCommand _deleteAffected;
    private readonly SqliteCommand _deleteAliases;
    private readonly SqliteCommand _insertAdvisory;
    private readonly SqliteCommand _insertAffected;
    private readonly SqliteCommand _insertAlias;
    private readonly SqliteCommand _setMeta;
    private readonly ArrayBufferWriter<byte> _json = new(4096);
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
        _selectModified = Prepare("SELECT modified FROM advisories WHERE id = $id", "$id");
        _deleteAffected = Prepare("DELETE FROM affected WHERE advisory_id = $id", "$id");
        _deleteAliases = Prepare("DELETE FROM aliases WHERE advisory_id = $id", "$id");
        _insertAdvisory = Prepare("""
            INSERT OR REPLACE INTO advisories (id, modified, published, withdrawn, kind, summary, details, aliases, severity, database_severity, raw)
            VALUES ($id, $modified, $published, $withdrawn, $kind, $summary, $details, $aliases, $severity, $database_severity, $raw)
            """, "$id", "$modified", "$published", "$withdrawn", "$kind", "$summary", "$details", "$aliases", "$severity", "$database_severity", "$raw");
        _insertAffected = Prepare("""
            INSERT INTO affected (advisory_id, ecosystem, normalized_name, name, purl, ranges, versions)
            VALUES ($id, $ecosystem, $normalized_name, $name, $purl, $ranges, $versions)
            """, "$id", "$ecosystem", "$normalized_name", "$name", "$purl", "$ranges", "$versions");
        _insertAlias = Prepare("INSERT OR IGNORE INTO aliases (alias, advisory_id) VALUES ($alias, $id)", "$alias", "$id");
        _setMeta = Prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ($key, $value)", "$key", "$value");
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
    public UpsertOutcome Upsert(Advisory advisory, byte[] compressedRaw)
    {
        var modified = AdvisoryStoreSchema.FormatTime(advisory.Modified);
        var existed = false;
        // A fresh database cannot hold the id unless this import wrote it already (an advisory can
        // appear in several ecosystems' archives), so the lookup is skipped for most records.
        if (!_startedEmpty || _written.Contains(advisory.Id))
        {
            _selectModified.Parameters[0].Value = advisory.Id;
            if (_selectModified.ExecuteScalar() is string existing)
            {
                if (string.CompareOrdinal(existing, modified) >= 0)
                {
                    return UpsertOutcome.Unchanged;
                }
                existed = true;
                _deleteAffected.Parameters[0].Value = advisory.Id;
                _deleteAffected.ExecuteNonQuery();
                _deleteAliases.Parameters[0].Value = advisory.Id;
                _deleteAliases.ExecuteNonQuery();
            }
        }
        _written.Add(advisory.Id);

        var p = _insertAdvisory.Parameters;
        p[0].Value = advisory.Id;
        p[1].Value = modified;
        p[2].Value = advisory.Published is { } published ? AdvisoryStoreSchema.FormatTime(published) : DBNull.Value;
        p[3].Value = advisory.Withdrawn is { } withdrawn ? AdvisoryStoreSchema.FormatTime(withdrawn) : DBNull.Value;
        p[4].Value = AdvisoryStoreSchema.KindName(advisory.Kind);
        p[5].Value = (object?)advisory.Summary ?? DBNull.Value;
        p[6].Value = (object?)advisory.Details ?? DBNull.Value;
        p[7].Value = JsonStrings(advisory.Aliases);
        p[8].Value = SeverityJson(advisory);
        p[9].Value = (object?)advisory.DatabaseSeverity ?? DBNull.Value;
        p[10].Value = compressedRaw;
        _insertAdvisory.ExecuteNonQuery();

        foreach (var affected in advisory.Affected)
        {
            var a = _insertAffected.Parameters;
            a[0].Value = advisory.Id;
            a[1].Value = affected.Ecosystem.ToOsvName();
            a[2].Value = affected.NormalizedName;
            a[3].Value = affected.Name;
            a[4].Value = (object?)affected.Purl ?? DBNull.Value;
            a[5].Value = RangesJson(affected);
            a[6].Value = JsonStrings(affected.Versions);
            _insertAffected.ExecuteNonQuery();
        }
        foreach (var alias in advisory.Aliases)
        {
            _insertAlias.Parameters[0].Value = alias;
            _insertAlias.Parameters[1].Value = advisory.Id;
            _insertAlias.ExecuteNonQuery();
        }
        return existed ? UpsertOutcome.Updated : UpsertOutcome.Inserted;
    }

    public void SetMeta(string key, string value)
    {
        _setMeta.Parameters[0].Value = key;
        _setMeta.Parameters[1].Value = value;
        _setMeta.ExecuteNonQuery();
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
        // Quality 1 keeps import fast; records are small and still shrink about 3:1.
        if (!BrotliEncoder.TryCompress(raw, buffer, out var written, quality: 1, window: 22))
        {
            throw new InvalidOperationException("Brotli compression failed with a buffer of the maximum compressed size.");
        }
        return buffer.AsSpan(0, written).ToArray();
    }

    private string JsonStrings(IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return "[]";
        }
        _json.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_json))
        {
            writer.WriteStartArray();
            foreach (var value in values)
            {
                writer.WriteStringValue(value);
            }
            writer.WriteEndArray();
        }
        return Encoding.UTF8.GetString(_json.WrittenSpan);
    }

    private string SeverityJson(Advisory advisory)
    {
        if (advisory.Severity.IsEmpty)
        {
            return "[]";
        }
        _json.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_json))
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
        return Encoding.UTF8.GetString(_json.WrittenSpan);
    }

    private string RangesJson(AffectedPackage affected)
    {
        if (affected.Ranges.IsEmpty)
        {
            return "[]";
        }
        _json.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_json))
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
        return Encoding.UTF8.GetString(_json.WrittenSpan);
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        command.Prepare();
        return command;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
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
