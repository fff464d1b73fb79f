using System.Text;
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
/// one transaction, prepared statements, no journal; the rename afterwards is what makes it safe.
/// </summary>
/// <remarks>
/// Into an empty database (every full import), rows are only appended: the indexes are dropped at the start and built
/// once at the end, and a record that comes again (an advisory can be in several ecosystems' archives) is found in
/// memory and its older copy deleted by row id. Into a database with data (a merge), the indexes stay and serve the
/// lookups of existing ids.
/// </remarks>
internal sealed class AdvisoryStoreWriter : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteTransaction _transaction;
    private readonly Statement _insertAdvisory;
    private readonly Statement _insertAffected;
    private readonly Statement _insertAlias;
    private readonly Statement _setMeta;
    // A merge: by id, through the indexes.
    private readonly Statement? _selectModified;
    private readonly Statement? _deleteAdvisory;
    private readonly Statement? _deleteAffected;
    private readonly Statement? _deleteAliases;
    // An empty database: by row id, from what this import wrote.
    private readonly Statement? _deleteAdvisoryRow;
    private readonly Statement? _deleteAffectedRows;
    private readonly Statement? _deleteAliasRows;
    private readonly Dictionary<string, Written> _written = new(StringComparer.Ordinal);
    private readonly bool _startedEmpty;
    private bool _committed;

    /// <summary>Where the rows of an advisory written by this import are: its row, and the ranges of its affected and alias rows.</summary>
    private readonly record struct Written(string Modified, long Row, long AffectedFirst, long AffectedLast, long AliasFirst, long AliasLast);

    private AdvisoryStoreWriter(SqliteConnection connection)
    {
        _connection = connection;
        // threads: the sorts that build the indexes at the end may use helper threads.
        Execute($"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA locking_mode = EXCLUSIVE; PRAGMA threads = {Math.Min(Environment.ProcessorCount, 4)};");
        using (var count = connection.CreateCommand())
        {
            count.CommandText = "SELECT NOT EXISTS (SELECT 1 FROM advisories)";
            _startedEmpty = Convert.ToInt64(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 1;
        }
        _transaction = connection.BeginTransaction();
        if (_startedEmpty)
        {
            // Filling an index row by row, in random key order, costs more than building it once at the end.
            Execute(string.Concat(AdvisoryStoreSchema.IndexNames.Select(name => $"DROP INDEX IF EXISTS {name};")));
            _deleteAdvisoryRow = Prepare("DELETE FROM advisories WHERE rowid = ?1");
            _deleteAffectedRows = Prepare("DELETE FROM affected WHERE rowid BETWEEN ?1 AND ?2");
            _deleteAliasRows = Prepare("DELETE FROM aliases WHERE rowid BETWEEN ?1 AND ?2");
        }
        else
        {
            _selectModified = Prepare("SELECT modified FROM advisories WHERE id = ?1");
            _deleteAdvisory = Prepare("DELETE FROM advisories WHERE id = ?1");
            _deleteAffected = Prepare("DELETE FROM affected WHERE advisory_id = ?1");
            _deleteAliases = Prepare("DELETE FROM aliases WHERE advisory_id = ?1");
        }
        _insertAdvisory = Prepare("INSERT INTO advisories (id, modified, withdrawn, kind, raw) VALUES (?1, ?2, ?3, ?4, ?5)");
        _insertAffected = Prepare("INSERT INTO affected (advisory_id, ecosystem, normalized_name) VALUES (?1, ?2, ?3)");
        _insertAlias = Prepare("INSERT OR IGNORE INTO aliases (alias, advisory_id) VALUES (?1, ?2)");
        _setMeta = Prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
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
        catch (Exception e) when (e is SqliteException or InvalidDataException)
        {
            // InvalidDataException: a record of an older schema that no longer decompresses, while upgrading.
            connection.Dispose();
            error = AdvisoryStore.SqliteMessage(e);
            return null;
        }
    }

    /// <summary>Writes an advisory's prepared row unless the database has the same or a newer version of it.</summary>
    public UpsertOutcome Upsert(AdvisoryRow row)
    {
        var existed = false;
        if (_startedEmpty)
        {
            if (_written.TryGetValue(row.Id, out var previous))
            {
                if (string.CompareOrdinal(previous.Modified, row.Modified) >= 0)
                {
                    return UpsertOutcome.Unchanged;
                }
                existed = true;
                _deleteAdvisoryRow!.Bind(1, previous.Row);
                _deleteAdvisoryRow.Execute();
                DeleteRows(_deleteAffectedRows!, previous.AffectedFirst, previous.AffectedLast);
                DeleteRows(_deleteAliasRows!, previous.AliasFirst, previous.AliasLast);
            }
        }
        else
        {
            _selectModified!.BindText(1, row.IdUtf8);
            if (_selectModified.QueryText() is { } existing)
            {
                if (string.CompareOrdinal(existing, row.Modified) >= 0)
                {
                    return UpsertOutcome.Unchanged;
                }
                existed = true;
                foreach (var delete in new[] { _deleteAdvisory!, _deleteAffected!, _deleteAliases! })
                {
                    delete.BindText(1, row.IdUtf8);
                    delete.Execute();
                }
            }
        }

        var p = _insertAdvisory;
        p.BindText(1, row.IdUtf8);
        p.BindText(2, row.ModifiedUtf8);
        p.BindText(3, row.WithdrawnUtf8);
        p.BindText(4, row.KindUtf8);
        p.Bind(5, row.Raw);
        p.Execute();
        var advisoryRow = LastRow();

        long affectedFirst = 0, affectedLast = -1;
        foreach (var (ecosystem, name) in row.Affected)
        {
            var a = _insertAffected;
            a.BindText(1, row.IdUtf8);
            a.BindText(2, ecosystem);
            a.BindText(3, name);
            a.Execute();
            affectedLast = LastRow();
            if (affectedFirst == 0)
            {
                affectedFirst = affectedLast;
            }
        }
        long aliasFirst = 0, aliasLast = -1;
        foreach (var alias in row.Aliases)
        {
            _insertAlias.BindText(1, alias);
            _insertAlias.BindText(2, row.IdUtf8);
            _insertAlias.Execute();
            aliasLast = LastRow();
            if (aliasFirst == 0)
            {
                aliasFirst = aliasLast;
            }
        }
        if (_startedEmpty)
        {
            _written[row.Id] = new Written(row.Modified, advisoryRow, affectedFirst, affectedLast, aliasFirst, aliasLast);
        }
        return existed ? UpsertOutcome.Updated : UpsertOutcome.Inserted;
    }

    private static void DeleteRows(Statement delete, long first, long last)
    {
        if (first <= last)
        {
            delete.Bind(1, first);
            delete.Bind(2, last);
            delete.Execute();
        }
    }

    private long LastRow() => raw.sqlite3_last_insert_rowid(_connection.Handle!);

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
            Execute(string.Concat(AdvisoryStoreSchema.Indexes));
        }
        // Every scan reports its coverage per ecosystem: counted once here instead of on each scan (a second on a full database).
        SetMeta(AdvisoryMetaKeys.RecordsByEcosystem, AdvisoryStore.FormatCounts(CountRecordsByEcosystem()));
        _transaction.Commit();
        _committed = true;
        Execute("PRAGMA optimize;");
    }

    public void Dispose()
    {
        foreach (var command in new[] { _insertAdvisory, _insertAffected, _insertAlias, _setMeta, _selectModified, _deleteAdvisory, _deleteAffected, _deleteAliases, _deleteAdvisoryRow, _deleteAffectedRows, _deleteAliasRows })
        {
            command?.Dispose();
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
/// The stored columns of one advisory, computed on a parsing thread (times and text as UTF-8, the compressed record) so
/// that the single writing thread only binds them.
/// </summary>
internal sealed class AdvisoryRow
{
    private static readonly byte[] Malicious = Encoding.UTF8.GetBytes(AdvisoryStoreSchema.KindName(AdvisoryKind.Malicious));
    private static readonly byte[] Vulnerability = Encoding.UTF8.GetBytes(AdvisoryStoreSchema.KindName(AdvisoryKind.Vulnerability));
    private static readonly Dictionary<Ecosystem, byte[]> OsvEcosystemNames =
        EcosystemNames.Registries.ToDictionary(e => e, e => Encoding.UTF8.GetBytes(e.ToOsvName()));

    public required string Id { get; init; }
    public required byte[] IdUtf8 { get; init; }
    public required string Modified { get; init; }
    public required byte[] ModifiedUtf8 { get; init; }
    public byte[]? WithdrawnUtf8 { get; init; }
    public required byte[] KindUtf8 { get; init; }
    public required byte[] Raw { get; init; }

    /// <summary>The packages the advisory names (ecosystem, normalised name), each once.</summary>
    public required (byte[] Ecosystem, byte[] Name)[] Affected { get; init; }

    /// <summary>The aliases, each once.</summary>
    public required byte[][] Aliases { get; init; }

    /// <param name="advisory">The mapped record.</param>
    /// <param name="raw">The record as stored: its JSON as raw deflate (<see cref="RecordCompression"/>).</param>
    public static AdvisoryRow Create(Advisory advisory, byte[] raw) =>
        Create(advisory.Id, advisory.Modified, advisory.Withdrawn, advisory.Kind, advisory.Affected.Select(a => (a.Ecosystem, a.NormalizedName)), advisory.Aliases, raw);

    /// <summary>
    /// The row from the parts of a record the database stores (what <see cref="OsvRowReader"/> reads): the affected
    /// packages of npm, PyPI and NuGet and the aliases in record order, repeats included (each is kept once).
    /// </summary>
    public static AdvisoryRow Create(string id, DateTimeOffset modified, DateTimeOffset? withdrawn, AdvisoryKind kind,
        IEnumerable<(Ecosystem Ecosystem, string NormalizedName)> affected, IEnumerable<string> aliases, byte[] raw)
    {
        var modifiedText = AdvisoryStoreSchema.FormatTime(modified);
        return new()
        {
            Id = id,
            IdUtf8 = Encoding.UTF8.GetBytes(id),
            Modified = modifiedText,
            ModifiedUtf8 = Encoding.UTF8.GetBytes(modifiedText),
            WithdrawnUtf8 = withdrawn is { } w ? Encoding.UTF8.GetBytes(AdvisoryStoreSchema.FormatTime(w)) : null,
            KindUtf8 = kind == AdvisoryKind.Malicious ? Malicious : Vulnerability,
            Raw = raw,
            Affected = [.. affected.Distinct().Select(a => (OsvEcosystemNames[a.Ecosystem], Encoding.UTF8.GetBytes(a.NormalizedName)))],
            Aliases = [.. aliases.Distinct(StringComparer.Ordinal).Select(Encoding.UTF8.GetBytes)],
        };
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

    public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

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
