using System.Text.Json;
using Tollgate.Inputs;

namespace Tollgate.Tests.Cli;

/// <summary>What a new user types first: no arguments, the version, and --exclude on a folder scan.</summary>
public sealed class CommandLineTests
{
    private static string Example => Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm");

    [Fact]
    public void NoArguments_ShowsHelpAndExitsZero()
    {
        var result = CliRunner.Run();

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("tollgate scan PATH", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Commands:", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_PrintsVersionCommitAndBuildDate()
    {
        var result = CliRunner.Run("version");
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^tollgate \d+\.\d+\.\d+", lines[0]);
        // Built from this git checkout: the commit is a full hash and the date an ISO 8601 time.
        Assert.Matches(@"^commit  [0-9a-f]{40}$", lines[1]);
        Assert.Matches(@"^built   \d{4}-\d{2}-\d{2}T", lines[2]);
        Assert.Equal(lines[0]["tollgate ".Length..], CliRunner.Run("--version").Stdout.Trim());
    }

    [Theory]
    [InlineData("examples", "examples", true)]
    [InlineData("examples", "src/examples/lock.json", true)]
    [InlineData("*.test.json", "a/b/c.test.json", true)]
    [InlineData("*.test.json", "a/b/c.json", false)]
    [InlineData("packages/*/fixtures", "packages/web/fixtures", true)]
    [InlineData("packages/*/fixtures", "packages/web/deep/fixtures", false)]
    [InlineData("**/testdata", "testdata", true)]
    [InlineData("**/testdata", "a/b/testdata", true)]
    [InlineData("docs/**", "docs/a/b.json", true)]
    [InlineData("./build/", "build", true)]
    public void PathGlobs_MatchNamesAnywhereAndPathsFromTheScannedFolder(string pattern, string path, bool excluded)
    {
        var globs = new PathGlobs([pattern]);

        // A name pattern matches the last segment; the walker asks for every folder on the way down.
        var segments = path.Split('/');
        var any = Enumerable.Range(1, segments.Length).Any(n => globs.IsExcluded(string.Join('/', segments.Take(n))));
        Assert.Equal(excluded, any);
    }

    [Fact]
    public void Deps_Exclude_LeavesTheMatchingFolderOut()
    {
        using var temp = new Tollgate.Tests.Advisories.TempFolder();
        foreach (var name in new[] { "server", "fixtures" })
        {
            Directory.CreateDirectory(temp.File(name));
            File.Copy(Path.Combine(Example, "package-lock.json"), temp.File(name, "package-lock.json"));
            File.Copy(Path.Combine(Example, "package.json"), temp.File(name, "package.json"));
        }

        var all = CliRunner.Run("deps", temp.Path, "--format", "json");
        var some = CliRunner.Run("deps", temp.Path, "--format", "json", "--exclude", "fixtures");
        var none = CliRunner.Run("scan", temp.Path, "--no-advisories", "--exclude", "fixtures", "--exclude", "server");

        using var allDoc = JsonDocument.Parse(all.Stdout);
        using var someDoc = JsonDocument.Parse(some.Stdout);
        Assert.Equal(2, allDoc.RootElement.GetProperty("roots").GetArrayLength());
        var root = Assert.Single(someDoc.RootElement.GetProperty("roots").EnumerateArray());
        Assert.Contains("server", root.GetProperty("file").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("check the --exclude patterns", none.Stderr, StringComparison.Ordinal);
    }
}
