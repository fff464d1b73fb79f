using System.Diagnostics;

namespace Tollgate.Server.Tests.Cli;

/// <summary><c>tollgate feed serve --upstream ECOSYSTEM=URL</c> as a user runs it: a separate process, exit code and output.</summary>
public sealed class FeedUpstreamCommandTests
{
    private static async Task<(int ExitCode, string Stderr, string Stdout)> Run(string home, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Tollgate.Cli.dll"));
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["NO_COLOR"] = "1";
        start.Environment["TOLLGATE_HOME"] = home;
        start.Environment["HOME"] = home;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stderr, await stdout);
    }

    [Fact]
    public async Task CheckClient_ExtraIndexUrl_Exit1WithFixNamingTheFeed()
    {
        var home = Directory.CreateTempSubdirectory("tollgate-check-client-").FullName;
        try
        {
            var project = Directory.CreateDirectory(Path.Combine(home, "project")).FullName;
            await File.WriteAllTextAsync(Path.Combine(project, "pip.conf"), "[global]\nindex-url = http://127.0.0.1:4873/pypi/simple/\nextra-index-url = https://pypi.example.test/simple/\n");
            var (exit, stderr, stdout) = await Run(home, "feed", "check-client", project, "--feed", "http://127.0.0.1:4873");
            Assert.True(exit == 1, stderr + stdout);
            Assert.Contains("FAIL TG5002 " + Path.Combine(project, "pip.conf") + ":3:", stdout, StringComparison.Ordinal);
            Assert.Contains("index-url = http://127.0.0.1:4873/pypi/simple/", stdout, StringComparison.Ordinal);

            File.Delete(Path.Combine(project, "pip.conf"));
            await File.WriteAllTextAsync(Path.Combine(project, "nuget.config"), "<configuration><packageSources>");
            var broken = await Run(home, "feed", "check-client", project);
            Assert.Equal(2, broken.ExitCode);
            Assert.Contains("not valid XML", broken.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Stderr)> Tollgate(string home, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Tollgate.Cli.dll"));
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["NO_COLOR"] = "1";
        start.Environment["TOLLGATE_HOME"] = home;
        start.Environment["HOME"] = home;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        await stdout;
        return (process.ExitCode, await stderr);
    }

    [Fact]
    public async Task Serve_UnknownEcosystem_Exit2NamingIt()
    {
        var home = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        try
        {
            var (exit, stderr) = await Tollgate(home, "feed", "serve", "--listen", "http://127.0.0.1:0", "--upstream", "rubygems=http://127.0.0.1:9/");
            Assert.Equal(2, exit);
            Assert.Contains("names the ecosystem 'rubygems'; expected npm=URL, pypi=URL, nuget=URL or a bare URL (npm)", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_PyPIUpstreamAndDatabaseWithoutPyPIRecords_RefusesToStart()
    {
        var home = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        try
        {
            var db = Path.Combine(home, "npm-only.db");
            var import = await Tollgate(home, "db", "import", Path.Combine(AppContext.BaseDirectory, "testdata", "feed", "advisories"), "--db", db);
            Assert.True(import.ExitCode == 0, import.Stderr);
            var (exit, stderr) = await Tollgate(home, "feed", "serve", "--listen", "http://127.0.0.1:0", "--upstream", "http://127.0.0.1:9/",
                "--upstream", "pypi=http://127.0.0.1:9/simple/", "--db", db, "--storage", Path.Combine(home, "storage"));
            Assert.Equal(2, exit);
            Assert.Contains("has no PyPI records", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_NuGetUpstreamAndDatabaseWithoutNuGetRecords_RefusesToStart()
    {
        var home = Directory.CreateTempSubdirectory("tollgate-feed-cli-").FullName;
        try
        {
            var db = Path.Combine(home, "npm-only.db");
            var import = await Tollgate(home, "db", "import", Path.Combine(AppContext.BaseDirectory, "testdata", "feed", "advisories"), "--db", db);
            Assert.True(import.ExitCode == 0, import.Stderr);
            var (exit, stderr) = await Tollgate(home, "feed", "serve", "--listen", "http://127.0.0.1:0", "--upstream", "http://127.0.0.1:9/",
                "--upstream", "nuget=http://127.0.0.1:9/v3/index.json", "--db", db, "--storage", Path.Combine(home, "storage"));
            Assert.Equal(2, exit);
            Assert.Contains("has no NuGet records", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
