using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tollgate.Ecosystems;
using Tollgate.Sbom;
using Tollgate.Server.Inventory;
using Tollgate.Tests.Inventory;
using Xunit.Abstractions;

namespace Tollgate.Server.Tests.Dashboard;

/// <summary>
/// The dashboard in the real Chromium (Debian's chromium, driven by playwright-core from tests/tools/browser):
/// fleet page, package search, deployment, SBOM download and diff at 1280 px and phone width, with no console
/// errors and no serious or critical axe-core violation. Screenshots stay in the test output folder.
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output)
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tollgate.slnx")))
        {
            dir = dir.Parent;
        }
        return dir!.FullName;
    }

    /// <summary>A feed storage folder whose audit log holds a few days of decisions in two ecosystems.</summary>
    private static string SeedFeedLog()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-").FullName;
        var now = DateTimeOffset.UtcNow;
        using var log = Tollgate.Server.Feeds.Npm.FeedAuditLog.Open(folder);
        log.Write([
            new(now.AddDays(-3), "express", "4.21.2", "allowed", null, "allowed", "127.0.0.1", "packument", false) { Count = 40 },
            new(now.AddDays(-2), "crossenv", "6.1.1", "blocked", "MAL-2099-0001", "crossenv@6.1.1 is known to be malicious (MAL-2099-0001: Malicious code in crossenv)", "127.0.0.1", "packument", false) { Count = 7 },
            new(now.AddDays(-1), "crossenv", "6.1.1", "blocked", "MAL-2099-0001", "crossenv@6.1.1 is known to be malicious (MAL-2099-0001: Malicious code in crossenv)", "127.0.0.1", "tarball", false),
            new(now.AddDays(-1), "left-pad", "1.4.0", "hidden", "minimumReleaseAge", "left-pad@1.4.0 was published less than minimumReleaseAge 72h ago", "127.0.0.1", "packument", false),
            new(now, "pkg:pypi/evil-fixture", "1.0.1", "blocked", "MAL-2099-0101", "evil-fixture 1.0.1 is known to be malicious (MAL-2099-0101)", "127.0.0.1", "file", false),
        ]);
        return folder;
    }

    [Fact]
    public async Task Dashboard_InChromium_SearchesOpensDownloadsAndDiffsWithoutErrorsOrSeriousViolations()
    {
        var tools = Path.Combine(RepoRoot(), "tests", "tools", "browser");
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"no Chromium at {chromium}: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH");
        Assert.True(Directory.Exists(Path.Combine(tools, "node_modules", "playwright-core")),
            "playwright-core is not installed: npm ci --ignore-scripts --no-audit --no-fund --prefix tests/tools/browser");

        var tokensFile = Path.Combine(Directory.CreateTempSubdirectory("tollgate-tokens-").FullName, "tokens.txt");
        var (write, entry) = ApiTokens.Create("ci", TokenScope.Write);
        await File.WriteAllTextAsync(tokensFile, ApiTokens.Line(entry) + "\n");
        Assert.True(ApiTokens.TryLoad(tokensFile, out var tokens, out _));
        var feedStorage = SeedFeedLog();
        // The real GitHub advisories: each upload is matched at once, so the pages show findings.
        var db = Path.Combine(Directory.CreateTempSubdirectory("tollgate-db-").FullName, "advisories.db");
        var importDiagnostics = new Tollgate.Inputs.DiagnosticBag();
        Assert.True(Tollgate.Advisories.AdvisoryImporter.Import([Path.Combine(RepoRoot(), "tests", "Tollgate.Tests", "testdata", "reference", "osv", "github")],
            new Tollgate.Advisories.AdvisoryImportOptions { DatabasePath = db }, importDiagnostics).Succeeded, string.Join("\n", importDiagnostics.Items));
        var (host, problems) = InventoryHost.Create(new InventoryServerOptions(new Uri("http://127.0.0.1:0"), StoreTargets.NewStore("sqlite"), tokens, AllowAnonymousRead: true, AdvisoryDatabase: db)
        {
            FeedStorage = feedStorage,
            RescanInterval = TimeSpan.Zero,
        });
        Assert.Empty(problems);
        await using (host!)
        {
            await host!.StartAsync();
            using var http = new HttpClient { BaseAddress = host.Address };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", write);
            // Seed: the example MCP server as two deployments, one of them with two snapshots (one without axios).
            var diagnostics = new Tollgate.Inputs.DiagnosticBag();
            var graph = EcosystemReaders.Discovery().Read([Path.Combine(RepoRoot(), "examples", "mcp-server-npm")], diagnostics);
            var options = new SbomOptions("1.6", DateTimeOffset.UnixEpoch, true, "0.0.0", "weather-mcp");
            var withoutAxios = new Tollgate.Graph.DependencyGraph(graph.Components.Where(c => c.Name != "axios"), [], [], []);
            foreach (var (deployment, sbom) in new[]
            {
                ("weather-mcp", CycloneDxWriter.Write(withoutAxios, options)),
                ("weather-mcp", CycloneDxWriter.Write(graph, options)),
                ("calendar-mcp", SpdxWriter.Write(graph, options with { SpecVersion = "2.3" })),
            })
            {
                using var response = await http.PostAsync($"/api/v1/deployments/{deployment}/sboms?environment=prod", new StringContent(sbom, Encoding.UTF8, "application/json"));
                Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
            }

            var artifacts = Path.Combine(AppContext.BaseDirectory, "browser-artifacts", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(artifacts);
            output.WriteLine($"screenshots: {artifacts}");
            var start = new ProcessStartInfo("node") { WorkingDirectory = tools, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { Path.Combine(tools, "dashboard-walk.mjs"), host.Address.AbsoluteUri, artifacts, "weather-mcp" })
            {
                start.ArgumentList.Add(arg);
            }
            start.Environment["CHROMIUM_PATH"] = chromium;
            using var node = Process.Start(start)!;
            var stdout = node.StandardOutput.ReadToEndAsync();
            var stderr = node.StandardError.ReadToEndAsync();
            await node.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(4));
            Assert.True(node.ExitCode == 0, $"dashboard-walk.mjs failed: {await stderr}");
            using var result = JsonDocument.Parse(await stdout);
            var root = result.RootElement;

            var errors = root.GetProperty("consoleErrors").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.True(errors.Count == 0, "console errors:\n" + string.Join("\n", errors));
            var violations = root.GetProperty("violations").EnumerateArray().Select(e => e.GetString()).ToList();
            Assert.True(violations.Count == 0, "axe-core serious/critical violations:\n" + string.Join("\n", violations));
            var screenshots = root.GetProperty("screenshots").EnumerateArray().Select(s => s.GetString()!).ToList();
            Assert.Equal(12, screenshots.Count);
            Assert.All(screenshots, s => Assert.True(new FileInfo(s).Length > 0, s));
            var texts = root.GetProperty("texts");
            Assert.Contains("2 deployment(s) affected by axios", texts.GetProperty("desktop-search").GetString(), StringComparison.Ordinal);
            Assert.Contains("axios@1.5.1", texts.GetProperty("desktop-search").GetString(), StringComparison.Ordinal);
            // The diff compares the snapshot without axios to the one with it.
            var diff = texts.GetProperty("desktop-diff").GetString()!;
            Assert.Contains("1 change(s)", diff, StringComparison.Ordinal);
            Assert.Contains("axios", diff, StringComparison.Ordinal);
            // Findings: the deployment page lists them with fixes; the Hits page has those found in the last day.
            var deploymentText = texts.GetProperty("desktop-deployment").GetString()!;
            Assert.Contains("Findings", deploymentText, StringComparison.Ordinal);
            Assert.Contains("GHSA-xvch-5gv4-984h", deploymentText, StringComparison.Ordinal);
            var hits = texts.GetProperty("desktop-hits").GetString()!;
            Assert.Contains("minimist@1.2.5", hits, StringComparison.Ordinal);
            Assert.Contains("calendar-mcp", hits, StringComparison.Ordinal);
            Assert.Contains("critical", hits, StringComparison.Ordinal);
            // The Feed page: the chart has bars, the most refused package and the newest refusal's reason are shown.
            var feed = texts.GetProperty("desktop-feed").GetString()!;
            Assert.Contains("crossenv", feed, StringComparison.Ordinal);
            Assert.Contains("MAL-2099-0001", feed, StringComparison.Ordinal);
            Assert.Contains("is known to be malicious", feed, StringComparison.Ordinal);
            Assert.Contains("pkg:pypi/evil-fixture", feed, StringComparison.Ordinal);
            Assert.True(int.Parse(texts.GetProperty("desktop-feed-svg-bars").GetString()!, System.Globalization.CultureInfo.InvariantCulture) >= 4);
            var download = root.GetProperty("download");
            Assert.Equal("CycloneDX", download.GetProperty("bomFormat").GetString());
            Assert.Equal(graph.Components.Length, download.GetProperty("components").GetInt32());
            await host.StopAsync();
        }
    }
}
