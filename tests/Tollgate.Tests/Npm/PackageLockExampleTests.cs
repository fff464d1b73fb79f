using System.Text.Json;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Npm;

/// <summary><c>tollgate deps</c> on the repository's examples/ folder, in every output form.</summary>
public sealed class PackageLockExampleTests
{
    private static string Examples => Path.Combine(TestData.RepositoryRoot, "examples");

    [Fact]
    public void Deps_Examples_TableListsTheVulnerablePins()
    {
        var result = CliRunner.Run("deps", Examples);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("mcp-server-npm/package-lock.json", result.Stderr, StringComparison.Ordinal);
        foreach (var (name, version) in new[] { ("axios", "1.5.1"), ("lodash", "4.17.20"), ("minimist", "1.2.5"), ("express", "4.18.2"), ("body-parser", "1.20.1"), ("cookie", "0.5.0") })
        {
            Assert.Matches($@"│ npm\s+│ {name}\s+│ {version.Replace(".", @"\.", StringComparison.Ordinal)}\s+│", result.Stdout);
        }
        Assert.Contains("7 direct", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_ExamplesWhyMinimist_DirectAndThroughMkdirp()
    {
        var result = CliRunner.Run("deps", Examples, "--why", "minimist");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("minimist@1.2.5 (npm): 2 path(s)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("weather-mcp-server@0.4.2 > minimist@1.2.5", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("weather-mcp-server@0.4.2 > mkdirp@0.5.5 > minimist@1.2.5", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_ExamplesTree_StartsAtTheServer()
    {
        var result = CliRunner.Run("deps", Examples, "--format", "tree");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("weather-mcp-server@0.4.2 (", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("body-parser@1.20.1", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_ExamplesJson_RegistryOriginsAndPurls()
    {
        var result = CliRunner.Run("deps", Examples, "--format", "json");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        var lodash = json.RootElement.GetProperty("components").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == "lodash");
        Assert.Equal("pkg:npm/lodash@4.17.20", lodash.GetProperty("purl").GetString());
        Assert.Equal("registry", lodash.GetProperty("origin").GetProperty("kind").GetString());
        Assert.EndsWith("/lodash/-/lodash-4.17.20.tgz", lodash.GetProperty("origin").GetProperty("location").GetString(), StringComparison.Ordinal);
        Assert.True(lodash.GetProperty("direct").GetBoolean());
        Assert.Equal("weather-mcp-server", json.RootElement.GetProperty("roots")[0].GetProperty("name").GetString());
    }
}
