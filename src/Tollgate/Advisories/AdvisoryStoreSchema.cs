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
    public const int CurrentVersion = 2;

    /// <summary>
    /// The indexes of version 2. An import into an empty database drops them first and builds them after its inserts
    /// (one sort each instead of a b-tree insert in random order per row).
    /// </summary>
    public static readonly string[] Indexes =
    [
        "CREATE UNIQUE INDEX advisories_by_id ON advisories (id);",
        // Covers the lookup of a scan: which advisories name these packages, from the index alone.
        "CREATE INDEX affected_by_package ON affected (ecosystem, normalized_name, advisory_id);",
        "CREATE INDEX affected_by_advisory ON affected (advisory_id);",
        "CREATE UNIQUE INDEX aliases_by_alias ON aliases (alias, advisory_id);",
        "CREATE INDEX aliases_by_advisory ON aliases (advisory_id);",
    ];

    /// <summary>The names of <see cref="Indexes"/>.</summary>
    public static IEnumerable<string> IndexNames => Indexes.Select(i => i.Split(' ')[i.StartsWith("CREATE UNIQUE", StringComparison.Ordinal) ? 3 : 2]);

    // Step i turns version i into version i + 1. Add a step (never edit an old one) when the schema changes.
    private static readonly string[] SqlSteps =
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
        // Version 2 keeps only what is read back (the lookups, the record itself, the counts of `db status`), stores
        // the record as raw deflate (RFC 1951) instead of Brotli, so that an import stores an archive entry's own
        // compressed bytes, and lets an import into an empty file build every index once, after its inserts.
        // The records are re-encoded in code: see UpgradeRecords.
        $"""
        CREATE TABLE advisories_v2 (
            id       TEXT NOT NULL,
            modified TEXT NOT NULL,   -- UTC, fixed width: compares as text
            withdrawn TEXT,
            kind     TEXT NOT NULL,   -- vulnerability | malicious
            raw      BLOB NOT NULL    -- the OSV record as imported: UTF-8 JSON, raw deflate
        );
        CREATE TABLE affected_v2 (
            advisory_id     TEXT NOT NULL,
            ecosystem       TEXT NOT NULL,     -- npm | PyPI | NuGet
            normalized_name TEXT NOT NULL
        );
        INSERT INTO affected_v2 (advisory_id, ecosystem, normalized_name) SELECT DISTINCT advisory_id, ecosystem, normalized_name FROM affected;
        CREATE TABLE aliases_v2 (
            alias       TEXT NOT NULL,
            advisory_id TEXT NOT NULL
        );
        INSERT INTO aliases_v2 (alias, advisory_id) SELECT alias, advisory_id FROM aliases;
        DROP TABLE affected;
        DROP TABLE aliases;
        ALTER TABLE affected_v2 RENAME TO affected;
        ALTER TABLE aliases_v2 RENAME TO aliases;
        {string.Join('\n', Indexes.Where(i => !i.Contains(" advisories ", StringComparison.Ordinal)))}
        """,
    ];


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
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = SqlSteps[v];
                command.ExecuteNonQuery();
            }
            if (v == 1)
            {
                UpgradeRecords(connection, transaction);
            }
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = $"PRAGMA user_version = {v + 1};";
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        return null;
    }

    /// <summary>Version 1 to 2, the part SQL cannot do: the records, Brotli-compressed in version 1, become raw deflate.</summary>
    private static void UpgradeRecords(SqliteConnection connection, SqliteTransaction transaction)
    {
        using (var insert = new Statement(connection.Handle!, "INSERT INTO advisories_v2 (id, modified, withdrawn, kind, raw) VALUES (?, ?, ?, ?, ?)"))
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id, modified, withdrawn, kind, raw FROM advisories ORDER BY rowid";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                insert.Bind(1, reader.GetString(0));
                insert.Bind(2, reader.GetString(1));
                insert.Bind(3, reader.IsDBNull(2) ? null : reader.GetString(2));
                insert.Bind(4, reader.GetString(3));
                insert.Bind(5, RecordCompression.Compress(RecordCompression.DecompressBrotli((byte[])reader.GetValue(4))));
                insert.Execute();
            }
        }
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            DROP TABLE advisories;
            ALTER TABLE advisories_v2 RENAME TO advisories;
            {Indexes[0]}
            """;
        command.ExecuteNonQuery();
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
