using System.Text.Json;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Npm;

/// <summary>
/// bun.lockb, bun's binary lockfile (real, from bun 1.1.38): not read, never skipped silently. Alone it makes the scan
/// incomplete with the fix; beside a readable lockfile it is a warning naming it.
/// </summary>
public sealed class BunBinaryLockfileTests
{
    [Fact]
    public void Scan_FolderWithOnlyBunLockb_IsIncompleteAndSaysHowToFixIt()
    {
        var run = CliRunner.Run("scan", TestData.Path("npm", "bun-lockb"), "--no-advisories", "--format", "json");
        Assert.Equal(2, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal("incomplete", doc.RootElement.GetProperty("verdict").GetString());
        var diagnostic = Assert.Single(doc.RootElement.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("id").GetString() == "TG0005");
        Assert.EndsWith("bun.lockb", diagnostic.GetProperty("file").GetString(), StringComparison.Ordinal);
        Assert.Contains("bun install --save-text-lockfile", diagnostic.GetProperty("hint").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_BunLockbNamedDirectly_SaysWhyRatherThanRefusingTheFileType()
    {
        var run = CliRunner.Run("scan", TestData.Path("npm", "bun-lockb", "bun.lockb"), "--no-advisories");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("bun's binary lockfile", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("bun install --save-text-lockfile", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_BunLockbBesidePackageLock_WarnsNamingItAndScansThePackageLock()
    {
        var run = CliRunner.Run("scan", TestData.Path("npm", "bun-lockb-and-npm"), "--no-advisories", "--format", "json");
        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.NotEqual("incomplete", doc.RootElement.GetProperty("verdict").GetString());
        var warning = Assert.Single(doc.RootElement.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("file").GetString()!.EndsWith("bun.lockb", StringComparison.Ordinal));
        Assert.Equal("warning", warning.GetProperty("severity").GetString());
        Assert.Contains("package-lock.json", warning.GetProperty("message").GetString(), StringComparison.Ordinal);
        var deps = CliRunner.Run("deps", TestData.Path("npm", "bun-lockb-and-npm"), "--format", "json");
        Assert.Contains("\"is-number\"", deps.Stdout, StringComparison.Ordinal);
    }
}
