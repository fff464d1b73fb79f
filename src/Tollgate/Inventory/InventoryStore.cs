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
    private const int SchemaVersion = 3;
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
                CREATE TABLE IF NOT EXISTS rescan_matches (
                    snapshot_id BIGINT NOT NULL, component_id BIGINT NOT NULL, advisory_id TEXT NOT NULL,
                    PRIMARY KEY (snapshot_id, component_id, advisory_id));
                """, tx);
        }
        if (version < 2)
        {
            // Version 2: the registry each registry component came from (private names are judged by it, as scan
            // judges them), and indexes that answer "affected" from the index alone. Rows recorded before know no
            // registry: they count as from the default registry (a private name among them is matched, fail closed).
            Execute($"""
                CREATE TABLE IF NOT EXISTS registry_sources (id {id}, url TEXT NOT NULL UNIQUE);
                ALTER TABLE snapshot_components ADD COLUMN source_id BIGINT;
                DROP INDEX IF EXISTS snapshot_components_component;
                """, tx);
            foreach (var (_, create) in SnapshotIndexes)
            {
                Execute(create, tx);
            }
            Execute("INSERT INTO inventory_meta (key, value) VALUES ('schema_version', '2') ON CONFLICT (key) DO UPDATE SET value = excluded.value", tx);
        }
        if (version < 3)
        {
            // Version 3: what each rescan hit is (severity, malicious, fix, summary) and when a rescan first found it, so
            // "what became affected since yesterday" is a query; and a row per rescan. Hits recorded before count as
            // found when the store was upgraded.
            Execute($"""
                ALTER TABLE rescan_matches ADD COLUMN found_at BIGINT;
                ALTER TABLE rescan_matches ADD COLUMN severity SMALLINT;
                ALTER TABLE rescan_matches ADD COLUMN malicious SMALLINT;
                ALTER TABLE rescan_matches ADD COLUMN fixed TEXT;
                ALTER TABLE rescan_matches ADD COLUMN summary TEXT;
                CREATE INDEX IF NOT EXISTS rescan_matches_found ON rescan_matches(found_at);
                ALTER TABLE snapshots ADD COLUMN checked_at BIGINT;
                CREATE TABLE IF NOT EXISTS rescans (
                    id {id}, at BIGINT NOT NULL, database_version TEXT, deployment TEXT, packages INTEGER NOT NULL,
                    new_hits INTEGER NOT NULL, resolved_hits INTEGER NOT NULL);
                """, tx);
            var upgradedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Execute("UPDATE rescan_matches SET found_at = @now", tx, ("now", upgradedAt));
            Execute("UPDATE snapshots SET checked_at = @now WHERE id IN (SELECT snapshot_id FROM rescan_matches)", tx, ("now", upgradedAt));
            Execute("INSERT INTO inventory_meta (key, value) VALUES ('schema_version', '3') ON CONFLICT (key) DO UPDATE SET value = excluded.value", tx);
        }
        tx.Commit();
    }

    /// <summary>
    /// The secondary indexes of the snapshot tables, by name (a bulk load drops them and creates them once at the end).
    /// "Affected" reads the hits of a component from <c>snapshot_components_hits</c> alone and finds each row's
    /// deployment through <c>deployments_current</c>, so a query of a package in every deployment touches no table row.
    /// </summary>
    public static IReadOnlyList<(string Name, string Create)> SnapshotIndexes { get; } =
    [
        ("snapshot_components_hits", "CREATE INDEX IF NOT EXISTS snapshot_components_hits ON snapshot_components(component_id, source_id, snapshot_id, direct, scopes, parent_id)"),
        ("deployments_current", "CREATE INDEX IF NOT EXISTS deployments_current ON deployments(current_snapshot, name)"),
    ];

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
        var sources = UpsertSources(graph.Components, tx);
        // The parent on a shortest path from a root, so "why is it here?" can be answered without the SBOM.
        var parents = ShortestPathParents(graph);
        var rows = graph.Components.Select(c => (ids[c.Key], c.Direct, (int)c.Scopes, parents.TryGetValue(c.Key, out var p) && ids.TryGetValue(p, out var pid) ? pid : (long?)null,
            RegistryLocation(c) is { } url ? sources[url] : (long?)null)).ToList();
        if (!_postgres)
        {
            // SQLite runs in-process: one prepared single-row statement is cheaper than multi-row VALUES, whose
            // parameter binding by name costs time quadratic in the number of parameters of the statement.
            using var insert = Command("INSERT INTO snapshot_components (snapshot_id, component_id, direct, scopes, parent_id, source_id) VALUES (@s, @c, @d, @k, @p, @r)", tx,
                ("@s", snapshotId), ("@c", null), ("@d", null), ("@k", null), ("@p", null), ("@r", null));
            insert.Prepare();
            foreach (var row in rows)
            {
                insert.Parameters[1].Value = row.Item1;
                insert.Parameters[2].Value = row.Direct ? 1 : 0;
                insert.Parameters[3].Value = row.Item3;
                insert.Parameters[4].Value = row.Item4 is { } parent ? parent : DBNull.Value;
                insert.Parameters[5].Value = row.Item5 is { } sourceId ? sourceId : DBNull.Value;
                insert.ExecuteNonQuery();
            }
        }
        else
        {
            foreach (var chunk in rows.Chunk(Batch))
            {
                var sql = new StringBuilder("INSERT INTO snapshot_components (snapshot_id, component_id, direct, scopes, parent_id, source_id) VALUES ");
                var parameters = new List<(string, object?)> { ("s", snapshotId) };
                for (var i = 0; i < chunk.Length; i++)
                {
                    sql.Append(i == 0 ? "" : ",").Append($"(@s, @c{i}, @d{i}, @k{i}, @p{i}, @r{i})");
                    parameters.Add(($"c{i}", chunk[i].Item1));
                    parameters.Add(($"d{i}", chunk[i].Direct ? 1 : 0));
                    parameters.Add(($"k{i}", chunk[i].Item3));
                    parameters.Add(($"p{i}", chunk[i].Item4));
                    parameters.Add(($"r{i}", chunk[i].Item5));
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

    /// <summary>The URL a registry component was downloaded from, where the input records it (non-registry origins are part of the key).</summary>
    private static string? RegistryLocation(Component component) =>
        component.Origin.Kind == OriginKind.Registry ? component.Origin.Location : null;

    /// <summary>The ids of the registry URLs of <paramref name="components"/>, added where new.</summary>
    private Dictionary<string, long> UpsertSources(IReadOnlyList<Component> components, DbTransaction tx)
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        var urls = components.Select(RegistryLocation).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (urls.Count == 0)
        {
            return ids;
        }
        if (_postgres)
        {
            // One round trip each way, with the URLs as one array parameter.
            Execute("INSERT INTO registry_sources (url) SELECT unnest(@u) ON CONFLICT (url) DO NOTHING", tx, ("u", urls.ToArray()));
            using var query = Command("SELECT url, id FROM registry_sources WHERE url = ANY(@u)", tx, ("u", urls.ToArray()));
            using var reader = query.ExecuteReader();
            while (reader.Read())
            {
                ids[reader.GetString(0)] = reader.GetInt64(1);
            }
            return ids;
        }
        using var insert = Command("INSERT INTO registry_sources (url) VALUES (@u) ON CONFLICT (url) DO NOTHING", tx, ("@u", null));
        using var select = Command("SELECT id FROM registry_sources WHERE url = @u", tx, ("@u", null));
        insert.Prepare();
        select.Prepare();
        foreach (var url in urls)
        {
            insert.Parameters[0].Value = url;
            insert.ExecuteNonQuery();
            select.Parameters[0].Value = url;
            ids[url] = Convert.ToInt64(select.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
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
    /// (every ecosystem when null) whose version passes <paramref name="versionMatches"/>, whatever its source: every hit.
    /// </summary>
    public IReadOnlyList<AffectedDeployment> Affected(Ecosystem? ecosystem, string name, Func<Ecosystem, string, bool> versionMatches) =>
        Affected(ecosystem, name, versionMatches, Paging.All).Hits;

    /// <summary>One page of the hits of <see cref="Affected(Ecosystem?, string, Func{Ecosystem, string, bool})"/>, and how many there are in all.</summary>
    public AffectedPage Affected(Ecosystem? ecosystem, string name, Func<Ecosystem, string, bool> versionMatches, Paging paging)
    {
        var ids = ComponentsNamed(ecosystem, name).Where(c => versionMatches(c.Ecosystem, c.Version)).Select(c => c.Id).ToList();
        return AffectedPage(ids, [], paging);
    }

    /// <summary>
    /// The package versions named <paramref name="name"/> in <paramref name="ecosystem"/> that some snapshot holds, as
    /// components (origin included) for the advisory matcher to judge: once per registry URL they came from when
    /// <paramref name="bySource"/>, else once each (<see cref="InventoryPackage.AnySource"/>).
    /// </summary>
    public IReadOnlyList<InventoryPackage> Packages(Ecosystem ecosystem, string name, bool bySource = true)
    {
        var ids = ComponentsNamed(ecosystem, name).Select(c => c.Id).ToList();
        if (ids.Count == 0)
        {
            return [];
        }
        var list = string.Join(',', ids.Select((_, i) => $"@c{i}"));
        (string, object?)[] parameters = [.. ids.Select((id, i) => ($"c{i}", (object?)id))];
        return bySource
            ? ReadPackages($"""
                SELECT DISTINCT sc.component_id, sc.source_id, c.ckey, c.ecosystem, c.name, c.version, c.purl, rs.url
                FROM snapshot_components sc JOIN components c ON c.id = sc.component_id LEFT JOIN registry_sources rs ON rs.id = sc.source_id
                WHERE sc.component_id IN ({list})
                """, parameters, anySource: false)
            : ReadPackages($"SELECT c.id, NULL, c.ckey, c.ecosystem, c.name, c.version, c.purl, NULL FROM components c WHERE c.id IN ({list})", parameters, anySource: true);
    }

    /// <summary>
    /// Every package version in a current deployment (or in the current snapshot of <paramref name="deployment"/>):
    /// what a rescan must match. Once per registry URL it came from when <paramref name="bySource"/> (a scan of every
    /// row), else once each (an index probe per package version).
    /// </summary>
    public IReadOnlyList<InventoryPackage> CurrentPackages(bool bySource = true, string? deployment = null) => bySource || deployment is not null
        ? ReadPackages($"""
            SELECT DISTINCT sc.component_id, {(bySource ? "sc.source_id" : "NULL")}, c.ckey, c.ecosystem, c.name, c.version, c.purl, {(bySource ? "rs.url" : "NULL")}
            FROM deployments d JOIN snapshot_components sc ON sc.snapshot_id = d.current_snapshot
            JOIN components c ON c.id = sc.component_id LEFT JOIN registry_sources rs ON rs.id = sc.source_id
            {(deployment is null ? "" : "WHERE d.name = @dep")}
            """, deployment is null ? [] : [("dep", deployment)], anySource: !bySource)
        : ReadPackages("""
            SELECT c.id, NULL, c.ckey, c.ecosystem, c.name, c.version, c.purl, NULL FROM components c
            WHERE EXISTS (SELECT 1 FROM snapshot_components sc JOIN deployments d ON d.current_snapshot = sc.snapshot_id WHERE sc.component_id = c.id)
            """, [], anySource: true);

    private List<InventoryPackage> ReadPackages(string sql, (string, object?)[] parameters, bool anySource)
    {
        using var cmd = Command(sql, null, parameters);
        using var reader = cmd.ExecuteReader();
        var result = new List<InventoryPackage>();
        while (reader.Read())
        {
            EcosystemNames.TryParse(reader.GetString(3), out var eco);
            var origin = Component.OriginOfKey(reader.GetString(2));
            if (origin.Kind == OriginKind.Registry && !reader.IsDBNull(7))
            {
                origin = Origin.Registry(reader.GetString(7));
            }
            var version = reader.GetString(5);
            var component = new Component
            {
                Ecosystem = eco,
                Name = reader.GetString(4),
                Version = version,
                Purl = PackageUrl.TryParse(reader.GetString(6), out var purl, out _) ? purl : PackageUrl.For(eco, reader.GetString(4), version),
                Origin = origin,
            };
            result.Add(new InventoryPackage(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), component) { AnySource = anySource });
        }
        return result;
    }

    /// <summary>The hits of some of the <see cref="Packages"/> (each a component as it came from one registry URL), one page of them.</summary>
    public AffectedPage Affected(IReadOnlyCollection<InventoryPackage> packages, Paging paging) =>
        AffectedPage([.. packages.Where(p => p.AnySource).Select(p => p.ComponentId).Distinct()],
            [.. packages.Where(p => !p.AnySource).Select(p => (p.ComponentId, p.SourceId)).Distinct()], paging);

    private List<(long Id, Ecosystem Ecosystem, string Version)> ComponentsNamed(Ecosystem? ecosystem, string name)
    {
        var result = new List<(long, Ecosystem, string)>();
        foreach (var eco in ecosystem is { } e ? [e] : EcosystemNames.Registries)
        {
            using var cmd = Command("SELECT id, version FROM components WHERE ecosystem = @e AND normalized_name = @n", null,
                ("e", eco.ToOsvName()), ("n", Component.NormalizeName(eco, name)));
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                result.Add((reader.GetInt64(0), eco, reader.GetString(1)));
            }
        }
        return result;
    }

    /// <summary>
    /// The rows of current snapshots holding one of <paramref name="components"/> (from any source) or one of
    /// <paramref name="exact"/> (a component from one registry URL; null: none recorded), ordered by deployment name.
    /// Counting and ordering read only the indexes; the rows of the page alone are read in full and given paths.
    /// </summary>
    private AffectedPage AffectedPage(IReadOnlyList<long> components, IReadOnlyList<(long Component, long? Source)> exact, Paging paging, DbTransaction? tx = null, string? deployment = null)
    {
        if (components.Count == 0 && exact.Count == 0)
        {
            return new AffectedPage([], 0, 0, paging.Offset);
        }
        var parameters = new List<(string, object?)>();
        var filter = new StringBuilder();
        if (components.Count > 0)
        {
            filter.Append("sc.component_id IN (").AppendJoin(',', components.Select((_, i) => $"@c{i}")).Append(')');
            parameters.AddRange(components.Select((id, i) => ($"c{i}", (object?)id)));
        }
        for (var i = 0; i < exact.Count; i++)
        {
            filter.Append(filter.Length == 0 ? "" : " OR ").Append($"(sc.component_id = @x{i} AND sc.source_id ").Append(exact[i].Source is null ? "IS NULL)" : $"= @y{i})");
            parameters.Add(($"x{i}", exact[i].Component));
            if (exact[i].Source is { } source)
            {
                parameters.Add(($"y{i}", source));
            }
        }
        if (deployment is not null)
        {
            // One deployment's rows only (a rescan after its upload), not the package's rows in every deployment.
            filter.Insert(0, '(').Append(") AND d.name = @dep");
            parameters.Add(("dep", deployment));
        }
        int total, deployments;
        using (var count = Command($"""
            SELECT count(*), count(DISTINCT d.name)
            FROM snapshot_components sc JOIN deployments d ON d.current_snapshot = sc.snapshot_id WHERE {filter}
            """, tx, [.. parameters]))
        using (var reader = count.ExecuteReader())
        {
            reader.Read();
            total = Int(reader, 0);
            deployments = Int(reader, 1);
        }
        if (total <= paging.Offset || paging.Limit == 0)
        {
            return new AffectedPage([], total, deployments, paging.Offset);
        }
        parameters.Add(("limit", paging.Limit is { } limit ? (long)limit : long.MaxValue));
        parameters.Add(("offset", (long)paging.Offset));
        // The page: ordered and cut from the indexes alone, before any table row is read.
        var page = $"""
            page AS (
                SELECT d.name AS deployment, sc.snapshot_id, sc.component_id, sc.direct, sc.scopes, sc.parent_id
                FROM snapshot_components sc JOIN deployments d ON d.current_snapshot = sc.snapshot_id
                WHERE {filter}
                ORDER BY d.name, sc.component_id LIMIT @limit OFFSET @offset)
            """;
        var rows = new List<(string Deployment, string? Environment, string? Version, long Snapshot, InventoryComponent Component, long ComponentId)>();
        using (var cmd = Command($"""
            WITH {page}
            SELECT page.deployment, s.environment, s.version, page.snapshot_id, c.ecosystem, c.name, c.version, c.purl, page.direct, page.scopes, page.component_id
            FROM page JOIN snapshots s ON s.id = page.snapshot_id JOIN components c ON c.id = page.component_id
            ORDER BY page.deployment, page.component_id
            """, tx, [.. parameters]))
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.GetInt64(3), ReadComponent(reader, 4), reader.GetInt64(10)));
            }
        }
        var ancestors = Ancestors(page, parameters, tx);
        var hits = rows.Select(r => new AffectedDeployment(r.Deployment, r.Environment, r.Version, r.Snapshot, r.Component, PathOf(ancestors, r.Snapshot, r.ComponentId, r.Component))).ToList();
        return new AffectedPage(hits, total, deployments, paging.Offset);
    }

    /// <summary>
    /// Every ancestor of the rows of <paramref name="page"/> (a CTE named <c>page</c> with snapshot_id, component_id
    /// and parent_id) in one recursive query: paths only for the rows shown.
    /// </summary>
    private Dictionary<(long Snapshot, long Start), List<(int Depth, string Label)>> Ancestors(string page, List<(string, object?)> parameters, DbTransaction? tx)
    {
        var ancestors = new Dictionary<(long Snapshot, long Start), List<(int Depth, string Label)>>();
        using var paths = Command($"""
            WITH RECURSIVE {page},
            chain(snapshot_id, start_id, parent_id, depth) AS (
                SELECT page.snapshot_id, page.component_id, page.parent_id, 0 FROM page WHERE page.parent_id IS NOT NULL
                UNION ALL
                SELECT p.snapshot_id, chain.start_id, p.parent_id, chain.depth + 1
                FROM chain JOIN snapshot_components p ON p.snapshot_id = chain.snapshot_id AND p.component_id = chain.parent_id
                WHERE chain.depth < 255 AND p.parent_id IS NOT NULL)
            SELECT chain.snapshot_id, chain.start_id, chain.depth, c.name, c.version
            FROM chain JOIN components c ON c.id = chain.parent_id
            """, tx, [.. parameters]);
        using var reader = paths.ExecuteReader();
        while (reader.Read())
        {
            var key = (reader.GetInt64(0), reader.GetInt64(1));
            if (!ancestors.TryGetValue(key, out var list))
            {
                ancestors[key] = list = [];
            }
            list.Add((Int(reader, 2), $"{reader.GetString(3)}@{reader.GetString(4)}"));
        }
        return ancestors;
    }

    private static ImmutableArray<string> PathOf(Dictionary<(long Snapshot, long Start), List<(int Depth, string Label)>> ancestors, long snapshot, long componentId, InventoryComponent component)
    {
        var self = $"{component.Name}@{component.Version}";
        return ancestors.TryGetValue((snapshot, componentId), out var list) ? [.. list.OrderByDescending(a => a.Depth).Select(a => a.Label).Append(self)] : [self];
    }

    /// <summary>
    /// Replaces the recorded rescan hits with <paramref name="matches"/> (what the matcher found per package, as
    /// <see cref="CurrentPackages"/> gave it) over the current snapshots, or over those of <paramref name="deployment"/>
    /// alone, and returns what is new and what was resolved since the previous rescan. A hit keeps the time it was
    /// first found across rescans and redeploys; new hits are found at <paramref name="now"/>. Records the run.
    /// </summary>
    public (IReadOnlyList<FoundHit> New, IReadOnlyList<(string Deployment, string Purl, string AdvisoryId)> Resolved)
        RecordRescan(IReadOnlyDictionary<InventoryPackage, IReadOnlyList<HitFinding>> matches, DateTimeOffset now, string? deployment = null, string? databaseVersion = null)
    {
        ArgumentNullException.ThrowIfNull(matches);
        using var tx = BeginWrite();
        var nowMs = now.ToUnixTimeMilliseconds();
        // A hit is the same hit across snapshots of one deployment: a redeploy that still carries the package is neither
        // new nor resolved. Keyed by deployment, component and advisory; rows keep the snapshot they were seen in.
        var scope = deployment is null ? "" : " WHERE d.name = @dep";
        (string, object?)[] scopeParameters = deployment is null ? [] : [("dep", deployment)];
        var previous = new Dictionary<(string Deployment, long Component, string Advisory), (string Purl, long FoundAt)>();
        using (var cmd = Command($"""
            SELECT d.name, r.component_id, r.advisory_id, c.purl, r.found_at FROM rescan_matches r
            JOIN snapshots s ON s.id = r.snapshot_id JOIN deployments d ON d.id = s.deployment_id JOIN components c ON c.id = r.component_id{scope}
            """, tx, scopeParameters))
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                var key = (reader.GetString(0), reader.GetInt64(1), reader.GetString(2));
                var foundAt = reader.IsDBNull(4) ? nowMs : reader.GetInt64(4);
                // The same hit in an older snapshot of the deployment: the earliest time it was found counts.
                previous[key] = previous.TryGetValue(key, out var seenBefore) && seenBefore.FoundAt < foundAt ? seenBefore : (reader.GetString(3), foundAt);
            }
        }
        var current = new List<(long Snapshot, long Component, HitFinding Finding, long FoundAt)>();
        var seen = new HashSet<(string, long, string)>();
        var newOnes = new List<FoundHit>();
        foreach (var (package, findings) in matches)
        {
            var hits = package.AnySource ? AffectedPage([package.ComponentId], [], Paging.All, tx, deployment) : AffectedPage([], [(package.ComponentId, package.SourceId)], Paging.All, tx, deployment);
            foreach (var hit in hits.Hits)
            {
                foreach (var finding in findings)
                {
                    var key = (hit.Deployment, package.ComponentId, finding.AdvisoryId);
                    if (!seen.Add(key))
                    {
                        continue;
                    }
                    if (previous.TryGetValue(key, out var before))
                    {
                        current.Add((hit.SnapshotId, package.ComponentId, finding, before.FoundAt));
                    }
                    else
                    {
                        current.Add((hit.SnapshotId, package.ComponentId, finding, nowMs));
                        newOnes.Add(new FoundHit(hit, finding, now));
                    }
                }
            }
        }
        var resolved = previous.Where(p => !seen.Contains(p.Key)).Select(p => (p.Key.Deployment, p.Value.Purl, p.Key.Advisory)).ToList();
        Execute(deployment is null ? "DELETE FROM rescan_matches"
            : "DELETE FROM rescan_matches WHERE snapshot_id IN (SELECT s.id FROM snapshots s JOIN deployments d ON d.id = s.deployment_id WHERE d.name = @dep)",
            tx, scopeParameters);
        foreach (var chunk in current.Chunk(Batch))
        {
            var sql = new StringBuilder("INSERT INTO rescan_matches (snapshot_id, component_id, advisory_id, found_at, severity, malicious, fixed, summary) VALUES ");
            var parameters = new List<(string, object?)>();
            for (var i = 0; i < chunk.Length; i++)
            {
                var (snapshot, component, finding, foundAt) = chunk[i];
                sql.Append(i == 0 ? "" : ",").Append($"(@s{i}, @c{i}, @a{i}, @f{i}, @v{i}, @m{i}, @x{i}, @t{i})");
                parameters.Add(($"s{i}", snapshot));
                parameters.Add(($"c{i}", component));
                parameters.Add(($"a{i}", finding.AdvisoryId));
                parameters.Add(($"f{i}", foundAt));
                parameters.Add(($"v{i}", (short)finding.Severity));
                parameters.Add(($"m{i}", (short)(finding.Malicious ? 1 : 0)));
                parameters.Add(($"x{i}", finding.FixedIn));
                parameters.Add(($"t{i}", finding.Summary.Length > 500 ? finding.Summary[..500] : finding.Summary));
            }
            Execute(sql.ToString(), tx, [.. parameters]);
        }
        Execute("UPDATE snapshots SET checked_at = @now WHERE id IN (SELECT d.current_snapshot FROM deployments d" + scope + ")", tx, [("now", nowMs), .. scopeParameters]);
        Execute("INSERT INTO rescans (at, database_version, deployment, packages, new_hits, resolved_hits) VALUES (@at, @db, @dep, @p, @n, @r)", tx,
            ("at", nowMs), ("db", databaseVersion), ("dep", deployment), ("p", matches.Count), ("n", newOnes.Count), ("r", resolved.Count));
        tx.Commit();
        return ([.. newOnes.OrderBy(n => n.Hit.Deployment, StringComparer.Ordinal)], [.. resolved.OrderBy(r => r.Item1, StringComparer.Ordinal)]);
    }

    /// <summary>The newest rescans, newest first; with <paramref name="everyDeploymentOnly"/>, only those of every deployment (not one after its upload).</summary>
    public IReadOnlyList<RescanRun> Rescans(int limit = 10, bool everyDeploymentOnly = false)
    {
        using var cmd = Command($"""
            SELECT at, database_version, deployment, packages, new_hits, resolved_hits FROM rescans
            {(everyDeploymentOnly ? "WHERE deployment IS NULL" : "")} ORDER BY id DESC LIMIT @limit
            """, null, ("limit", (long)limit));
        using var reader = cmd.ExecuteReader();
        var result = new List<RescanRun>();
        while (reader.Read())
        {
            result.Add(new RescanRun(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2), Int(reader, 3), Int(reader, 4), Int(reader, 5)));
        }
        return result;
    }

    /// <summary>
    /// The advisory hits in current snapshots that rescans recorded, newest found first: every one, those found at or
    /// after <paramref name="since"/>, or those of one deployment.
    /// </summary>
    public HitsPage Hits(DateTimeOffset? since = null, string? deployment = null, Paging paging = default)
    {
        var filter = new StringBuilder("1 = 1");
        var parameters = new List<(string, object?)>();
        if (since is { } from)
        {
            filter.Append(" AND r.found_at >= @since");
            parameters.Add(("since", from.ToUnixTimeMilliseconds()));
        }
        if (deployment is not null)
        {
            filter.Append(" AND d.name = @dep");
            parameters.Add(("dep", deployment));
        }
        const string From = "FROM rescan_matches r JOIN deployments d ON d.current_snapshot = r.snapshot_id";
        int total;
        using (var count = Command($"SELECT count(*) {From} WHERE {filter}", null, [.. parameters]))
        {
            total = Convert.ToInt32(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        if (total <= paging.Offset || paging.Limit == 0)
        {
            return new HitsPage([], total, paging.Offset);
        }
        parameters.Add(("limit", paging.Limit is { } limit ? (long)limit : long.MaxValue));
        parameters.Add(("offset", (long)paging.Offset));
        // The page is cut from the hits alone (newest first, through the found_at index); only its rows are joined to
        // their snapshot rows, for the dependency path.
        var page = $"""
            picked AS (
                SELECT d.name AS deployment, r.snapshot_id, r.component_id, r.advisory_id, r.found_at, r.severity, r.malicious, r.fixed, r.summary
                {From}
                WHERE {filter}
                ORDER BY r.found_at DESC, d.name, r.component_id, r.advisory_id LIMIT @limit OFFSET @offset),
            page AS (
                SELECT picked.*, sc.direct, sc.scopes, sc.parent_id
                FROM picked JOIN snapshot_components sc ON sc.snapshot_id = picked.snapshot_id AND sc.component_id = picked.component_id)
            """;
        var rows = new List<(string Deployment, string? Environment, string? Version, long Snapshot, InventoryComponent Component, long ComponentId, HitFinding Finding, long FoundAt)>();
        using (var cmd = Command($"""
            WITH {page}
            SELECT page.deployment, s.environment, s.version, page.snapshot_id, c.ecosystem, c.name, c.version, c.purl, page.direct, page.scopes,
                page.component_id, page.advisory_id, page.found_at, page.severity, page.malicious, page.fixed, page.summary
            FROM page JOIN snapshots s ON s.id = page.snapshot_id JOIN components c ON c.id = page.component_id
            ORDER BY page.found_at DESC, page.deployment, page.component_id, page.advisory_id
            """, null, [.. parameters]))
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                var finding = new HitFinding(reader.GetString(11), reader.IsDBNull(13) ? Severity.None : (Severity)Int(reader, 13),
                    !reader.IsDBNull(14) && Int(reader, 14) != 0, reader.IsDBNull(15) ? null : reader.GetString(15), reader.IsDBNull(16) ? "" : reader.GetString(16));
                rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.GetInt64(3), ReadComponent(reader, 4), reader.GetInt64(10), finding, reader.IsDBNull(12) ? 0 : reader.GetInt64(12)));
            }
        }
        var ancestors = Ancestors(page, parameters, null);
        return new HitsPage([.. rows.Select(r => new FoundHit(
            new AffectedDeployment(r.Deployment, r.Environment, r.Version, r.Snapshot, r.Component, PathOf(ancestors, r.Snapshot, r.ComponentId, r.Component)),
            r.Finding, DateTimeOffset.FromUnixTimeMilliseconds(r.FoundAt)))], total, paging.Offset);
    }

    /// <summary>
    /// The hits (as <see cref="Hits"/>) as of the last rescan, with that rescan; before any rescan, an empty page and a
    /// null rescan: nothing is known, which is not "nothing affected".
    /// </summary>
    public (HitsPage Page, RescanRun? LastRescan) HitsAsOfLastRescan(DateTimeOffset? since = null, string? deployment = null, Paging paging = default) =>
        Rescans(1).FirstOrDefault() is { } last ? (Hits(since, deployment, paging), last) : (new HitsPage([], 0, paging.Offset), null);

    /// <summary>Per deployment with hits in its current snapshot: how many are malicious, critical and high (the others are not counted by level).</summary>
    public IReadOnlyDictionary<string, HitCounts> HitCountsByDeployment()
    {
        using var cmd = Command($"""
            SELECT d.name, count(*),
                sum(CASE WHEN r.malicious = 1 THEN 1 ELSE 0 END),
                sum(CASE WHEN COALESCE(r.malicious, 0) = 0 AND r.severity = {(int)Severity.Critical} THEN 1 ELSE 0 END),
                sum(CASE WHEN COALESCE(r.malicious, 0) = 0 AND r.severity = {(int)Severity.High} THEN 1 ELSE 0 END),
                max(r.found_at)
            FROM rescan_matches r JOIN deployments d ON d.current_snapshot = r.snapshot_id GROUP BY d.name
            """, null);
        using var reader = cmd.ExecuteReader();
        var result = new Dictionary<string, HitCounts>(StringComparer.Ordinal);
        while (reader.Read())
        {
            result[reader.GetString(0)] = new HitCounts(Int(reader, 1), Int(reader, 2), Int(reader, 3), Int(reader, 4),
                reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)));
        }
        return result;
    }

    /// <summary>The deployments whose current snapshot no rescan has matched yet: their hits are not known.</summary>
    public IReadOnlySet<string> UncheckedDeployments()
    {
        using var cmd = Command("SELECT d.name FROM deployments d JOIN snapshots s ON s.id = d.current_snapshot WHERE s.checked_at IS NULL", null);
        using var reader = cmd.ExecuteReader();
        var result = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            result.Add(reader.GetString(0));
        }
        return result;
    }

    private static int Int(DbDataReader reader, int ordinal) => Convert.ToInt32(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

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
            Int(reader, offset + 4) != 0,
            (DependencyScopes)Int(reader, offset + 5));
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
                current ?? Int(reader, 6) != 0));
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
