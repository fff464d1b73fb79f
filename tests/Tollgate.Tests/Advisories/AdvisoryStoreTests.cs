using Microsoft.Data.Sqlite;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Advisories;

public sealed class AdvisoryStoreTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void TryOpen_MissingFile_SaysHowToCreateIt()
    {
        var path = _temp.File("advisories.db");

        Assert.False(AdvisoryStore.TryOpen(path, out _, out var error));

        Assert.Equal(AdvisoryStoreProblem.Missing, error.Problem);
        Assert.Equal($"no advisory database at {path}: run `tollgate db update`, or `tollgate db import FILE` for offline use", error.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void TryOpen_TextFile_IsUnreadableNotAnException()
    {
        var path = _temp.File("advisories.db");
        File.WriteAllText(path, "hello\n");

        Assert.False(AdvisoryStore.TryOpen(path, out _, out var error));

        Assert.Equal(AdvisoryStoreProblem.Unreadable, error.Problem);
        Assert.Contains("not an SQLite database", error.Message, StringComparison.Ordinal);
        Assert.Equal("hello\n", File.ReadAllText(path));
    }

    [Fact]
    public void TryOpen_OtherSqliteDatabase_IsNotAnAdvisoryDatabase()
    {
        var path = _temp.File("other.db");
        CreateSqlite(path, "CREATE TABLE t (x); PRAGMA user_version = 0;");

        Assert.False(AdvisoryStore.TryOpen(path, out _, out var error));

        Assert.Equal(AdvisoryStoreProblem.Unreadable, error.Problem);
        Assert.Contains("not a Tollgate advisory database", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryOpen_NewerSchema_IsWrongVersion()
    {
        var path = _temp.File("advisories.db");
        CreateSqlite(path, "CREATE TABLE t (x); PRAGMA user_version = 99;");

        Assert.False(AdvisoryStore.TryOpen(path, out _, out var error));

        Assert.Equal(AdvisoryStoreProblem.WrongVersion, error.Problem);
        Assert.Contains("99", error.Message, StringComparison.Ordinal);
        var thrown = Assert.Throws<AdvisoryStoreException>(() => AdvisoryStore.Open(path));
        Assert.Equal(error, thrown.Error);
    }

    [Fact]
    public void Import_NewerSchemaFile_IsNotOverwritten()
    {
        var path = _temp.File("advisories.db");
        CreateSqlite(path, "CREATE TABLE t (x); PRAGMA user_version = 99;");
        var before = File.ReadAllBytes(path);
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([TestData.Reference("osv", "malicious")], new AdvisoryImportOptions { DatabasePath = path }, diagnostics);

        Assert.False(result.Succeeded);
        Assert.Contains("schema version 99; this release reads version 2", Assert.Single(diagnostics.Items).Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Open_ImportedDatabase_IsReadOnly()
    {
        var path = _temp.File("advisories.db");
        Assert.True(AdvisoryImporter.Import([TestData.Reference("osv", "malicious")], new AdvisoryImportOptions { DatabasePath = path }, new DiagnosticBag()).Succeeded);
        var before = File.ReadAllBytes(path);

        using (var store = AdvisoryStore.Open(path))
        {
            Assert.Equal(2, store.SchemaVersion);
            Assert.Equal(2, store.Status().Advisories);
            Assert.NotNull(store.Meta(AdvisoryMetaKeys.ImportedAt));
        }

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["advisories.db"], _temp.Files());
    }

    [Fact]
    public void FindById_UnknownId_IsEmpty()
    {
        var path = _temp.File("advisories.db");
        Assert.True(AdvisoryImporter.Import([TestData.Reference("osv", "github")], new AdvisoryImportOptions { DatabasePath = path }, new DiagnosticBag()).Succeeded);
        using var store = AdvisoryStore.Open(path);

        Assert.Empty(store.FindById("GHSA-0000-0000-0000"));
        Assert.Equal("GHSA-wf5p-g6vw-rhxx", Assert.Single(store.FindById("GHSA-wf5p-g6vw-rhxx")).Id);
    }

    [Fact]
    public void RecordsByEcosystem_StoredAtImport_EqualsACountOfTheRecordsAndAnOldDatabaseIsCounted()
    {
        var path = _temp.File("advisories.db");
        Assert.True(AdvisoryImporter.Import([TestData.Reference("osv", "github"), TestData.Reference("osv", "malicious")], new AdvisoryImportOptions { DatabasePath = path }, new DiagnosticBag()).Succeeded);
        Dictionary<string, long> counted;
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT ecosystem, count(DISTINCT advisory_id) FROM affected GROUP BY ecosystem";
            using var reader = command.ExecuteReader();
            counted = [];
            while (reader.Read())
            {
                counted[reader.GetString(0)] = reader.GetInt64(1);
            }
        }
        IReadOnlyDictionary<Ecosystem, int> stored;
        using (var store = AdvisoryStore.Open(path))
        {
            Assert.NotNull(store.Meta(AdvisoryMetaKeys.RecordsByEcosystem));
            stored = store.RecordsByEcosystem();
        }
        Assert.Equal(counted.OrderBy(c => c.Key, StringComparer.Ordinal), stored.Select(s => KeyValuePair.Create(s.Key.ToOsvName(), (long)s.Value)).OrderBy(c => c.Key, StringComparer.Ordinal));
        Assert.True(counted.Count >= 2);

        // A database written before the counts were kept: counted on open, the same figures.
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM meta WHERE key = 'records_by_ecosystem'";
            command.ExecuteNonQuery();
        }
        using (var store = AdvisoryStore.Open(path))
        {
            Assert.Null(store.Meta(AdvisoryMetaKeys.RecordsByEcosystem));
            Assert.Equal(stored.OrderBy(s => s.Key), store.RecordsByEcosystem().OrderBy(s => s.Key));
        }
    }

    [Fact]
    public void DatabasePath_Environment_FollowsTollgateHomeThenXdg()
    {
        Assert.Equal(Path.Combine("/data/tg", "advisories.db"),
            TollgateHome.DatabasePath(environment: n => n == "TOLLGATE_HOME" ? "/data/tg" : n == "XDG_DATA_HOME" ? "/xdg" : null));
        Assert.Equal(Path.Combine("/xdg", "tollgate", "advisories.db"),
            TollgateHome.DatabasePath(environment: n => n == "XDG_DATA_HOME" ? "/xdg" : null));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(Path.Combine("/home/u", ".local", "share", "tollgate", "advisories.db"),
                TollgateHome.DatabasePath(environment: n => n == "HOME" ? "/home/u" : n == "XDG_DATA_HOME" ? "relative/ignored" : null));
        }
        Assert.Equal(Path.GetFullPath("x.db"), TollgateHome.DatabasePath("x.db", _ => "/data/tg"));
    }

    private static void CreateSqlite(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
