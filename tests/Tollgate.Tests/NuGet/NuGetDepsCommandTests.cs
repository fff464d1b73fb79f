using Tollgate.Tests.Cli;

namespace Tollgate.Tests.NuGet;

/// <summary><c>tollgate deps</c> end to end on NuGet fixtures.</summary>
public sealed class NuGetDepsCommandTests
{
    [Fact]
    public void Deps_WhyBuildTimePackage_ShowsEveryPathWhenDevIncluded()
    {
        using var fixture = new NuGetFixture("cpm-multi");

        var result = CliRunner.Run("deps", fixture.Root, "--why", "Microsoft.Build.Tasks.Git", "--include-dev");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Microsoft.Build.Tasks.Git@8.0.0 (NuGet): 3 path(s)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("App > Microsoft.SourceLink.GitHub@8.0.0 > Microsoft.Build.Tasks.Git@8.0.0", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Lib > Microsoft.Build.Tasks.Git@8.0.0", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_WhyBuildTimePackage_HiddenWithoutIncludeDev()
    {
        using var fixture = new NuGetFixture("cpm-multi");

        var result = CliRunner.Run("deps", fixture.Root, "--why", "Microsoft.SourceLink.Common");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--include-dev", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_MalformedFolder_ExitsTwoWithDiagnosticsAndNoStackTrace()
    {
        using var fixture = new NuGetFixture("malformed");

        var result = CliRunner.Run("deps", fixture.Root, "--format", "json");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Broken.csproj:7:5: error TG0016", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("error TG0005", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Newtonsoft.Json", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }
}
