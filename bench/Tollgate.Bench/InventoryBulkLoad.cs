using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using Tollgate.Graph;
using Tollgate.Inventory;

namespace Tollgate.Bench;

/// <summary>
/// Fills an empty inventory (schema made by <c>InventoryStore.Open</c>) with generated deployments quickly: the rows
/// <c>InventoryStore.Add</c> would write for the same graphs (same keys, names, purls, shortest-path parents), but
/// written with one prepared statement in large transactions (SQLite) or binary COPY (PostgreSQL), with the
/// component index dropped during the load and built once at the end. Only the generation uses this; every measured
/// add goes through <c>InventoryStore.Add</c>.
/// </summary>
internal static class InventoryBulkLoad
{
    private const int DeploymentsPerTransaction = 250;

    public static int Sqlite(string store, InventoryBench.PoolEntry[] pool, InventoryBench.Zipf zipf, Random random, int deployments, int perDeployment, TimeSpan budget)
    {
        var clock = Stopwatch.StartNew();
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store, Pooling = false }.ToString());
        connection.Open();
        Execute(connection, null, "PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000; PRAGMA temp_store=MEMORY;");
        DropIndexes(connection);
        var ids = ComponentIds(pool);
        using (var tx = connection.BeginTransaction())
        {
            using var insert = Prepare(connection, tx, "INSERT INTO components (id, ckey, ecosystem, normalized_name, name, version, purl) VALUES ($1, $2, $3, $4, $5, $6, $7)", 7);
            foreach (var (component, id) in AllComponents(pool, ids))
            {
                Run(insert, id, component.Key, component.Ecosystem.ToOsvName(), Component.NormalizeName(component.Ecosystem, component.Name), component.Name, component.Version, component.Purl.ToString());
            }
            tx.Commit();
        }
        var made = 0;
        while (made < deployments && clock.Elapsed < budget)
        {
            using var tx = connection.BeginTransaction();
            using var deployment = Prepare(connection, tx, "INSERT INTO deployments (id, name, current_snapshot, created_at) VALUES ($1, $2, $3, $4)", 4);
            using var snapshot = Prepare(connection, tx, "INSERT INTO snapshots (id, deployment_id, version, environment, added_at, component_count, source) VALUES ($1, $2, $3, $4, $5, $6, NULL)", 6);
            using var row = Prepare(connection, tx, "INSERT INTO snapshot_components (snapshot_id, component_id, direct, scopes, parent_id) VALUES ($1, $2, $3, $4, $5)", 5);
            for (var end = Math.Min(deployments, made + DeploymentsPerTransaction); made < end; made++)
            {
                var id = made + 1L;
                var added = DateTimeOffset.UnixEpoch.AddMinutes(made).ToUnixTimeMilliseconds();
                Run(deployment, id, Name(made), id, added);
                Run(snapshot, id, id, Version(made), Environment(made), added, perDeployment);
                foreach (var (component, direct, scopes, parent) in SnapshotRows(pool, zipf, random, perDeployment, ids))
                {
                    Run(row, id, component, direct, scopes, parent);
                }
            }
            tx.Commit();
            Progress(made, clock);
        }
        CreateIndexes(connection);
        Execute(connection, null, "PRAGMA wal_checkpoint(TRUNCATE);");
        return made;
    }

    public static int Postgres(string store, InventoryBench.PoolEntry[] pool, InventoryBench.Zipf zipf, Random random, int deployments, int perDeployment, TimeSpan budget)
    {
        var clock = Stopwatch.StartNew();
        using var connection = new NpgsqlConnection(store);
        connection.Open();
        // The generated rows are consistent by construction; foreign-key triggers are skipped for the load only.
        Execute(connection, null, "SET session_replication_role = replica");
        DropIndexes(connection);
        var ids = ComponentIds(pool);
        using (var copy = connection.BeginBinaryImport("COPY components (id, ckey, ecosystem, normalized_name, name, version, purl) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (component, id) in AllComponents(pool, ids))
            {
                copy.StartRow();
                copy.Write(id, NpgsqlDbType.Bigint);
                copy.Write(component.Key, NpgsqlDbType.Text);
                copy.Write(component.Ecosystem.ToOsvName(), NpgsqlDbType.Text);
                copy.Write(Component.NormalizeName(component.Ecosystem, component.Name), NpgsqlDbType.Text);
                copy.Write(component.Name, NpgsqlDbType.Text);
                copy.Write(component.Version, NpgsqlDbType.Text);
                copy.Write(component.Purl.ToString(), NpgsqlDbType.Text);
            }
            copy.Complete();
        }
        var made = 0;
        while (made < deployments && clock.Elapsed < budget)
        {
            var end = Math.Min(deployments, made + DeploymentsPerTransaction * 4);
            using (var copy = connection.BeginBinaryImport("COPY deployments (id, name, current_snapshot, created_at) FROM STDIN (FORMAT BINARY)"))
            {
                for (var d = made; d < end; d++)
                {
                    copy.WriteRow(d + 1L, Name(d), d + 1L, DateTimeOffset.UnixEpoch.AddMinutes(d).ToUnixTimeMilliseconds());
                }
                copy.Complete();
            }
            using (var copy = connection.BeginBinaryImport("COPY snapshots (id, deployment_id, version, environment, added_at, component_count) FROM STDIN (FORMAT BINARY)"))
            {
                for (var d = made; d < end; d++)
                {
                    copy.WriteRow(d + 1L, d + 1L, Version(d), Environment(d), DateTimeOffset.UnixEpoch.AddMinutes(d).ToUnixTimeMilliseconds(), perDeployment);
                }
                copy.Complete();
            }
            using (var copy = connection.BeginBinaryImport("COPY snapshot_components (snapshot_id, component_id, direct, scopes, parent_id) FROM STDIN (FORMAT BINARY)"))
            {
                for (var d = made; d < end; d++)
                {
                    foreach (var (component, direct, scopes, parent) in SnapshotRows(pool, zipf, random, perDeployment, ids))
                    {
                        copy.StartRow();
                        copy.Write(d + 1L, NpgsqlDbType.Bigint);
                        copy.Write(component, NpgsqlDbType.Bigint);
                        copy.Write((short)direct, NpgsqlDbType.Smallint);
                        copy.Write((short)scopes, NpgsqlDbType.Smallint);
                        if (parent is { } p)
                        {
                            copy.Write(p, NpgsqlDbType.Bigint);
                        }
                        else
                        {
                            copy.WriteNull();
                        }
                    }
                }
                copy.Complete();
            }
            made = end;
            Progress(made, clock);
        }
        Execute(connection, null, """
            SET session_replication_role = origin;
            SELECT setval(pg_get_serial_sequence('components', 'id'), (SELECT max(id) FROM components));
            SELECT setval(pg_get_serial_sequence('deployments', 'id'), (SELECT max(id) FROM deployments));
            SELECT setval(pg_get_serial_sequence('snapshots', 'id'), (SELECT max(id) FROM snapshots));
            """);
        CreateIndexes(connection);
        Execute(connection, null, "VACUUM ANALYZE");
        return made;
    }

    private static string Name(int d) => $"deployment-{d:D5}";

    private static string Version(int d) => "1.0." + d.ToString(CultureInfo.InvariantCulture);

    private static string Environment(int d) => d % 3 == 0 ? "staging" : "prod";

    private static void Progress(int made, Stopwatch clock)
    {
        if (made % 1000 == 0)
        {
            Console.Error.WriteLine($"{made} deployments, {clock.Elapsed.TotalSeconds:F0} s");
        }
    }

    /// <summary>Component id of every (pool entry, version): 1, 2, ... in pool order.</summary>
    private static long[][] ComponentIds(InventoryBench.PoolEntry[] pool)
    {
        var next = 1L;
        return [.. pool.Select(e => e.Versions.Select(_ => next++).ToArray())];
    }

    private static IEnumerable<(Component, long)> AllComponents(InventoryBench.PoolEntry[] pool, long[][] ids)
    {
        for (var i = 0; i < pool.Length; i++)
        {
            for (var v = 0; v < pool[i].Versions.Length; v++)
            {
                yield return (InventoryBench.ComponentOf(pool[i], v), ids[i][v]);
            }
        }
    }

    /// <summary>The snapshot_components rows of one generated deployment, in component-id order (the primary key's).</summary>
    private static IEnumerable<(long Component, int Direct, int Scopes, long? Parent)> SnapshotRows(InventoryBench.PoolEntry[] pool, InventoryBench.Zipf zipf, Random random, int size, long[][] ids)
    {
        var rows = InventoryBench.Rows(pool, zipf, random, size);
        // In a tree the shortest-path parent is the only parent; direct packages (under the root) have none.
        return rows.Select(r => (ids[r.Pool][r.Version], r.Direct ? 1 : 0, (int)r.Scopes, r.Parent < 0 ? (long?)null : ids[rows[r.Parent].Pool][rows[r.Parent].Version]))
            .OrderBy(r => r.Item1);
    }

    private static SqliteCommand Prepare(SqliteConnection connection, SqliteTransaction tx, string sql, int parameters)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        for (var i = 1; i <= parameters; i++)
        {
            cmd.Parameters.Add(new SqliteParameter("$" + i.ToString(CultureInfo.InvariantCulture), null));
        }
        cmd.Prepare();
        return cmd;
    }

    private static void Run(SqliteCommand cmd, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        cmd.ExecuteNonQuery();
    }

    /// <summary>The store's secondary indexes on the snapshot tables are built once after the load, as an index build is faster than row-by-row upkeep.</summary>
    private static void DropIndexes(System.Data.Common.DbConnection connection)
    {
        foreach (var (name, _) in InventoryStore.SnapshotIndexes)
        {
            Execute(connection, null, $"DROP INDEX IF EXISTS {name}");
        }
    }

    private static void CreateIndexes(System.Data.Common.DbConnection connection)
    {
        foreach (var (_, create) in InventoryStore.SnapshotIndexes)
        {
            Execute(connection, null, create);
        }
    }

    private static void Execute(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.CommandTimeout = 0;
        cmd.ExecuteNonQuery();
    }
}
