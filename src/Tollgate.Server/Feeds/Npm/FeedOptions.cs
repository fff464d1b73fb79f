using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Policy;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>What the feed does with a version that has a vulnerability at or above the policy's <c>failOn</c>.</summary>
public enum VulnerabilityAction
{
    /// <summary>The version is removed from packuments and its tarball is refused.</summary>
    Block,
    /// <summary>The version is served; the decision is logged as a warning.</summary>
    Warn,
}

/// <summary>A publish token, stored as the SHA-256 hash of the secret so the config never holds it in plain text.</summary>
/// <param name="Name">Who the token belongs to: returned by <c>/-/whoami</c> and written to the audit log.</param>
/// <param name="Sha256">The lower-case hex SHA-256 of the token text.</param>
public sealed record FeedToken(string Name, string Sha256)
{
    /// <summary>
    /// The packages the token may publish (<c>@acme/*</c>, <c>@acme/cli@^2</c>); empty means every private name. A
    /// token handed to one team's CI then cannot publish over another team's packages.
    /// </summary>
    public ImmutableArray<PackagePattern> Packages { get; init; } = [];

    /// <summary>True when the token may publish <paramref name="component"/> (a name and version).</summary>
    public bool MayPublish(Component component) => Packages.IsEmpty || PackagePattern.FirstMatch(Packages, component) is not null;

    /// <summary>
    /// False when no pattern can match the name whatever the version: the feed then refuses before reading the
    /// body. A pattern with a range is decided per version once the body is read.
    /// </summary>
    public bool MayPublishName(string name) =>
        Packages.IsEmpty || Packages.Any(p => p.Matches(new Component
        {
            Ecosystem = Ecosystem.Npm,
            Name = name,
            Version = "",
            Purl = PackageUrl.For(Ecosystem.Npm, name, null),
            Resolved = false,
        }) != false);
}

/// <summary>The npm feed's settings, read from <c>feed.yaml</c> and command-line overrides. See docs/feed.md.</summary>
public sealed record FeedOptions
{
    /// <summary>The default listen address: loopback only.</summary>
    public static readonly Uri DefaultListen = new("http://127.0.0.1:4873");

    /// <summary>The URL Kestrel listens on.</summary>
    public Uri Listen { get; init; } = DefaultListen;

    /// <summary>The registry packages come from; null means "ask the local npm client" at start-up.</summary>
    public Uri? Upstream { get; init; }

    /// <summary>
    /// The PEP 503/691 index PyPI packages come from (served under <c>/pypi/simple/</c>); null means "ask the local pip
    /// client" at start-up, and PyPI is not served when pip names none.
    /// </summary>
    public Uri? PyPIUpstream { get; init; }

    /// <summary>
    /// The NuGet V3 service index packages come from (served under <c>/nuget/v3/index.json</c>); null means NuGet is not
    /// served.
    /// </summary>
    public Uri? NuGetUpstream { get; init; }

    /// <summary>Cache, private packages and the audit log; null means <c>$TOLLGATE_HOME/feed</c>.</summary>
    public string? Storage { get; init; }

    /// <summary>
    /// Verified tarballs shared by several feed instances: an Azure Blob container's https:// URL (managed identity), or
    /// a container name with the connection string in TOLLGATE_BLOB_CONNECTION_STRING; null: none (this instance only).
    /// </summary>
    public string? SharedArtifacts { get; init; }

    /// <summary>
    /// A PostgreSQL connection string for the feed's shared state (the audit log, cached npm packuments, private npm
    /// packages), so several instances keep one; null: the files in the storage folder. From <c>state:</c>, <c>--state</c> or TOLLGATE_FEED_STATE.
    /// </summary>
    public string? State { get; init; }

    /// <summary>The connection string for a container named in <see cref="SharedArtifacts"/>: from TOLLGATE_BLOB_CONNECTION_STRING, never from the config file.</summary>
    public string? SharedArtifactsConnectionString { get; init; }

    /// <summary>The policy file; null means the built-in default policy.</summary>
    public string? Policy { get; init; }

    /// <summary>The advisory database; null means <c>$TOLLGATE_HOME/advisories.db</c>.</summary>
    public string? Database { get; init; }

    /// <summary>
    /// Serve without an advisory database: only the policy's other checks apply. Without it a missing database stops
    /// the feed from starting, because a feed that cannot check advisories must not look as if it did.
    /// </summary>
    public bool NoAdvisories { get; init; }

    /// <summary>Log decisions but serve everything.</summary>
    public bool DryRun { get; init; }

    /// <summary>
    /// True behind a reverse proxy or ingress: the scheme and host of the URLs the feed writes into its answers come
    /// from <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c>, so clients are sent back through the proxy.
    /// </summary>
    public bool ForwardedHeaders { get; init; }

    /// <summary>How long a cached packument is served without asking upstream whether it changed.</summary>
    public TimeSpan PackumentTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long past <see cref="PackumentTtl"/> a stored npm packument is still answered at once, while one revalidation
    /// with the upstream runs in the background (RFC 5861 <c>stale-while-revalidate</c>); zero asks the upstream before
    /// answering as soon as the TTL has passed. The decisions are made as for a fresh copy, with the current policy,
    /// advisory database and clock.
    /// </summary>
    public TimeSpan PackumentStaleWhileRevalidate { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How many of those background revalidations run at once; the others wait their turn (their stored copies keep
    /// answering meanwhile). An <c>npm ci</c> of a lockfile without <c>resolved</c> URLs asks for every packument of its tree, so without a bound a whole tree
    /// past <see cref="PackumentTtl"/> would become as many simultaneous upstream requests, competing with the answers
    /// for the feed's CPU and opening as many upstream connections.
    /// </summary>
    public int BackgroundRevalidations { get; init; } = 4;

    /// <summary>How long one upstream request may take before the feed gives up (and serves a stale copy if it has one).</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public VulnerabilityAction Vulnerabilities { get; init; } = VulnerabilityAction.Block;

    /// <summary>Tokens allowed to publish private packages.</summary>
    public ImmutableArray<FeedToken> Tokens { get; init; } = [];

    /// <summary>The largest publish request body accepted, in bytes.</summary>
    public long MaxPublishBytes { get; init; } = 50L * 1024 * 1024;

    /// <summary>
    /// The largest packument body taken from upstream, in bytes (after decompression); a larger one is refused with
    /// 502 and not cached. The biggest public packuments are tens of MiB.
    /// </summary>
    public long MaxPackumentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>The largest tarball taken from upstream, in bytes; a larger one is refused with 502 and not cached.</summary>
    public long MaxTarballBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// Audit entries last seen longer ago than this are removed when the feed starts; null keeps everything (the
    /// log is bounded by the number of distinct decisions either way, see <see cref="FeedAuditLog"/>).
    /// </summary>
    public TimeSpan? AuditRetention { get; init; }

    /// <summary>
    /// Memory for finished packument answers (each kept uncompressed, gzip and Brotli), in bytes; the least recently
    /// used beyond it are kept on disk under the storage folder's <c>responses/</c>.
    /// </summary>
    public long ResponseCacheBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// Memory for the bytes of the most asked-for verified tarballs (each up to 4 MiB), in bytes; 0 sends every file
    /// from disk.
    /// </summary>
    public long TarballMemoryBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>The storage folder with the default applied.</summary>
    public string StorageFolder => Path.GetFullPath(Storage ?? Path.Combine(Advisories.TollgateHome.Resolve(), "feed"));
}
