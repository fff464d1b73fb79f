using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Tollgate.Advisories;
using Tollgate.Inputs;
using Microsoft.Extensions.Logging;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// One test's world: a temporary folder, the upstream fixture, an advisory database imported from
/// testdata/feed/advisories, a policy file and a running feed on a free loopback port.
/// </summary>
internal sealed class FeedEnvironment : IAsyncDisposable
{
    /// <summary>The publish token the tests use; the feed only knows its SHA-256.</summary>
    public const string Token = "tollgate-test-token-7f3a";

    public const string DefaultPolicy = """
        failOn: high
        private: [ "@acme/*" ]
        minimumReleaseAge: 72h
        minimumReleaseAgeExclude: [ "@acme/*" ]
        """;

    private FeedEnvironment(string folder, UpstreamFixture upstream, FeedHost feed, CapturedLogs logs)
    {
        Folder = folder;
        Upstream = upstream;
        Feed = feed;
        Logs = logs;
        Http = new HttpClient { BaseAddress = feed.Address };
    }

    /// <summary>What the feed logged: its own lines from Debug up, the framework's from Warning up.</summary>
    public CapturedLogs Logs { get; }

    public string Folder { get; }

    public UpstreamFixture Upstream { get; }

    public FeedHost Feed { get; }

    public HttpClient Http { get; }

    /// <summary>The feed's registry URL with a trailing slash, as npm wants it.</summary>
    public string Registry => Feed.Address.AbsoluteUri.TrimEnd('/') + "/";

    public string Storage => Path.Combine(Folder, "storage");

