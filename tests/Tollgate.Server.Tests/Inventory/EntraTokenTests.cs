using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tollgate.Server.Inventory;
using Tollgate.Tests.Inventory;

namespace Tollgate.Server.Tests.Inventory;

/// <summary>
/// Entra ID bearer tokens on the inventory API, over real HTTP: a local issuer on 127.0.0.1 publishes OpenID Connect
/// metadata and a signing key as Entra ID does (<c>{authority}/{tenant}/v2.0/.well-known/openid-configuration</c>,
/// <c>jwks_uri</c>), and the tests sign access tokens with that key (or another one), in the v2.0 and v1.0 issuer forms.
/// </summary>
public sealed class EntraTokenTests : IAsyncLifetime
{
    private const string TenantId = "72f988bf-0000-4000-8000-2d7cd011db47";
    private const string Audience = "api://tollgate-inventory";
    private readonly RSA _key = RSA.Create(2048);
    private readonly RSA _otherKey = RSA.Create(2048);
    private WebApplication _issuer = null!;
    private Uri _authority = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _issuer = builder.Build();
        var parameters = _key.ExportParameters(false);
        _issuer.MapGet("/{tenant}/v2.0/.well-known/openid-configuration", (string tenant) => Results.Text(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["issuer"] = $"{_authority}{TenantId}/v2.0",
            ["jwks_uri"] = $"{_authority}{TenantId}/discovery/v2.0/keys",
            ["authorization_endpoint"] = $"{_authority}{TenantId}/oauth2/v2.0/authorize",
            ["token_endpoint"] = $"{_authority}{TenantId}/oauth2/v2.0/token",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }), "application/json"));
        _issuer.MapGet("/{tenant}/discovery/v2.0/keys", () => Results.Text(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["keys"] = new[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = "RSA", ["use"] = "sig", ["kid"] = "test-key-1",
                    ["n"] = Base64UrlEncoder.Encode(parameters.Modulus!), ["e"] = Base64UrlEncoder.Encode(parameters.Exponent!),
                },
            },
        }), "application/json"));
        await _issuer.StartAsync();
        _authority = new Uri(_issuer.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
    }

    public async Task DisposeAsync()
    {
        await _issuer.DisposeAsync();
        _key.Dispose();
        _otherKey.Dispose();
    }

    private string Token(string[] roles, string? issuer = null, string audience = Audience, DateTime? expires = null, RSA? key = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? $"{_authority}{TenantId}/v2.0",
            Audience = audience,
            IssuedAt = (expires ?? now.AddHours(1)).AddHours(-2),
            NotBefore = (expires ?? now.AddHours(1)).AddHours(-2),
            Expires = expires ?? now.AddHours(1),
            Claims = new Dictionary<string, object> { ["tid"] = TenantId, ["oid"] = Guid.NewGuid().ToString(), ["roles"] = roles },
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key ?? _key) { KeyId = "test-key-1" }, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private static async Task<InventoryHost> StartServer(EntraOptions entra)
    {
        var (host, problems) = InventoryHost.Create(new InventoryServerOptions(new Uri("http://127.0.0.1:0"), StoreTargets.NewStore("sqlite"), ApiTokens.None, false,
            AdvisoryDatabase: Path.Combine(Directory.CreateTempSubdirectory("tollgate-nodb-").FullName, "advisories.db")) { Entra = entra, RescanInterval = TimeSpan.Zero });
        Assert.Empty(problems);
        await host!.StartAsync();
        return host;
    }

    private static async Task<(HttpStatusCode Status, string Body)> Send(InventoryHost host, HttpMethod method, string path, string token, string? body = null)
    {
        using var http = new HttpClient { BaseAddress = host.Address };
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private const string MinimalSbom = """
        {"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"zod","version":"3.23.8","purl":"pkg:npm/zod@3.23.8"}]}
        """;

    [Fact]
    public async Task EntraTokens_RolesDecideWhatTheCallerMayDo_AndInvalidTokensAreRefusedWithTheReason()
    {
        await using var host = await StartServer(new EntraOptions(TenantId, [Audience]) { Authority = _authority });

        // A CI managed identity with the write role uploads; v1.0 tokens (the STS issuer form) are accepted as well.
        var write = await Send(host, HttpMethod.Post, "/api/v1/deployments/weather-mcp/sboms", Token(["Inventory.Write"]), MinimalSbom);
        Assert.True(write.Status == HttpStatusCode.Created, write.Body);
        var v1 = await Send(host, HttpMethod.Post, "/api/v1/deployments/weather-mcp/sboms", Token(["Inventory.Write"], issuer: $"https://sts.windows.net/{TenantId}/"), MinimalSbom);
        Assert.True(v1.Status == HttpStatusCode.Created, v1.Body);

        // The read role reads but cannot write; no role at all is a 403 that says which roles count.
        var read = await Send(host, HttpMethod.Get, "/api/v1/deployments", Token(["Inventory.Read"]));
        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Contains("weather-mcp", read.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(host, HttpMethod.Post, "/api/v1/rescan", Token(["Inventory.Read"]))).Status);
        var noRole = await Send(host, HttpMethod.Get, "/api/v1/deployments", Token([]));
        Assert.Equal(HttpStatusCode.Forbidden, noRole.Status);
        Assert.Contains("neither app role Inventory.Write nor Inventory.Read", noRole.Body, StringComparison.Ordinal);

        // Refused with the reason, and nothing stored.
        foreach (var (token, reason) in new[]
        {
            (Token(["Inventory.Write"], expires: DateTime.UtcNow.AddMinutes(-10)), "it has expired"),
            (Token(["Inventory.Write"], audience: "api://another-app"), "another audience"),
            (Token(["Inventory.Write"], issuer: $"{_authority}00000000-1111-2222-3333-444444444444/v2.0"), "not issued by tenant"),
            (Token(["Inventory.Write"], key: _otherKey), "signature does not verify"),
        })
        {
            var refused = await Send(host, HttpMethod.Post, "/api/v1/deployments/intruder/sboms", token, MinimalSbom);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
            Assert.Contains(reason, refused.Body, StringComparison.Ordinal);
        }
        var tampered = Token(["Inventory.Read"]);
        var segments = tampered.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(segments[1])).Replace("Inventory.Read", "Inventory.Write", StringComparison.Ordinal);
        var forged = $"{segments[0]}.{Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payload))}.{segments[2]}";
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(host, HttpMethod.Post, "/api/v1/deployments/intruder/sboms", forged, MinimalSbom)).Status);
        var list = await Send(host, HttpMethod.Get, "/api/v1/deployments", Token(["Inventory.Read"]));
        Assert.DoesNotContain("intruder", list.Body, StringComparison.Ordinal);
        // A random string is neither kind of token.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(host, HttpMethod.Get, "/api/v1/deployments", "not-a-token")).Status);
    }

    [Fact]
    public async Task EntraMetadataUnreachable_IsA503_NotAPass()
    {
        // An authority where nothing listens (the port held for the test): the keys cannot be fetched, so no token can
        // be checked.
        using var refusing = Cli.FeedCommandTests.RefusingPort(out var port);
        await using var host = await StartServer(new EntraOptions(TenantId, [Audience]) { Authority = new Uri($"http://127.0.0.1:{port}/") });

        var answer = await Send(host, HttpMethod.Get, "/api/v1/deployments", Token(["Inventory.Read"]));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.Status);
        Assert.Contains("could not be fetched", answer.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_EntraTenantWithoutAudience_IsAProblem()
    {
        var (host, problems) = InventoryHost.Create(new InventoryServerOptions(new Uri("http://127.0.0.1:0"), StoreTargets.NewStore("sqlite"), ApiTokens.None, false)
        {
            Entra = new EntraOptions(TenantId, []),
        });
        Assert.Null(host);
        Assert.Contains(problems, p => p.Contains("--entra-tenant needs --entra-audience", StringComparison.Ordinal));
    }
}
