using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>One logged decision.</summary>
/// <param name="Time">When the decision was made (UTC).</param>
/// <param name="Package">The package name.</param>
/// <param name="Version">The version, or null for a decision about the whole package (e.g. a private name).</param>
/// <param name="Verdict">allowed, warned, blocked, hidden, published or refused.</param>
/// <param name="Rule">The rule or advisory id that decided, or null.</param>
/// <param name="Message">Why, in words.</param>
/// <param name="Client">The client's IP address.</param>
/// <param name="Request">What was asked: packument, tarball or publish.</param>
/// <param name="DryRun">True when the feed ran in dry-run mode and served the version whatever the verdict.</param>
public sealed record AuditEntry(
    DateTimeOffset Time, string Package, string? Version, string Verdict, string? Rule, string Message, string? Client, string Request, bool DryRun);

/// <summary>What <c>tollgate feed log</c> asks for.</summary>
public sealed record AuditQuery
{
    public bool BlockedOnly { get; init; }
    public string? Package { get; init; }
    public DateTimeOffset? Since { get; init; }
    public int Limit { get; init; } = 1000;
}

/// <summary>
/// The feed's audit log: every decision with package, version, rule, verdict, client and time, in SQLite
/// (<c>audit.db</c> in the storage folder). The schema is created on first use.
/// </summary>
public sealed class FeedAuditLog : IDisposable
{
    /// <summary>The file name inside the storage folder.</summary>
    public const string FileName = "audit.db";

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    private FeedAuditLog(SqliteConnection connection) => _connection = connection;

    /// <summary>Opens (creating if needed) the audit log of a storage folder.</summary>
    public static FeedAuditLog Open(string storageFolder, bool readOnly = false)
    {
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
        if (!readOnly)
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE IF NOT EXISTS decisions (
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
                CREATE INDEX IF NOT EXISTS decisions_package ON decisions(package, time);
                """;
            command.ExecuteNonQuery();
        }
        return new FeedAuditLog(connection);
    }

    /// <summary>Writes entries in one transaction.</summary>
    public void Write(IReadOnlyCollection<AuditEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO decisions (time, package, version, verdict, rule, message, client, request, dry_run)
                VALUES ($time, $package, $version, $verdict, $rule, $message, $client, $request, $dry)
                """;
            var p = new[] { "$time", "$package", "$version", "$verdict", "$rule", "$message", "$client", "$request", "$dry" }
                .Select(n => command.Parameters.Add(n, SqliteType.Text)).ToArray();
            foreach (var e in entries)
            {
                p[0].Value = e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
                p[1].Value = e.Package;
                p[2].Value = (object?)e.Version ?? DBNull.Value;
                p[3].Value = e.Verdict;
                p[4].Value = (object?)e.Rule ?? DBNull.Value;
                p[5].Value = e.Message;
                p[6].Value = (object?)e.Client ?? DBNull.Value;
                p[7].Value = e.Request;
                p[8].Value = e.DryRun ? 1 : 0;
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
    }

    /// <summary>Entries matching the query, oldest first.</summary>
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
                where.Add("package = $package");
                command.Parameters.AddWithValue("$package", query.Package);
            }
            if (query.Since is { } since)
            {
                where.Add("time >= $since");
                command.Parameters.AddWithValue("$since", since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            }
            command.Parameters.AddWithValue("$limit", query.Limit);
            command.CommandText = $"""
                SELECT time, package, version, verdict, rule, message, client, request, dry_run FROM
                (SELECT * FROM decisions {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))} ORDER BY id DESC LIMIT $limit)
                ORDER BY id
                """;
            var result = ImmutableArray.CreateBuilder<AuditEntry>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                result.Add(new AuditEntry(
                    DateTimeOffset.Parse(reader.GetString(0), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetString(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6),
                    reader.GetString(7),
                    reader.GetInt64(8) != 0));
            }
            return result.ToImmutable();
        }
    }

    public void Dispose() => _connection.Dispose();
}
