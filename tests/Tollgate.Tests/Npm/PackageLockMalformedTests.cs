using Tollgate.Graph;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Npm;

/// <summary>Hand-written broken lockfiles: each gives one diagnostic with its place, exit code 2, and no stack trace.</summary>
public sealed class PackageLockMalformedTests
{
    [Theory]
    [InlineData("malformed-package-lock.json", "TG0002", 13, 7, "is invalid after a value")]
    [InlineData("truncated-package-lock.json", "TG0002", 29, 13, "truncated")]
    [InlineData("unknown-version-package-lock.json", "TG0005", 4, 22, "lockfileVersion 99 is not supported")]
    [InlineData("deeply-nested-package-lock.json", "TG0008", 1, 1572, "nested more than 256 levels")]
    [InlineData("wrong-types-package-lock.json", "TG0009", 6, 15, "'packages' should be an object")]
    public void Deps_MalformedLockfile_DiagnosticAtPlaceAndOtherFileStillRead(string file, string id, int line, int column, string text)
    {
        var bad = TestData.Path("npm", "malformed", file);
        var good = TestData.Path("npm", "no-resolved", "package-lock.json");

        var result = CliRunner.Run("deps", bad, good);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"{file}:{line}:{column}: error {id}:", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(text, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Stderr, StringComparison.Ordinal);
        // The good lockfile beside it is read whole: chalk and commander are its direct dependencies.
        Assert.Contains("chalk", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("commander", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnknownVersion_ErrorWithHintAndNoProject()
    {
        var graph = PackageLockFixtures.Read(TestData.Path("npm", "malformed", "unknown-version-package-lock.json"), out var diagnostics);

        var error = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticIds.UnsupportedVersion, error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Contains("1, 2 and 3", error.Hint, StringComparison.Ordinal);
        Assert.Empty(graph.Roots);
    }

    [Fact]
    public void Read_TruncatedLockfile_HintSaysTruncated()
    {
        PackageLockFixtures.Read(TestData.Path("npm", "malformed", "truncated-package-lock.json"), out var diagnostics);

        var error = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticIds.InvalidJson, error.Id);
        Assert.Contains("truncated", error.Hint, StringComparison.Ordinal);
    }
}
