using Azure.Core;
using Npgsql;
using Tollgate.Server.Storage;
using Tollgate.Tests.Inventory;

namespace Tollgate.Server.Tests.Storage;

/// <summary>
/// The feed's shared PostgreSQL state signs in with a Microsoft Entra token where Azure Database for PostgreSQL
/// expects one. Tested against the real server of .ci/postgres, whose role <c>tollgate_password_only</c> must give its
/// password (every other role is trusted): the token the credential hands out is what the server checks.
/// </summary>
public sealed class FeedStateDatabaseTests
{
    /// <summary>A credential standing in for the managed identity: hands out one token and counts the requests.</summary>
    private sealed class FixedToken(string token) : TokenCredential
    {
        public int Requests;

        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Requests);
            lock (Scopes)
            {
                Scopes.AddRange(requestContext.Scopes);
            }
            return ValueTask.FromResult(new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1)));
        }
    }

    [Theory]
    [InlineData("Host=tollgate.postgres.database.azure.com;Database=tollgate;Username=tollgate-feed;Ssl Mode=Require", true)]
    [InlineData("Host=TOLLGATE.POSTGRES.DATABASE.AZURE.COM;Database=tollgate;Username=feed", true)]
    [InlineData("Host=tollgate.postgres.database.azure.com;Database=tollgate;Username=feed;Password=secret", false)]
    [InlineData("Host=127.0.0.1;Port=5432;Database=tollgate;Username=feed", false)]
    [InlineData("Host=db.example.com;Database=tollgate;Username=feed", false)]
    [InlineData("Host=a.postgres.database.azure.com,b.example.com;Database=tollgate;Username=feed", false)]
    public void UsesEntra_OnlyForAzureHostsWithoutAPassword(string connectionString, bool expected) =>
        Assert.Equal(expected, FeedStateDatabase.UsesEntra(connectionString));

    [Fact]
    public async Task TokenCredential_TokenIsThePasswordTheServerChecks()
    {
        var admin = StoreTargets.PostgresConnection ?? throw new InvalidOperationException(
            "TOLLGATE_TEST_POSTGRES is not set: start a server with `export TOLLGATE_TEST_POSTGRES=\"$(bash .ci/postgres)\"`");
        var token = "eyJ0eXAi." + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"""
                DO $$ BEGIN
                  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tollgate_password_only') THEN CREATE ROLE tollgate_password_only LOGIN; END IF;
                  ALTER ROLE tollgate_password_only PASSWORD '{token}';
                END $$;
                """, connection);
            await command.ExecuteNonQueryAsync();
        }
        var state = new NpgsqlConnectionStringBuilder(admin) { Username = "tollgate_password_only", Pooling = false }.ToString();

        var right = new FixedToken(token);
        await using (var source = FeedStateDatabase.Create(state, right))
        await using (var connection = await source.OpenConnectionAsync())
        await using (var command = new NpgsqlCommand("SELECT current_user", connection))
        {
            Assert.Equal("tollgate_password_only", await command.ExecuteScalarAsync());
        }
        Assert.True(right.Requests >= 1);
        Assert.Contains("https://ossrdbms-aad.database.windows.net/.default", right.Scopes);

        // Another token, or none (a plain connection string to this host takes no token), is refused by the server.
        await using (var source = FeedStateDatabase.Create(state, new FixedToken("eyJ0eXAi.not-the-token")))
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(async () => await source.OpenConnectionAsync());
            Assert.Equal("28P01", refused.SqlState);
        }
        await using (var source = FeedStateDatabase.Create(state))
        {
            await Assert.ThrowsAnyAsync<NpgsqlException>(async () => await source.OpenConnectionAsync());
        }
    }
}
