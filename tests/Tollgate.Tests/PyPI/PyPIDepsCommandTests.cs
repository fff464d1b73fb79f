using Tollgate.Tests.Cli;

namespace Tollgate.Tests.PyPI;

/// <summary>`tollgate deps` over PyPI inputs, end to end.</summary>
public sealed class PyPIDepsCommandTests
{
    [Fact]
    public void Deps_Why_CompiledRequirements_ShowsThePathFromViaComments()
    {
        var file = TestData.Reference("lockfiles", "python", "requirements-hashes-sigstore", "requirements.txt");

        var result = CliRunner.Run("deps", file, "--why", "pycparser");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("sigstore@4.5.0 > cryptography@50.0.0 > cffi@2.1.0 > pycparser@3.0", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_MalformedLock_ExitsTwoWithLocatedDiagnostic()
    {
        var result = CliRunner.Run("deps", TestData.Path("pypi", "malformed", "syntax-error-poetry.lock"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("syntax-error-poetry.lock:8:18", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("TG0004", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_JsonFormat_PoetryFixture_ListsEveryPackage()
    {
        var result = CliRunner.Run("deps", TestData.Path("pypi", "poetry-1x"), "--format", "json", "--include-dev");

        Assert.Equal(0, result.ExitCode);
        foreach (var purl in new[] { "pkg:pypi/requests@2.31.0", "pkg:pypi/pytest@8.0.2", "pkg:pypi/charset-normalizer@3.3.2" })
        {
            Assert.Contains(purl, result.Stdout, StringComparison.Ordinal);
        }
    }
}
