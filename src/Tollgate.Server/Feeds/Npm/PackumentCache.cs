using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>What the feed knows of its stored copy of an upstream document (a packument, a PyPI project page, a NuGet metadata document), without its bytes.</summary>
/// <param name="ETag">The upstream's <c>ETag</c> for the copy, sent back as <c>If-None-Match</c>.</param>
/// <param name="LastModified">The upstream's <c>Last-Modified</c>, sent back as <c>If-Modified-Since</c>.</param>
/// <param name="FetchedAt">When the upstream last sent or confirmed the copy; null when not recorded.</param>
/// <param name="Digest">SHA-256 of the copy's bytes, hex; null when not recorded.</param>
internal sealed record CachedPackument(string? ETag, string? LastModified, DateTimeOffset? FetchedAt, string? Digest);

/// <summary>
/// Where the upstream metadata the feed fetched is kept with its validators, one store per ecosystem: npm packuments,
/// PyPI project pages, NuGet service index and registration documents (through <see cref="NuGet.SharedRegistryCache"/>).
/// Kept in the storage folder (one instance), or in the feed's PostgreSQL state (<c>state:</c>), which several
/// instances share so that what one fetched the others serve without asking the upstream, and a revalidation by one
/// counts for all. Every method throws <see cref="IOException"/> when the store cannot be reached.
/// </summary>
internal interface IPackumentCache
{
    /// <summary>The stored copy's validators, age and digest; null when none is stored.</summary>
    Task<CachedPackument?> FindAsync(string name, CancellationToken cancellationToken);

    /// <summary>The stored copy's bytes; null when none is stored.</summary>
    Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken);

    /// <summary>Stores a copy the upstream sent, replacing the one stored.</summary>
    Task StoreAsync(string name, byte[] body, CachedPackument entry, CancellationToken cancellationToken);

    /// <summary>
    /// Records that the upstream confirmed the copy whose digest is <c>entry.Digest</c> (a 304, or a 200 with the same
    /// bytes) at <c>entry.FetchedAt</c>, with the validators in <paramref name="entry"/>. A copy another instance replaced
    /// in the meantime is left as it is.
    /// </summary>
    Task ConfirmAsync(string name, CachedPackument entry, CancellationToken cancellationToken);

    /// <summary>The names of every stored copy, in ordinal order.</summary>
    Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken);

    /// <summary>The npm packuments for the options: PostgreSQL when <see cref="FeedOptions.State"/> is set, else the folder.</summary>
    static IPackumentCache Open(FeedOptions options, FeedStorage storage) =>
        string.IsNullOrEmpty(options.State) ? new FolderPackumentCache(storage) : PostgresPackumentCache.Open(options.State);

    /// <summary>The PyPI project pages (by normalised name): <c>feed_pypi_pages</c> with <c>state:</c>, else <c>storage/pypi/pages/</c>.</summary>
    static IPackumentCache OpenPyPIPages(FeedOptions options, FeedStorage storage) =>
        string.IsNullOrEmpty(options.State)
            ? new FolderPackumentCache(storage, ["pypi", "pages"], name => name)
            : PostgresPackumentCache.Open(options.State, PostgresPackumentCache.PyPITable);
}

/// <summary>
/// How a feed reads and writes its upstream documents in an <see cref="IPackumentCache"/>: a store that cannot be
/// reached (the shared state database is down) is reported through <c>unavailable</c> (name, problem) and then counts
/// as holding nothing, so the upstream is asked afresh, without validators, and only its answer is served; a write
/// that fails costs a later upstream request, not the answer in hand.
/// </summary>
internal sealed class UpstreamDocumentStore(IPackumentCache store, Action<string, string> unavailable)
{
    /// <summary>The stored copy's validators and age; null when none is stored or the store cannot be reached.</summary>
    public async Task<CachedPackument?> FindAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await store.FindAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            unavailable(name, e.Message);
            return null;
        }
    }

    /// <summary>The stored copy's bytes; null when none is stored or the store cannot be reached.</summary>
    public async Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await store.ReadAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            unavailable(name, e.Message);
            return null;
        }
    }

    /// <summary>Stores what the upstream sent or confirmed (<paramref name="write"/>); a store that cannot be written is reported, not thrown.</summary>
    public async Task WriteAsync(string name, Func<IPackumentCache, Task> write)
    {
        try
        {
            await write(store).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            unavailable(name, e.Message);
        }
    }
}

