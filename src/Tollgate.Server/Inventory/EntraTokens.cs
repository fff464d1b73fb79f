using System.Net;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Tollgate.Server.Inventory;

/// <summary>
/// Microsoft Entra ID bearer tokens the server accepts besides its own API tokens: issued by <see cref="Tenant"/>
/// for one of <see cref="Audiences"/> (the server's app registration: its client id or Application ID URI), signed by
/// a key the tenant publishes, not expired. What the caller may do comes from the token's app roles
/// (<see cref="WriteRole"/>, <see cref="ReadRole"/>), which an administrator assigns to a CI pipeline's managed
/// identity or service principal, or to people.
/// </summary>
public sealed record EntraOptions(string Tenant, IReadOnlyList<string> Audiences)
{
    /// <summary>The public cloud's authority; a sovereign cloud has its own.</summary>
    public static Uri PublicCloud { get; } = new("https://login.microsoftonline.com/");

    /// <summary>Where the tenant's OpenID Connect metadata is published (<c>{authority}/{tenant}/v2.0/.well-known/openid-configuration</c>).</summary>
    public Uri Authority { get; init; } = PublicCloud;

    public string WriteRole { get; init; } = "Inventory.Write";

    public string ReadRole { get; init; } = "Inventory.Read";
}

/// <summary>Validates Entra ID access tokens against the tenant's published signing keys (fetched once, refreshed as the library decides).</summary>
internal sealed class EntraTokens
{
    private readonly EntraOptions _options;
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _metadata;
    private readonly JsonWebTokenHandler _handler = new();

    public EntraTokens(EntraOptions options, HttpClient? http = null)
    {
        _options = options;
        var authority = options.Authority.AbsoluteUri.EndsWith('/') ? options.Authority : new Uri(options.Authority.AbsoluteUri + "/");
        var metadata = new Uri(authority, $"{Uri.EscapeDataString(options.Tenant)}/v2.0/.well-known/openid-configuration");
        // HTTPS always, except to a loopback authority (a test's local issuer).
        var retriever = new HttpDocumentRetriever(http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(15) }) { RequireHttps = !IsLoopback(authority) };
        _metadata = new ConfigurationManager<OpenIdConnectConfiguration>(metadata.AbsoluteUri, new OpenIdConnectConfigurationRetriever(), retriever);
    }

    private static bool IsLoopback(Uri uri) => uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>True when <paramref name="token"/> has the form of a JWT (so it is not one of the server's own tokens).</summary>
    public bool LooksLikeJwt(string token) => token.Count(c => c == '.') == 2 && _handler.CanReadToken(token);

    /// <summary>
    /// The scope the token grants, or the HTTP status and the reason it is refused: 401 for a token that is not valid
    /// here, 403 for a valid one without either role, 503 when the tenant's keys cannot be fetched.
    /// </summary>
    public async Task<(TokenScope? Scope, int Status, string? Error)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        OpenIdConnectConfiguration config;
        try
        {
            config = await _metadata.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or IOException)
        {
            return (null, 503, $"the Entra ID keys of tenant {_options.Tenant} could not be fetched from {_options.Authority.Host}; try again later");
        }
        // v2.0 tokens carry the metadata's issuer; v1.0 tokens (the default for an app registration, and what a managed
        // identity gets) carry the tenant's STS issuer.
        var tenantId = config.Issuer.TrimEnd('/').Split('/') is { Length: >= 2 } parts && parts[^1] == "v2.0" ? parts[^2] : _options.Tenant;
        var parameters = new TokenValidationParameters
        {
            ValidIssuers = [config.Issuer, $"https://sts.windows.net/{tenantId}/"],
            ValidAudiences = _options.Audiences,
            IssuerSigningKeys = config.SigningKeys,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromMinutes(2),
        };
        var result = await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            var why = result.Exception switch
            {
                SecurityTokenExpiredException => "it has expired",
                SecurityTokenNotYetValidException => "it is not valid yet",
                SecurityTokenInvalidAudienceException => "it is for another audience than this server's (--entra-audience)",
                SecurityTokenInvalidIssuerException => $"it was not issued by tenant {_options.Tenant}",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "its signature does not verify with the tenant's keys",
                _ => "it is not a valid access token",
            };
            return (null, 401, $"the Entra ID token was refused: {why}");
        }
        var roles = Roles(result.Claims.TryGetValue("roles", out var value) ? value : null);
        if (roles.Contains(_options.WriteRole))
        {
            return (TokenScope.Write, 200, null);
        }
        if (roles.Contains(_options.ReadRole))
        {
            return (TokenScope.Read, 200, null);
        }
        return (null, 403, $"the Entra ID token is valid but has neither app role {_options.WriteRole} nor {_options.ReadRole}; assign one to the caller in the app registration");
    }

    private static HashSet<string> Roles(object? claim) => claim switch
    {
        string one => [one],
        IEnumerable<object> many => [.. many.Select(r => r.ToString() ?? "")],
        _ => [],
    };
}
