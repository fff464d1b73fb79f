using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Tollgate.Tests.Containment;

/// <summary>
/// The threat and the protection, both for real: a package whose postinstall script copies AZURE_CLIENT_SECRET to a
/// file, looks for it in every /proc/PID/environ it can read and in the home folder, and POSTs it to a loopback
/// listener, packed with npm and installed offline from a file: dependency, first with plain npm (the secret leaks),
/// then through the built <c>tollgate install</c> (it does not). The sandbox tests need bubblewrap (bwrap) installed.
/// </summary>
public sealed class NpmInstallContainmentTests : IDisposable
{
    private const string Secret = "s3cr3t-value";
    private const string ClientId = "client-id-kept-on-purpose";
    private const string FixtureName = "tg-fixture-stealer";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "tollgate-install-" + Guid.NewGuid().ToString("N"));
    private readonly string _project;
    private readonly string _outside = Path.Combine("/var/tmp", "tollgate-install-" + Guid.NewGuid().ToString("N"));
    private readonly LootListener _listener = new();

    public NpmInstallContainmentTests()
    {
        var fixture = Path.Combine(_root, "fixture");
        Directory.CreateDirectory(fixture);
        foreach (var file in new[] { "package.json", "steal.js" })
        {
            File.Copy(TestData.Path("containment", "stealer", file), Path.Combine(fixture, file));
        }
        var pack = RunProcess(["npm", "pack", "--pack-destination", _root, "--cache", Cache], fixture, []);
        Assert.True(pack.ExitCode == 0, "npm pack failed: " + pack.Stderr);
        Assert.True(File.Exists(Path.Combine(_root, FixtureName + "-1.0.0.tgz")), "npm pack wrote no tarball: " + pack.Stdout);

        _project = Path.Combine(_root, "project");
        Directory.CreateDirectory(_project);
        File.WriteAllText(Path.Combine(_project, "package.json"), $$"""
            { "name": "contained-project", "version": "1.0.0", "private": true,
              "dependencies": { "{{FixtureName}}": "file:../{{FixtureName}}-1.0.0.tgz" } }
            """);
    }

    private string Cache => Path.Combine(_root, "npm-cache");

    // In the project folder: the one place an allowed script may write to.
    private string Marker => Path.Combine(_project, "tg-marker.txt");
    private string Loot => Path.Combine(_project, "tg-loot.txt");
    private string Report => Path.Combine(_project, "tg-report.json");

    private string[] NpmInstallArguments => ["npm", "install", "--offline", "--cache", Cache, "--no-audit", "--no-fund"];

    /// <summary>The environment of a CI job holding a cloud secret, plus where the fixture should write and POST.</summary>
    private Dictionary<string, string> JobEnvironment => new(StringComparer.Ordinal)
    {
        ["AZURE_CLIENT_SECRET"] = Secret,
        ["AZURE_CLIENT_ID"] = ClientId,
        ["BUILD_NOTE"] = "ghp_" + new string('a', 36),
        ["TG_FIXTURE_MARKER"] = Marker,
        ["TG_FIXTURE_LOOT"] = Loot,
        ["TG_FIXTURE_REPORT"] = Report,
        ["TG_FIXTURE_URL"] = _listener.Url,
    };

    [Fact]
    public void PlainNpmInstall_PostinstallOfDependency_StealsTheSecret()
    {
        var result = RunProcess(NpmInstallArguments, _project, JobEnvironment);

        Assert.True(result.ExitCode == 0, "npm install failed: " + result.Stderr);
        Assert.Equal(Secret, File.ReadAllText(Loot));
        Assert.Contains(Secret, _listener.Bodies);
        Assert.Contains(Secret, File.ReadAllText(Report), StringComparison.Ordinal);
        // npm's own record agrees that the package has an install script (what the scanner must find).
        Assert.Equal([FixtureName], PackagesWithInstallScriptInLock());
    }

    [Fact]
    public void TollgateInstall_PackageNotOnAllowlist_ScriptNeverRuns()
    {
        var result = RunTollgate(["install", "--", .. NpmInstallArguments], JobEnvironment);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(File.Exists(Path.Combine(_project, "node_modules", FixtureName, "steal.js")), "the package itself was not installed");
        Assert.False(File.Exists(Marker), "the postinstall script ran");
        Assert.False(File.Exists(Loot), "the postinstall script wrote the loot file");
        Assert.Empty(_listener.Bodies);
        Assert.Contains("install scripts NOT run", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{FixtureName}@1.0.0  postinstall: node steal.js", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TollgateInstall_PackageOnAllowlist_ScriptRunsWithoutTheSecret()
    {
        File.WriteAllText(Path.Combine(_project, "tollgate.yaml"), $"installScripts:\n  allow: [ \"{FixtureName}@^1.0.0\" ]\n");

        var result = RunTollgate(["install", "--keep-env", "AZURE_CLIENT_ID", "--", .. NpmInstallArguments], JobEnvironment);

        Assert.True(result.ExitCode == 0, result.Stderr);
        // The script ran: its marker exists and saw the variable kept on purpose.
        Assert.Equal($"postinstall ran; AZURE_CLIENT_ID={ClientId}\n", File.ReadAllText(Marker));
        // But the secret was not in its environment: neither the file nor the request carries it.
        Assert.Equal("undefined", File.ReadAllText(Loot));
        Assert.DoesNotContain(Secret, _listener.Bodies);
        var withheld = WithheldLine(result.Stderr);
        Assert.Contains("AZURE_CLIENT_SECRET", withheld, StringComparison.Ordinal);
        Assert.Contains("BUILD_NOTE", withheld, StringComparison.Ordinal);
        Assert.DoesNotContain("AZURE_CLIENT_ID", withheld, StringComparison.Ordinal);
        Assert.Contains("AZURE_CLIENT_ID", KeptLine(result.Stderr), StringComparison.Ordinal);
        Assert.Contains("  AZURE_CLIENT_ID: on the keep list", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("BUILD_NOTE: value looks like a GitHub token", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("install scripts run (on installScripts.allow", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_aaaa", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TollgateInstall_TwoPackagesOneAllowed_OnlyTheAllowedScriptRuns()
    {
        // A second package with a harmless postinstall, packed the same way; it stays off the allow list.
        var other = Path.Combine(_root, "other");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "package.json"), """
            { "name": "tg-fixture-other", "version": "2.1.0", "license": "MIT",
              "scripts": { "postinstall": "node -e \"require('fs').writeFileSync(process.env.TG_FIXTURE_OTHER, 'other ran')\"" } }
            """);
        Assert.Equal(0, RunProcess(["npm", "pack", "--pack-destination", _root, "--cache", Cache], other, []).ExitCode);
        File.WriteAllText(Path.Combine(_project, "package.json"), $$"""
            { "name": "contained-project", "version": "1.0.0", "private": true,
              "dependencies": { "{{FixtureName}}": "file:../{{FixtureName}}-1.0.0.tgz", "tg-fixture-other": "file:../tg-fixture-other-2.1.0.tgz" } }
            """);
        File.WriteAllText(Path.Combine(_project, "tollgate.yaml"), $"installScripts:\n  allow: [ \"pkg:npm/{FixtureName}\" ]\n");
        var otherMarker = Path.Combine(_root, "other.txt");
        var environment = JobEnvironment;
        environment["TG_FIXTURE_OTHER"] = otherMarker;

        var result = RunTollgate(["install", "--", .. NpmInstallArguments], environment);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(File.Exists(Marker), "the allowed postinstall did not run");
        Assert.False(File.Exists(otherMarker), "the postinstall of the package not on the allow list ran");
        Assert.Contains("tg-fixture-other@2.1.0  postinstall:", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, _listener.Bodies);
    }

    [Fact]
    public void TollgateInstall_AllowedScriptReadsEveryProcEnviron_FindsNoWithheldSecret()
    {
        AllowFixture();

        var result = RunTollgate(["install", "--", .. NpmInstallArguments], JobEnvironment);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var environ = ReadReport().GetProperty("environ").EnumerateArray().ToList();
        // The script did read environments (its own among them, so the reading works)...
        Assert.Contains(environ, e => e.GetProperty("variables").EnumerateArray().Any(v => v.GetString() == "TG_FIXTURE_REPORT=" + Report));
        // ...but none of the ones it could reach (its ancestors' included: npm, Tollgate, whatever started Tollgate)
        // held a withheld value.
        var text = File.ReadAllText(Report);
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_aaaa", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TollgateInstall_AllowedScriptReadsHomeFolder_FindsNoCredentialFiles()
    {
        AllowFixture();
        var home = Path.Combine(Outside, "home");
        Directory.CreateDirectory(Path.Combine(home, ".aws"));
        File.WriteAllText(Path.Combine(home, ".npmrc"), $"//registry.example.invalid/:_authToken={HomeSecret}\n");
        File.WriteAllText(Path.Combine(home, ".aws", "credentials"), $"[default]\naws_secret_access_key = {HomeSecret}\n");
        var environment = JobEnvironment;
        environment["HOME"] = home;

        var result = RunTollgate(["install", "--", .. NpmInstallArguments], environment);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var found = ReadReport().GetProperty("home");
        Assert.Equal("unreadable: ENOENT", found.GetProperty(".npmrc").GetString());
        Assert.Equal("unreadable: ENOENT", found.GetProperty(Path.Combine(".aws", "credentials")).GetString());
        Assert.DoesNotContain(HomeSecret, File.ReadAllText(Report), StringComparison.Ordinal);
    }

    [Fact]
    public void TollgateInstall_AllowedScriptWritesOutsideTheProject_FileSystemIsReadOnly()
    {
        AllowFixture();
        var outside = Path.Combine(Outside, "outside.txt");
        var environment = JobEnvironment;
        environment["TG_FIXTURE_OUTSIDE"] = outside;

        var result = RunTollgate(["install", "--", .. NpmInstallArguments], environment);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("not written: EROFS", ReadReport().GetProperty("outside").GetString());
        Assert.False(File.Exists(outside), "the script wrote outside the project");
    }

    [Fact]
    public void TollgateInstall_NetworkDenied_AllowedScriptCannotReachLoopbackListener()
    {
        AllowFixture();

        var result = RunTollgate(["install", "--", .. NpmInstallArguments], JobEnvironment);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(File.Exists(Marker), "the allowed postinstall did not run");
        Assert.StartsWith("post failed:", ReadReport().GetProperty("post").GetString(), StringComparison.Ordinal);
        Assert.Empty(_listener.Bodies);
        Assert.Contains("no network", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TollgateInstall_NetworkAllowed_AllowedScriptReachesLoopbackListener()
    {
        AllowFixture("  network: allow\n");

        var result = RunTollgate(["install", "--", .. NpmInstallArguments], JobEnvironment);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("posted", ReadReport().GetProperty("post").GetString());
        // Still without the secret: the network is allowed, the environment is still scrubbed.
        Assert.Equal(["undefined"], _listener.Bodies);
    }

    [Fact]
    public void TollgateInstall_NoBubblewrapOnPath_RefusesAllowedScriptsExit2()
    {
        AllowFixture();
        var environment = JobEnvironment;
        environment["PATH"] = ToolsOnlyPath(bwrap: null);

        var result = RunTollgate(["install", "--", .. NpmInstallArguments], environment);

        Assert.True(result.ExitCode == 2, result.Stderr);
        Assert.True(File.Exists(Path.Combine(_project, "node_modules", FixtureName, "steal.js")), "the package itself was not installed");
        Assert.False(File.Exists(Marker), "the allowed postinstall ran without a sandbox");
        Assert.Contains("install scripts NOT run: no sandbox", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("bwrap", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--no-sandbox", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TollgateInstall_BubblewrapFailsSelfTest_RefusesAllowedScriptsExit2()
    {
        AllowFixture();
        var environment = JobEnvironment;
        environment["PATH"] = ToolsOnlyPath(bwrap: "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n");

        var result = RunTollgate(["install", "--", .. NpmInstallArguments], environment);

        Assert.True(result.ExitCode == 2, result.Stderr);
        Assert.False(File.Exists(Marker), "the allowed postinstall ran without a sandbox");
        Assert.Contains("failed its self-test", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("setting up uid map: Permission denied", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TollgateInstall_NoBubblewrapWithNoSandbox_WarnsAndRunsScriptsScrubbed()
    {
        AllowFixture();
        var environment = JobEnvironment;
        environment["PATH"] = ToolsOnlyPath(bwrap: null);

        var result = RunTollgate(["install", "--no-sandbox", "--", .. NpmInstallArguments], environment);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(File.Exists(Marker), "the allowed postinstall did not run");
        Assert.Equal("undefined", File.ReadAllText(Loot));
        Assert.Contains("warning: --no-sandbox", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TollgateInstall_AllowlistRangeExcludesVersion_ScriptNeverRuns()
    {
        File.WriteAllText(Path.Combine(_project, "tollgate.yaml"), $"installScripts:\n  allow: [ \"{FixtureName}@^2.0.0\" ]\n");

        var result = RunTollgate(["install", "--", .. NpmInstallArguments], JobEnvironment);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.False(File.Exists(Marker), "the postinstall script ran");
        Assert.Empty(_listener.Bodies);
    }

    [Fact]
    public void TollgateInstall_ManagerFails_ExitsOneWithMessage()
    {
        File.WriteAllText(Path.Combine(_project, "package.json"), """
            { "name": "contained-project", "version": "1.0.0", "dependencies": { "tg-missing": "file:../missing.tgz" } }
            """);

        var result = RunTollgate(["install", "--", .. NpmInstallArguments], JobEnvironment);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("npm exited with code", result.Stderr, StringComparison.Ordinal);
    }

    private const string HomeSecret = "home-file-s3cr3t";

    /// <summary>A folder outside the project and outside the temporary folder, as most of a machine's files are.</summary>
    private string Outside
    {
        get
        {
            Directory.CreateDirectory(_outside);
            return _outside;
        }
    }

    private void AllowFixture(string moreSettings = "") =>
        File.WriteAllText(Path.Combine(_project, "tollgate.yaml"), $"installScripts:\n  allow: [ \"{FixtureName}\" ]\n{moreSettings}");

    private JsonElement ReadReport()
    {
        Assert.True(File.Exists(Report), "the allowed postinstall wrote no report");
        using var document = JsonDocument.Parse(File.ReadAllText(Report));
        return document.RootElement.Clone();
    }

    /// <summary>
    /// A PATH holding only node, npm and sh (links to the machine's), and a <c>bwrap</c> script when
    /// <paramref name="bwrap"/> is given: a machine without bubblewrap, or with one that does not work.
    /// </summary>
    private string ToolsOnlyPath(string? bwrap)
    {
        var bin = Path.Combine(_root, "bin");
        Directory.CreateDirectory(bin);
        foreach (var tool in new[] { "node", "npm", "sh" })
        {
            File.CreateSymbolicLink(Path.Combine(bin, tool), FindOnPath(tool));
        }
        // Sandboxes are Linux's; elsewhere no bwrap is ever looked for.
        if (bwrap is not null && !OperatingSystem.IsWindows())
        {
            var script = Path.Combine(bin, "bwrap");
            File.WriteAllText(script, bwrap);
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return bin;
    }

    private static string FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{program} is not on PATH");

    private static string KeptLine(string stderr) =>
        stderr.Split('\n').Single(l => l.StartsWith("kept although credential-like:", StringComparison.Ordinal));

    private static string WithheldLine(string stderr) =>
        stderr.Split('\n').Single(l => l.StartsWith("withheld from install scripts:", StringComparison.Ordinal));

    private List<string> PackagesWithInstallScriptInLock()
    {
        using var lockFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(_project, "package-lock.json")));
        return [.. lockFile.RootElement.GetProperty("packages").EnumerateObject()
            .Where(p => p.Value.TryGetProperty("hasInstallScript", out var flag) && flag.GetBoolean())
            .Select(p => p.Name["node_modules/".Length..])];
    }

    private ProcessResult RunTollgate(string[] args, Dictionary<string, string> environment)
    {
        // The built command line, as a user runs it, so the environment it scrubs is a real process environment.
        var cli = Path.Combine(AppContext.BaseDirectory, "Tollgate.Cli.dll");
        return RunProcess([FindOnPath("dotnet"), cli, .. args], _project, environment);
    }

    private static ProcessResult RunProcess(string[] argv, string directory, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(argv[0])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in argv.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        info.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(string.Join(' ', argv) + " did not finish");
        }
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        _listener.Dispose();
        foreach (var folder in new[] { _root, _outside })
        {
            try
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }

    private sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);

    /// <summary>A loopback HTTP listener that records every request body: the "attacker's server".</summary>
    private sealed class LootListener : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentQueue<string> _bodies = new();

        public LootListener()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/loot/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = Task.Run(LoopAsync);
        }

        public string Url { get; }

        public IReadOnlyList<string> Bodies => [.. _bodies];

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
                {
                    _bodies.Enqueue(await reader.ReadToEndAsync().ConfigureAwait(false));
                }
                context.Response.StatusCode = 204;
                context.Response.Close();
            }
        }

        public void Dispose() => LoopbackListener.Close(_listener);
    }
}
