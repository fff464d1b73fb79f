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
