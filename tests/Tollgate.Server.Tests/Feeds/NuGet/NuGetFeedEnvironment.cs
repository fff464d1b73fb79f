using System.Diagnostics;
using Tollgate.Advisories;
using Tollgate.Inputs;
using Tollgate.Server.Feeds.Npm;
using Tollgate.Server.Tests.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.NuGet;

/// <summary>
/// One test's world for the NuGet routes: a temporary folder, the loopback V3 source fixture, an advisory database with
/// the NuGet test record, a policy file and a running feed serving NuGet only.
/// </summary>
internal sealed class NuGetFeedEnvironment : IAsyncDisposable
{
    public const string DefaultPolicy = """
        failOn: high
        private: [ "Acme.*" ]
        minimumReleaseAge: 72h
        minimumReleaseAgeExclude: [ "Acme.*" ]
        """;

    private NuGetFeedEnvironment(string folder, NuGetSourceFixture source, FeedHost feed, CapturedLogs logs)
    {
        Folder = folder;
        Source = source;
        Feed = feed;
        Logs = logs;
        Http = new HttpClient { BaseAddress = feed.Address };
    }

    public string Folder { get; }

    public NuGetSourceFixture Source { get; }

    public FeedHost Feed { get; }

    public CapturedLogs Logs { get; }

    public HttpClient Http { get; }

    /// <summary>The service index URL to give dotnet.</summary>
    public string IndexUrl => Feed.Address.AbsoluteUri.TrimEnd('/') + "/nuget/v3/index.json";

    public string Storage => Path.Combine(Folder, "storage");

    public static async Task<NuGetFeedEnvironment> StartAsync(string policy = DefaultPolicy, Func<FeedOptions, FeedOptions>? configure = null,
        Action<NuGetSourceFixture>? prepare = null, TimeProvider? time = null)
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-nuget-feed-").FullName;
        var db = Path.Combine(folder, "advisories.db");
        var diagnostics = new DiagnosticBag();
        var import = AdvisoryImporter.Import([Path.Combine(NuGetSourceFixture.DataFolder, "advisories")], new AdvisoryImportOptions { DatabasePath = db }, diagnostics);
        Assert.True(import.Succeeded, string.Join("\n", diagnostics.Items));
        var policyFile = Path.Combine(folder, "tollgate.yaml");
        await File.WriteAllTextAsync(policyFile, policy);
        var source = await NuGetSourceFixture.StartAsync();
        prepare?.Invoke(source);
        var options = new FeedOptions
        {
            Listen = new Uri("http://127.0.0.1:0"),
            NuGetUpstream = source.ServiceIndex,
            Storage = Path.Combine(folder, "storage"),
            Policy = policyFile,
            Database = db,
            Tokens = [new FeedToken("ci", FeedEnvironment.TokenHash)],
        };
        options = configure?.Invoke(options) ?? options;
        var logs = new CapturedLogs();
        var start = FeedHost.Create(options, time, npmRegistry: () => null, logging: logs.Configure, pipIndex: () => null);
        Assert.True(start.Host is not null, string.Join("\n", start.Problems.Select(p => p.Message).Concat(start.PolicyDiagnostics.Select(d => d.ToString()))));
        await start.Host.StartAsync();
        return new NuGetFeedEnvironment(folder, source, start.Host, logs);
    }

    /// <summary>
    /// A small project in a fresh folder referencing <paramref name="references"/> (id to version), with a nuget.config
    /// that clears every other source and maps every id to the feed; returns its folder.
    /// </summary>
    public string Project(params (string Id, string Version)[] references)
    {
        var dir = Path.Combine(Folder, "app-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var items = string.Join("\n", references.Select(r => $"    <PackageReference Include=\"{r.Id}\" Version=\"{r.Version}\" />"));
        File.WriteAllText(Path.Combine(dir, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
            {items}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "nuget.config"), NuGetConfig(IndexUrl));
        return dir;
    }

    /// <summary>The nuget.config docs/feed.md shows: only the feed, every id mapped to it.</summary>
    public static string NuGetConfig(string indexUrl) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <clear />
            <add key="tollgate" value="{indexUrl}" allowInsecureConnections="true" />
          </packageSources>
          <packageSourceMapping>
            <packageSource key="tollgate">
              <package pattern="*" />
            </packageSource>
          </packageSourceMapping>
        </configuration>
        """;

    /// <summary>
    /// Runs the real <c>dotnet</c> in <paramref name="workingDirectory"/> with a package folder, HTTP cache and CLI home
    /// inside the test folder (the user's caches are never read or written) and no MSBuild settings inherited from
    /// the test host. Returns the exit code and everything it printed.
    /// </summary>
    public async Task<(int ExitCode, string Output)> DotnetAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("NUGET_", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) || k is "DOTNET_HOST_PATH").ToList())
        {
            start.Environment.Remove(key);
        }
        var home = Path.Combine(Folder, "home");
        Directory.CreateDirectory(home);
        start.Environment["HOME"] = home;
        start.Environment["DOTNET_CLI_HOME"] = home;
        start.Environment["NUGET_PACKAGES"] = Path.Combine(Folder, "nuget-packages");
        start.Environment["NUGET_HTTP_CACHE_PATH"] = Path.Combine(Folder, "nuget-http-cache");
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_DO_NOT_USE_MSBUILD_SERVER"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    /// <summary>The versions of <paramref name="id"/> dotnet restored into the test's package folder.</summary>
    public IEnumerable<string> Restored(string id)
    {
        var dir = Path.Combine(Folder, "nuget-packages", id.ToLowerInvariant());
        return Directory.Exists(dir) ? Directory.GetDirectories(dir).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal) : [];
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Feed.StopAsync();
        await Feed.DisposeAsync();
        await Source.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
