using System.Diagnostics;
using Tollgate.Advisories;
using Tollgate.Inputs;
using Tollgate.Server.Feeds.Npm;
using Tollgate.Server.Tests.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.PyPI;

/// <summary>
/// One test's world for the PyPI routes: a temporary folder, the loopback index fixture, an advisory database with the
/// npm and PyPI test records, a policy file and a running feed serving PyPI only (no npm upstream).
/// </summary>
internal sealed class PyPIFeedEnvironment : IAsyncDisposable
{
    public const string DefaultPolicy = """
        failOn: high
        private: [ "acme-*" ]
        minimumReleaseAge: 72h
        minimumReleaseAgeExclude: [ "acme-*" ]
        """;

    /// <summary>
    /// For an upstream that serves only PEP 503 HTML, which has no upload times: the fixture projects are excluded from
    /// <c>minimumReleaseAge</c>, since without a time the feed holds every version back.
    /// </summary>
    public const string HtmlOnlyPolicy = """
        failOn: high
        private: [ "acme-*" ]
        minimumReleaseAge: 72h
        minimumReleaseAgeExclude: [ "acme-*", "tollgate-fixture-*" ]
        """;

    private PyPIFeedEnvironment(string folder, PyPIIndexFixture index, FeedHost feed, CapturedLogs logs)
    {
        Folder = folder;
        Index = index;
        Feed = feed;
        Logs = logs;
        Http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = feed.Address };
    }

    public string Folder { get; }

    public PyPIIndexFixture Index { get; }

    public FeedHost Feed { get; }

    public CapturedLogs Logs { get; }

    /// <summary>A client that does not follow redirects (so they can be checked).</summary>
    public HttpClient Http { get; }

    /// <summary>The index URL to give pip.</summary>
    public string IndexUrl => Feed.Address.AbsoluteUri.TrimEnd('/') + "/pypi/simple/";

    public string Storage => Path.Combine(Folder, "storage");

    public static async Task<PyPIFeedEnvironment> StartAsync(string policy = DefaultPolicy, Func<FeedOptions, FeedOptions>? configure = null,
        Action<PyPIIndexFixture>? prepare = null)
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-pypi-feed-").FullName;
        var db = Path.Combine(folder, "advisories.db");
        var diagnostics = new DiagnosticBag();
        var import = AdvisoryImporter.Import([Path.Combine(UpstreamFixture.DataFolder, "advisories"), Path.Combine(PyPIIndexFixture.DataFolder, "advisories")],
            new AdvisoryImportOptions { DatabasePath = db }, diagnostics);
        Assert.True(import.Succeeded, string.Join("\n", diagnostics.Items));
        var policyFile = Path.Combine(folder, "tollgate.yaml");
        await File.WriteAllTextAsync(policyFile, policy);
        var index = await PyPIIndexFixture.StartAsync();
        prepare?.Invoke(index);
        var options = new FeedOptions
        {
            Listen = new Uri("http://127.0.0.1:0"),
            PyPIUpstream = index.IndexUrl,
            Storage = Path.Combine(folder, "storage"),
            Policy = policyFile,
            Database = db,
            Tokens = [new FeedToken("ci", FeedEnvironment.TokenHash)],
        };
        options = configure?.Invoke(options) ?? options;
        var logs = new CapturedLogs();
        var start = FeedHost.Create(options, npmRegistry: () => null, logging: logs.Configure, pipIndex: () => throw new InvalidOperationException("the tests always give an index"));
        Assert.True(start.Host is not null, string.Join("\n", start.Problems.Select(p => p.Message).Concat(start.PolicyDiagnostics.Select(d => d.ToString()))));
        await start.Host.StartAsync();
        return new PyPIFeedEnvironment(folder, index, start.Host, logs);
    }

    /// <summary>Requests the index fixture received that mention <paramref name="text"/>.</summary>
    public IEnumerable<string> IndexRequestsFor(string text) =>
        Index.Requests.Where(r => Uri.UnescapeDataString(r).Contains(text, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Runs the real pip (<c>python3 -m pip</c>) with no configuration file and no PIP_* variables, so only the feed
    /// is asked; the working directory is a fresh folder. Returns the exit code and everything it printed.
    /// </summary>
    public async Task<PipRun> PipAsync(IDictionary<string, string>? environment, params string[] arguments)
    {
        var work = Path.Combine(Folder, "pip-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        var start = new ProcessStartInfo("/usr/bin/python3") { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-m", "pip" }.Concat(arguments))
        {
            start.ArgumentList.Add(a.Replace("{work}", work, StringComparison.Ordinal));
        }
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("PIP_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }
        start.Environment["PIP_CONFIG_FILE"] = "/dev/null";
        start.Environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1";
        start.Environment["PIP_NO_CACHE_DIR"] = "1";
        start.Environment["PIP_NO_INPUT"] = "1";
        start.Environment["PIP_RETRIES"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new PipRun(process.ExitCode, await output + await error, work);
    }

    public Task<PipRun> PipAsync(params string[] arguments) => PipAsync(null, arguments);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Feed.StopAsync();
        await Feed.DisposeAsync();
        await Index.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>What a pip run did; <see cref="Work"/> is its working folder (targets and downloads go under it).</summary>
internal sealed record PipRun(int ExitCode, string Output, string Work)
{
    /// <summary>The version installed with <c>--target {work}/site</c>, read from its .dist-info folder name; null if none.</summary>
    public string? Installed(string distribution)
    {
        var site = Path.Combine(Work, "site");
        if (!Directory.Exists(site))
        {
            return null;
        }
        var info = Directory.GetDirectories(site, distribution + "-*.dist-info").Select(Path.GetFileName).SingleOrDefault();
        return info?[(distribution.Length + 1)..^".dist-info".Length];
    }

    public IEnumerable<string> Downloaded => Directory.Exists(Path.Combine(Work, "dl")) ? Directory.GetFiles(Path.Combine(Work, "dl")).Select(f => Path.GetFileName(f)) : [];
}
