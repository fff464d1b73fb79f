using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Advisories;
using Tollgate.Inputs;
using Tollgate.Sbom;
using Tollgate.Server.Inventory;
using Tollgate.Tests.Inventory;

namespace Tollgate.Server.Tests.Inventory;

/// <summary>
/// The server's own rescans over real HTTP: an upload is matched at once, every deployment again when the advisory
/// database changes, each hit keeps the time it was first found, and new malicious hits are posted to a webhook
/// receiver on 127.0.0.1. Advisories are the real GitHub records under tests/Tollgate.Tests/testdata/reference/osv.
/// </summary>
public sealed class RescanTests
{
    public static IEnumerable<object[]> Kinds() => StoreTargets.Kinds();

    /// <summary>The real advisories that hit the example server's pinned versions (as InventoryCommandTests checks them).</summary>
    private static readonly string[] ExampleHits =
    [
        "GHSA-35jh-r3h4-6jhm lodash@4.17.20", "GHSA-8hc4-vh64-cxmj axios@1.5.1", "GHSA-pxg6-pf52-xh8x cookie@0.5.0",
        "GHSA-qwcr-r2fm-qrc7 body-parser@1.20.1", "GHSA-rv95-896h-c2vc express@4.18.2", "GHSA-wf5p-g6vw-rhxx axios@1.5.1",
        "GHSA-xvch-5gv4-984h minimist@1.2.5",
    ];

