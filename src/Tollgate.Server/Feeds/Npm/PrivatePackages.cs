using System.Security.Cryptography;
using Npgsql;
using Tollgate.Ecosystems.Npm;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>
/// Where published private npm packages live: the storage folder (one instance), or the feed's PostgreSQL state
/// (<c>state:</c>), which several instances share so that a version published on one is served by every other and
/// is published exactly once, whichever instance was asked.
/// </summary>
internal interface IPrivatePackages
{
    /// <summary>The stored packument's bytes; null when the name was never published. IOException when unreadable.</summary>
    byte[]? ReadPackument(string name);

    /// <summary>
    /// True while <paramref name="digest"/> (SHA-256, hex) is still the stored packument of <paramref name="name"/>:
    /// another instance may have published since.
    /// </summary>
    bool IsCurrent(string name, string digest);

    /// <summary>A published version's tarball bytes, or null when missing.</summary>
    byte[]? ReadTarball(string name, NpmVersion version);

    /// <summary>
    /// Runs <paramref name="publish"/> holding the publish lock of <paramref name="name"/> in every instance sharing
    /// this store; what it writes is stored all together or not at all.
    /// </summary>
    T Publish<T>(string name, Func<IPrivatePublish, T> publish);

    /// <summary>The store for the options: PostgreSQL when <see cref="FeedOptions.State"/> is set, else the folder.</summary>
    static IPrivatePackages Open(FeedOptions options, FeedStorage storage) =>
        string.IsNullOrEmpty(options.State) ? new FolderPrivatePackages(storage) : PostgresPrivatePackages.Open(options.State);

