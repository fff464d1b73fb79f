using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>What the feed knows of its stored copy of an upstream packument, without its bytes.</summary>
/// <param name="ETag">The upstream's <c>ETag</c> for the copy, sent back as <c>If-None-Match</c>.</param>
/// <param name="LastModified">The upstream's <c>Last-Modified</c>, sent back as <c>If-Modified-Since</c>.</param>
/// <param name="FetchedAt">When the upstream last sent or confirmed the copy; null when not recorded.</param>
/// <param name="Digest">SHA-256 of the copy's bytes, hex; null when not recorded.</param>
internal sealed record CachedPackument(string? ETag, string? LastModified, DateTimeOffset? FetchedAt, string? Digest);

/// <summary>
/// Where the upstream packuments the feed fetched are kept with their validators: the storage folder (one instance), or
/// the feed's PostgreSQL state (<c>state:</c>), which several instances share so that what one fetched the others serve
/// without asking the upstream, and a revalidation by one counts for all. Every method throws
/// <see cref="IOException"/> when the store cannot be reached.
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
    /// Records that the upstream confirmed (304) the copy whose digest is <c>entry.Digest</c>, at <c>entry.FetchedAt</c>.
    /// A copy another instance replaced in the meantime is left as it is.
    /// </summary>
    Task ConfirmAsync(string name, CachedPackument entry, CancellationToken cancellationToken);

    /// <summary>The store for the options: PostgreSQL when <see cref="FeedOptions.State"/> is set, else the folder.</summary>
    static IPackumentCache Open(FeedOptions options, FeedStorage storage) =>
        string.IsNullOrEmpty(options.State) ? new FolderPackumentCache(storage) : PostgresPackumentCache.Open(options.State);
}

/// <summary>
/// Packuments as two files under the storage folder's <c>packuments/</c>: the upstream's bytes, and a small JSON file of
/// the validators, <c>fetchedAt</c> and <c>sha256</c>. Each is written to a temporary file and renamed.
/// </summary>
internal sealed class FolderPackumentCache(FeedStorage storage) : IPackumentCache
{
    public Task<CachedPackument?> FindAsync(string name, CancellationToken cancellationToken)
    {
        var body = storage.PackumentFile(name);
        var metaFile = storage.PackumentMetaFile(name);
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
        var file = storage.PackumentFile(name);
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
        storage.WriteAtomically(storage.PackumentFile(name), body);
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
        storage.WriteAtomically(storage.PackumentMetaFile(name), Encoding.UTF8.GetBytes(meta.ToJsonString()));
    }

    private static string? Text(JsonObject meta, string key) =>
        meta[key] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
}

/// <summary>
/// Packuments in PostgreSQL (the process's shared data source for the state, see
/// <see cref="Storage.FeedStateDatabase.Shared"/>): <c>feed_npm_packuments</c>, one row per name holding the upstream's
/// bytes, their digest, the validators and when the upstream last sent or confirmed them. Each write is one statement,
/// so a reader sees a whole row, never bytes of one copy with validators of another.
/// </summary>
internal sealed class PostgresPackumentCache : IPackumentCache
{
    private readonly NpgsqlDataSource _source;

    private PostgresPackumentCache(NpgsqlDataSource source) => _source = source;

    public static PostgresPackumentCache Open(string connectionString) =>
        new(Storage.FeedStateDatabase.WithTables(connectionString, 74014, """
            CREATE TABLE IF NOT EXISTS feed_npm_packuments (
              name TEXT PRIMARY KEY, body BYTEA NOT NULL, digest TEXT NOT NULL, etag TEXT, last_modified TEXT, fetched_at TIMESTAMPTZ NOT NULL);
            """));

    public Task<CachedPackument?> FindAsync(string name, CancellationToken cancellationToken) =>
        Run<CachedPackument?>(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT etag, last_modified, fetched_at, digest FROM feed_npm_packuments WHERE name = $1", connection);
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
            await using var command = new NpgsqlCommand("SELECT body FROM feed_npm_packuments WHERE name = $1", connection);
            command.Parameters.AddWithValue(name);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        }, cancellationToken);

    public Task StoreAsync(string name, byte[] body, CachedPackument entry, CancellationToken cancellationToken) =>
        Run(async connection =>
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO feed_npm_packuments (name, body, digest, etag, last_modified, fetched_at) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (name) DO UPDATE SET body = excluded.body, digest = excluded.digest, etag = excluded.etag,
                  last_modified = excluded.last_modified, fetched_at = excluded.fetched_at
                """, connection);
            command.Parameters.AddWithValue(name);
            command.Parameters.AddWithValue(body);
            command.Parameters.AddWithValue(entry.Digest ?? throw new ArgumentException("a stored copy needs its digest", nameof(entry)));
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)entry.ETag ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)entry.LastModified ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.AddWithValue(FetchedAt(entry));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    public Task ConfirmAsync(string name, CachedPackument entry, CancellationToken cancellationToken) =>
        Run(async connection =>
        {
            // Only the copy the upstream confirmed: a row another instance replaced since keeps its own validators and age.
            await using var command = new NpgsqlCommand("UPDATE feed_npm_packuments SET fetched_at = $3 WHERE name = $1 AND digest = $2", connection);
            command.Parameters.AddWithValue(name);
            command.Parameters.AddWithValue(entry.Digest ?? "");
            command.Parameters.AddWithValue(FetchedAt(entry));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

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
