using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tollgate.Ecosystems;
using Tollgate.Graph;
using Tollgate.Sbom;
using Tollgate.Server.Inventory;
using Tollgate.Tests.Inventory;

namespace Tollgate.Server.Tests.Inventory;

/// <summary>
/// The inventory API and dashboard over real HTTP on 127.0.0.1, on a SQLite file and on a real PostgreSQL server,
/// with SBOMs written by Tollgate from the example MCP server's real package-lock.json.
/// </summary>
public sealed class InventoryApiTests
{
    public static IEnumerable<object[]> Kinds() => StoreTargets.Kinds();

    private static string ExampleFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tollgate.slnx")))
        {
            dir = dir.Parent;
        }
        return Path.Combine(dir!.FullName, "examples", "mcp-server-npm");
    }

    private static string ExampleSbom(SbomFormat format)
    {
        var diagnostics = new Tollgate.Inputs.DiagnosticBag();
        var graph = EcosystemReaders.Discovery().Read([ExampleFolder()], diagnostics);
        Assert.False(diagnostics.HasErrors);
        var options = new SbomOptions(SbomOptions.DefaultVersion(format), DateTimeOffset.UnixEpoch, true, "0.0.0", "weather-mcp");
        return format == SbomFormat.Spdx ? SpdxWriter.Write(graph, options) : CycloneDxWriter.Write(graph, options);
    }

    private sealed class Server : IAsyncDisposable
    {
        public required InventoryHost Host { get; init; }
        public required HttpClient Http { get; init; }
        public required string WriteToken { get; init; }
        public required string ReadToken { get; init; }

        public static async Task<Server> StartAsync(string kind, bool anonymous = false, Func<InventoryServerOptions, InventoryServerOptions>? configure = null)
        {
            var tokensFile = Path.Combine(Directory.CreateTempSubdirectory("tollgate-tokens-").FullName, "tokens.txt");
            var (write, writeEntry) = ApiTokens.Create("ci", TokenScope.Write);
            var (read, readEntry) = ApiTokens.Create("reader", TokenScope.Read);
            await File.WriteAllTextAsync(tokensFile, ApiTokens.Line(writeEntry) + "\n# a comment\n" + ApiTokens.Line(readEntry) + "\n");
            Assert.True(ApiTokens.TryLoad(tokensFile, out var tokens, out var error), error);
            var options = new InventoryServerOptions(new Uri("http://127.0.0.1:0"), StoreTargets.NewStore(kind), tokens, anonymous,
                AdvisoryDatabase: Path.Combine(Directory.CreateTempSubdirectory("tollgate-nodb-").FullName, "advisories.db"));
            var (host, problems) = InventoryHost.Create(configure?.Invoke(options) ?? options);
            Assert.Empty(problems);
            await host!.StartAsync();
            return new Server { Host = host, Http = new HttpClient { BaseAddress = host.Address }, WriteToken = write, ReadToken = read };
        }

        public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, string? body = null)
        {
            var request = new HttpRequestMessage(method, path);
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }
            return Http.SendAsync(request);
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await Host.StopAsync();
            await Host.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Upload_CycloneDxThenSpdx_ListsHistoryAffectedAndDiff(string kind)
    {
        await using var server = await Server.StartAsync(kind);
        var cdx = ExampleSbom(SbomFormat.CycloneDx);
        var expectedComponents = JsonDocument.Parse(cdx).RootElement.GetProperty("components").GetArrayLength();

        using var first = await server.SendAsync(HttpMethod.Post, "/api/v1/deployments/weather-mcp/sboms?environment=prod&version=1.0.0&commit=0123abc", server.WriteToken, cdx);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var snapshot = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("deployments")[0];
        Assert.Equal(expectedComponents, snapshot.GetProperty("components").GetInt32());
        using var second = await server.SendAsync(HttpMethod.Post, "/api/v1/deployments/weather-mcp/sboms?environment=prod&version=1.0.1", server.WriteToken, ExampleSbom(SbomFormat.Spdx));
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);

        using var list = await server.SendAsync(HttpMethod.Get, "/api/v1/deployments", server.ReadToken);
        var deployments = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.GetProperty("deployments");
        var only = Assert.Single(deployments.EnumerateArray());
        Assert.Equal("1.0.1", only.GetProperty("version").GetString());

        using var history = await server.SendAsync(HttpMethod.Get, "/api/v1/deployments/weather-mcp/snapshots", server.ReadToken);
        var ids = JsonDocument.Parse(await history.Content.ReadAsStringAsync()).RootElement.GetProperty("deployments").EnumerateArray().Select(s => s.GetProperty("snapshot").GetInt64()).ToList();
        Assert.Equal(2, ids.Count);

        // The example's package-lock.json pins axios 1.5.1 as a direct dependency.
        using var affected = await server.SendAsync(HttpMethod.Get, "/api/v1/affected?q=" + Uri.EscapeDataString("axios@<1.6.0"), server.ReadToken);
        Assert.Equal(HttpStatusCode.OK, affected.StatusCode);
        var hit = Assert.Single(JsonDocument.Parse(await affected.Content.ReadAsStringAsync()).RootElement.GetProperty("affected").EnumerateArray());
        Assert.Equal("weather-mcp", hit.GetProperty("deployment").GetString());
        Assert.Equal("pkg:npm/axios@1.5.1", hit.GetProperty("component").GetProperty("purl").GetString());

        // The same lockfile written as CycloneDX and as SPDX holds the same packages.
        using var diff = await server.SendAsync(HttpMethod.Get, $"/api/v1/deployments/weather-mcp/diff?old={ids[1]}&new={ids[0]}", server.ReadToken);
        Assert.Equal(HttpStatusCode.OK, diff.StatusCode);
        Assert.Equal(0, JsonDocument.Parse(await diff.Content.ReadAsStringAsync()).RootElement.GetProperty("changes").GetArrayLength());

        using var page = await server.SendAsync(HttpMethod.Get, "/?q=axios", server.ReadToken);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("1 deployment(s) affected by axios", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/deployments/weather-mcp\"", html, StringComparison.Ordinal);

        using var download = await server.SendAsync(HttpMethod.Get, $"/deployments/weather-mcp/sbom?snapshot={ids[0]}&format=cyclonedx", server.ReadToken);
        var reread = Path.Combine(Directory.CreateTempSubdirectory("tollgate-download-").FullName, "sbom.cdx.json");
        await File.WriteAllBytesAsync(reread, await download.Content.ReadAsByteArrayAsync());
        var diagnostics = new Tollgate.Inputs.DiagnosticBag();
        Assert.Equal(expectedComponents, SbomReader.Read(reread, diagnostics).Components.Length);
        Assert.False(diagnostics.HasErrors);
    }

    [Fact]
    public async Task Fleet_ManyDeployments_ShownAPageAtATimeWithNextAndPrevious()
    {
        await using var server = await Server.StartAsync("sqlite", anonymous: true);
        using (var store = Tollgate.Inventory.InventoryStore.Open(server.Host.Options.Store))
        {
            var zod = new Component { Ecosystem = Ecosystem.Npm, Name = "zod", Version = "3.23.8", Purl = PackageUrl.For(Ecosystem.Npm, "zod", "3.23.8"), Direct = true };
            var graph = new DependencyGraph([zod], [], [], ImmutableArray<Diagnostic>.Empty);
            for (var i = 0; i < 205; i++)
            {
                store.Add(graph, $"mcp-{i:D3}", "1", "prod", null, DateTimeOffset.UnixEpoch.AddMinutes(i));
            }
        }

        var first = await (await server.Http.GetAsync("/")).Content.ReadAsStringAsync();
        var second = await (await server.Http.GetAsync("/?from=200")).Content.ReadAsStringAsync();

        // Newest SBOM first (no hits anywhere): mcp-204 … mcp-005 on the first page, the five oldest on the second.
        Assert.Contains("Shown: 1–200 of 205", first, StringComparison.Ordinal);
        Assert.Contains("href=\"/deployments/mcp-204\"", first, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/deployments/mcp-004\"", first, StringComparison.Ordinal);
        Assert.Contains("href=\"/?from=200\"", first, StringComparison.Ordinal);
        Assert.Contains("Shown: 201–205 of 205", second, StringComparison.Ordinal);
        Assert.Contains("href=\"/deployments/mcp-000\"", second, StringComparison.Ordinal);
        Assert.Contains("href=\"/?from=0\"", second, StringComparison.Ordinal);
        Assert.DoesNotContain("Next 200 deployments", second, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Auth_NoTokenUnknownTokenOrReadTokenWriting_IsRefusedAndStoresNothing(string kind)
    {
        await using var server = await Server.StartAsync(kind);
        var cdx = ExampleSbom(SbomFormat.CycloneDx);
        using var none = await server.SendAsync(HttpMethod.Get, "/api/v1/deployments", null);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
        using var dashboard = await server.SendAsync(HttpMethod.Get, "/", null);
        Assert.Equal(HttpStatusCode.Unauthorized, dashboard.StatusCode);
        using var unknown = await server.SendAsync(HttpMethod.Post, "/api/v1/deployments/d/sboms", "tgi_not-a-real-token", cdx);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        using var readWriting = await server.SendAsync(HttpMethod.Post, "/api/v1/deployments/d/sboms", server.ReadToken, cdx);
        Assert.Equal(HttpStatusCode.Forbidden, readWriting.StatusCode);
        using var list = await server.SendAsync(HttpMethod.Get, "/api/v1/deployments", server.ReadToken);
        Assert.Equal(0, JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.GetProperty("deployments").GetArrayLength());
    }

    [Fact]
    public async Task AnonymousRead_WhenEnabled_ReadsButCannotWrite()
    {
        await using var server = await Server.StartAsync("sqlite", anonymous: true);
        using var read = await server.SendAsync(HttpMethod.Get, "/api/v1/deployments", null);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using var openapi = await server.SendAsync(HttpMethod.Get, "/openapi/v1.json", null);
        var paths = JsonDocument.Parse(await openapi.Content.ReadAsStringAsync()).RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/deployments/{deployment}/sboms", out _));
        Assert.True(paths.TryGetProperty("/api/v1/affected", out _));
        using var write = await server.SendAsync(HttpMethod.Post, "/api/v1/deployments/d/sboms", null, ExampleSbom(SbomFormat.CycloneDx));
        Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
    }

    [Fact]
    public async Task Upload_MalformedSbom_IsA400WithThePositionAndStoresNothing()
    {
        await using var server = await Server.StartAsync("sqlite");
        using var bad = await server.SendAsync(HttpMethod.Post, "/api/v1/deployments/d/sboms", server.WriteToken, "{\"bomFormat\": \"CycloneDX\", ");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("line 1", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var list = await server.SendAsync(HttpMethod.Get, "/api/v1/deployments", server.ReadToken);
        Assert.Equal(0, JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.GetProperty("deployments").GetArrayLength());
    }

    [Fact]
    public void Create_NonLoopbackOrNoWayIn_ReportsProblems()
    {
        var (host, problems) = InventoryHost.Create(new InventoryServerOptions(new Uri("http://0.0.0.0:8080"), StoreTargets.NewStore("sqlite"), ApiTokens.None, false));
        Assert.Null(host);
        Assert.Contains(problems, p => p.Contains("not a loopback address", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("no API tokens", StringComparison.Ordinal));
    }

    private static (int Exit, string Out, string Err) Cli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = Tollgate.Cli.TollgateCli.Run(args, new Tollgate.Cli.Terminal(stdout, stderr));
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task InventoryCli_WithServer_AddsListsAndFindsOverTheApi(string kind)
    {
        await using var server = await Server.StartAsync(kind);
        var url = server.Host.Address.AbsoluteUri;
        var add = Cli("inventory", "add", ExampleFolder(), "--deployment", "weather-mcp", "--environment", "prod", "--server", url, "--token", server.WriteToken, "--format", "json");
        Assert.True(add.Exit == 0, add.Err);
        Assert.Contains("TOLLGATE_TOKEN", add.Err, StringComparison.Ordinal);
        var readWriting = Cli("inventory", "add", ExampleFolder(), "--deployment", "x", "--server", url, "--token", server.ReadToken);
        Assert.Equal(2, readWriting.Exit);
        Assert.Contains("403", readWriting.Err, StringComparison.Ordinal);

        var list = Cli("inventory", "list", "--server", url, "--token", server.ReadToken, "--format", "json");
        Assert.Equal(0, list.Exit);
        Assert.Equal("weather-mcp", JsonDocument.Parse(list.Out).RootElement.GetProperty("deployments")[0].GetProperty("deployment").GetString());
        var affected = Cli("inventory", "affected", "axios@<1.6.0", "--server", url, "--token", server.ReadToken);
        Assert.Equal(0, affected.Exit);
        Assert.Contains("1 deployment(s) affected by axios@<1.6.0 (1 hit(s))", affected.Out, StringComparison.Ordinal);
    }
}