    public static string TokenHash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Token)));

    public static async Task<FeedEnvironment> StartAsync(string policy = DefaultPolicy, Func<FeedOptions, FeedOptions>? configure = null,
        Action<UpstreamFixture>? prepare = null, TimeProvider? time = null)
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-feed-").FullName;
        var db = Path.Combine(folder, "advisories.db");
        var diagnostics = new DiagnosticBag();
        var import = AdvisoryImporter.Import([Path.Combine(UpstreamFixture.DataFolder, "advisories")], new AdvisoryImportOptions { DatabasePath = db }, diagnostics);
        Assert.True(import.Succeeded, string.Join("\n", diagnostics.Items));
        var policyFile = Path.Combine(folder, "tollgate.yaml");
        await File.WriteAllTextAsync(policyFile, policy);
        var upstream = await UpstreamFixture.StartAsync();
        prepare?.Invoke(upstream);
        var options = new FeedOptions
        {
            Listen = new Uri("http://127.0.0.1:0"),
            Upstream = upstream.BaseUrl,
            Storage = Path.Combine(folder, "storage"),
            Policy = policyFile,
            Database = db,
            Tokens = [new FeedToken("ci", TokenHash)],
        };
        options = configure?.Invoke(options) ?? options;
        var logs = new CapturedLogs();
        var start = FeedHost.Create(options, time, npmRegistry: () => throw new InvalidOperationException("the tests always give an upstream"), logging: logs.Configure);
        Assert.True(start.Host is not null, string.Join("\n", start.Problems.Select(p => p.Message).Concat(start.PolicyDiagnostics.Select(d => d.ToString()))));
        await start.Host.StartAsync();
        return new FeedEnvironment(folder, upstream, start.Host, logs);
    }

    /// <summary>
    /// Gets <paramref name="path"/> until the feed answers 200 (for up to 30 s), as setup: with an upstream timeout made
    /// short on purpose, a loaded machine's first upstream answer can come too late and the feed answers 502.
    /// </summary>
    public async Task<HttpResponseMessage> WarmAsync(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var response = await Http.GetAsync(path);
            if (response.StatusCode == System.Net.HttpStatusCode.OK || DateTime.UtcNow > deadline)
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
                return response;
            }
            response.Dispose();
        }
    }

    /// <summary>
    /// Waits (for up to 30 s) until <paramref name="condition"/> holds, for what the feed does in the background; fails
    /// the test with the feed's log when it does not.
    /// </summary>
    public async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.True(condition(), string.Join("\n", Logs.Lines));
    }

    /// <summary>Requests the fixture received that mention <paramref name="text"/> (raw, so '%2f' too).</summary>
    public IEnumerable<string> UpstreamRequestsFor(string text) =>
        Upstream.Requests.Where(r => Uri.UnescapeDataString(r).Contains(text, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Runs the real npm client in a fresh project folder against the feed: a private cache, no user config, no
    /// scripts, no audit. Returns the exit code and everything it printed.
    /// </summary>
    public async Task<NpmRun> NpmAsync(params string[] arguments)
    {
        var project = Path.Combine(Folder, "project-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(project);
        await File.WriteAllTextAsync(Path.Combine(project, "package.json"), """{ "name": "feed-test-project", "version": "1.0.0", "private": true }""");
        return await RunNpm(project, arguments);
    }

    public Task<NpmRun> RunNpm(string workingDirectory, params string[] arguments) => RunNpmAt(Registry, workingDirectory, arguments);

    /// <summary>Runs npm as <see cref="RunNpm"/> does, against another registry URL (a proxy in front of the feed).</summary>
    public async Task<NpmRun> RunNpmAt(string registry, string workingDirectory, params string[] arguments)
    {
        var userConfig = Path.Combine(Folder, "npmrc");
        if (!File.Exists(userConfig))
        {
            await File.WriteAllTextAsync(userConfig, "");
        }
        var start = new ProcessStartInfo("npm")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var a in new[] { "--registry", registry, "--cache", Path.Combine(Folder, "npm-cache"), "--no-audit", "--no-fund", "--ignore-scripts", "--fetch-retries", "0", "--loglevel", "notice" })
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["npm_config_userconfig"] = userConfig;
        start.Environment["npm_config_update_notifier"] = "false";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new NpmRun(process.ExitCode, await output + await error, workingDirectory);
    }

    /// <summary>The repository's tests/tools/feed-clients folder (pnpm and yarn, installed by .ci/run).</summary>
    public static string ClientTool(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tollgate.slnx")))
        {
            dir = dir.Parent;
        }
        var path = Path.Combine(dir?.FullName ?? ".", "tests", "tools", "feed-clients", "node_modules", relative);
        Assert.True(File.Exists(path), $"{path} is missing: run 'npm ci --ignore-scripts' in tests/tools/feed-clients first (.ci/run does).");
        return path;
    }

    /// <summary>Runs a JavaScript package manager (pnpm, yarn) with node in <paramref name="workingDirectory"/>.</summary>
    public static async Task<NpmRun> RunNode(string workingDirectory, IDictionary<string, string> environment, string script, params string[] arguments)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new NpmRun(process.ExitCode, await output + await error, workingDirectory);
    }

    /// <summary>A fresh project folder with a minimal package.json.</summary>
    public string NewProject()
    {
        var project = Path.Combine(Folder, "project-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "package.json"), """{ "name": "feed-test-project", "version": "1.0.0", "private": true }""");
        return project;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Feed.StopAsync();
        await Feed.DisposeAsync();
        await Upstream.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>What an npm run did.</summary>
internal sealed record NpmRun(int ExitCode, string Output, string Project)
{
    /// <summary>The version of a package installed in the project, or null.</summary>
    public string? Installed(string name)
    {
        var manifest = Path.Combine(Project, "node_modules", name, "package.json");
        return File.Exists(manifest) ? System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!["version"]!.GetValue<string>() : null;
    }
}

/// <summary>Log lines kept in memory: "Level Category: message" and, for an exception, its type on the same line.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string Line)> _lines = new();

    public IReadOnlyList<string> Lines => _lines.Select(l => l.Line).ToList();

    /// <summary>Lines at Error or above, and every line that carries an exception.</summary>
    public IReadOnlyList<string> Errors => _lines.Where(l => l.Level >= LogLevel.Error || l.Line.Contains(" exception: ", StringComparison.Ordinal)).Select(l => l.Line).ToList();

    public void Configure(ILoggingBuilder logging)
    {
        logging.AddProvider(this);
        logging.SetMinimumLevel(LogLevel.Debug);
        logging.AddFilter("Microsoft", LogLevel.Warning);
    }

    /// <summary>Waits until a line contains <paramref name="text"/>; false after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitFor(string text, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (Lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue((logLevel, $"{logLevel} {category}: {formatter(state, exception)}" + (exception is null ? "" : $" exception: {exception.GetType().Name}")));
    }
}