    private static string Repo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tollgate.slnx")))
        {
            dir = dir.Parent;
        }
        return dir!.FullName;
    }

    private static void Import(string db, params string[] sources)
    {
        var diagnostics = new DiagnosticBag();
        var result = AdvisoryImporter.Import(sources, new AdvisoryImportOptions { DatabasePath = db }, diagnostics);
        Assert.True(result.Succeeded, string.Join("\n", diagnostics.Items));
    }

    private static string GitHubRecords => Path.Combine(Repo(), "tests", "Tollgate.Tests", "testdata", "reference", "osv", "github");

    /// <summary>A made-up malicious-package record for a version the example pins (minimist 1.2.5); not a real advisory.</summary>
    private static string MaliciousRecordFolder()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-mal-").FullName;
        File.WriteAllText(Path.Combine(folder, "MAL-2099-0001.json"), """
            {"schema_version":"1.6.0","id":"MAL-2099-0001","modified":"2099-01-01T00:00:00Z","published":"2099-01-01T00:00:00Z",
             "summary":"Malicious code in minimist (test record)","details":"A test record, not a real advisory.",
             "affected":[{"package":{"ecosystem":"npm","name":"minimist"},"versions":["1.2.5"]}]}
            """);
        return folder;
    }

    private static string ExampleSbom()
    {
        var diagnostics = new DiagnosticBag();
        var graph = Tollgate.Ecosystems.EcosystemReaders.Discovery().Read([Path.Combine(Repo(), "examples", "mcp-server-npm")], diagnostics);
        Assert.False(diagnostics.HasErrors);
        return CycloneDxWriter.Write(graph, new SbomOptions(SbomOptions.DefaultVersion(SbomFormat.CycloneDx), DateTimeOffset.UnixEpoch, true, "0.0.0", "weather-mcp"));
    }

    private static List<string> Labels(JsonElement hits) =>
        [.. hits.EnumerateArray().Select(h => $"{h.GetProperty("advisoryId").GetString()} {h.GetProperty("hit").GetProperty("component").GetProperty("name").GetString()}@{h.GetProperty("hit").GetProperty("component").GetProperty("version").GetString()}")
            .Order(StringComparer.Ordinal)];

    private static async Task<JsonElement> GetJson(HttpClient http, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<HttpResponseMessage> Post(HttpClient http, string path, string token, string? body = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : new StringContent(body) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Upload_IsMatchedAtOnce_HitsCarryFoundTimeSeverityAndFix_AndTheDashboardCountsThem(string kind)
    {
        var db = Path.Combine(Directory.CreateTempSubdirectory("tollgate-db-").FullName, "advisories.db");
        Import(db, GitHubRecords);
        var (server, write, read) = await StartAsync(kind, o => o with { AdvisoryDatabase = db, RescanInterval = TimeSpan.Zero });
        await using var running = server;
        using var http = new HttpClient { BaseAddress = server.Address };
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        using (var upload = await Post(http, "/api/v1/deployments/weather-mcp/sboms?environment=prod", write, ExampleSbom()))
        {
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }
        var hits = await GetJson(http, "/api/v1/hits?since=1h", read);
        Assert.Equal(ExampleHits, Labels(hits.GetProperty("hits")));
        Assert.All(hits.GetProperty("hits").EnumerateArray(), h => Assert.InRange(h.GetProperty("foundAt").GetDateTimeOffset(), before, DateTimeOffset.UtcNow));
        var minimist = hits.GetProperty("hits").EnumerateArray().Single(h => h.GetProperty("advisoryId").GetString() == "GHSA-xvch-5gv4-984h");
        Assert.Equal(("critical", "1.2.6"), (minimist.GetProperty("severity").GetString(), minimist.GetProperty("fixedIn").GetString()));
        Assert.Equal("weather-mcp", hits.GetProperty("lastRescan").GetProperty("deployment").GetString());
        Assert.Equal(0, (await GetJson(http, "/api/v1/hits?since=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O")), read)).GetProperty("total").GetInt32());
        using (var bad = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/hits?since=yesterday") { Headers = { Authorization = new("Bearer", read) } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        // A rescan of everything finds nothing new: the hits keep their first found time.
        using (var rescan = await Post(http, "/api/v1/rescan", write))
        {
            var body = JsonDocument.Parse(await rescan.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(0, body.GetProperty("newlyAffected").GetArrayLength());
        }
        var again = await GetJson(http, "/api/v1/hits", read);
        Assert.Equal(hits.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("foundAt").GetDateTimeOffset()).Order(),
            again.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("foundAt").GetDateTimeOffset()).Order());
        var runs = (await GetJson(http, "/api/v1/rescan", read)).GetProperty("rescans");
        Assert.Equal([null, "weather-mcp"], runs.EnumerateArray().Select(r => r.TryGetProperty("deployment", out var d) ? d.GetString() : null));

        // The fleet page counts them (2 critical, the rest high or lower) and the deployment page lists each with its fix.
        var expected = hits.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("severity").GetString()).ToList();
        var fleet = await GetText(http, "/", read);
        Assert.Contains($"<td class=\"num bad\"><strong>{expected.Count(s => s == "critical")}</strong></td>", fleet, StringComparison.Ordinal);
        Assert.Contains("GHSA-xvch-5gv4-984h", fleet, StringComparison.Ordinal);
        var page = await GetText(http, "/deployments/weather-mcp", read);
        Assert.Contains("<h2>Findings</h2>", page, StringComparison.Ordinal);
        Assert.Contains("<td>1.2.6</td>", page, StringComparison.Ordinal);
        Assert.Contains("minimist@1.2.5", await GetText(http, "/hits?since=24h", read), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task DatabaseChange_TriggersARescan_AndNewMaliciousHitsArePostedToTheWebhook(string kind)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var db = Path.Combine(Directory.CreateTempSubdirectory("tollgate-db-").FullName, "advisories.db");
        var (server, write, read) = await StartAsync(kind, o => o with
        {
            AdvisoryDatabase = db,
            RescanInterval = TimeSpan.FromMilliseconds(200),
            Webhook = receiver.Url,
        });
        await using var running = server;
        using var http = new HttpClient { BaseAddress = server.Address };

        // No advisory database yet: the upload is stored, its hits are not known, and the dashboard says so.
        using (var upload = await Post(http, "/api/v1/deployments/weather-mcp/sboms", write, ExampleSbom()))
        {
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }
        Assert.False((await GetJson(http, "/api/v1/hits", read)).TryGetProperty("lastRescan", out _));
        Assert.Contains("not checked yet", await GetText(http, "/", read), StringComparison.Ordinal);

        // `tollgate db update` on the server: the database appears; the server rescans by itself.
        Import(db, GitHubRecords);
        var hits = await WaitFor(async () => await GetJson(http, "/api/v1/hits", read), h => h.GetProperty("total").GetInt32() > 0);
        Assert.Equal(ExampleHits, Labels(hits.GetProperty("hits")));
        Assert.Empty(receiver.Bodies); // nothing malicious, no webhook

        // A malicious record arrives in the next update: one new hit, found later than the others, posted to the webhook.
        Import(db, GitHubRecords, MaliciousRecordFolder());
        var withMalware = await WaitFor(async () => await GetJson(http, "/api/v1/hits", read), h => h.GetProperty("total").GetInt32() > ExampleHits.Length);
        var newest = withMalware.GetProperty("hits")[0];
        Assert.Equal(("MAL-2099-0001", true), (newest.GetProperty("advisoryId").GetString(), newest.GetProperty("malicious").GetBoolean()));
        Assert.True(newest.GetProperty("foundAt").GetDateTimeOffset() > withMalware.GetProperty("hits")[1].GetProperty("foundAt").GetDateTimeOffset());
        var since = Uri.EscapeDataString(newest.GetProperty("foundAt").GetDateTimeOffset().ToString("O"));
        Assert.Equal(1, (await GetJson(http, "/api/v1/hits?since=" + since, read)).GetProperty("total").GetInt32());

        var posted = await WaitFor(() => Task.FromResult(receiver.Bodies.ToArray()), b => b.Length > 0);
        var payload = JsonDocument.Parse(Assert.Single(posted)).RootElement;
        Assert.StartsWith("Tollgate: 1 new hit(s), 1 malicious, in 1 deployment(s)", payload.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Contains("weather-mcp: minimist@1.2.5 MAL-2099-0001 (malicious)", payload.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("MAL-2099-0001", Assert.Single(payload.GetProperty("hits").EnumerateArray()).GetProperty("advisoryId").GetString());
    }

    [Fact]
    public void Create_PlainHttpWebhookToAnotherHost_IsAProblem()
    {
        var (host, problems) = InventoryHost.Create(new InventoryServerOptions(new Uri("http://127.0.0.1:0"), StoreTargets.NewStore("sqlite"), ApiTokens.None, true)
        {
            Webhook = new Uri("http://hooks.example.com/T0/B0/secret"),
        });
        Assert.Null(host);
        var problem = Assert.Single(problems);
        Assert.Contains("--webhook: expected an https:// URL", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", problem, StringComparison.Ordinal);
    }

    private static async Task<(InventoryHost Host, string Write, string Read)> StartAsync(string kind, Func<InventoryServerOptions, InventoryServerOptions> configure)
    {
        var (write, writeEntry) = ApiTokens.Create("ci", TokenScope.Write);
        var (read, readEntry) = ApiTokens.Create("reader", TokenScope.Read);
        var tokensFile = Path.Combine(Directory.CreateTempSubdirectory("tollgate-tokens-").FullName, "tokens.txt");
        await File.WriteAllTextAsync(tokensFile, ApiTokens.Line(writeEntry) + "\n" + ApiTokens.Line(readEntry) + "\n");
        Assert.True(ApiTokens.TryLoad(tokensFile, out var tokens, out var error), error);
        var (host, problems) = InventoryHost.Create(configure(new InventoryServerOptions(new Uri("http://127.0.0.1:0"), StoreTargets.NewStore(kind), tokens, false)));
        Assert.Empty(problems);
        await host!.StartAsync();
        return (host, write, read);
    }

    private static async Task<string> GetText(HttpClient http, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Polls until <paramref name="done"/> holds (the scheduled rescan runs in the background), for at most 30 s.</summary>
    private static async Task<T> WaitFor<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                Assert.True(done(value), "the condition did not hold within 30 s");
                return value;
            }
            await Task.Delay(100);
        }
    }

    /// <summary>A webhook receiver on 127.0.0.1 that keeps every body posted to it.</summary>
    private sealed class WebhookReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private WebhookReceiver(WebApplication app) => _app = app;

        public ConcurrentQueue<string> Bodies { get; } = new();

        public Uri Url { get; private set; } = null!;

        public static async Task<WebhookReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var receiver = new WebhookReceiver(app);
            app.MapPost("/hooks/T0/B0/secret", async (HttpContext context) =>
            {
                using var reader = new StreamReader(context.Request.Body);
                receiver.Bodies.Enqueue(await reader.ReadToEndAsync());
                return Results.Ok();
            });
            await app.StartAsync();
            receiver.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hooks/T0/B0/secret");
            return receiver;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