/// <summary>
/// Documents as two files under a folder of the storage (<c>packuments/</c> for npm, <c>pypi/pages/</c> for PyPI):
/// <c>KEY.json</c>, the upstream's bytes, and <c>KEY.meta.json</c>, a small JSON file of the validators,
/// <c>fetchedAt</c> and <c>sha256</c>. Each is written to a temporary file and renamed.
/// </summary>
/// <param name="storage">The storage folder.</param>
/// <param name="folder">The folder's path segments under the storage folder.</param>
/// <param name="fileKey">A checked name's file-name-safe key, which <see cref="Uri.UnescapeDataString(string)"/> turns back into the name.</param>
internal sealed class FolderPackumentCache(FeedStorage storage, string[] folder, Func<string, string> fileKey) : IPackumentCache
{
    /// <summary>npm packuments under <c>packuments/</c>, a scoped name's '/' written as <c>%2f</c>.</summary>
    public FolderPackumentCache(FeedStorage storage)
        : this(storage, ["packuments"], FeedStorage.NameKey)
    {
    }

    private string BodyFile(string name) => storage.Inside([.. folder, fileKey(name) + ".json"]);

    private string MetaFile(string name) => storage.Inside([.. folder, fileKey(name) + ".meta.json"]);

    public Task<CachedPackument?> FindAsync(string name, CancellationToken cancellationToken)
    {
        var body = BodyFile(name);
        var metaFile = MetaFile(name);
        JsonObject? meta;
        try
        {
            meta = File.Exists(metaFile) && File.Exists(body) ? JsonNode.Parse(File.ReadAllBytes(metaFile)) as JsonObject : null;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            // A meta file that cannot be read is no copy to revalidate: the upstream is asked afresh.
            meta = null;
        }
        if (meta is null)
        {
            return Task.FromResult<CachedPackument?>(null);
        }
        var fetchedAt = Text(meta, "fetchedAt") is { } t && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, out var at) ? at : (DateTimeOffset?)null;
        return Task.FromResult<CachedPackument?>(new CachedPackument(Text(meta, "etag"), Text(meta, "lastModified"), fetchedAt, Text(meta, "sha256")));
    }

    public async Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        var file = BodyFile(name);
        try
        {
            return await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task StoreAsync(string name, byte[] body, CachedPackument entry, CancellationToken cancellationToken)
    {
        // The bytes first: the meta file never describes a copy that is not in place.
        storage.WriteAtomically(BodyFile(name), body);
        WriteMeta(name, entry);
        return Task.CompletedTask;
    }

    public Task ConfirmAsync(string name, CachedPackument entry, CancellationToken cancellationToken)
    {
        WriteMeta(name, entry);
        return Task.CompletedTask;
    }

    private void WriteMeta(string name, CachedPackument entry)
    {
        var meta = new JsonObject
        {
            ["etag"] = entry.ETag,
            ["lastModified"] = entry.LastModified,
            ["fetchedAt"] = entry.FetchedAt?.ToString("O", CultureInfo.InvariantCulture),
            ["sha256"] = entry.Digest,
        };
        storage.WriteAtomically(MetaFile(name), Encoding.UTF8.GetBytes(meta.ToJsonString()));
    }

    public Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken)
    {
        var directory = storage.Inside(folder);
        IReadOnlyList<string> names = !Directory.Exists(directory) ? [] :
            [.. Directory.EnumerateFiles(directory, "*.json")
                .Select(Path.GetFileName)
                .Where(f => !f!.EndsWith(".meta.json", StringComparison.Ordinal))
                .Select(f => Uri.UnescapeDataString(f![..^".json".Length]))
                .Order(StringComparer.Ordinal)];
        return Task.FromResult(names);
    }

    private static string? Text(JsonObject meta, string key) =>
        meta[key] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
}

/// <summary>
/// Upstream documents in PostgreSQL (the process's shared data source for the state, see
/// <see cref="Storage.FeedStateDatabase.Shared"/>), one table per ecosystem with the same columns:
/// <c>feed_npm_packuments</c>, <c>feed_pypi_pages</c> and <c>feed_nuget_metadata</c>, one row per name holding the
/// upstream's bytes, their digest, the validators and when the upstream last sent or confirmed them. Each write is one
/// statement, so a reader sees a whole row, never bytes of one copy with validators of another.
/// </summary>
internal sealed class PostgresPackumentCache : IPackumentCache
{
    /// <summary>npm packuments by package name.</summary>
    public const string NpmTable = "feed_npm_packuments";

