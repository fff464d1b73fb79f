using Npgsql;

namespace Tollgate.Tests.Inventory;

/// <summary>
/// The stores a storage test runs against: a SQLite file, and a real PostgreSQL server when
/// TOLLGATE_TEST_POSTGRES names one (.ci/run starts one on 127.0.0.1; see CONTRIBUTING.md).
/// </summary>
internal static class StoreTargets
{
    public static string? PostgresConnection => Environment.GetEnvironmentVariable("TOLLGATE_TEST_POSTGRES");

    public static IEnumerable<object[]> Kinds()
    {
        yield return ["sqlite"];
        // In CI PostgreSQL is required: a missing server fails the run instead of silently testing less.
        if (PostgresConnection is not null || Environment.GetEnvironmentVariable("CI") == "true")
        {
            yield return ["postgres"];
        }
    }

    /// <summary>A fresh, empty store of the given kind: a new SQLite file, or a new PostgreSQL database.</summary>
    public static string NewStore(string kind)
    {
        if (kind == "sqlite")
        {
            var dir = Directory.CreateTempSubdirectory("tollgate-inventory-");
            return Path.Combine(dir.FullName, "inventory.db");
        }
        var admin = PostgresConnection ?? throw new InvalidOperationException(
            "TOLLGATE_TEST_POSTGRES is not set: start a server with `export TOLLGATE_TEST_POSTGRES=\"$(bash .ci/postgres)\"`");
        var name = "tollgate_test_" + Guid.NewGuid().ToString("N")[..12];
        Execute(admin, $"CREATE DATABASE {name}");
        lock (s_databases)
        {
            if (s_databases.Count == 0)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DropDatabases(admin);
            }
            s_databases.Add(name);
        }
        return new NpgsqlConnectionStringBuilder(admin) { Database = name }.ToString();
    }

    private static readonly List<string> s_databases = [];

    /// <summary>Drops the databases this run created, so a run leaves the server as it found it.</summary>
    private static void DropDatabases(string admin)
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var name in s_databases)
        {
            try
            {
                Execute(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            }
            catch (NpgsqlException)
            {
                // The server is gone already (CI stops it); nothing is left to clean.
            }
        }
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
