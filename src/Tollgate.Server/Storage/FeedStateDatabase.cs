using System.Collections.Concurrent;
using Azure.Core;
using Azure.Identity;
using Npgsql;

namespace Tollgate.Server.Storage;

/// <summary>
/// Connections to the PostgreSQL database several feed instances share (<c>state:</c>). A connection string with a
/// password (or a server that trusts the client) is used as given. Azure Database for PostgreSQL with Microsoft Entra
/// authentication takes no password: for a host under <see cref="AzureHostSuffix"/> without one, the feed signs in
/// with its managed identity (<see cref="DefaultAzureCredential"/>), using an access token as the password and
/// renewing it before it expires.
/// </summary>
internal static class FeedStateDatabase
{
    /// <summary>The domain of Azure Database for PostgreSQL flexible servers.</summary>
    public const string AzureHostSuffix = ".postgres.database.azure.com";

    /// <summary>The token audience of Azure Database for PostgreSQL.</summary>
    private const string Scope = "https://ossrdbms-aad.database.windows.net/.default";

    /// <summary>True when the connection string signs in with an Entra token rather than a password.</summary>
    public static bool UsesEntra(string connectionString)
    {
        var parsed = new NpgsqlConnectionStringBuilder(connectionString);
        return string.IsNullOrEmpty(parsed.Password) && parsed.Host is { } host
            && host.Split(',').All(h => h.Trim().EndsWith(AzureHostSuffix, StringComparison.OrdinalIgnoreCase));
    }

    private static readonly ConcurrentDictionary<string, Lazy<NpgsqlDataSource>> Sources = new(StringComparer.Ordinal);

    /// <summary>
    /// The process's one data source for <paramref name="connectionString"/>, created on first use and kept: every
    /// audit-log reader (the dashboard opens one per page), the private package store and the packument cache share its connection pool
    /// and, with Entra, its token. Not disposed by its users.
    /// </summary>
    public static NpgsqlDataSource Shared(string connectionString) =>
        Sources.GetOrAdd(connectionString, c => new Lazy<NpgsqlDataSource>(() => Create(c))).Value;

    /// <summary>
    /// Runs <paramref name="ddl"/> (<c>CREATE … IF NOT EXISTS</c>) in one transaction holding a transaction-level
    /// advisory lock on <paramref name="lockKey"/>, so instances starting at once create a table once; returns the
    /// process's shared data source.
    /// </summary>
    public static NpgsqlDataSource WithTables(string connectionString, long lockKey, string ddl)
    {
        var source = Shared(connectionString);
        using var connection = source.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            command.Parameters.AddWithValue(lockKey);
            command.ExecuteNonQuery();
        }
        using (var command = new NpgsqlCommand(ddl, connection, transaction))
        {
            command.ExecuteNonQuery();
        }
        transaction.Commit();
        return source;
    }

    /// <summary>A new data source for the state database; <paramref name="credential"/> replaces the managed identity (tests).</summary>
    public static NpgsqlDataSource Create(string connectionString, TokenCredential? credential = null)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (credential is not null || UsesEntra(connectionString))
        {
            var signIn = credential ?? new DefaultAzureCredential();
            builder.UsePeriodicPasswordProvider(
                async (_, cancellationToken) => (await signIn.GetTokenAsync(new TokenRequestContext([Scope]), cancellationToken).ConfigureAwait(false)).Token,
                TimeSpan.FromMinutes(30), TimeSpan.FromSeconds(10));
        }
        return builder.Build();
    }
}
