using System.Net;
using Microsoft.Data.Sqlite;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>The audit log stays bounded: one row per decision with a counter, request rows only where they matter.</summary>
public sealed class AuditLogTests
{
    private static long Rows(string storage)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(storage, FeedAuditLog.FileName)};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var tables = connection.CreateCommand();
        tables.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
        var names = new List<string>();
        using (var reader = tables.ExecuteReader())
        {
            while (reader.Read())
            {
                names.Add(reader.GetString(0));
            }
        }
        long total = 0;
        foreach (var name in names)
        {
            using var count = connection.CreateCommand();
            count.CommandText = $"SELECT COUNT(*) FROM \"{name}\"";
            total += (long)count.ExecuteScalar()!;
        }
        return total;
    }

    [Fact]
    public async Task AuditLog_FiftyPackumentRequestsWithBlockedVersions_OneRowPerVersionAndRuleCounted50()
    {
        await using var env = await FeedEnvironment.StartAsync();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("is-number")).StatusCode);
        }

        await env.Feed.FlushAuditAsync();
        using var log = FeedAuditLog.Open(env.Storage, readOnly: true);
        var entries = log.Query(new AuditQuery { Package = "is-number", Limit = 100_000 });

        Assert.Contains(entries, e => e.Verdict == "blocked");
        Assert.All(entries.GroupBy(e => (e.Version, e.Rule)), g => Assert.Single(g));
        Assert.All(entries, e => Assert.Equal(50, e.Count));
        Assert.All(entries, e => Assert.True(e.LastSeen >= e.Time));
        Assert.Equal(entries.Length, Rows(env.Storage));
    }

    [Fact]
    public async Task AuditLog_BlockedTarballDownloads_OneRowPerRequest()
    {
        await using var env = await FeedEnvironment.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await env.Http.GetAsync("tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms/-/ms-2.1.2.tgz")).StatusCode);
        }

        await env.Feed.FlushAuditAsync();
        using var log = FeedAuditLog.Open(env.Storage, readOnly: true);
        var blocked = log.Query(new AuditQuery { Package = "tollgate-fixture-evil" });
        var allowed = log.Query(new AuditQuery { Package = "ms" });

        Assert.Equal(3, blocked.Count(e => e.Request == "tarball" && e.Verdict == "blocked" && e.Count == 1));
        var served = Assert.Single(allowed);
        Assert.Equal(("allowed", 3L), (served.Verdict, served.Count));
    }

    [Fact]
    public async Task AuditLog_RetentionConfigured_OldEntriesPrunedAtStart()
    {
        var now = DateTimeOffset.UtcNow;
        await using var env = await FeedEnvironment.StartAsync(configure: o =>
        {
            // A log the feed wrote before this start: one decision last seen 100 days ago, one yesterday.
            using (var old = FeedAuditLog.Open(o.StorageFolder))
            {
                old.Write([
                    new AuditEntry(now.AddDays(-100), "ms", "1.0.0", "blocked", "TG1100", "denied", "127.0.0.1", "packument", false),
                    new AuditEntry(now.AddDays(-1), "ms", "2.0.0", "blocked", "TG1100", "denied", "127.0.0.1", "packument", false),
                    new AuditEntry(now.AddDays(-100), "ms", "1.0.0", "blocked", "TG1100", "denied", "127.0.0.1", "tarball", false),
                ]);
            }
            var config = FeedConfigLoader.Parse("auditRetention: 90d", "feed.yaml", "/srv");
            Assert.True(config.Options is not null, string.Join("\n", config.Diagnostics));
            return o with { AuditRetention = config.Options.AuditRetention };
        });

        await env.Feed.FlushAuditAsync();
        using var log = FeedAuditLog.Open(env.Storage, readOnly: true);
        var kept = Assert.Single(log.Query(new AuditQuery { Package = "ms" }));
        Assert.Equal("2.0.0", kept.Version);
        Assert.Contains(env.Logs.Lines, l => l.Contains("removed 2 audit entries", StringComparison.Ordinal));
    }

    [Fact]
    public void Prune_OlderThan_RemovesOnlyEntriesLastSeenBefore()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-audit-").FullName;
        try
        {
            var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
            using var log = FeedAuditLog.Open(folder);
            // Seen first long ago but again recently: kept, with both times.
            log.Write([new AuditEntry(start, "a", "1.0.0", "hidden", "minimumReleaseAge", "young", null, "packument", false)]);
            log.Write([new AuditEntry(start.AddDays(40), "a", "1.0.0", "hidden", "minimumReleaseAge", "young", null, "packument", false)]);
            log.Write([new AuditEntry(start, "b", "1.0.0", "hidden", "minimumReleaseAge", "young", null, "packument", false)]);
            log.Write([new AuditEntry(start, "c", null, "published", null, "published c@1.0.0", null, "publish", false)]);

            Assert.Equal(2, log.Prune(start.AddDays(30)));

            var kept = Assert.Single(log.Query(new AuditQuery()));
            Assert.Equal(("a", 2L, start, start.AddDays(40)), (kept.Package, kept.Count, kept.Time, kept.LastSeen));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Open_LogOfEarlierVersion_MigratedToCountedDecisionsKeepingRequestRows()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-audit-").FullName;
        try
        {
            // The schema and rows the feed wrote before decisions were counted.
            using (var connection = new SqliteConnection($"Data Source={Path.Combine(folder, FeedAuditLog.FileName)};Pooling=False"))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = """
                    CREATE TABLE decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, package TEXT NOT NULL, version TEXT,
                      verdict TEXT NOT NULL, rule TEXT, message TEXT NOT NULL, client TEXT, request TEXT NOT NULL, dry_run INTEGER NOT NULL);
                    CREATE INDEX decisions_package ON decisions(package, time);
                    INSERT INTO decisions (time, package, version, verdict, rule, message, client, request, dry_run) VALUES
                      ('2026-01-01T00:00:00.000Z', 'x', '1.0.0', 'blocked', 'MAL-1', 'malicious', '10.0.0.1', 'packument', 0),
                      ('2026-01-02T00:00:00.000Z', 'x', '1.0.0', 'blocked', 'MAL-1', 'malicious', '10.0.0.2', 'packument', 0),
                      ('2026-01-03T00:00:00.000Z', 'x', '1.0.0', 'blocked', 'MAL-1', 'malicious', '10.0.0.3', 'tarball', 0),
                      ('2026-01-04T00:00:00.000Z', '@acme/x', NULL, 'refused', 'private', 'private', '10.0.0.4', 'packument', 0),
                      ('2026-01-05T00:00:00.000Z', '@acme/x', NULL, 'refused', 'private', 'private', '10.0.0.4', 'packument', 0);
                    """;
                command.ExecuteNonQuery();
            }

            using (var legacy = FeedAuditLog.Open(folder, readOnly: true))
            {
                Assert.Equal(5, legacy.Query(new AuditQuery()).Length);
            }
            using var log = FeedAuditLog.Open(folder);
            var entries = log.Query(new AuditQuery());

            Assert.Equal(3, entries.Length);
            var packument = Assert.Single(entries, e => e.Package == "x" && e.Request == "packument");
            Assert.Equal((2L, "2026-01-01", "2026-01-02"), (packument.Count, packument.Time.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                packument.LastSeen.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Single(entries, e => e.Package == "x" && e.Request == "tarball" && e.Count == 1);
            var refused = Assert.Single(entries, e => e.Package == "@acme/x");
            Assert.Equal((2L, (string?)null), (refused.Count, refused.Version));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