    /// <summary>PyPI project pages (as the feed reads them, in PEP 691 JSON) by normalised project name.</summary>
    public const string PyPITable = "feed_pypi_pages";

    /// <summary>NuGet service index and registration documents by URL and <c>Accept</c> (see <see cref="NuGet.SharedRegistryCache"/>).</summary>
    public const string NuGetTable = "feed_nuget_metadata";

    private readonly NpgsqlDataSource _source;
    private readonly string _table;

    private PostgresPackumentCache(NpgsqlDataSource source, string table)
    {
        _source = source;
        _table = table;
    }

    /// <summary>Creates the table when missing (<paramref name="table"/> is one of the constants above) and opens the store.</summary>
    public static PostgresPackumentCache Open(string connectionString, string table = NpmTable)
    {
        if (table is not (NpmTable or PyPITable or NuGetTable))
        {
            throw new ArgumentException($"'{table}' is not a table of the feed's upstream metadata", nameof(table));
        }
        return new(Storage.FeedStateDatabase.WithTables(connectionString, 74014, $"""
            CREATE TABLE IF NOT EXISTS {table} (
              name TEXT PRIMARY KEY, body BYTEA NOT NULL, digest TEXT NOT NULL, etag TEXT, last_modified TEXT, fetched_at TIMESTAMPTZ NOT NULL);
            """), table);
    }

    public Task<CachedPackument?> FindAsync(string name, CancellationToken cancellationToken) =>
        Run<CachedPackument?>(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT etag, last_modified, fetched_at, digest FROM {_table} WHERE name = $1", connection);
            command.Parameters.AddWithValue(name);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            return new CachedPackument(
                reader.IsDBNull(0) ? null : reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero),
                reader.GetString(3));
        }, cancellationToken);

    public Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken) =>
        Run<byte[]?>(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT body FROM {_table} WHERE name = $1", connection);
            command.Parameters.AddWithValue(name);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        }, cancellationToken);

    public Task StoreAsync(string name, byte[] body, CachedPackument entry, CancellationToken cancellationToken) =>
        Run(async connection =>
        {
            await using var command = new NpgsqlCommand($"""
                INSERT INTO {_table} (name, body, digest, etag, last_modified, fetched_at) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (name) DO UPDATE SET body = excluded.body, digest = excluded.digest, etag = excluded.etag,
                  last_modified = excluded.last_modified, fetched_at = excluded.fetched_at
                """, connection);
            command.Parameters.AddWithValue(name);
            command.Parameters.AddWithValue(body);
            command.Parameters.AddWithValue(entry.Digest ?? throw new ArgumentException("a stored copy needs its digest", nameof(entry)));
            AddValidators(command, entry);
            command.Parameters.AddWithValue(FetchedAt(entry));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task ConfirmAsync(string name, CachedPackument entry, CancellationToken cancellationToken) =>
        Run(async connection =>
        {
            // Only the copy the upstream confirmed: a row another instance replaced since keeps its own validators and age.
            // The validators are the confirming answer's (a 200 with the same bytes may name them with a new ETag).
            await using var command = new NpgsqlCommand($"UPDATE {_table} SET fetched_at = $3, etag = $4, last_modified = $5 WHERE name = $1 AND digest = $2", connection);
            command.Parameters.AddWithValue(name);
            command.Parameters.AddWithValue(entry.Digest ?? "");
            command.Parameters.AddWithValue(FetchedAt(entry));
            AddValidators(command, entry);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken) =>
        Run<IReadOnlyList<string>>(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT name FROM {_table} ORDER BY name COLLATE \"C\"", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var names = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                names.Add(reader.GetString(0));
            }
            return names;
        }, cancellationToken);

    /// <summary>The entry's ETag and Last-Modified as the next two parameters (text, NULL when the upstream sent none).</summary>
    private static void AddValidators(NpgsqlCommand command, CachedPackument entry)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)entry.ETag ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)entry.LastModified ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
    }

    private static DateTime FetchedAt(CachedPackument entry) =>
        (entry.FetchedAt ?? throw new ArgumentException("a stored copy needs the time it was fetched", nameof(entry))).UtcDateTime;

    /// <summary>Runs a statement on a pooled connection; a database that cannot be reached is an IOException like an unreadable file.</summary>
    private async Task<T> Run<T>(Func<NpgsqlConnection, Task<T>> statement, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await statement(connection).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new IOException($"the feed's state database cannot be reached: {e.Message}", e);
        }
    }
}
