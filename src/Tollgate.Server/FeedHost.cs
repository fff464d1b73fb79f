using System.Collections.Immutable;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Ecosystems.Npm;
using Tollgate.Policy;
using Tollgate.Server.Feeds;
using Tollgate.Server.Feeds.Npm;
using Tollgate.Server.Feeds.NuGet;
using Tollgate.Server.Feeds.PyPI;
using Tollgate.Ecosystems.PyPI;

namespace Tollgate.Server;

/// <summary>Why the feed could not start, or what it warns about, for the command line to print.</summary>
public sealed record FeedProblem(DiagnosticSeverity Severity, string Message, string? Hint = null);

/// <summary>The outcome of <see cref="FeedHost.Create"/>: the host, or the problems that stopped it (and warnings either way).</summary>
public sealed record FeedStart(FeedHost? Host, ImmutableArray<FeedProblem> Problems, ImmutableArray<Diagnostic> PolicyDiagnostics);

/// <summary>
/// The Kestrel host of the npm feed. <see cref="Create"/> checks everything it needs (upstream, policy, advisory
/// database, storage) and reports every problem as a value; <see cref="StartAsync"/> binds the listen address.
/// </summary>
public sealed partial class FeedHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly AdvisoryLookup? _advisories;
    private readonly FeedAuditLog _audit;
    private readonly CancellationTokenSource _stopping = new();
    private NpmFeed? _feed;
    private PyPIFeed? _pypi;
    private Storage.AuditQueue? _auditQueue;

    private FeedHost(WebApplication app, AdvisoryLookup? advisories, FeedAuditLog audit, FeedOptions options, Uri? upstream, Uri? pypiUpstream)
    {
        _app = app;
        _advisories = advisories;
        _audit = audit;
        Options = options;
        Upstream = upstream;
        PyPIUpstream = pypiUpstream;
    }

    public FeedOptions Options { get; }

    /// <summary>Where verified tarballs are shared with other instances, for the banner; null when they are not.</summary>
    public string? SharedArtifacts { get; private init; }

    /// <summary>The registry the feed takes public npm packages from; null when npm is not served.</summary>
    public Uri? Upstream { get; }

    /// <summary>The index the feed takes public PyPI packages from (served under <c>/pypi/simple/</c>); null when PyPI is not served.</summary>
    public Uri? PyPIUpstream { get; }

    /// <summary>The V3 service index the feed takes public NuGet packages from (served under <c>/nuget/v3/index.json</c>); null when NuGet is not served.</summary>
    public Uri? NuGetUpstream => Options.NuGetUpstream;

    /// <summary>The address the feed listens on, with the real port once started.</summary>
    public Uri Address => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
        .Select(a => new Uri(a)).FirstOrDefault() ?? Options.Listen;

    /// <summary>Returns once every audit entry of the requests answered so far is stored.</summary>
    internal Task FlushAuditAsync(CancellationToken cancellationToken = default) => _auditQueue?.FlushAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>How many tarballs were downloaded from upstream since start.</summary>
    internal int UpstreamTarballDownloads => _feed?.UpstreamTarballDownloads ?? 0;

    /// <summary>How many times the npm routes decided a packument since start (for tests).</summary>
    internal int PackumentJudgements => _feed?.PackumentJudgements ?? 0;

    /// <summary>How many times the PyPI routes read a stored file through to check its sha256 (for tests).</summary>
    internal int PyPIFileHashes => _pypi?.FileHashes ?? 0;

    /// <summary>Checks the options and builds the host; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="options">The merged config and command-line options.</param>
    /// <param name="time">The clock for release ages, cache ages and audit times.</param>
    /// <param name="npmRegistry">Reads the npm client's registry when <see cref="FeedOptions.Upstream"/> is null.</param>
    /// <param name="logging">Where request and decision logs go; null for none.</param>
    /// <param name="pipIndex">Reads the pip client's index when <see cref="FeedOptions.PyPIUpstream"/> is null.</param>
    public static FeedStart Create(FeedOptions options, TimeProvider? time = null, Func<Uri?>? npmRegistry = null, Action<ILoggingBuilder>? logging = null,
        Func<Uri?>? pipIndex = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        time ??= TimeProvider.System;
        var problems = ImmutableArray.CreateBuilder<FeedProblem>();
        var upstream = options.Upstream is { } given ? NpmRegistryConfig.WithSlash(given) : (npmRegistry ?? (() => NpmRegistryConfig.Read()))();
        var pypiUpstream = (options.PyPIUpstream ?? (pipIndex ?? (() => PipIndexConfig.Read(projectFolder: null)))()) is { } pypiFound ? NpmRegistryConfig.WithSlash(pypiFound) : null;
        if (upstream is null && (pypiUpstream is not null || options.NuGetUpstream is not null))
        {
            problems.Add(new FeedProblem(DiagnosticSeverity.Warning, "npm is not served: --upstream npm=URL was not given and `npm config get registry` gave no URL",
                "pass --upstream npm=URL to serve npm too"));
        }
        else if (upstream is null)
        {
            problems.Add(new FeedProblem(DiagnosticSeverity.Error, "no upstream registry: --upstream was not given and `npm config get registry` gave no URL (is npm installed?)",
                "pass --upstream URL or set 'upstream' in the feed config"));
        }
        var policy = TollgatePolicy.Default;
        var policyDiagnostics = ImmutableArray<Diagnostic>.Empty;
        if (options.Policy is { } policyPath)
        {
            var loaded = PolicyLoader.LoadFile(policyPath);
            policyDiagnostics = loaded.Diagnostics;
            if (loaded.Policy is null)
            {
                problems.Add(new FeedProblem(DiagnosticSeverity.Error, $"the policy {policyPath} has errors (see above)", "fix the policy file; the feed does not start without it"));
            }
            else
            {
                policy = loaded.Policy;
            }
        }
        AdvisoryLookup? advisories = null;
        if (options.NoAdvisories)
        {
            problems.Add(new FeedProblem(DiagnosticSeverity.Warning, "serving without advisory checks (--no-advisories): known-vulnerable and known-malicious versions are not refused",
                "run `tollgate db update` and start the feed without --no-advisories"));
        }
        else if (AdvisoryStore.TryOpen(TollgateHome.DatabasePath(options.Database), out var store, out var dbError))
        {
            var records = store.RecordsByEcosystem();
            if (pypiUpstream is not null && records.GetValueOrDefault(Ecosystem.PyPI) == 0)
            {
                // Fail closed: PyPI versions would pass unchecked. A configured index stops the start; a discovered one is left out.
                problems.Add(new FeedProblem(options.PyPIUpstream is null ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
                    $"the advisory database {store.Path} has no PyPI records" + (options.PyPIUpstream is null ? $": PyPI ({pypiUpstream}) is not served" : ""),
                    "import PyPI advisories (`tollgate db update --ecosystem PyPI`), or pass --no-advisories to serve with the other checks only"));
                pypiUpstream = null;
            }
            if (options.NuGetUpstream is not null && records.GetValueOrDefault(Ecosystem.NuGet) == 0)
            {
                // Fail closed, as for npm: NuGet versions would pass unchecked.
                problems.Add(new FeedProblem(DiagnosticSeverity.Error, $"the advisory database {store.Path} has no NuGet records",
                    "import NuGet advisories (`tollgate db update --ecosystem NuGet`), or pass --no-advisories to serve with the other checks only"));
            }
            if (upstream is not null && records.GetValueOrDefault(Ecosystem.Npm) == 0 && options.Upstream is null && (pypiUpstream is not null || options.NuGetUpstream is not null))
            {
                // A registry only discovered from npm's configuration is left out, as a discovered PyPI index is.
                problems.Add(new FeedProblem(DiagnosticSeverity.Warning, $"the advisory database {store.Path} has no npm records: npm ({upstream}) is not served",
                    "import npm advisories (`tollgate db update --ecosystem npm`) to serve npm too"));
                upstream = null;
            }
            if (upstream is not null && records.GetValueOrDefault(Ecosystem.Npm) == 0)
            {
                // An empty database, or one of other ecosystems only, would let every npm version through unchecked.
                problems.Add(new FeedProblem(DiagnosticSeverity.Error, $"the advisory database {store.Path} has no npm records",
                    "import npm advisories (`tollgate db update --ecosystem npm`), or pass --no-advisories to serve with the other checks only"));
                store.Dispose();
            }
            else
            {
                advisories = new AdvisoryLookup(store);
            }
        }
        else
        {
            // Fail closed: a vetting feed without advisories would pass known-malicious versions.
            problems.Add(new FeedProblem(DiagnosticSeverity.Error, dbError.Message,
                dbError.Problem == AdvisoryStoreProblem.Missing
                    ? "the feed does not start without advisories: run `tollgate db update` (or `tollgate db import FILE`), or pass --no-advisories to serve with the other checks only"
                    : dbError.Hint));
        }
        if (upstream is null && pypiUpstream is null && options.NuGetUpstream is null && !problems.Any(p => p.Severity == DiagnosticSeverity.Error))
        {
            problems.Add(new FeedProblem(DiagnosticSeverity.Error, "no ecosystem left to serve", "give an upstream whose ecosystem the advisory database covers"));
        }
        Storage.ISharedArtifacts? shared = null;
        if (options.SharedArtifacts is { } sharedSetting)
        {
            try
            {
                shared = Storage.AzureBlobArtifacts.Create(sharedSetting, options.SharedArtifactsConnectionString);
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                problems.Add(new FeedProblem(DiagnosticSeverity.Error, e.Message,
                    "give the Blob container's https:// URL (the feed authenticates with its managed identity), or a container name and TOLLGATE_BLOB_CONNECTION_STRING"));
            }
        }
        FeedAuditLog? audit = null;
        FeedStorage? storage = null;
        IPrivatePackages? privates = null;
        IPackumentCache? packuments = null;
        IPackumentCache? pypiPages = null;
        IPackumentCache? nugetMetadata = null;
        try
        {
            storage = new FeedStorage(options.StorageFolder);
            audit = FeedAuditLog.Open(options.StorageFolder, state: options.State);
            privates = IPrivatePackages.Open(options, storage);
            packuments = IPackumentCache.Open(options, storage);
            pypiPages = pypiUpstream is null ? null : IPackumentCache.OpenPyPIPages(options, storage);
            // Without state the registration client keeps its own folder cache (storage/nuget/metadata/).
            nugetMetadata = options.NuGetUpstream is null || string.IsNullOrEmpty(options.State)
                ? null
                : PostgresPackumentCache.Open(options.State, PostgresPackumentCache.NuGetTable);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            problems.Add(new FeedProblem(DiagnosticSeverity.Error, File.Exists(options.StorageFolder)
                ? $"the storage folder {options.StorageFolder} is a file, not a folder"
                : $"the storage folder {options.StorageFolder} cannot be used: {e.Message}", "pass --storage DIR with a writable folder"));
        }
        catch (Exception e) when (options.State is not null && e is System.Data.Common.DbException or ArgumentException or InvalidOperationException)
        {
            problems.Add(new FeedProblem(DiagnosticSeverity.Error, $"the feed's PostgreSQL state cannot be used: {e.Message}", "check --state (or TOLLGATE_FEED_STATE): a connection string such as Host=db;Database=tollgate;Username=feed"));
        }
        if (problems.Any(p => p.Severity == DiagnosticSeverity.Error) || (upstream is null && pypiUpstream is null && options.NuGetUpstream is null) || audit is null || storage is null || privates is null || packuments is null)
        {
            advisories?.Dispose();
            audit?.Dispose();
            return new FeedStart(null, problems.ToImmutable(), policyDiagnostics);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = options.StorageFolder });
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.UseUrls(options.Listen.AbsoluteUri.TrimEnd('/'));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxPublishBytes);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, CommandLineLifetime>();
        var app = builder.Build();
        if (options.ForwardedHeaders)
        {
            // The proxy in front is the only way in, wherever it runs (an ingress is not on loopback): trust its headers.
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost | ForwardedHeaders.XForwardedFor };
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            app.UseForwardedHeaders(forwarded);
        }
        var host = new FeedHost(app, advisories, audit, options, upstream, pypiUpstream) { SharedArtifacts = shared?.Description };
        var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.All, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("tollgate-feed/0.1");
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Tollgate.Feed");
        if (options.AuditRetention is { } retention)
        {
            var before = time.GetUtcNow() - retention;
            var removed = audit.Prune(before);
            LogAuditPruned(logger, removed, before.UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), PolicyDuration.Format(retention));
        }
        var judge = new PackageJudge(policy, advisories, options.Vulnerabilities, time);
        host._auditQueue = new Storage.AuditQueue(audit, logger);
        var responses = new Storage.ResponseCache(options.ResponseCacheBytes, Path.Combine(storage.Root, "responses"), time);
        var judgementVersion = JudgementVersion(options, advisories, time, logger);
        if (pypiUpstream is not null && pypiPages is not null)
        {
            host._pypi = new PyPIFeed(options, Feeds.PyPI.PyPIUpstream.Create(http, pypiUpstream, options.UpstreamTimeout, options.MaxPackumentBytes, options.MaxTarballBytes),
                storage, pypiPages, judge, host._auditQueue, responses, judgementVersion, shared, time, logger, host._stopping.Token);
            app.MapPyPIFeed(host._pypi);
        }
        if (options.NuGetUpstream is { } nugetUpstream)
        {
            app.MapNuGetFeed(NuGetFeed.Create(options, nugetUpstream, http, storage, nugetMetadata, judge, host._auditQueue, responses, judgementVersion, shared, time, logger, host._stopping.Token));
        }
        if (upstream is not null)
        {
            host._feed = new NpmFeed(options, NpmUpstream.Create(http, upstream, options.UpstreamTimeout, options.MaxPackumentBytes, options.MaxTarballBytes), storage, new VersionJudge(judge),
                host._auditQueue, responses, shared, privates, packuments, judgementVersion, time, logger, host._stopping.Token);
            app.MapNpmFeed(host._feed);
        }
        else
        {
            app.Run(context => NpmFeed.WriteError(context, 404, "npm is not served by this feed: it was started without an npm upstream"));
        }
        return new FeedStart(host, problems.ToImmutable(), policyDiagnostics);
    }

    /// <summary>
    /// What the decisions depend on besides the packument: the policy file's bytes and the feed's own decision
    /// settings (fixed while it runs), and the advisory database's import stamp (read at most once a second, since a
    /// <c>tollgate db update</c> may run beside the feed).
    /// </summary>
    private static Func<string> JudgementVersion(FeedOptions options, AdvisoryLookup? advisories, TimeProvider time, ILogger logger)
    {
        var policyBytes = options.Policy is { } file ? File.ReadAllBytes(file) : [];
        var fixedPart = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(policyBytes).AsSpan(0, 12))
            + $"|{options.Vulnerabilities}|{options.NoAdvisories}";
        var gate = new Lock();
        var readAt = DateTimeOffset.MinValue;
        var current = fixedPart;
        string? reported = null;
        return () =>
        {
            if (advisories is null)
            {
                return fixedPart;
            }
            var now = time.GetUtcNow();
            lock (gate)
            {
                if (now - readAt >= TimeSpan.FromSeconds(1))
                {
                    current = fixedPart + "|" + advisories.Version();
                    readAt = now;
                    // Said once per problem: the previous database stays in use meanwhile.
                    if (advisories.ReloadProblem is { } problem && problem != reported)
                    {
                        LogDatabaseNotReloaded(logger, problem);
                    }
                    reported = advisories.ReloadProblem;
                }
                return current;
            }
        };
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "the advisory database was replaced but the new file cannot be opened; the previous one is still used: {Problem}")]
    private static partial void LogDatabaseNotReloaded(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "removed {Removed} audit entries last seen before {Before}Z (auditRetention {Retention})")]
    private static partial void LogAuditPruned(ILogger logger, int removed, string before, string retention);

    public Task StartAsync(CancellationToken cancellationToken = default) => _app.StartAsync(cancellationToken);

    /// <summary>Runs until <paramref name="cancellationToken"/> fires (Ctrl+C in the command line), then stops gracefully.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Stops listening and waits for requests in flight; downloads still running after the shutdown timeout are
    /// cancelled, and their temporary files are deleted, never renamed into the cache. Background revalidations of
    /// npm packuments are cancelled too, and waited for a few seconds at most.
    /// </summary>
    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await RevalidationsEnded().ConfigureAwait(false);
        // Requests have ended: store every audit entry they queued before the log is closed.
        if (_auditQueue is not null)
        {
            await _auditQueue.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for the npm feed's background revalidations, which end at the stop token (each is also bounded by
    /// <c>upstreamTimeout</c>); a few seconds at most, so a stop never hangs on them.
    /// </summary>
    private async Task RevalidationsEnded()
    {
        if (_feed is null)
        {
            return;
        }
        try
        {
            await _feed.RevalidationsEnded().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await RevalidationsEnded().ConfigureAwait(false);
        if (_auditQueue is not null)
        {
            await _auditQueue.DisposeAsync().ConfigureAwait(false);
        }
        _advisories?.Dispose();
        _audit.Dispose();
        _stopping.Dispose();
    }
}

/// <summary>Maps the feed's endpoints.</summary>
internal static class NpmFeedEndpoints
{
    /// <summary>One catch-all route: npm names contain '@' and an encoded or plain '/', which route templates do not model well.</summary>
    public static WebApplication MapNpmFeed(this WebApplication app, NpmFeed feed)
    {
        app.Run(feed.HandleAsync);
        return app;
    }
}

/// <summary>Maps the PyPI feed's endpoints under <c>/pypi/</c>, ahead of the npm catch-all.</summary>
internal static class PyPIFeedEndpoints
{
    /// <summary>
    /// Only the PyPI paths: <c>/pypi/simple/…</c>, <c>/pypi/files/…</c> and an upload POST. Everything else under
    /// <c>/pypi</c> stays with npm, whose package named "pypi" has its packument and tarballs there.
    /// </summary>
    public static WebApplication MapPyPIFeed(this WebApplication app, PyPIFeed feed)
    {
        app.Use((context, next) =>
        {
            var path = context.Request.Path.Value ?? "";
            var pypi = path.StartsWith("/pypi/simple", StringComparison.Ordinal) || path.StartsWith("/pypi/files/", StringComparison.Ordinal)
                || (HttpMethods.IsPost(context.Request.Method) && path is "/pypi/" or "/pypi/legacy/" or "/pypi/legacy");
            return pypi ? feed.HandleAsync(context) : next(context);
        });
        return app;
    }
}

/// <summary>Log output for the command line: one line per event on stderr, framework chatter above warnings only.</summary>
public static class FeedLogging
{
    public static void Console(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        // A failed start (a port in use) is reported by the command line in one sentence, not as the host's stack trace.
        logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        logging.SetMinimumLevel(LogLevel.Information);
    }
}
