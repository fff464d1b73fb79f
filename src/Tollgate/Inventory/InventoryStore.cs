using System.Collections.Immutable;
using System.Data.Common;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tollgate.Graph;

namespace Tollgate.Inventory;

/// <summary>
/// The deployment inventory: SBOM snapshots per deployment in SQLite (a file, the default) or PostgreSQL
/// (a connection string with <c>Host=</c>), with the same schema and queries. The code creates and upgrades
/// the schema. Every add is one transaction: a failed add leaves nothing behind.
/// </summary>
public sealed class InventoryStore : IDisposable
{
    private const int SchemaVersion = 1;
    private const int Batch = 400;
    private readonly DbConnection _connection;
    private readonly bool _postgres;

    private InventoryStore(DbConnection connection, bool postgres)
    {
        _connection = connection;
        _postgres = postgres;
    }

    /// <summary>True when <paramref name="store"/> is a PostgreSQL connection string rather than a file path.</summary>
    public static bool IsPostgres(string store) =>
        store.Contains("Host=", StringComparison.OrdinalIgnoreCase) || store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Opens (and creates or upgrades) the store: a SQLite file path or a PostgreSQL connection string.</summary>
    /// <param name="store">The SQLite file or the PostgreSQL connection string.</param>
    /// <param name="mustExist">
    /// True for queries: a store that does not exist yet is an error (a mistyped path must not answer "nothing
    /// affected" from a new, empty store); only adding a deployment creates one.
    /// </param>
    public static InventoryStore Open(string store, bool mustExist = false)
    {
        DbConnection connection;
        var postgres = IsPostgres(store);
        if (postgres)
        {
            connection = new NpgsqlConnection(store);
        }
        else if (mustExist && !File.Exists(store))
        {
            throw new InvalidOperationException(
                $"no inventory store at {Path.GetFullPath(store)}: `tollgate inventory add` creates one; check --store or TOLLGATE_STORE");
        }
        else
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(store));
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
            }
            connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store, DefaultTimeout = 60, Pooling = false }.ToString());
        }
        connection.Open();
        var result = new InventoryStore(connection, postgres);
        try
        {
            if (mustExist && result.Scalar(postgres ? "SELECT to_regclass('inventory_meta') IS NOT NULL" : "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'inventory_meta'", null) is not (true or 1L))
            {
                throw new InvalidOperationException(
                    $"{(postgres ? "the PostgreSQL database" : Path.GetFullPath(store))} holds no Tollgate inventory: `tollgate inventory add` creates one; check --store or TOLLGATE_STORE");
            }
            result.Migrate();
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return result;
    }

    public void Dispose() => _connection.Dispose();

    private void Migrate()
    {
        if (!_postgres)
        {
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        }
        else
        {
            // The inventory's queries are index lookups that the planner costs high on a large store (the recursive
            // path query); JIT compilation then takes far longer than the query itself.
            Execute("SET jit = off");
        }
        var id = _postgres ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
        using var tx = _connection.BeginTransaction();
        if (_postgres)
        {
            // Serialise schema creation between processes starting at once.
            Execute("SELECT pg_advisory_xact_lock(74011)", tx);
        }
        Execute("CREATE TABLE IF NOT EXISTS inventory_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)", tx);
        var version = Scalar("SELECT value FROM inventory_meta WHERE key = 'schema_version'", tx) is { } v ? int.Parse((string)v, System.Globalization.CultureInfo.InvariantCulture) : 0;
        if (version > SchemaVersion)
        {
            throw new InvalidOperationException($"the inventory schema is version {version}, newer than this Tollgate understands ({SchemaVersion}); upgrade Tollgate");
        }
        if (version < 1)
        {
            Execute($"""
                CREATE TABLE IF NOT EXISTS deployments (
                    id {id}, name TEXT NOT NULL UNIQUE, current_snapshot BIGINT, created_at BIGINT NOT NULL);
                CREATE TABLE IF NOT EXISTS snapshots (
                    id {id}, deployment_id BIGINT NOT NULL REFERENCES deployments(id), version TEXT, environment TEXT,
                    added_at BIGINT NOT NULL, component_count INTEGER NOT NULL, source TEXT);
                CREATE INDEX IF NOT EXISTS snapshots_deployment ON snapshots(deployment_id);
                CREATE TABLE IF NOT EXISTS components (
                    id {id}, ckey TEXT NOT NULL UNIQUE, ecosystem TEXT NOT NULL, normalized_name TEXT NOT NULL,
                    name TEXT NOT NULL, version TEXT NOT NULL, purl TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS components_name ON components(ecosystem, normalized_name);
                CREATE TABLE IF NOT EXISTS snapshot_components (
                    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id), component_id BIGINT NOT NULL REFERENCES components(id),
                    direct SMALLINT NOT NULL, scopes SMALLINT NOT NULL, parent_id BIGINT,
                    PRIMARY KEY (snapshot_id, component_id));
                CREATE INDEX IF NOT EXISTS snapshot_components_component ON snapshot_components(component_id, snapshot_id);
                CREATE TABLE IF NOT EXISTS rescan_matches (
                    snapshot_id BIGINT NOT NULL, component_id BIGINT NOT NULL, advisory_id TEXT NOT NULL,
                    PRIMARY KEY (snapshot_id, component_id, advisory_id));
                """, tx);
            Execute("INSERT INTO inventory_meta (key, value) VALUES ('schema_version', '1') ON CONFLICT (key) DO UPDATE SET value = excluded.value", tx);
        }
        tx.Commit();
    }

    /// <summary>Records a snapshot of <paramref name="deployment"/> and makes it current. One transaction.</summary>
    public DeploymentSnapshot Add(DependencyGraph graph, string deployment, string? version, string? environment, string? source, DateTimeOffset now)
    {
        using var tx = BeginWrite();
        var nowMs = now.ToUnixTimeMilliseconds();
        Execute("INSERT INTO deployments (name, created_at) VALUES (@name, @now) ON CONFLICT (name) DO NOTHING", tx, ("name", deployment), ("now", nowMs));
        var deploymentId = Convert.ToInt64(Scalar("SELECT id FROM deployments WHERE name = @name" + (_postgres ? " FOR UPDATE" : ""), tx, ("name", deployment)), System.Globalization.CultureInfo.InvariantCulture);
        var snapshotId = Convert.ToInt64(Scalar(
            "INSERT INTO snapshots (deployment_id, version, environment, added_at, component_count, source) VALUES (@d, @v, @e, @t, @c, @s) RETURNING id",
            tx, ("d", deploymentId), ("v", version), ("e", environment), ("t", nowMs), ("c", graph.Components.Length), ("s", source)), System.Globalization.CultureInfo.InvariantCulture);

        var ids = UpsertComponents(graph.Components, tx);
        // The parent on a shortest path from a root, so "why is it here?" can be answered without the SBOM.
        var parents = ShortestPathParents(graph);
        var rows = graph.Components.Select(c => (ids[c.Key], c.Direct, (int)c.Scopes, parents.TryGetValue(c.Key, out var p) && ids.TryGetValue(p, out var pid) ? pid : (long?)null)).ToList();
        if (!_postgres)
        {
            // SQLite runs in-process: one prepared single-row statement is cheaper than multi-row VALUES, whose
            // parameter binding by name costs time quadratic in the number of parameters of the statement.
            using var insert = Command("INSERT INTO snapshot_components (snapshot_id, component_id, direct, scopes, parent_id) VALUES (@s, @c, @d, @k, @p)", tx,
                ("@s", snapshotId), ("@c", null), ("@d", null), ("@k", null), ("@p", null));
            insert.Prepare();
            foreach (var row in rows)
            {
                insert.Parameters[1].Value = row.Item1;
                insert.Parameters[2].Value = row.Direct ? 1 : 0;
                insert.Parameters[3].Value = row.Item3;
                insert.Parameters[4].Value = row.Item4 is { } parent ? parent : DBNull.Value;
                insert.ExecuteNonQuery();
            }
        }
        else
        {
            foreach (var chunk in rows.Chunk(Batch))
            {
                var sql = new StringBuilder("INSERT INTO snapshot_components (snapshot_id, component_id, direct, scopes, parent_id) VALUES ");
                var parameters = new List<(string, object?)> { ("s", snapshotId) };
                for (var i = 0; i < chunk.Length; i++)
                {
                    sql.Append(i == 0 ? "" : ",").Append($"(@s, @c{i}, @d{i}, @k{i}, @p{i})");
                    parameters.Add(($"c{i}", chunk[i].Item1));
                    parameters.Add(($"d{i}", chunk[i].Direct ? 1 : 0));
                    parameters.Add(($"k{i}", chunk[i].Item3));
                    parameters.Add(($"p{i}", chunk[i].Item4));
                }
                Execute(sql.ToString(), tx, [.. parameters]);
            }
        }
        Execute("UPDATE deployments SET current_snapshot = @s WHERE id = @d", tx, ("s", snapshotId), ("d", deploymentId));
        tx.Commit();
        return new DeploymentSnapshot(snapshotId, deployment, version, environment, now, graph.Components.Length, true);
    }

    private Dictionary<string, long> UpsertComponents(IReadOnlyList<Component> components, DbTransaction tx)
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!_postgres)
        {
            using var insert = Command("INSERT INTO components (ckey, ecosystem, normalized_name, name, version, purl) VALUES (@k, @e, @n, @m, @v, @p) ON CONFLICT (ckey) DO NOTHING", tx,
                ("@k", null), ("@e", null), ("@n", null), ("@m", null), ("@v", null), ("@p", null));
            using var select = Command("SELECT id FROM components WHERE ckey = @k", tx, ("@k", null));
            insert.Prepare();
            select.Prepare();
            foreach (var c in components.DistinctBy(c => c.Key))
            {
                insert.Parameters[0].Value = c.Key;
                insert.Parameters[1].Value = c.Ecosystem.ToOsvName();
                insert.Parameters[2].Value = Component.NormalizeName(c.Ecosystem, c.Name);
                insert.Parameters[3].Value = c.Name;
                insert.Parameters[4].Value = c.Version;
                insert.Parameters[5].Value = c.Purl.ToString();
                insert.ExecuteNonQuery();
                select.Parameters[0].Value = c.Key;
                ids[c.Key] = Convert.ToInt64(select.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            }
            return ids;
        }
        foreach (var chunk in components.DistinctBy(c => c.Key).Chunk(Batch))
        {
            var insert = new StringBuilder("INSERT INTO components (ckey, ecosystem, normalized_name, name, version, purl) VALUES ");
            var select = new StringBuilder("SELECT ckey, id FROM components WHERE ckey IN (");
            var parameters = new List<(string, object?)>();
            for (var i = 0; i < chunk.Length; i++)
            {
                var c = chunk[i];
                insert.Append(i == 0 ? "" : ",").Append($"(@k{i}, @e{i}, @n{i}, @m{i}, @v{i}, @p{i})");
                select.Append(i == 0 ? "" : ",").Append($"@k{i}");
                parameters.Add(($"k{i}", c.Key));
                parameters.Add(($"e{i}", c.Ecosystem.ToOsvName()));
                parameters.Add(($"n{i}", Component.NormalizeName(c.Ecosystem, c.Name)));
                parameters.Add(($"m{i}", c.Name));
                parameters.Add(($"v{i}", c.Version));
                parameters.Add(($"p{i}", c.Purl.ToString()));
            }
            insert.Append(" ON CONFLICT (ckey) DO NOTHING");
            select.Append(')');
            Execute(insert.ToString(), tx, [.. parameters]);
            using var cmd = Command(select.ToString(), tx, [.. parameters.Where(p => p.Item1.StartsWith('k'))]);
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                ids[reader.GetString(0)] = reader.GetInt64(1);
            }
        }
        return ids;
    }

    private static Dictionary<string, string> ShortestPathParents(DependencyGraph graph)
    {
        var parent = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>();
        foreach (var root in graph.Roots)
        {
            seen.Add(root.Key);
            queue.Enqueue(root.Key);
        }
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            foreach (var child in graph.ChildrenOf(node))
            {
                if (seen.Add(child))
                {
                    if (!graph.IsRoot(node))
                    {
                        parent[child] = node;
                    }
                    queue.Enqueue(child);
                }
            }
        }
        return parent;
    }

    /// <summary>Every deployment's current snapshot, by name.</summary>
    public IReadOnlyList<DeploymentSnapshot> List()
    {
        using var cmd = Command("""
            SELECT s.id, d.name, s.version, s.environment, s.added_at, s.component_count
            FROM deployments d JOIN snapshots s ON s.id = d.current_snapshot ORDER BY d.name
            """, null);
        return ReadSnapshots(cmd, current: true);
    }

    /// <summary>Every snapshot of one deployment, newest first; empty when the deployment is unknown.</summary>
    public IReadOnlyList<DeploymentSnapshot> History(string deployment)
    {
        using var cmd = Command("""
            SELECT s.id, d.name, s.version, s.environment, s.added_at, s.component_count, CASE WHEN d.current_snapshot = s.id THEN 1 ELSE 0 END
            FROM deployments d JOIN snapshots s ON s.deployment_id = d.id WHERE d.name = @name ORDER BY s.id DESC
            """, null, ("name", deployment));
        return ReadSnapshots(cmd, current: null);
    }

    /// <summary>The components of one snapshot.</summary>
    public IReadOnlyList<InventoryComponent> Components(long snapshotId)
    {
        using var cmd = Command("""
            SELECT c.ecosystem, c.name, c.version, c.purl, sc.direct, sc.scopes
            FROM snapshot_components sc JOIN components c ON c.id = sc.component_id WHERE sc.snapshot_id = @s ORDER BY c.ecosystem, c.normalized_name, c.version
            """, null, ("s", snapshotId));
        using var reader = cmd.ExecuteReader();
        var result = new List<InventoryComponent>();
        while (reader.Read())
        {
            result.Add(ReadComponent(reader, 0));
        }
        return result;
    }

    /// <summary>
    /// Current deployments containing a component named <paramref name="name"/> in <paramref name="ecosystem"/>
    /// (every ecosystem when null) whose version passes <paramref name="versionMatches"/>.
    /// </summary>
    public IReadOnlyList<AffectedDeployment> Affected(Ecosystem? ecosystem, string name, Func<Ecosystem, string, bool> versionMatches)
    {
        var candidates = new List<(long Id, Ecosystem Ecosystem)>();
        foreach (var eco in ecosystem is { } e ? [e] : EcosystemNames.Registries)
        {
            using var cmd = Command("SELECT id, version FROM components WHERE ecosystem = @e AND normalized_name = @n", null,
                ("e", eco.ToOsvName()), ("n", Component.NormalizeName(eco, name)));
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                if (versionMatches(eco, reader.GetString(1)))
                {
                    candidates.Add((reader.GetInt64(0), eco));
                }
            }
        }
        return AffectedByComponentIds(candidates.Select(c => c.Id).ToList());
    }

    private List<AffectedDeployment> AffectedByComponentIds(IReadOnlyList<long> componentIds, DbTransaction? tx = null)
    {
        var result = new List<AffectedDeployment>();
        foreach (var chunk in componentIds.Chunk(Batch))
        {
            var names = string.Join(',', chunk.Select((_, i) => $"@c{i}"));
            using var cmd = Command($"""
                SELECT d.name, s.environment, s.version, s.id, c.ecosystem, c.name, c.version, c.purl, sc.direct, sc.scopes, sc.parent_id, sc.component_id
                FROM snapshot_components sc
                JOIN deployments d ON d.current_snapshot = sc.snapshot_id
                JOIN snapshots s ON s.id = sc.snapshot_id
                JOIN components c ON c.id = sc.component_id
                WHERE sc.component_id IN ({names})
                ORDER BY d.name, c.version
                """, tx, [.. chunk.Select((id, i) => ($"c{i}", (object?)id))]);
            var rows = new List<(string, string?, string?, long, InventoryComponent, long?, long)>();
            using (var reader = cmd.ExecuteReader())
            {
                while (reader.Read())
                {
                    rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.GetInt64(3), ReadComponent(reader, 4), reader.IsDBNull(10) ? null : reader.GetInt64(10), reader.GetInt64(11)));
                }
            }
            // Every ancestor of every hit in one recursive query, instead of one round trip per step of each path.
            var ancestors = new Dictionary<(long Snapshot, long Start), List<(int Depth, string Label)>>();
            using (var paths = Command($"""
                WITH RECURSIVE chain(snapshot_id, start_id, parent_id, depth) AS (
                    SELECT sc.snapshot_id, sc.component_id, sc.parent_id, 0
                    FROM snapshot_components sc JOIN deployments d ON d.current_snapshot = sc.snapshot_id
                    WHERE sc.component_id IN ({names}) AND sc.parent_id IS NOT NULL
                    UNION ALL
                    SELECT p.snapshot_id, chain.start_id, p.parent_id, chain.depth + 1
                    FROM chain JOIN snapshot_components p ON p.snapshot_id = chain.snapshot_id AND p.component_id = chain.parent_id
                    WHERE chain.depth < 255)
                SELECT chain.snapshot_id, chain.start_id, chain.depth, c.name, c.version
                FROM chain JOIN components c ON c.id = chain.parent_id
                """, tx, [.. chunk.Select((id, i) => ($"c{i}", (object?)id))]))
            using (var reader = paths.ExecuteReader())
            {
                while (reader.Read())
                {
                    var key = (reader.GetInt64(0), reader.GetInt64(1));
                    if (!ancestors.TryGetValue(key, out var list))
                    {
                        ancestors[key] = list = [];
                    }
                    list.Add((Convert.ToInt32(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture), $"{reader.GetString(3)}@{reader.GetString(4)}"));
                }
            }
            foreach (var (deployment, environment, version, snapshot, component, _, componentId) in rows)
            {
                var path = ancestors.TryGetValue((snapshot, componentId), out var list)
                    ? list.OrderByDescending(a => a.Depth).Select(a => a.Label).Append($"{component.Name}@{component.Version}")
                    : [$"{component.Name}@{component.Version}"];
                result.Add(new AffectedDeployment(deployment, environment, version, snapshot, component, [.. path]));
            }
        }
        return [.. result.OrderBy(a => a.Deployment, StringComparer.Ordinal)];
    }

    /// <summary>Every distinct package version in a current deployment: what a rescan must match.</summary>
    public IReadOnlyList<(long ComponentId, InventoryPackage Package)> CurrentPackages()
    {
        using var cmd = Command("""
            SELECT DISTINCT c.id, c.ecosystem, c.name, c.version FROM components c
            WHERE EXISTS (SELECT 1 FROM snapshot_components sc JOIN deployments d ON d.current_snapshot = sc.snapshot_id WHERE sc.component_id = c.id)
            """, null);
        using var reader = cmd.ExecuteReader();
        var result = new List<(long, InventoryPackage)>();
        while (reader.Read())
        {
            EcosystemNames.TryParse(reader.GetString(1), out var eco);
            result.Add((reader.GetInt64(0), new InventoryPackage(eco, reader.GetString(2), reader.GetString(3))));
        }
        return result;
    }

    /// <summary>
    /// Replaces the recorded rescan matches with <paramref name="matches"/> (component id → advisory ids) over the
    /// current snapshots and returns what is new and what was resolved since the previous rescan.
    /// </summary>
    public (IReadOnlyList<(AffectedDeployment Deployment, string AdvisoryId)> New, IReadOnlyList<(string Deployment, string Purl, string AdvisoryId)> Resolved)
        RecordRescan(IReadOnlyDictionary<long, IReadOnlyList<string>> matches)
    {
        using var tx = BeginWrite();
        var previous = new HashSet<(long, long, string)>();
        using (var cmd = Command("SELECT snapshot_id, component_id, advisory_id FROM rescan_matches", tx))
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                previous.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2)));
            }
        }
        var current = new HashSet<(long, long, string)>();
        var affected = new List<(AffectedDeployment, string)>();
        var newOnes = new List<(AffectedDeployment, string)>();
        foreach (var (componentId, advisories) in matches)
        {
            foreach (var hit in AffectedByComponentIds([componentId], tx))
            {
                foreach (var advisory in advisories)
                {
                    current.Add((hit.SnapshotId, componentId, advisory));
                    if (!previous.Contains((hit.SnapshotId, componentId, advisory)))
                    {
                        newOnes.Add((hit, advisory));
                    }
                }
            }
        }
        var resolved = new List<(string, string, string)>();
        foreach (var (snapshot, component, advisory) in previous.Except(current))
        {
            using var cmd = Command("""
                SELECT d.name, c.purl FROM snapshots s JOIN deployments d ON d.id = s.deployment_id, components c WHERE s.id = @s AND c.id = @c
                """, tx, ("s", snapshot), ("c", component));
            using var reader = cmd.ExecuteReader();
            if (reader.Read())
            {
                resolved.Add((reader.GetString(0), reader.GetString(1), advisory));
            }
        }
        Execute("DELETE FROM rescan_matches", tx);
        foreach (var chunk in current.Chunk(Batch))
        {
            var sql = new StringBuilder("INSERT INTO rescan_matches (snapshot_id, component_id, advisory_id) VALUES ");
            var parameters = new List<(string, object?)>();
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(i == 0 ? "" : ",").Append($"(@s{i}, @c{i}, @a{i})");
                parameters.Add(($"s{i}", chunk[i].Item1));
                parameters.Add(($"c{i}", chunk[i].Item2));
                parameters.Add(($"a{i}", chunk[i].Item3));
            }
            Execute(sql.ToString(), tx, [.. parameters]);
        }
        tx.Commit();
        return ([.. newOnes.OrderBy(n => n.Item1.Deployment, StringComparer.Ordinal)], [.. resolved.OrderBy(r => r.Item1, StringComparer.Ordinal)]);
    }

    private DbTransaction BeginWrite()
    {
        if (_connection is SqliteConnection sqlite)
        {
            // IMMEDIATE takes the write lock up front, so two concurrent adds queue instead of failing on upgrade.
            return sqlite.BeginTransaction(deferred: false);
        }
        return _connection.BeginTransaction(System.Data.IsolationLevel.ReadCommitted);
    }

    private static InventoryComponent ReadComponent(DbDataReader reader, int offset)
    {
        EcosystemNames.TryParse(reader.GetString(offset), out var eco);
        return new InventoryComponent(eco, reader.GetString(offset + 1), reader.GetString(offset + 2), reader.GetString(offset + 3),
            Convert.ToInt32(reader.GetValue(offset + 4), System.Globalization.CultureInfo.InvariantCulture) != 0,
            (DependencyScopes)Convert.ToInt32(reader.GetValue(offset + 5), System.Globalization.CultureInfo.InvariantCulture));
    }

    private static List<DeploymentSnapshot> ReadSnapshots(DbCommand cmd, bool? current)
    {
        using var reader = cmd.ExecuteReader();
        var result = new List<DeploymentSnapshot>();
        while (reader.Read())
        {
            result.Add(new DeploymentSnapshot(
                reader.GetInt64(0), reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                reader.GetInt32(5),
                current ?? Convert.ToInt32(reader.GetValue(6), System.Globalization.CultureInfo.InvariantCulture) != 0));
        }
        return result;
    }

    private DbCommand Command(string sql, DbTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.CommandTimeout = 120;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    private void Execute(string sql, DbTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql, DbTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        var value = cmd.ExecuteScalar();
        return value is DBNull ? null : value;
    }
}
