using System.Collections.Immutable;
using System.Globalization;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>One logged decision.</summary>
/// <param name="Time">When the decision was first made (UTC); for a request row, when the request came.</param>
/// <param name="Package">The package name.</param>
/// <param name="Version">The version, or null for a decision about the whole package (e.g. a private name).</param>
/// <param name="Verdict">allowed, warned, blocked, hidden, published or refused.</param>
/// <param name="Rule">The rule or advisory id that decided, or null.</param>
/// <param name="Message">Why, in words (the latest wording when the decision was made more than once).</param>
/// <param name="Client">The client's IP address (the latest one for a repeated decision).</param>
/// <param name="Request">What was asked: packument, tarball or publish (the latest kind for a repeated decision).</param>
/// <param name="DryRun">True when the feed ran in dry-run mode and served the version whatever the verdict.</param>
public sealed record AuditEntry(
    DateTimeOffset Time, string Package, string? Version, string Verdict, string? Rule, string Message, string? Client, string Request, bool DryRun)
{
    private readonly DateTimeOffset? _lastSeen;

    /// <summary>How many requests met this decision: 1 for a request row.</summary>
    public long Count { get; init; } = 1;

    /// <summary>When the decision was last made; <see cref="Time"/> for a request row.</summary>
    public DateTimeOffset LastSeen { get => _lastSeen ?? Time; init => _lastSeen = value; }

    /// <summary>
    /// True for what is kept as a row of its own, with its client and time: a publish, and a tarball download that
    /// was blocked or refused (the moment a client tried to fetch what the policy forbids). Every other decision is
    /// kept once per package, version, verdict and rule, with a counter.
    /// </summary>
    public bool IsRequestLevel => Request == "publish" || (Request == "tarball" && Verdict is "blocked" or "hidden" or "refused");
}

/// <summary>How many decisions of one verdict were made on one day in one ecosystem.</summary>
public sealed record AuditDayCount(DateOnly Day, string Ecosystem, string Verdict, long Count);

/// <summary>A package the feed refused, how many requests met a refusal, and the rules or advisories that refused it.</summary>
public sealed record AuditPackageCount(string Package, string Ecosystem, long Requests, ImmutableArray<string> Rules);

/// <summary>What <c>tollgate feed log</c> asks for.</summary>
public sealed record AuditQuery
{
    public bool BlockedOnly { get; init; }
    public string? Package { get; init; }

    /// <summary>Only entries last seen at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only entries of this ecosystem (OSV spelling, any case: npm, PyPI, NuGet); null: every ecosystem.</summary>
    public string? Ecosystem { get; init; }
    public int Limit { get; init; } = 1000;
}

/// <summary>
/// The feed's audit log in SQLite (<c>audit.db</c> in the storage folder), bounded by design: table <c>decisions</c>
/// holds each decision once per (package, version, verdict, rule) with a request count and first and last time seen
/// (an upsert, so a popular packument with refused versions adds no rows); table <c>requests</c> holds a row per
/// publish and per blocked or refused tarball download. <see cref="Prune"/> removes what was last seen before a time.
/// The schema is created, or migrated from the one-row-per-decision log of earlier versions, on first writable open.
/// </summary>
public sealed class FeedAuditLog : IDisposable
{
    /// <summary>The file name inside the storage folder.</summary>
    public const string FileName = "audit.db";

    /// <summary>PRAGMA user_version of the current schema; 0 is the single <c>decisions</c> table of earlier versions.</summary>
    private const int SchemaVersion = 1;

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    private readonly DbConnection _connection;
    private readonly Lock _gate = new();
    private readonly bool _legacy;
    private readonly bool _postgres;

    private FeedAuditLog(DbConnection connection, bool legacy, bool postgres = false)
    {
        _connection = connection;
        _legacy = legacy;
        _postgres = postgres;
    }

