using System.Text.Json;
using Tollgate.Tests.Advisories;

namespace Tollgate.Tests.Cli;

/// <summary>
/// TG0018: a lockfile format that does not record which packages run install scripts (yarn, pnpm 9, bun,
/// package-lock v1) is reported as "install scripts unknown" rather than passing TG1001 silently.
/// </summary>
public sealed class InstallScriptsUnknownTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Advisories => Path.Combine(TestData.RepositoryRoot, "examples", "advisories");

    private static List<JsonElement> Unknown(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("diagnostics").EnumerateArray()
            .Where(d => d.GetProperty("id").GetString() == "TG0018").Select(d => d.Clone())];
    }

    [Theory]
    [InlineData("yarn-classic-basic", "yarn.lock")]
    [InlineData("yarn-berry-basic", "yarn.lock")]
    [InlineData("pnpm9-basic", "pnpm-lock.yaml")]
    [InlineData("bun-basic", "bun.lock")]
    [InlineData("lockfile-v1", "package-lock.json")]
    public void Scan_LockfileWithoutInstallScriptFacts_WarnsOncePerLockfile(string folder, string lockfile)
    {
        var run = CliRunner.Run("scan", TestData.Path("npm", folder), "--advisories", Advisories, "--format", "json");
        var unknown = Assert.Single(Unknown(run.Stdout));
        Assert.Equal("warning", unknown.GetProperty("severity").GetString());
        Assert.Equal(lockfile, Path.GetFileName(unknown.GetProperty("file").GetString()));
        Assert.Contains("TG1001", unknown.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lockfile-v2")]
    [InlineData("pnpm8-basic")]
    public void Scan_LockfileThatRecordsInstallScripts_NoWarning(string folder)
    {
        var run = CliRunner.Run("scan", TestData.Path("npm", folder), "--advisories", Advisories, "--format", "json");
        Assert.Empty(Unknown(run.Stdout));
    }

    [Fact]
    public void Scan_PolicyTurnsTG1001Off_NoWarning()
    {
        var policy = _temp.File("tollgate.yaml");
        File.WriteAllText(policy, "rules:\n  TG1001: off\n");
        var run = CliRunner.Run("scan", TestData.Path("npm", "yarn-classic-basic"), "--advisories", Advisories, "--format", "json", "--policy", policy);
        Assert.Empty(Unknown(run.Stdout));
    }

    [Fact]
    public void Scan_TableOutput_NamesTheLockfileOnStderr()
    {
        var run = CliRunner.Run("scan", TestData.Path("npm", "yarn-classic-basic"), "--advisories", Advisories);
        Assert.Contains("TG0018", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("yarn.lock", run.Stderr, StringComparison.Ordinal);
    }
}
