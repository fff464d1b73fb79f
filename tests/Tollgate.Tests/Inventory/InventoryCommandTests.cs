using System.Text.Json;
using Tollgate.Inventory;
using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;
using Tollgate.Tests.Sbom;

namespace Tollgate.Tests.Inventory;

/// <summary>
/// `inventory affected` by advisory id and by range, and `inventory rescan`, through the CLI on SQLite and
/// PostgreSQL. Deployments are the example MCP server (pinned vulnerable versions), the real server-filesystem
/// lockfile, a real uv.lock and a real NuGet lock file; advisories are the real GitHub records.
/// </summary>
public sealed class InventoryCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static IEnumerable<object[]> Kinds() => StoreTargets.Kinds();

    /// <summary>The advisories that hit the example server's pinned versions (checked by hand against each record's ranges).</summary>
    private static readonly string[] ExampleHits =
    [
        "weather GHSA-35jh-r3h4-6jhm lodash@4.17.20",
        "weather GHSA-8hc4-vh64-cxmj axios@1.5.1",
        "weather GHSA-pxg6-pf52-xh8x cookie@0.5.0",
        "weather GHSA-qwcr-r2fm-qrc7 body-parser@1.20.1",
        "weather GHSA-rv95-896h-c2vc express@4.18.2",
        "weather GHSA-wf5p-g6vw-rhxx axios@1.5.1",
        "weather GHSA-xvch-5gv4-984h minimist@1.2.5",
    ];

    private string Database()
    {
        var db = _temp.File("advisories.db");
        var import = CliRunner.Run("db", "import", TestData.Reference("osv", "github"), TestData.Reference("osv", "malicious"), "--db", db);
        Assert.True(import.ExitCode == 0, import.Stderr);
        return db;
    }

    private static string Populated(string kind)
    {
        var store = StoreTargets.NewStore(kind);
        Add(store, "examples/mcp-server-npm", "weather", "prod");
        Add(store, "npm/mcp-filesystem", "filesystem", "prod");
        Add(store, "pypi/uv-mcp-server-fetch", "fetch", "staging");
        Add(store, "nuget/mcp-server", "dotnet", "prod");
        return store;
    }

    private static void Add(string store, string input, string deployment, string environment)
    {
        var add = CliRunner.Run("inventory", "add", SbomInputs.PathOf(input), "--deployment", deployment, "--environment", environment, "--store", store);
        Assert.True(add.ExitCode == 0, add.Stderr);
    }

    private static List<string> Hits(string json, bool withAdvisory = false)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("affected").EnumerateArray().Select(a =>
            a.GetProperty("deployment").GetString()
            + (withAdvisory ? " " + a.GetProperty("advisoryId").GetString() : "")
            + " " + a.GetProperty("component").GetProperty("name").GetString() + "@" + a.GetProperty("component").GetProperty("version").GetString())
            .Distinct().Order(StringComparer.Ordinal)];
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Affected_AdvisoryIdOrAlias_FindsTheDeploymentsInItsRanges(string kind)
    {
        var store = Populated(kind);
        var db = Database();

        var byId = CliRunner.Run("inventory", "affected", "GHSA-wf5p-g6vw-rhxx", "--store", store, "--db", db, "--format", "json");
        var byAlias = CliRunner.Run("inventory", "affected", "CVE-2023-45857", "--store", store, "--db", db, "--format", "json");
        var express = CliRunner.Run("inventory", "affected", "GHSA-rv95-896h-c2vc", "--store", store, "--db", db, "--format", "json");

        Assert.True(byId.ExitCode == 0, byId.Stderr);
        // axios 1.5.1 is in 0.8.1 <= v < 1.6.0; the filesystem server has no axios.
        Assert.Equal(["weather GHSA-wf5p-g6vw-rhxx axios@1.5.1"], Hits(byId.Stdout, withAdvisory: true));
        Assert.Equal(Hits(byId.Stdout), Hits(byAlias.Stdout));
        // express 4.18.2 (< 4.19.2) is hit; express 5.3.0 in both servers is not (the 5.x range ends at 5.0.0-beta.3).
        Assert.Equal(["weather express@4.18.2"], Hits(express.Stdout));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Affected_UnknownAdvisoryOrMissingDatabase_ExitsTwo(string kind)
    {
        var store = Populated(kind);

        var unknown = CliRunner.Run("inventory", "affected", "GHSA-0000-0000-0000", "--store", store, "--db", Database());
        var missing = CliRunner.Run("inventory", "affected", "GHSA-wf5p-g6vw-rhxx", "--store", store, "--db", _temp.File("none.db"));

        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no advisory GHSA-0000-0000-0000", unknown.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no advisory database at", missing.Stderr, StringComparison.Ordinal);
    }

    public static IEnumerable<object[]> RangeCases()
    {
        var cases = new (string Query, string[] Expected)[]
        {
            ("axios@<1.6.0", ["weather axios@1.5.1"]),
            ("axios@>=1.6.0", []),
            ("express@^5.0.0", ["filesystem express@5.3.0", "weather express@5.3.0"]),
            ("express@4.18.2", ["weather express@4.18.2"]),
            ("requests@<2.32", []),
            ("requests@>=2.33,<2.34", ["fetch requests@2.33.1"]),
            ("anyio@==4.6.2.post1", ["fetch anyio@4.6.2.post1"]),
            ("Microsoft.Extensions.Hosting@[10.0.0,10.0.1)", ["dotnet Microsoft.Extensions.Hosting@10.0.0"]),
            ("microsoft.extensions.hosting@[,10.0.0)", []),
            ("Microsoft.Extensions.Hosting@10.0", ["dotnet Microsoft.Extensions.Hosting@10.0.0"]),
            ("pkg:npm/axios", ["weather axios@1.5.1"]),
        };
        foreach (var kind in StoreTargets.Kinds())
        {
            foreach (var (query, expected) in cases)
            {
                yield return [kind[0], query, expected];
            }
        }
    }

    [Theory]
    [MemberData(nameof(RangeCases))]
    public void Affected_NameAtRange_UsesTheEcosystemsRangeSyntax(string kind, string query, string[] expected)
    {
        var store = Populated(kind);

        var result = CliRunner.Run("inventory", "affected", query, "--store", store, "--format", "json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(expected, Hits(result.Stdout));
    }

    [Theory]
    [InlineData("requests<2.32", "write a range after an '@'")]
    [InlineData("axios@not a range", "neither a version nor a valid range")]
    public void Affected_BadQuery_ExitsTwoWithAdvice(string query, string message)
    {
        var result = CliRunner.Run("inventory", "affected", query, "--store", _temp.File("inventory.db"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Rescan_NewThenNothingThenResolvedAfterUpgrade(string kind)
    {
        var store = Populated(kind);
        var db = Database();

        var first = CliRunner.Run("inventory", "rescan", "--store", store, "--db", db, "--format", "json");
        var second = CliRunner.Run("inventory", "rescan", "--store", store, "--db", db, "--format", "json");
        // The weather server is redeployed with the filesystem server's (fixed) dependencies.
        Add(store, "npm/mcp-filesystem", "weather", "prod");
        var third = CliRunner.Run("inventory", "rescan", "--store", store, "--db", db, "--format", "json");
        var table = CliRunner.Run("inventory", "rescan", "--store", store, "--db", db);

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(ExampleHits, NewlyAffected(first.Stdout));
        Assert.Empty(NewlyAffected(second.Stdout));
        Assert.Empty(Resolved(second.Stdout));
        Assert.Empty(NewlyAffected(third.Stdout));
        Assert.Equal(ExampleHits, Resolved(third.Stdout));
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("0 newly affected, 0 resolved", table.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Hits_AfterRescans_ListWhatWasFoundSince(string kind)
    {
        var store = Populated(kind);
        var db = Database();
        var before = CliRunner.Run("inventory", "hits", "--store", store);
        var rescan = CliRunner.Run("inventory", "rescan", "--store", store, "--db", db);
        var lastHour = CliRunner.Run("inventory", "hits", "--store", store, "--since", "1h", "--format", "json");
        var future = CliRunner.Run("inventory", "hits", "--store", store, "--since", "2099-01-01", "--format", "json");
        var table = CliRunner.Run("inventory", "hits", "--store", store, "--deployment", "weather");
        var bad = CliRunner.Run("inventory", "hits", "--store", store, "--since", "yesterday");

        // No rescan yet: nothing is known, which is not "nothing affected".
        Assert.Equal(2, before.ExitCode);
        Assert.Contains("no rescan has been recorded", before.Stderr, StringComparison.Ordinal);
        Assert.True(rescan.ExitCode == 0, rescan.Stderr);
        Assert.True(lastHour.ExitCode == 0, lastHour.Stderr);
        using (var doc = JsonDocument.Parse(lastHour.Stdout))
        {
            var hits = doc.RootElement.GetProperty("hits").EnumerateArray().ToList();
            Assert.Equal(ExampleHits, hits.Select(h => $"{h.GetProperty("hit").GetProperty("deployment").GetString()} {h.GetProperty("advisoryId").GetString()} "
                + $"{h.GetProperty("hit").GetProperty("component").GetProperty("name").GetString()}@{h.GetProperty("hit").GetProperty("component").GetProperty("version").GetString()}").Order(StringComparer.Ordinal));
            Assert.All(hits, h => Assert.True(DateTimeOffset.UtcNow - h.GetProperty("foundAt").GetDateTimeOffset() < TimeSpan.FromHours(1)));
            // The record's own severity and fix: GHSA-xvch-5gv4-984h (minimist prototype pollution) is critical, fixed in 1.2.6.
            var minimist = hits.Single(h => h.GetProperty("advisoryId").GetString() == "GHSA-xvch-5gv4-984h");
            Assert.Equal(("critical", "1.2.6"), (minimist.GetProperty("severity").GetString(), minimist.GetProperty("fixedIn").GetString()));
            Assert.True(doc.RootElement.TryGetProperty("lastRescan", out _));
        }
        Assert.Equal(0, JsonDocument.Parse(future.Stdout).RootElement.GetProperty("total").GetInt32());
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains($"{ExampleHits.Length} hit(s) in weather", table.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("'yesterday' is neither a duration nor a time", bad.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("add", "SBOM", "--deployment", "weather")]
    [InlineData("affected", "axios")]
    [InlineData("hits")]
    public void StoreWithServer_IsAUsageErrorNamingBoth(params string[] verb)
    {
        var store = StoreTargets.NewStore("sqlite");
        var sbom = Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm");
        // Nothing listens on port 9: were --store silently ignored, the command would try the server and fail otherwise.
        string[] args = ["inventory", .. verb.Select(a => a == "SBOM" ? sbom : a), "--store", store, "--server", "http://127.0.0.1:9"];

        var result = CliRunner.Run(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--store and --server contradict each other", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(store));
    }

    [Theory]
    [InlineData("--offset", "-1")]
    [InlineData("--limit", "-5")]
    public void Hits_NegativeLimitOrOffset_IsAUsageErrorAsForAffected(string option, string value)
    {
        var hits = CliRunner.Run("inventory", "hits", "--store", Populated("sqlite"), option, value);
        var help = CliRunner.Run("inventory", "hits", "--help");

        Assert.Equal(2, hits.ExitCode);
        Assert.Contains("--limit and --offset take a number of hits, 0 or more", hits.Stderr, StringComparison.Ordinal);
        // The order --offset pages through is the one hits are listed in, not affected's deployment order.
        Assert.Contains("hits are in the order shown: newest found first", help.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("deployment-name order", help.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Affected_LimitAndOffset_PageThroughEveryHitInDeploymentOrder(string kind)
    {
        var store = Populated(kind);

        var first = CliRunner.Run("inventory", "affected", "express@^5.0.0", "--store", store, "--limit", "1", "--format", "json");
        var second = CliRunner.Run("inventory", "affected", "express@^5.0.0", "--store", store, "--limit", "1", "--offset", "1", "--format", "json");
        var table = CliRunner.Run("inventory", "affected", "express@^5.0.0", "--store", store, "--limit", "1");
        var bad = CliRunner.Run("inventory", "affected", "express", "--store", store, "--limit", "-1");

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(["filesystem express@5.3.0"], Hits(first.Stdout));
        Assert.Equal(["weather express@5.3.0"], Hits(second.Stdout));
        using (var doc = JsonDocument.Parse(first.Stdout))
        {
            Assert.Equal((2, 2, 0, 1), (doc.RootElement.GetProperty("total").GetInt32(), doc.RootElement.GetProperty("deployments").GetInt32(),
                doc.RootElement.GetProperty("offset").GetInt32(), doc.RootElement.GetProperty("nextOffset").GetInt32()));
        }
        using (var doc = JsonDocument.Parse(second.Stdout))
        {
            Assert.False(doc.RootElement.TryGetProperty("nextOffset", out _));
        }
        Assert.Contains("2 deployment(s) affected by express@^5.0.0 (2 hit(s))", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("shown: hits 1-1 of 2; next page: --offset 1", table.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public void Rescan_MissingDatabase_ExitsTwo()
    {
        var result = CliRunner.Run("inventory", "rescan", "--store", _temp.File("inventory.db"), "--db", _temp.File("none.db"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no advisory database at", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GHSA-wf5p-g6vw-rhxx", null, null, "GHSA-wf5p-g6vw-rhxx")]
    [InlineData("@modelcontextprotocol/sdk@^1.0.0", "@modelcontextprotocol/sdk", "^1.0.0", null)]
    [InlineData("@modelcontextprotocol/sdk", "@modelcontextprotocol/sdk", null, null)]
    [InlineData("Newtonsoft.Json@[,13.0.1)", "Newtonsoft.Json", "[,13.0.1)", null)]
    [InlineData("left-pad", "left-pad", null, null)]
    public void AffectedQuery_Parse_SplitsNameConstraintOrId(string text, string? name, string? constraint, string? id)
    {
        Assert.True(AffectedQuery.TryParse(text, out var query, out var error), error);
        Assert.Equal((name, constraint, id), (query!.Name, query.Constraint, query.AdvisoryId));
    }

    private static List<string> NewlyAffected(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("newlyAffected").EnumerateArray().Select(h =>
            $"{h.GetProperty("hit").GetProperty("deployment").GetString()} {h.GetProperty("advisoryId").GetString()} "
            + $"{h.GetProperty("hit").GetProperty("component").GetProperty("name").GetString()}@{h.GetProperty("hit").GetProperty("component").GetProperty("version").GetString()}")
            .Order(StringComparer.Ordinal)];
    }

    private static List<string> Resolved(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("resolved").EnumerateArray().Select(h =>
            $"{h.GetProperty("deployment").GetString()} {h.GetProperty("advisoryId").GetString()} {PurlLabel(h.GetProperty("purl").GetString()!)}")
            .Order(StringComparer.Ordinal)];
    }

    private static string PurlLabel(string purl)
    {
        // pkg:npm/lodash@4.17.20 → lodash@4.17.20 (the hits above are all unscoped npm packages)
        var rest = purl["pkg:npm/".Length..];
        return Uri.UnescapeDataString(rest);
    }
}