    /// <summary>SHA-256 of a stored packument, hex: the digest decisions and cached answers are keyed by.</summary>
    static string Digest(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

/// <summary>What a publish sees and writes while it holds the lock.</summary>
internal interface IPrivatePublish
{
    /// <summary>The packument as stored now; null when none. IOException when unreadable.</summary>
    byte[]? Packument { get; }

    /// <summary>A stored tarball of the name, or null.</summary>
    byte[]? Tarball(NpmVersion version);

    /// <summary>Stores the new tarballs and then the new packument.</summary>
    void Write(byte[] packument, IReadOnlyList<(NpmVersion Version, byte[] Bytes)> tarballs);
}

/// <summary>Private packages as files under the storage folder's <c>private/</c>, for one instance.</summary>
internal sealed class FolderPrivatePackages(FeedStorage storage) : IPrivatePackages
{
    private readonly Lock _gate = new();

    public byte[]? ReadPackument(string name)
    {
        var file = storage.PrivatePackumentFile(name);
        return File.Exists(file) ? File.ReadAllBytes(file) : null;
    }

    // A publish in this process clears its decisions itself; no other process writes this folder.
    public bool IsCurrent(string name, string digest) => true;

    public byte[]? ReadTarball(string name, NpmVersion version)
    {
        var file = storage.PrivateTarballFile(name, version);
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public T Publish<T>(string name, Func<IPrivatePublish, T> publish)
    {
        lock (_gate)
        {
            return publish(new Session(this, storage, name));
        }
    }

    private sealed class Session(FolderPrivatePackages store, FeedStorage storage, string name) : IPrivatePublish
    {
        public byte[]? Packument => store.ReadPackument(name);

        public byte[]? Tarball(NpmVersion version) => store.ReadTarball(name, version);

        public void Write(byte[] packument, IReadOnlyList<(NpmVersion Version, byte[] Bytes)> tarballs)
        {
            // Tarballs first: a packument never names a version whose file is not in place.
            foreach (var (version, bytes) in tarballs)
            {
                storage.WriteAtomically(storage.PrivateTarballFile(name, version), bytes);
            }
            storage.WriteAtomically(storage.PrivatePackumentFile(name), packument);
        }
    }
}

/// <summary>
/// Private packages in PostgreSQL (the process's shared data source for the state, see
/// <see cref="Storage.FeedStateDatabase.Shared"/>): <c>feed_npm_private</c> (one packument per name, with its digest) and
/// <c>feed_npm_private_tarballs</c> (one row per version, never replaced). A publish runs in one transaction holding
/// a transaction-level advisory lock on the name, so two instances publishing the same version at once are
/// serialised: the first commits, the second sees the version and answers 409.
/// </summary>
internal sealed class PostgresPrivatePackages : IPrivatePackages
{
    private readonly NpgsqlDataSource _source;

    private PostgresPrivatePackages(NpgsqlDataSource source) => _source = source;

    public static PostgresPrivatePackages Open(string connectionString) =>
        new(Storage.FeedStateDatabase.WithTables(connectionString, 74013, """
            CREATE TABLE IF NOT EXISTS feed_npm_private (
              name TEXT PRIMARY KEY, packument BYTEA NOT NULL, digest TEXT NOT NULL, modified TIMESTAMPTZ NOT NULL);
            CREATE TABLE IF NOT EXISTS feed_npm_private_tarballs (
              name TEXT NOT NULL, version TEXT NOT NULL, tarball BYTEA NOT NULL, PRIMARY KEY (name, version));
            """));

    public byte[]? ReadPackument(string name)
    {
        using var connection = OpenForRead();
        return Bytes(connection, null, "SELECT packument FROM feed_npm_private WHERE name = $1", name);
    }

    public bool IsCurrent(string name, string digest)
    {
        using var connection = OpenForRead();
        using var command = new NpgsqlCommand("SELECT digest FROM feed_npm_private WHERE name = $1", connection);
        command.Parameters.AddWithValue(name);
        return command.ExecuteScalar() is string stored && stored == digest;
    }

    public byte[]? ReadTarball(string name, NpmVersion version)
    {
        using var connection = OpenForRead();
        return Bytes(connection, null, "SELECT tarball FROM feed_npm_private_tarballs WHERE name = $1 AND version = $2", name, version.Normalized);
    }

    public T Publish<T>(string name, Func<IPrivatePublish, T> publish)
    {
        using var connection = OpenForRead();
        using var transaction = connection.BeginTransaction();
        using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 74013))", connection, transaction))
        {
            command.Parameters.AddWithValue("npm-private\n" + name);
            command.ExecuteNonQuery();
        }
        var session = new Session(connection, transaction, name);
        var result = publish(session);
        if (session.Written)
        {
            transaction.Commit();
        }
        return result;
    }

    /// <summary>Opens a connection; a database that cannot be reached is an IOException like an unreadable file.</summary>
    private NpgsqlConnection OpenForRead()
    {
        try
        {
            return _source.OpenConnection();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new IOException($"the feed's state database cannot be reached: {e.Message}", e);
        }
    }

    private static byte[]? Bytes(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object[] values)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.AddWithValue(value);
        }
        return command.ExecuteScalar() as byte[];
    }

    private sealed class Session(NpgsqlConnection connection, NpgsqlTransaction transaction, string name) : IPrivatePublish
    {
        public bool Written { get; private set; }

        public byte[]? Packument => Bytes(connection, transaction, "SELECT packument FROM feed_npm_private WHERE name = $1", name);

        public byte[]? Tarball(NpmVersion version) =>
            Bytes(connection, transaction, "SELECT tarball FROM feed_npm_private_tarballs WHERE name = $1 AND version = $2", name, version.Normalized);

        public void Write(byte[] packument, IReadOnlyList<(NpmVersion Version, byte[] Bytes)> tarballs)
        {
            foreach (var (version, bytes) in tarballs)
            {
                // A retry of an interrupted publish with the same bytes was accepted by the caller; never replace a row.
                using var command = new NpgsqlCommand(
                    "INSERT INTO feed_npm_private_tarballs (name, version, tarball) VALUES ($1, $2, $3) ON CONFLICT (name, version) DO NOTHING",
                    connection, transaction);
                command.Parameters.AddWithValue(name);
                command.Parameters.AddWithValue(version.Normalized);
                command.Parameters.AddWithValue(bytes);
                command.ExecuteNonQuery();
            }
            using (var command = new NpgsqlCommand("""
                INSERT INTO feed_npm_private (name, packument, digest, modified) VALUES ($1, $2, $3, now())
                ON CONFLICT (name) DO UPDATE SET packument = excluded.packument, digest = excluded.digest, modified = excluded.modified
                """, connection, transaction))
            {
                command.Parameters.AddWithValue(name);
                command.Parameters.AddWithValue(packument);
                command.Parameters.AddWithValue(IPrivatePackages.Digest(packument));
                command.ExecuteNonQuery();
            }
            Written = true;
        }
    }
}
