using System.Diagnostics;
using System.Text.Json.Nodes;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Cli;

/// <summary>The <c>tollgate feed</c> command as a user runs it: a separate process, exit code and output together.</summary>
public sealed class FeedCommandTests
{
    private sealed record CliResult(int ExitCode, string Stdout, string Stderr);

    /// <summary>The <c>tollgate</c> command as its own process, output captured, colour off.</summary>
    internal static ProcessStartInfo TollgateProcess(IDictionary<string, string>? environment, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Tollgate.Cli.dll"));
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["NO_COLOR"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[k] = v;
        }
        return start;
    }

    private static async Task<CliResult> Tollgate(IDictionary<string, string>? environment, params string[] arguments)
    {
        using var process = Process.Start(TollgateProcess(environment, arguments))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Serve_NoUpstreamAndNoNpmOnPath_Exit2WithClearMessage()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        try
        {
            // An empty PATH: `npm config get registry` cannot run.
            var result = await Tollgate(new Dictionary<string, string> { ["PATH"] = folder, ["TOLLGATE_HOME"] = folder },
                "feed", "serve", "--listen", "http://127.0.0.1:0", "--storage", Path.Combine(folder, "storage"));
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("no upstream registry", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("--upstream", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_StorageThatIsAFile_Exit2SayingSo()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        try
        {
            var file = Path.Combine(folder, "storage");
            await File.WriteAllTextAsync(file, "a file, not a folder\n");

            var result = await Tollgate(null, "feed", "serve", "--listen", "http://127.0.0.1:0", "--upstream", "http://127.0.0.1:9/",
                "--no-advisories", "--storage", file);

            Assert.Equal(2, result.ExitCode);
            Assert.Contains($"the storage folder {file} is a file, not a folder", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Could not find a part of the path", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_BadConfig_Exit2WithEveryProblemLocated()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        try
        {
            var config = Path.Combine(folder, "feed.yaml");
            await File.WriteAllTextAsync(config, "listen: nope\nvulnerabilities: maybe\n");
            var result = await Tollgate(null, "feed", "serve", "--config", config);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("feed.yaml:1:9: error TG0010", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("feed.yaml:2:18: error TG0010", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Log_AfterBlockedDownload_ListsDecisionAsJsonAndTable()
    {
        await using var env = await global::Tollgate.Server.Tests.Feeds.Npm.FeedEnvironment.StartAsync();
        await env.Http.GetAsync("tollgate-fixture-evil/-/tollgate-fixture-evil-1.0.1.tgz");
        await env.Http.GetAsync("is-number/-/is-number-7.0.0.tgz");

        var json = await Tollgate(null, "feed", "log", "--storage", env.Storage, "--blocked", "--since", "1h", "--format", "json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        var entries = JsonNode.Parse(json.Stdout)!.AsArray();
        var blocked = Assert.Single(entries, e => e!["request"]!.GetValue<string>() == "tarball");
        Assert.Equal("tollgate-fixture-evil", blocked!["package"]!.GetValue<string>());
        Assert.Equal("MAL-2099-0001", blocked["rule"]!.GetValue<string>());
        Assert.DoesNotContain(entries, e => e!["package"]!.GetValue<string>() == "is-number");

        var table = await Tollgate(null, "feed", "log", "--storage", env.Storage, "--package", "is-number");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("allowed", table.Stdout, StringComparison.Ordinal);

        var badSince = await Tollgate(null, "feed", "log", "--storage", env.Storage, "--since", "yesterday");
        Assert.Equal(2, badSince.ExitCode);
        Assert.Contains("--since 'yesterday' is neither a duration nor a time", badSince.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_RepeatedDecisions_JsonAndTableShowCountAndLastSeen()
    {
        await using var env = await global::Tollgate.Server.Tests.Feeds.Npm.FeedEnvironment.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            await env.Http.GetAsync("tollgate-fixture-evil");
        }

        var json = await Tollgate(null, "feed", "log", "--storage", env.Storage, "--package", "tollgate-fixture-evil", "--format", "json");
        var table = await Tollgate(null, "feed", "log", "--storage", env.Storage, "--package", "tollgate-fixture-evil");

        Assert.True(json.ExitCode == 0, json.Stderr);
        var entry = Assert.Single(JsonNode.Parse(json.Stdout)!.AsArray());
        Assert.Equal(3, entry!["count"]!.GetValue<long>());
        Assert.True(DateTimeOffset.Parse(entry["lastSeen"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            >= DateTimeOffset.Parse(entry["time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("Count", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("Last seen", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_Prune_RemovesEntriesLastSeenBeforeThenAndRefusesFilters()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        try
        {
            var now = DateTimeOffset.UtcNow;
            using (var log = FeedAuditLog.Open(folder))
            {
                log.Write([
                    new AuditEntry(now.AddDays(-40), "old", "1.0.0", "blocked", "MAL-1", "malicious", null, "packument", false),
                    new AuditEntry(now.AddDays(-40), "old", "1.0.0", "blocked", "MAL-1", "malicious", null, "tarball", false),
                    new AuditEntry(now.AddDays(-1), "new", "1.0.0", "blocked", "MAL-2", "malicious", null, "packument", false),
                ]);
            }

            var combined = await Tollgate(null, "feed", "log", "--storage", folder, "--prune", "30d", "--package", "old");
            var badAge = await Tollgate(null, "feed", "log", "--storage", folder, "--prune", "soon");
            var pruned = await Tollgate(null, "feed", "log", "--storage", folder, "--prune", "30d");
            var left = await Tollgate(null, "feed", "log", "--storage", folder, "--format", "json");

            Assert.Equal(2, combined.ExitCode);
            Assert.Contains("--prune", combined.Stderr, StringComparison.Ordinal);
            Assert.Equal(2, badAge.ExitCode);
            Assert.True(pruned.ExitCode == 0, pruned.Stderr);
            Assert.Contains("removed 2 entries", pruned.Stdout + pruned.Stderr, StringComparison.Ordinal);
            Assert.Equal(["new"], JsonNode.Parse(left.Stdout)!.AsArray().Select(e => e!["package"]!.GetValue<string>()));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("not a database", "file is not a database")]
    [InlineData("", "no such table")]
    public async Task Log_DamagedAuditLog_IsAnInputErrorNamingTheFileNotAnInternalError(string content, string reason)
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        try
        {
            // What a copy cut short, or another program's file under the same name, leaves in the storage folder.
            File.WriteAllText(Path.Combine(folder, FeedAuditLog.FileName), content);

            var log = await Tollgate(null, "feed", "log", "--storage", folder);

            Assert.True(log.ExitCode == 2, $"exit {log.ExitCode}; stderr: {log.Stderr}");
            Assert.Contains($"error: cannot read the audit log in {Path.Combine(folder, FeedAuditLog.FileName)}: ", log.Stderr, StringComparison.Ordinal);
            Assert.Contains(reason, log.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", log.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    public async Task Log_LimitBelowOne_IsAUsageError(string limit)
    {
        var log = await Tollgate(null, "feed", "log", "--limit", limit);

        Assert.Equal(2, log.ExitCode);
        Assert.Contains($"--limit takes a number of entries, 1 or more (got {limit})", log.Stderr, StringComparison.Ordinal);
    }

    /// <summary>A fresh advisory database from the feed test records, in <paramref name="folder"/>.</summary>
    private static string Database(string folder)
    {
        var db = Path.Combine(folder, "advisories.db");
        var diagnostics = new global::Tollgate.Inputs.DiagnosticBag();
        var import = global::Tollgate.Advisories.AdvisoryImporter.Import([Path.Combine(global::Tollgate.Server.Tests.Feeds.Npm.UpstreamFixture.DataFolder, "advisories")],
            new global::Tollgate.Advisories.AdvisoryImportOptions { DatabasePath = db }, diagnostics);
        Assert.True(import.Succeeded, string.Join("\n", diagnostics.Items));
        return db;
    }

    /// <summary>
    /// A loopback port nothing listens on, held for as long as the socket lives: bound but not listening, so connections
    /// to it are refused and no other process can take the port meanwhile (as one released right away could be).
    /// </summary>
    internal static System.Net.Sockets.Socket RefusingPort(out int port)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        port = ((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    /// <summary>
    /// Runs <c>tollgate feed serve</c> as a process on a port it chooses until it says it serves, lets
    /// <paramref name="use"/> send requests to it, then stops it with SIGINT (as Ctrl+C does) and returns everything it
    /// printed.
    /// </summary>
    private static async Task<CliResult> ServeAndStop(Func<HttpClient, Task> use, params string[] arguments)
    {
        var (serving, addresses) = await ServingProcess.StartAsync(TollgateProcess(null, new[] { "feed", "serve", "--listen", "http://127.0.0.1:0" }.Concat(arguments)),
            "tollgate feed: serving ");
        using var feed = serving;
        using var http = new HttpClient { BaseAddress = addresses[0], Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("-/ping")).StatusCode);
        await use(http);
        await feed.InterruptAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await feed.Process.WaitForExitAsync(timeout.Token);
        return new CliResult(feed.Process.ExitCode, await feed.Stdout, await feed.Stderr());
    }

    [Fact]
    public async Task Serve_PortInUse_Exit2WithOneSentenceAndNoStackTrace()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        var port = ((System.Net.IPEndPoint)busy.LocalEndpoint).Port;

        var result = await Tollgate(null, "feed", "serve", "--listen", $"http://127.0.0.1:{port}", "--upstream", "http://127.0.0.1:9/",
            "--db", Database(folder), "--storage", Path.Combine(folder, "storage"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"cannot listen on http://127.0.0.1:{port}/", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("address already in use", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Microsoft.", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_NoAdvisoryDatabase_RefusesToStartUnlessNoAdvisoriesIsGiven()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        var home = new Dictionary<string, string> { ["TOLLGATE_HOME"] = folder };

        var refused = await Tollgate(home, "feed", "serve", "--listen", "http://127.0.0.1:0", "--upstream", "http://127.0.0.1:9/", "--storage", Path.Combine(folder, "storage"));

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("no advisory database", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("--no-advisories", refused.Stderr, StringComparison.Ordinal);

        var served = await ServeAndStop(_ => Task.CompletedTask, "--upstream", "http://127.0.0.1:9/", "--storage", Path.Combine(folder, "storage"), "--no-advisories");
        Assert.Contains("serving without advisory checks", served.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PackumentWithManyRefusedVersions_LogsOneLinePerRequest()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        await using var upstream = await global::Tollgate.Server.Tests.Feeds.Npm.UpstreamFixture.StartAsync();
        var recorded = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(global::Tollgate.Server.Tests.Feeds.Npm.UpstreamFixture.DataFolder, "packuments", "scarf__scarf.json")))!;
        var versions = recorded["versions"]!.AsObject().Count;

        // Every version of @scarf/scarf runs a postinstall script, which the built-in policy does not allow.
        // No version is left, so the feed answers 404 with the reason; the log still says why in one line.
        var result = await ServeAndStop(async http => Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("@scarf%2fscarf")).StatusCode),
            "--upstream", upstream.BaseUrl.AbsoluteUri, "--db", Database(folder), "--storage", Path.Combine(folder, "storage"));

        Assert.True(versions > 5, $"the fixture has {versions} versions");
        var lines = result.Stderr.Split('\n').Where(l => l.Contains("@scarf/scarf", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.Contains($"@scarf/scarf: {versions} versions refused", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_UpstreamUnreachable_LogsTheFailureAndAnswers502()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        var status = 0;
        using var refusing = RefusingPort(out var port);

        var result = await ServeAndStop(async http => status = (int)(await http.GetAsync("is-number")).StatusCode,
            "--upstream", $"http://127.0.0.1:{port}/", "--db", Database(folder), "--storage", Path.Combine(folder, "storage"));

        Assert.Equal(502, status);
        Assert.Contains("is-number: upstream failed and nothing is cached, answered 502", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_DatabaseWithoutNpmRecords_RefusesToStart()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        // A hand-written PyPI record: the database is valid, but says nothing about npm packages.
        var records = Path.Combine(folder, "records");
        Directory.CreateDirectory(records);
        await File.WriteAllTextAsync(Path.Combine(records, "PYSEC-2099-1.json"), """
            { "id": "PYSEC-2099-1", "modified": "2099-01-01T00:00:00Z",
              "affected": [ { "package": { "ecosystem": "PyPI", "name": "tollgate-fixture" }, "versions": [ "1.0" ] } ] }
            """);
        var db = Path.Combine(folder, "pypi.db");
        var import = await Tollgate(null, "db", "import", records, "--db", db);
        Assert.True(import.ExitCode == 0, import.Stderr);

        var result = await Tollgate(null, "feed", "serve", "--listen", "http://127.0.0.1:0", "--upstream", "http://127.0.0.1:9/",
            "--db", db, "--storage", Path.Combine(folder, "storage"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("has no npm records", result.Stderr, StringComparison.Ordinal);
    }
}
