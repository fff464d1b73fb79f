using Tollgate.Graph;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// The npm registry protocol's metadata side: full packuments (not the abbreviated form, which leaves out
/// <c>time</c>, <c>_npmUser</c>, <c>maintainers</c> and <c>scripts</c>), through <see cref="RegistryHttp"/>'s cache,
/// with the registry's credentials. Scoped packages go to their scope's registry when .npmrc names one.
/// The raw calls (<see cref="GetPackumentBytesAsync"/>, <see cref="OpenTarballAsync"/>) serve callers that keep their
/// own copies, such as a feed's upstream side.
/// </summary>
public sealed class NpmRegistryClient : IPackageFactsSource
{
    /// <summary>What the client asks for: the full JSON packument.</summary>
    public const string PackumentAccept = "application/json";

    private readonly RegistryHttp _http;
    private readonly NpmrcSettings _npmrc;

    /// <param name="http">The shared HTTP layer (cache, retries, parallelism).</param>
    /// <param name="registry">The default registry (ends with '/').</param>
    /// <param name="npmrc">Scoped registries and credentials; null for none.</param>
    /// <param name="authorization">An explicit Authorization header for <paramref name="registry"/> (wins over .npmrc).</param>
    public NpmRegistryClient(RegistryHttp http, Uri registry, NpmrcSettings? npmrc = null, string? authorization = null)
    {
        _http = http;
        Registry = NpmRegistryConfig.WithSlash(registry);
        _npmrc = npmrc ?? new NpmrcSettings();
        DefaultAuthorization = authorization ?? _npmrc.Authorization(Registry);
    }

    public Uri Registry { get; }

    private string? DefaultAuthorization { get; }

    public Ecosystem Ecosystem => Ecosystem.Npm;

    public string RegistryDisplay => RegistryHttp.Display(Registry);

    /// <summary>The registry that serves <paramref name="name"/>: its scope's, else the default.</summary>
    public Uri RegistryFor(string name) => _npmrc.ScopeRegistry(name) ?? Registry;

    /// <summary>The packument URL: the registry plus the name, a scope's '/' escaped as npm does.</summary>
    public Uri PackumentUrl(string name) => new(RegistryFor(name), name.Replace("/", "%2f", StringComparison.Ordinal));

    private string? AuthorizationFor(Uri registry) => registry == Registry ? DefaultAuthorization : _npmrc.Authorization(registry);

    public async Task<FactsResult> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var registry = RegistryFor(name);
        var document = await _http.GetAsync(PackumentUrl(name), PackumentAccept, AuthorizationFor(registry), cancellationToken).ConfigureAwait(false);
        if (document.Status == RegistryStatus.NotFound)
        {
            return new FactsResult(null, $"{name} is not on the npm registry {RegistryHttp.Display(registry)}", NotFound: true);
        }
        if (document.Status != RegistryStatus.Ok || document.Body is null)
        {
            return new FactsResult(null, document.Problem ?? $"the npm registry {RegistryHttp.Display(registry)} gave no packument for {name}");
        }
        var facts = NpmPackument.Parse(document.Body, name, out var error, RegistryHttp.Display(registry));
        return facts is null ? new FactsResult(null, error) : new FactsResult(facts, document.Stale ? $"used the cached packument of {name}: {document.Problem}" : null);
    }

    /// <summary>
    /// The packument's bytes as the registry sent them, without the disk cache, conditional on the caller's
    /// <paramref name="validators"/> and bounded to <paramref name="maxBytes"/>.
    /// </summary>
    public Task<RegistryDocument> GetPackumentBytesAsync(string name, RegistryValidators? validators, long maxBytes, CancellationToken cancellationToken = default) =>
        _http.GetUncachedAsync(PackumentUrl(name), PackumentAccept, AuthorizationFor(RegistryFor(name)), validators, maxBytes, cancellationToken);

    /// <summary>
    /// Starts streaming a tarball. Credentials go only to the registry's own origin: a tarball URL in a packument
    /// that names another host gets no Authorization header.
    /// </summary>
    public Task<HttpResponseMessage> OpenTarballAsync(Uri tarball, CancellationToken cancellationToken = default)
    {
        var registry = Registry;
        var sameOrigin = string.Equals(tarball.Scheme, registry.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(tarball.IdnHost, registry.IdnHost, StringComparison.OrdinalIgnoreCase) && tarball.Port == registry.Port;
        return _http.OpenAsync(tarball, sameOrigin ? DefaultAuthorization : null, cancellationToken);
    }
}