    /// <summary>
    /// Opens (creating or migrating if needed) the audit log: the storage folder's SQLite file, or, when
    /// <paramref name="state"/> is a PostgreSQL connection string, the tables in that database, which several feed
    /// instances share (one row per decision, whichever instance made it).
    /// </summary>
    public static FeedAuditLog Open(string storageFolder, bool readOnly = false, string? state = null)
    {
        if (!string.IsNullOrEmpty(state))
        {
            return OpenPostgres(state);
        }
        var path = Path.Combine(storageFolder, FileName);
        if (!readOnly)
        {
            Directory.CreateDirectory(storageFolder);
        }
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        connection.Open();
        try
        {
            var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"), CultureInfo.InvariantCulture);
            if (readOnly)
            {
                // A reader cannot migrate: a log the feed has not opened since the upgrade is read in its old form.
                var legacy = version < SchemaVersion && Convert.ToInt64(Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'decisions'"), CultureInfo.InvariantCulture) > 0;
                return new FeedAuditLog(connection, legacy);
            }
            if (version < SchemaVersion)
            {
                Migrate(connection);
            }
            return new FeedAuditLog(connection, legacy: false);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The PostgreSQL log: the same two tables (created when missing, by one process at a time).</summary>
    private static FeedAuditLog OpenPostgres(string connectionString)
    {
        var source = Storage.FeedStateDatabase.WithTables(connectionString, 74012, """
            CREATE TABLE IF NOT EXISTS feed_decisions (
              package TEXT NOT NULL, version TEXT NOT NULL, verdict TEXT NOT NULL, rule TEXT NOT NULL, message TEXT NOT NULL,
              client TEXT, request TEXT NOT NULL, dry_run BIGINT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, count BIGINT NOT NULL,
              PRIMARY KEY (package, version, verdict, rule));
            CREATE INDEX IF NOT EXISTS feed_decisions_last_seen ON feed_decisions(last_seen);
            CREATE TABLE IF NOT EXISTS feed_requests (
              id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, time TEXT NOT NULL, package TEXT NOT NULL, version TEXT,
              verdict TEXT NOT NULL, rule TEXT, message TEXT NOT NULL, client TEXT, request TEXT NOT NULL, dry_run BIGINT NOT NULL);
            CREATE INDEX IF NOT EXISTS feed_requests_package ON feed_requests(package, time);
            CREATE INDEX IF NOT EXISTS feed_requests_time ON feed_requests(time);
            """);
        return new FeedAuditLog(source.OpenConnection(), legacy: false, postgres: true);
    }

    /// <summary>The table of counted decisions and the table of request-level rows, by store.</summary>
    private string Decisions => _postgres ? "feed_decisions" : "decisions";

    private string Requests => _postgres ? "feed_requests" : "requests";

    private DbParameter Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    private static object? Scalar(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>
    /// Creates the schema. A log of an earlier version (one <c>decisions</c> row per decision and request) keeps its
    /// request-level rows as <c>requests</c> and has every other row folded into one counted row per decision.
    /// </summary>
    private static void Migrate(SqliteConnection connection)
    {
        Exec(connection, null, "PRAGMA journal_mode = WAL");
        using var transaction = connection.BeginTransaction();
        var hasOld = Convert.ToInt64(Scalar(connection, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'decisions'"), CultureInfo.InvariantCulture) > 0;
        if (hasOld)
        {
            Exec(connection, transaction, "DROP INDEX IF EXISTS decisions_package; ALTER TABLE decisions RENAME TO legacy_decisions;");
        }
        Exec(connection, transaction, """
            CREATE TABLE decisions (
              package TEXT NOT NULL,
              version TEXT NOT NULL,
              verdict TEXT NOT NULL,
              rule TEXT NOT NULL,
              message TEXT NOT NULL,
              client TEXT,
              request TEXT NOT NULL,
              dry_run INTEGER NOT NULL,
              first_seen TEXT NOT NULL,
              last_seen TEXT NOT NULL,
              count INTEGER NOT NULL,
              PRIMARY KEY (package, version, verdict, rule));
            CREATE INDEX decisions_last_seen ON decisions(last_seen);
            CREATE TABLE requests (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              time TEXT NOT NULL,
              package TEXT NOT NULL,
              version TEXT,
              verdict TEXT NOT NULL,
              rule TEXT,
              message TEXT NOT NULL,
              client TEXT,
              request TEXT NOT NULL,
              dry_run INTEGER NOT NULL);
            CREATE INDEX requests_package ON requests(package, time);
            CREATE INDEX requests_time ON requests(time);
            """);
        if (hasOld)
        {
            const string requestLevel = "(request = 'publish' OR (request = 'tarball' AND verdict IN ('blocked', 'hidden', 'refused')))";
            Exec(connection, transaction, $"""
                INSERT INTO requests (time, package, version, verdict, rule, message, client, request, dry_run)
                  SELECT time, package, version, verdict, rule, message, client, request, dry_run FROM legacy_decisions WHERE {requestLevel} ORDER BY id;
                INSERT INTO decisions (package, version, verdict, rule, message, client, request, dry_run, first_seen, last_seen, count)
                  SELECT package, COALESCE(version, ''), verdict, COALESCE(rule, ''), message, client, request, dry_run, MIN(time), MAX(time), COUNT(*)
                  FROM legacy_decisions WHERE NOT {requestLevel} GROUP BY package, COALESCE(version, ''), verdict, COALESCE(rule, '');
                DROP TABLE legacy_decisions;
                """);
        }
        Exec(connection, transaction, $"PRAGMA user_version = {SchemaVersion}");
        transaction.Commit();
    }

    private static void Exec(DbConnection connection, DbTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Text(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>
    /// Records entries in one transaction: a request-level entry (<see cref="AuditEntry.IsRequestLevel"/>) as a new
    /// row, every other one by raising the count (by its <see cref="AuditEntry.Count"/>) and last-seen time of its
    /// decision's row.
    /// </summary>
    public void Write(IReadOnlyCollection<AuditEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }
        lock (_gate)
        {
            Reconnect();
            using var transaction = _connection.BeginTransaction();
            using var insert = _connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = $"""
                INSERT INTO {Requests} (time, package, version, verdict, rule, message, client, request, dry_run)
                VALUES (@time, @package, @version, @verdict, @rule, @message, @client, @request, @dry)
                """;
            using var upsert = _connection.CreateCommand();
            upsert.Transaction = transaction;
            // NULL never equals NULL in a key, so a missing version or rule is stored as '' there.
            upsert.CommandText = $"""
                INSERT INTO {Decisions} (package, version, verdict, rule, message, client, request, dry_run, first_seen, last_seen, count)
                VALUES (@package, COALESCE(@version, ''), @verdict, COALESCE(@rule, ''), @message, @client, @request, @dry, @time, @last, @count)
                ON CONFLICT (package, version, verdict, rule) DO UPDATE SET
                  count = {Decisions}.count + excluded.count,
                  last_seen = CASE WHEN excluded.last_seen > {Decisions}.last_seen THEN excluded.last_seen ELSE {Decisions}.last_seen END,
                  message = excluded.message,
                  client = excluded.client,
                  request = excluded.request,
                  dry_run = excluded.dry_run
                """;
            var names = new[] { "time", "package", "version", "verdict", "rule", "message", "client", "request", "dry" };
            var insertParameters = names.Select(n => Text(insert, n)).ToArray();
            var upsertParameters = names.Select(n => Text(upsert, n)).ToArray();
            insertParameters[8].DbType = System.Data.DbType.Int64;
            upsertParameters[8].DbType = System.Data.DbType.Int64;
            var last = Text(upsert, "last");
            var count = Add(upsert, "count", 0L);
            count.DbType = System.Data.DbType.Int64;
            foreach (var e in entries)
            {
                var (command, p) = e.IsRequestLevel ? (insert, insertParameters) : (upsert, upsertParameters);
                p[0].Value = Text(e.Time);
                p[1].Value = e.Package;
                p[2].Value = (object?)e.Version ?? DBNull.Value;
                p[3].Value = e.Verdict;
                p[4].Value = (object?)e.Rule ?? DBNull.Value;
                p[5].Value = e.Message;
                p[6].Value = (object?)e.Client ?? DBNull.Value;
                p[7].Value = e.Request;
                p[8].Value = e.DryRun ? 1L : 0L;
                last.Value = Text(e.LastSeen);
                count.Value = e.Count;
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>
    /// Opens the shared PostgreSQL connection again after the server went away (the connection is then closed or
    /// broken for good); a server still away throws a <see cref="DbException"/>, which the caller retries.
    /// </summary>
    private void Reconnect()
    {
        if (_postgres && _connection.State != System.Data.ConnectionState.Open)
        {
            _connection.Close();
            _connection.Open();
        }
    }

    /// <summary>A text parameter (typed, so a NULL value still has a type for PostgreSQL).</summary>
    private DbParameter Text(DbCommand command, string name)
    {
        var parameter = Add(command, name, null);
        parameter.DbType = System.Data.DbType.String;
        return parameter;
    }

    /// <summary>Deletes every entry last seen before <paramref name="before"/>; returns how many.</summary>
    public int Prune(DateTimeOffset before)
    {
        lock (_gate)
        {
            Reconnect();
            using var transaction = _connection.BeginTransaction();
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            Add(command, "before", Text(before));
            command.CommandText = $"DELETE FROM {Decisions} WHERE last_seen < @before";
            var removed = command.ExecuteNonQuery();
            command.CommandText = $"DELETE FROM {Requests} WHERE time < @before";
            removed += command.ExecuteNonQuery();
            transaction.Commit();
            return removed;
        }
    }

    /// <summary>Entries matching the query, the <see cref="AuditQuery.Limit"/> most recently seen, oldest first.</summary>
    public ImmutableArray<AuditEntry> Query(AuditQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            var where = new List<string>();
            if (query.BlockedOnly)
            {
                where.Add("verdict IN ('blocked', 'hidden', 'refused')");
            }
            if (query.Package is not null)
            {
                where.Add("package = @package");
                Add(command, "package", query.Package);
            }
            if (query.Since is { } since)
            {
                where.Add("last_seen >= @since");
                Add(command, "since", Text(since));
            }
            if (query.Ecosystem is { } ecosystem)
            {
                where.Add($"lower({EcosystemSql}) = lower(@ecosystem)");
                Add(command, "ecosystem", ecosystem);
            }
            Add(command, "limit", (long)query.Limit);
            var source = _legacy
                ? "SELECT time, package, version, verdict, rule, message, client, request, dry_run, 1 AS count, time AS last_seen, id AS seq FROM decisions"
                : $"""
                  SELECT first_seen AS time, package, NULLIF(version, '') AS version, verdict, NULLIF(rule, '') AS rule, message, client, request, dry_run,
                         count, last_seen, 0 AS seq FROM {Decisions}
                  UNION ALL
                  SELECT time, package, version, verdict, rule, message, client, request, dry_run, 1 AS count, time AS last_seen, id AS seq FROM {Requests}
                  """;
            command.CommandText = $"""
                SELECT time, package, version, verdict, rule, message, client, request, dry_run, count, last_seen FROM
                (SELECT * FROM ({source}) AS entries {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))}
                 ORDER BY last_seen DESC, seq DESC LIMIT @limit) AS newest
                ORDER BY last_seen, seq
                """;
            var result = ImmutableArray.CreateBuilder<AuditEntry>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                result.Add(new AuditEntry(
                    ParseTime(reader.GetString(0)),
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetString(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6),
                    reader.GetString(7),
                    Convert.ToInt64(reader.GetValue(8), CultureInfo.InvariantCulture) != 0)
                {
                    Count = Convert.ToInt64(reader.GetValue(9), CultureInfo.InvariantCulture),
                    LastSeen = ParseTime(reader.GetString(10)),
                });
            }
            return result.ToImmutable();
        }
    }

    /// <summary>
    /// Decisions per UTC day and verdict since <paramref name="since"/>, for the dashboard's chart: each decision counted
    /// on the day it was first made, and each blocked download or publish on its day; of one ecosystem (OSV spelling, any case) when given.
    /// </summary>
    public ImmutableArray<AuditDayCount> DailyCounts(DateTimeOffset since, string? ecosystem = null)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            Add(command, "since", Text(since));
            var filter = "";
            if (ecosystem is not null)
            {
                filter = $" AND lower({EcosystemSql}) = lower(@ecosystem)";
                Add(command, "ecosystem", ecosystem);
            }
            var source = _legacy
                ? "SELECT time AS at, package, verdict FROM decisions"
                : $"SELECT first_seen AS at, package, verdict FROM {Decisions} UNION ALL SELECT time AS at, package, verdict FROM {Requests}";
            command.CommandText = $"""
                SELECT substr(at, 1, 10) AS day, {EcosystemSql} AS ecosystem, verdict, COUNT(*)
                FROM ({source}) AS entries WHERE at >= @since{filter}
                GROUP BY substr(at, 1, 10), {EcosystemSql}, verdict ORDER BY 1, 2, 3
                """;
            var result = ImmutableArray.CreateBuilder<AuditDayCount>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                result.Add(new AuditDayCount(DateOnly.ParseExact(reader.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture), reader.GetString(1), reader.GetString(2),
                    Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture)));
            }
            return result.ToImmutable();
        }
    }

    /// <summary>
    /// The packages most often refused (blocked, hidden or refused), by requests met, with the rules that refused them;
    /// of one ecosystem when given.
    /// </summary>
    public ImmutableArray<AuditPackageCount> TopRefused(int limit, string? ecosystem = null)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            Add(command, "limit", (long)limit);
            var filter = "";
            if (ecosystem is not null)
            {
                filter = $"WHERE lower({EcosystemSql}) = lower(@ecosystem)";
                Add(command, "ecosystem", ecosystem);
            }
            var source = _legacy
                ? "SELECT package, rule, 1 AS count FROM decisions WHERE verdict IN ('blocked', 'hidden', 'refused')"
                : $"""
                  SELECT package, NULLIF(rule, '') AS rule, count FROM {Decisions} WHERE verdict IN ('blocked', 'hidden', 'refused')
                  UNION ALL SELECT package, rule, 1 AS count FROM {Requests} WHERE verdict IN ('blocked', 'hidden', 'refused')
                  """;
            var rules = _postgres ? "string_agg(DISTINCT rule, ',')" : "group_concat(DISTINCT rule)";
            command.CommandText = $"""
                SELECT package, {EcosystemSql} AS ecosystem, SUM(count) AS total, {rules} FROM ({source}) AS refused
                {filter}
                GROUP BY package ORDER BY total DESC, package LIMIT @limit
                """;
            var result = ImmutableArray.CreateBuilder<AuditPackageCount>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                result.Add(new AuditPackageCount(reader.GetString(0), reader.GetString(1), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture),
                    reader.IsDBNull(3) ? [] : [.. reader.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)]));
            }
            return result.ToImmutable();
        }
    }

    /// <summary>The ecosystem of a row, in OSV spelling, from its package column: a package URL for PyPI and NuGet, a bare name for npm.</summary>
    private const string EcosystemSql = "CASE WHEN package LIKE 'pkg:pypi/%' THEN 'PyPI' WHEN package LIKE 'pkg:nuget/%' THEN 'NuGet' ELSE 'npm' END";

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public void Dispose() => _connection.Dispose();
}
