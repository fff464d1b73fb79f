using Tollgate.Ecosystems.Npm;
using Tollgate.Ecosystems.NuGet;
using Tollgate.Ecosystems.PyPI;
using Tollgate.Graph;

namespace Tollgate.Ecosystems;

/// <summary>
/// The registry metadata client of each ecosystem, configured as the user's package managers are: npm's registry
/// and .npmrc, pip's or uv's index, nuget.config's sources and source mapping, unless <c>--registry ECOSYSTEM=URL</c>
/// names one. An ecosystem whose registry cannot be found is left out, with the reason added to the caller's list of problems.
/// </summary>
public static class RegistrySources
{
    /// <summary>Parses <c>npm=URL</c>, <c>pypi=URL</c>, <c>nuget=URL</c> (ecosystem names in any case).</summary>
    public static bool TryParseOverride(string text, out Ecosystem ecosystem, out Uri? url, out string? error)
    {
        ecosystem = Ecosystem.Npm;
        url = null;
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            error = $"--registry '{text}': expected ECOSYSTEM=URL, e.g. npm=https://registry.example.com/";
            return false;
        }
        var name = text[..eq].Trim().ToLowerInvariant();
        ecosystem = name switch { "npm" => Ecosystem.Npm, "pypi" or "pip" => Ecosystem.PyPI, "nuget" => Ecosystem.NuGet, _ => Ecosystem.Generic };
        if (ecosystem == Ecosystem.Generic)
        {
            error = $"--registry '{text}': unknown ecosystem '{text[..eq]}' (npm, pypi or nuget)";
            return false;
        }
        if (!Uri.TryCreate(text[(eq + 1)..].Trim(), UriKind.Absolute, out url) || url.Scheme is not ("http" or "https"))
        {
            error = $"--registry '{text}': '{text[(eq + 1)..]}' is not an http(s) URL";
            url = null;
            return false;
        }
        error = null;
        return true;
    }

    /// <summary>The clients for <paramref name="ecosystems"/>, reading configuration from <paramref name="projectFolder"/>.</summary>
    public static Dictionary<Ecosystem, IPackageFactsSource> Configure(
        IEnumerable<Ecosystem> ecosystems,
        string projectFolder,
        IReadOnlyDictionary<Ecosystem, Uri> overrides,
        RegistryHttp http,
        List<string> problems,
        Func<string, string?>? environment = null)
    {
        var result = new Dictionary<Ecosystem, IPackageFactsSource>();
        foreach (var ecosystem in ecosystems.Distinct())
        {
            switch (ecosystem)
            {
                case Ecosystem.Npm:
                    var npmrc = NpmrcSettings.Read(projectFolder, environment);
                    var npm = overrides.GetValueOrDefault(Ecosystem.Npm) ?? NpmRegistryConfig.Read(workingDirectory: projectFolder);
                    if (npm is null)
                    {
                        problems.Add("the npm registry is unknown: npm is not installed or 'npm config get registry' failed; pass --registry npm=URL");
                        break;
                    }
                    result[ecosystem] = new NpmRegistryClient(http, npm, npmrc);
                    break;
                case Ecosystem.PyPI:
                    var index = overrides.GetValueOrDefault(Ecosystem.PyPI) ?? PipIndexConfig.Read(projectFolder, environment);
                    if (index is null)
                    {
                        problems.Add("no Python package index is configured (PIP_INDEX_URL, pip.conf index-url or uv.toml); pass --registry pypi=URL with a PEP 691 index");
                        break;
                    }
                    result[ecosystem] = new PyPIIndexClient(http, index);
                    break;
                case Ecosystem.NuGet:
                    if (overrides.GetValueOrDefault(Ecosystem.NuGet) is { } nugetUrl)
                    {
                        result[ecosystem] = new NuGetRegistrationClient(http, nugetUrl);
                        break;
                    }
                    var config = NuGetSourceConfig.Read(projectFolder, environment);
                    if (config.Sources.Count == 0)
                    {
                        problems.Add("no NuGet source is configured in nuget.config; pass --registry nuget=URL (a V3 service index)");
                        break;
                    }
                    result[ecosystem] = new NuGetSources(http, config);
                    break;
            }
        }
        return result;
    }

    /// <summary>Every configured NuGet source in order, restricted by package source mapping: the first that has the package answers.</summary>
    private sealed class NuGetSources(RegistryHttp http, NuGetSourceConfig config) : IPackageFactsSource
    {
        private readonly Dictionary<string, NuGetRegistrationClient> _clients = config.Sources.ToDictionary(s => s.Key, s => new NuGetRegistrationClient(http, s.Url, s.Authorization), StringComparer.OrdinalIgnoreCase);

        public Ecosystem Ecosystem => Ecosystem.NuGet;

        public string RegistryDisplay => string.Join(", ", config.Sources.Select(s => RegistryHttp.Display(s.Url)));

        public async Task<FactsResult> GetAsync(string name, CancellationToken cancellationToken = default)
        {
            var sources = config.SourcesFor(name);
            if (sources.Count == 0)
            {
                return new FactsResult(null, $"nuget.config's packageSourceMapping maps {name} to no source");
            }
            var problems = new List<string>();
            foreach (var source in sources)
            {
                var result = await _clients[source.Key].GetAsync(name, cancellationToken).ConfigureAwait(false);
                if (result.Facts is not null)
                {
                    return result;
                }
                if (!result.NotFound)
                {
                    problems.Add(result.Problem ?? source.Key);
                }
            }
            return problems.Count == 0
                ? new FactsResult(null, $"{name} is on none of the NuGet sources ({string.Join(", ", sources.Select(s => s.Key))})", NotFound: true)
                : new FactsResult(null, string.Join("; ", problems));
        }
    }
}
