using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tollgate.Advisories;

/// <summary>
/// The SQLite schema of the advisory database. The code owns it: <c>PRAGMA user_version</c> holds the
/// schema version and <see cref="Migrate"/> brings an older file up to date, one step per version.
/// </summary>
internal static class AdvisoryStoreSchema
{
    /// <summary>The schema version this release writes and reads.</summary>
    public const int CurrentVersion = 1;

    // Step i turns version i into version i + 1. Add a step (never edit an old one) when the schema changes.
    private static readonly string[] Steps =
    [
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE advisories (
            id                TEXT PRIMARY KEY NOT NULL,
            modified          TEXT NOT NULL,   -- UTC, fixed width: compares as text
            published         TEXT,
            withdrawn         TEXT,
            kind              TEXT NOT NULL,   -- vulnerability | malicious
            summary           TEXT,
            details           TEXT,
            aliases           TEXT NOT NULL,   -- JSON array of ids
            severity          TEXT NOT NULL,   -- JSON array of OSV {type, score}
            database_severity TEXT,            -- GitHub LOW/MODERATE/HIGH/CRITICAL
            raw               BLOB NOT NULL    -- the OSV record as imported, Brotli-compressed UTF-8 JSON
        );

        CREATE TABLE affected (
            advisory_id     TEXT NOT NULL,
            ecosystem       TEXT NOT NULL,     -- npm | PyPI | NuGet
            normalized_name TEXT NOT NULL,
            name            TEXT NOT NULL,
            purl            TEXT,
            ranges          TEXT NOT NULL,     -- JSON array of OSV ranges
            versions        TEXT NOT NULL      -- JSON array of versions
        );
        CREATE INDEX affected_by_package ON affected (ecosystem, normalized_name);
        CREATE INDEX affected_by_advisory ON affected (advisory_id);

        CREATE TABLE aliases (
            alias       TEXT NOT NULL,
            advisory_id TEXT NOT NULL,
            PRIMARY KEY (alias, advisory_id)
        ) WITHOUT ROWID;
        CREATE INDEX aliases_by_advisory ON aliases (advisory_id);
        """,
    ];

    /// <summary>The index of lookups by package, as version 1 creates it; a fresh import builds it after its inserts.</summary>
    public const string AffectedByPackageIndex = "CREATE INDEX affected_by_package ON affected (ecosystem, normalized_name);";

    public static int ReadVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Creates or upgrades the schema inside the caller's transaction-free connection.</summary>
    /// <returns>Null when done, or why the file cannot be used.</returns>
    public static string? Migrate(SqliteConnection connection)
    {
        var version = ReadVersion(connection);
        if (version > CurrentVersion)
        {
            return $"the database has schema version {version}, newer than this release understands ({CurrentVersion}); upgrade Tollgate or import into a new file";
        }
        if (version == 0 && HasTables(connection))
        {
            return "the file is an SQLite database but not a Tollgate advisory database";
        }
        for (var v = version; v < CurrentVersion; v++)
        {
            using var transaction = connection.BeginTransaction();
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Steps[v] + $"\nPRAGMA user_version = {v + 1};";
            command.ExecuteNonQuery();
            transaction.Commit();
        }
        return null;
    }

    private static bool HasTables(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table'";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>The stored form of a timestamp: UTC with seven fraction digits, so text order is time order.</summary>
    public static string FormatTime(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTime(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value) ? value : null;

    public static string KindName(AdvisoryKind kind) => kind == AdvisoryKind.Malicious ? "malicious" : "vulnerability";

    public static AdvisoryKind ParseKind(string text) => text == "malicious" ? AdvisoryKind.Malicious : AdvisoryKind.Vulnerability;

    /// <summary>The connection string for a database file; pooling is off so a replaced file is never read through an old handle.</summary>
    public static string ConnectionString(string path, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = mode,
        Pooling = false,
    }.ToString();
}
