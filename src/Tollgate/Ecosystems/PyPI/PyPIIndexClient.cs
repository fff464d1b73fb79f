using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>A project page from the index: the page, or why there is none.</summary>
/// <param name="Status">
/// <see cref="RegistryStatus.Ok"/> with the page, <see cref="RegistryStatus.NotModified"/> when the caller's copy is
/// current (asked with validators), or NotFound, Failed or TooLarge.
/// </param>
/// <param name="Page">The page as read.</param>
/// <param name="Problem">Why there is no page (unreachable, an error status, not a simple-API page).</param>
/// <param name="ETag">The index's <c>ETag</c> for the page, to send back when asking again.</param>
/// <param name="LastModified">The index's <c>Last-Modified</c> for the page, likewise.</param>
public sealed record SimplePageResult(RegistryStatus Status, SimplePage? Page = null, string? Problem = null, string? ETag = null, string? LastModified = null);

/// <summary>
/// A Python package index through the simple repository API: PEP 691 JSON preferred, PEP 503 HTML understood, every
/// file with its hashes, PEP 700 <c>upload-time</c>, PEP 592 <c>yanked</c>, PEP 658/714 metadata, PEP 740
/// <c>provenance</c> and <c>requires-python</c> (read by <see cref="SimplePage"/>). <see cref="GetAsync"/> groups the
/// files into releases for <c>update</c> and <c>scan</c>: a release is as old as its first file, yanked when every
/// file is, and "sdist only" (its build backend runs at install time) when it has no wheel. <see cref="GetPageAsync"/>
/// and <see cref="OpenFileAsync"/> serve callers that keep their own copies, such as the feed's upstream side.
/// Credentials written into the index URL (<c>https://user:token@host/simple/</c>, pip's way) are sent as basic
/// authentication to the index's own origin only, and never shown.
/// </summary>
public sealed class PyPIIndexClient(RegistryHttp http, Uri index) : IPackageFactsSource
{
    public Uri Index { get; } = index.AbsoluteUri.EndsWith('/') ? index : new Uri(index.AbsoluteUri + "/");

    public Ecosystem Ecosystem => Ecosystem.PyPI;

    public string RegistryDisplay => RegistryHttp.Display(Index);

    /// <summary>The project page: the index plus the PEP 503 normalised name and a '/'.</summary>
    public Uri ProjectUrl(string name) => new(Index, Uri.EscapeDataString(Component.NormalizePyPIName(name)) + "/");

