using System.Diagnostics;
using System.Text.Json;
using Tollgate.Tests.Advisories;

namespace Tollgate.Tests.Cli;

/// <summary>
/// Files and folders the user running Tollgate may not read or write. Permissions do not stop root, so as root the
/// command runs as the unprivileged user nobody (util-linux <c>setpriv</c>), as a CI job without root would.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class UnprivilegedUserTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly string _childTemp;

    public UnprivilegedUserTests()
    {
        // The test run's temporary folder is the owner's alone; the other user needs to pass through it to the test's
        // folder, and a temporary folder of its own (as /tmp is: anyone writes, only the owner deletes).
        var runTemp = Path.GetDirectoryName(_temp.Path)!;
        File.SetUnixFileMode(runTemp, File.GetUnixFileMode(runTemp) | UnixFileMode.OtherExecute);
        _childTemp = _temp.File("tmp");
        Directory.CreateDirectory(_childTemp);
        File.SetUnixFileMode(_childTemp, (UnixFileMode)0b1_111_111_111);
    }

    public void Dispose()
    {
        foreach (var folder in Directory.GetDirectories(_temp.Path, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        _temp.Dispose();
    }

    private static string Example => Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm");
    private static string Advisories => Path.Combine(TestData.RepositoryRoot, "examples", "advisories");

    private static bool IsRoot => Environment.UserName == "root";

    private CliRunner.Result RunUnprivileged(params string[] args) => RunUnprivilegedWith(_childTemp, args);

    private static CliRunner.Result RunUnprivilegedWith(string temporaryFolder, params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "Tollgate.Cli.dll");
        var start = new ProcessStartInfo(IsRoot ? "setpriv" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[.. IsRoot ? ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet"] : Array.Empty<string>(), cli, .. args])
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["NO_COLOR"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["TOLLGATE_HOME"] = "/nonexistent/tollgate-home";
        start.Environment["TMPDIR"] = temporaryFolder;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("tollgate " + string.Join(' ', args));
        }
        return new CliRunner.Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A folder with a readable project and, beside it, a project in a folder no one but its owner may list.</summary>
    private string FolderWithAnUnlistableProject()
    {
        var root = _temp.File("repo");
        foreach (var name in new[] { "readable", "locked" })
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            File.Copy(Path.Combine(Example, "package-lock.json"), Path.Combine(root, name, "package-lock.json"));
            File.Copy(Path.Combine(Example, "package.json"), Path.Combine(root, name, "package.json"));
        }
        File.WriteAllText(Path.Combine(root, "readable", "Dockerfile"), "FROM node:22.11.0-bookworm-slim@sha256:4b44c32c9f3118d60977d0dde5f758f63c4f9eac8ddc4744c4c11d7e0a5ef1e5\nUSER node\n");
        File.SetUnixFileMode(Path.Combine(root, "locked"), UnixFileMode.None);
        return root;
    }

    [Theory]
    [InlineData("table")]
    [InlineData("json")]
    [InlineData("sarif")]
    [InlineData("markdown")]
    public void Scan_FolderItCannotList_IsIncompleteInEveryFormat(string format)
    {
        var root = FolderWithAnUnlistableProject();

        var result = RunUnprivileged("scan", root, "--advisories", Advisories, "--format", format);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Contains("locked: error TG0001: cannot list this folder, so nothing in it was checked", result.Stderr, StringComparison.Ordinal);
        switch (format)
        {
            case "json":
                using (var json = JsonDocument.Parse(result.Stdout))
                {
                    Assert.Equal("incomplete", json.RootElement.GetProperty("verdict").GetString());
                }
                break;
            case "sarif":
                using (var sarif = JsonDocument.Parse(result.Stdout))
                {
                    Assert.False(sarif.RootElement.GetProperty("runs")[0].GetProperty("invocations")[0].GetProperty("executionSuccessful").GetBoolean());
                }
                break;
            case "markdown":
                Assert.StartsWith("## Tollgate scan: incomplete", result.Stdout, StringComparison.Ordinal);
                break;
            default:
                Assert.Contains("INCOMPLETE: ", result.Stdout, StringComparison.Ordinal);
                break;
        }
    }

    [Fact]
    public void DeployAudit_FolderItCannotList_IsIncomplete()
    {
        var root = FolderWithAnUnlistableProject();

        var result = RunUnprivileged("deploy", "audit", root, "--format", "json");

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Contains("cannot list this folder, so nothing in it was checked", result.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("incomplete", json.RootElement.GetProperty("summary").GetProperty("verdict").GetString());
    }

    [Fact]
    public void Scan_FolderItCannotListButExcluded_IsChecked()
    {
        var root = FolderWithAnUnlistableProject();

        var result = RunUnprivileged("scan", root, "--advisories", Advisories, "--exclude", "locked", "--checks", "deps", "--format", "json");

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.DoesNotContain("cannot list", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_InAFolderItCannotWrite_IsAnInputErrorNamingTheFileNotAnInternalError()
    {
        var folder = _temp.File("read-only");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var report = Path.Combine(folder, "report.json");

        var result = RunUnprivileged("scan", Example, "--advisories", Advisories, "--format", "json", "-o", report);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Contains($"error: cannot write {report}: ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void Scan_AdvisoriesWithATemporaryFolderItCannotWrite_IsAnInputErrorNotAnInternalError()
    {
        var readOnly = _temp.File("read-only-tmp");
        Directory.CreateDirectory(readOnly);
        File.SetUnixFileMode(readOnly, (UnixFileMode)0b101_101_101);

        var result = RunUnprivilegedWith(readOnly, "scan", Example, "--advisories", Advisories, "--format", "json");

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Contains($"error: cannot make a temporary folder in {readOnly}/ for the advisories given with --advisories", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("set TMPDIR to a folder this user can write", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }
}
