using System.Diagnostics;

namespace Tollgate.Tests.Ci;

/// <summary>Release builds share the Release output folders, so their tests run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReleaseBuildCollection : ICollectionFixture<AotBinary>
{
    public const string Name = "release builds";
}

/// <summary>
/// The linux-x64 NativeAOT binary, built once per test run: the one .ci/run built (TOLLGATE_AOT_BINARY) or, without
/// it, one published here by build/release.sh's own command line.
/// </summary>
public sealed class AotBinary : IDisposable
{
    private readonly DirectoryInfo? _built;

    public AotBinary()
    {
        if (Environment.GetEnvironmentVariable("TOLLGATE_AOT_BINARY") is { Length: > 0 } given)
        {
            Path = given;
            return;
        }
        _built = Directory.CreateTempSubdirectory("tollgate-aot-");
        var result = Tools.Run("bash", [System.IO.Path.Combine(TestData.RepositoryRoot, "build", "release.sh"), _built.FullName],
            TestData.RepositoryRoot, new() { ["TOLLGATE_RIDS"] = "linux-x64" });
        Assert.True(result.ExitCode == 0, result.Output);
        var archive = Directory.GetFiles(_built.FullName, "tollgate-*-linux-x64.tar.gz").Single();
        var bin = Directory.CreateDirectory(System.IO.Path.Combine(_built.FullName, "bin")).FullName;
        var untar = Tools.Run("tar", ["-xzf", archive, "-C", bin], _built.FullName);
        Assert.True(untar.ExitCode == 0, untar.Output);
        Path = System.IO.Path.Combine(bin, "tollgate");
    }

    public string Path { get; }

    public void Dispose() => _built?.Delete(recursive: true);
}

internal static class Tools
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static Result Run(string file, IEnumerable<string> args, string workingDirectory, Dictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["NO_COLOR"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in env ?? [])
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The JIT build of the CLI that this test run built.</summary>
    public static string JitCli()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        return Path.Combine(TestData.RepositoryRoot, "src", "Tollgate.Cli", "bin", configuration, "net10.0", "Tollgate.Cli");
    }
}

/// <summary>
/// The release: the NativeAOT binary behaves exactly like the JIT build (same bytes out, same exit codes) on the
/// examples, and the .NET tool package installs and runs from a local package source.
/// </summary>
[Collection(ReleaseBuildCollection.Name)]
public sealed class ReleaseTests(AotBinary aot)
{
    private static string Root => TestData.RepositoryRoot;

    public static TheoryData<string[]> Commands => new()
    {
        { new[] { "scan", "examples/mcp-server-npm", "--advisories", "examples/advisories", "--format", "json" } },
        { new[] { "scan", "examples/mcp-server-npm", "--advisories", "examples/advisories", "--format", "sarif" } },
        { new[] { "scan", "examples/mcp-server-npm", "--advisories", "examples/advisories", "--format", "markdown", "--vex", "tests/Tollgate.Tests/testdata/vex/own/example.openvex.json" } },
        { new[] { "scan", "examples/mcp-server-npm", "--advisories", "examples/advisories", "--format", "openvex" } },
        { new[] { "sbom", "examples/mcp-server-npm" } },
        { new[] { "sbom", "examples/mcp-server-npm", "--format", "spdx" } },
        { new[] { "deps", "examples/mcp-server-npm", "--format", "json" } },
        { new[] { "deps", "examples/mcp-server-npm", "--why", "minimist" } },
        { new[] { "mcp", "audit", "tests/Tollgate.Tests/testdata/mcp/claude-desktop/claude_desktop_config.json", "--no-advisories", "--format", "json" } },
        { new[] { "scan", "examples/mcp-server-npm", "--vex", "tests/Tollgate.Tests/testdata/vex/openvex-spec/spring-boot.json", "--advisories", "examples/advisories" } },
        { new[] { "scan", "--format", "yaml" } },
        // After parsing, the native binary hands its start-up-only pages back to the OS (StartupPages): help, version,
        // and the error paths (which read the unwinding tables again) must come out the same.
        { new[] { "--version" } },
        { new[] { "sbom", "--help" } },
        { new[] { "scan", "examples/no-such-project" } },
        { new[] { "deps", "tests/Tollgate.Tests/testdata/npm/large", "--format", "json" } },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void AotBinary_GivesTheJitBuildsOutput(string[] args)
    {
        var env = new Dictionary<string, string> { ["SOURCE_DATE_EPOCH"] = "1767225600", ["COLUMNS"] = "200" };

        var native = Tools.Run(aot.Path, args, Root, env);
        var jit = Tools.Run(Tools.JitCli(), args, Root, env);

        Assert.Equal(jit.ExitCode, native.ExitCode);
        Assert.Equal(jit.Stdout, native.Stdout);
        Assert.Equal(jit.Stderr, native.Stderr);
        Assert.NotEqual("", jit.Stdout + jit.Stderr);
    }

    [Fact]
    public void ToolPackage_InstallsFromALocalSourceAndRuns()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-tool-");
        try
        {
            var packages = Path.Combine(dir.FullName, "packages");
            var pack = Tools.Run("dotnet", ["pack", Path.Combine(Root, "src", "Tollgate.Cli"), "-c", "Release", "-o", packages, "--nologo"], Root);
            Assert.True(pack.ExitCode == 0, pack.Output);
            Assert.Single(Directory.GetFiles(packages, "Tollgate.Cli.*.nupkg"));
            // Only the local folder: the install must not depend on any other package source.
            var config = Path.Combine(dir.FullName, "nuget.config");
            File.WriteAllText(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{packages}" />
                  </packageSources>
                </configuration>
                """);
            var tools = Path.Combine(dir.FullName, "tools");

            var install = Tools.Run("dotnet", ["tool", "install", "Tollgate.Cli", "--tool-path", tools, "--configfile", config], dir.FullName);
            Assert.True(install.ExitCode == 0, install.Output);
            var version = Tools.Run(Path.Combine(tools, "tollgate"), ["version"], Root);
            var scan = Tools.Run(Path.Combine(tools, "tollgate"), ["scan", "examples/mcp-server-npm", "--advisories", "examples/advisories", "--format", "json"], Root);

            Assert.Equal(0, version.ExitCode);
            Assert.Contains("0.1.0", version.Stdout, StringComparison.Ordinal);
            Assert.Equal(1, scan.ExitCode);
            Assert.Contains("\"verdict\": \"fail\"", scan.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