    public async Task<FactsResult> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var url = ProjectUrl(name);
        var document = await http.GetAsync(url, SimplePage.Accept, null, cancellationToken).ConfigureAwait(false);
        if (document.Status == RegistryStatus.NotFound)
        {
            return new FactsResult(null, $"{name} is not on the package index {RegistryDisplay}", NotFound: true);
        }
        var page = Read(document, url, name);
        if (page.Page is null)
        {
            return new FactsResult(null, page.Problem);
        }
        return new FactsResult(Facts(page.Page, RegistryDisplay), document.Stale ? $"used the cached index page of {name}: {document.Problem}" : null);
    }

    /// <summary>
    /// The project page in one request, without the disk cache and without retrying beyond what the
    /// <see cref="RegistryHttp"/> allows; an answer larger than <paramref name="maxBytes"/> is
    /// <see cref="RegistryStatus.TooLarge"/>. With <paramref name="validators"/> of a copy the caller keeps, the index
    /// may answer <see cref="RegistryStatus.NotModified"/>. Only <paramref name="cancellationToken"/> ends it with an
    /// exception.
    /// </summary>
    public async Task<SimplePageResult> GetPageAsync(string name, long maxBytes, RegistryValidators? validators = null, CancellationToken cancellationToken = default)
    {
        var url = ProjectUrl(name);
        var document = await http.GetUncachedAsync(url, SimplePage.Accept, null, validators, maxBytes, cancellationToken).ConfigureAwait(false);
        return Read(document, url, name);
    }

    /// <summary>
    /// Starts streaming a distribution file (or its PEP 658 metadata); the caller reads, verifies and disposes the
    /// response. The index URL's credentials go only to the index's own origin.
    /// </summary>
    public Task<HttpResponseMessage> OpenFileAsync(Uri file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        var sameOrigin = string.Equals(file.Scheme, Index.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(file.IdnHost, Index.IdnHost, StringComparison.OrdinalIgnoreCase) && file.Port == Index.Port;
        var authorization = sameOrigin && !string.IsNullOrEmpty(Index.UserInfo)
            ? "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Uri.UnescapeDataString(Index.UserInfo)))
            : null;
        // A file URL never carries credentials of its own: the page was read from a URL without them.
        return http.OpenAsync(file, authorization, cancellationToken);
    }

    private SimplePageResult Read(RegistryDocument document, Uri url, string name)
    {
        switch (document.Status)
        {
            case RegistryStatus.Ok when document.Body is not null:
                // Relative file URLs resolve against the page's own URL after redirects, never one with credentials.
                var pageUrl = document.ResponseUrl ?? StripUserInfo(url);
                return SimplePage.Read(document.Body, document.MediaType, pageUrl, Component.NormalizePyPIName(name)) is { } page
                    ? new SimplePageResult(RegistryStatus.Ok, page, ETag: document.ETag, LastModified: document.LastModified)
                    : new SimplePageResult(RegistryStatus.Failed, Problem: $"the index page of {name} at {RegistryHttp.Display(url)} is not a valid simple-API page (PEP 691 JSON with a \"files\" list, or PEP 503 HTML)");
            case RegistryStatus.NotModified:
                return new SimplePageResult(RegistryStatus.NotModified, ETag: document.ETag, LastModified: document.LastModified);
            case RegistryStatus.NotFound:
                return new SimplePageResult(RegistryStatus.NotFound, Problem: document.Problem);
            case RegistryStatus.TooLarge:
                return new SimplePageResult(RegistryStatus.TooLarge, Problem: document.Problem);
            default:
                return new SimplePageResult(RegistryStatus.Failed, Problem: document.Problem ?? $"the package index {RegistryDisplay} gave no page for {name}");
        }
    }

    private static Uri StripUserInfo(Uri url) => string.IsNullOrEmpty(url.UserInfo) ? url : new UriBuilder(url) { UserName = "", Password = "" }.Uri;

    /// <summary>The page's files grouped into releases, in the order of PEP 700 <c>versions</c> and then of first appearance.</summary>
    public static PackageFacts Facts(SimplePage page, string? registry = null)
    {
        ArgumentNullException.ThrowIfNull(page);
        var normal = Component.NormalizePyPIName(page.Name);
        var releases = new Dictionary<string, List<SimpleFile>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var v in page.Versions)
        {
            if (releases.TryAdd(v, []))
            {
                order.Add(v);
            }
        }
        foreach (var file in page.Files)
        {
            if (VersionOf(file.Filename, normal) is not { } version)
            {
                continue;
            }
            var key = releases.Keys.FirstOrDefault(k => SameVersion(k, version)) ?? version;
            if (!releases.TryGetValue(key, out var list))
            {
                releases[key] = list = [];
                order.Add(key);
            }
            list.Add(file);
        }
        return new PackageFacts
        {
            Ecosystem = Ecosystem.PyPI,
            Name = normal,
            Versions = [.. order.Select(v => Release(v, releases[v]))],
            Registry = registry,
        };
    }

    private static VersionFacts Release(string version, List<SimpleFile> files)
    {
        DateTimeOffset? published = null;
        var yanked = files.Count > 0;
        string? reason = null;
        var wheels = false;
        var provenance = files.Count > 0;
        var hashes = ImmutableArray.CreateBuilder<string>();
        foreach (var file in files)
        {
            if (file.UploadTime is { } when && (published is null || when < published))
            {
                published = when;
            }
            yanked &= file.Yanked is not null;
            if (file.Yanked is { Length: > 0 } why)
            {
                reason = why;
            }
            wheels |= file.Filename.EndsWith(".whl", StringComparison.OrdinalIgnoreCase);
            provenance &= file.Provenance is not null;
            if (file.Sha256 is { } sha)
            {
                hashes.Add(sha);
            }
        }
        return new VersionFacts
        {
            Version = version,
            Published = published,
            Yanked = yanked,
            YankReason = yanked ? reason : null,
            HasWheels = files.Count == 0 ? null : wheels,
            InstallScripts = files.Count == 0 ? null : wheels ? [] : ["sdist only: the build backend runs when it is installed"],
            HasProvenance = provenance,
            Sha256 = hashes.ToImmutable(),
        };
    }

    /// <summary>The version in a wheel or sdist file name of the project <paramref name="normalName"/>, or null.</summary>
    public static string? VersionOf(string filename, string normalName)
    {
        string stem;
        if (filename.EndsWith(".whl", StringComparison.OrdinalIgnoreCase))
        {
            var parts = filename[..^4].Split('-');
            return parts.Length >= 5 ? parts[1] : null;
        }
        if (filename.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase))
        {
            stem = filename[..^7];
        }
        else if (filename.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            stem = filename[..^4];
        }
        else
        {
            return null;
        }
        // The name part may itself contain '-': the version starts after the name's normalised length.
        for (var dash = stem.IndexOf('-', StringComparison.Ordinal); dash > 0; dash = stem.IndexOf('-', dash + 1))
        {
            if (Component.NormalizePyPIName(stem[..dash]) == normalName)
            {
                return stem[(dash + 1)..];
            }
        }
        var last = stem.LastIndexOf('-');
        return last > 0 ? stem[(last + 1)..] : null;
    }

    private static bool SameVersion(string a, string b) =>
        string.Equals(a, b, StringComparison.Ordinal)
        || (Pep440Version.TryParse(a, out var va) && Pep440Version.TryParse(b, out var vb) && va.CompareTo(vb) == 0);
}
