namespace Tollgate.Tests.Cli;

public sealed class DepsCommandTests
{
    [Fact]
    public void Deps_MissingPath_ExitsTwoWithDiagnostic()
    {
        var result = CliRunner.Run("deps", "/no/such/folder");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("TG0012", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("/no/such/folder", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("npm/malformed/malformed-package-lock.json", "TG0002", ":13:7:")]
    [InlineData("npm/malformed/truncated-package-lock.json", "TG0002", ":29:13:")]
    [InlineData("npm/malformed/unknown-version-package-lock.json", "TG0005", ":4:22:")]
    [InlineData("npm/malformed/deeply-nested-package-lock.json", "TG0008", ":1:1572:")]
    [InlineData("npm/bun-malformed/broken.lock", "TG0002", ":13:5:")]
    [InlineData("npm/bun-malformed/version-99.lock", "TG0005", ":2:22:")]
    [InlineData("npm/pnpm-malformed/broken-yaml.yaml", "TG0003", ":10:6:")]
    [InlineData("npm/pnpm-malformed/version-4.yaml", "TG0005", ":1:18:")]
    [InlineData("npm/pnpm-malformed/no-version.yaml", "TG0009", ":1:1:")]
    [InlineData("npm/yarn-malformed/berry-truncated-quoted.lock", "TG0003", ":33:15:")]
    [InlineData("npm/yarn-malformed/berry-version-99.lock", "TG0005", ":5:12:")]
    [InlineData("npm/yarn-malformed/classic-v2.lock", "TG0005", ":2:1:")]
    [InlineData("nuget/malformed/Broken.csproj", "TG0016", ":7:5:")]
    [InlineData("pypi/malformed/truncated-uv.lock", "TG0004", ":25:35:")]
    public void Deps_MalformedFileNamedDirectly_ExitsTwoWithLocatedDiagnostic(string fixture, string id, string position)
    {
        // Files with names of their own (broken.lock, version-4.yaml) are recognised by their content.
        var path = TestData.Path(fixture.Split('/'));

        var result = CliRunner.Run("deps", path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{position} error {id}", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("hint:", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_UnknownFormat_ExitsTwoWithUsageHint()
    {
        var result = CliRunner.Run("deps", ".", "--format", "xml");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("xml", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--help", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_EveryCommand_HasAnExample()
    {
        var root = Tollgate.Cli.TollgateCli.Build(new Tollgate.Cli.Terminal(new StringWriter(), new StringWriter()));
        var checkedCount = 0;
        Check(root.Subcommands);
        Assert.True(checkedCount >= 3, $"only {checkedCount} commands found");

        void Check(IEnumerable<System.CommandLine.Command> commands)
        {
            foreach (var command in commands)
            {
                Assert.True((command.Description ?? "").Contains("Example", StringComparison.Ordinal), $"'{command.Name}' --help has no example");
                checkedCount++;
                Check(command.Subcommands);
            }
        }
    }
}
