using System.Text;
using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Inputs;

/// <summary>
/// Project files and packages.config nested absurdly deep are refused as too deep, quickly: 100,000 levels (700 KB)
/// took minutes before, reading time growing with the square of the depth.
/// </summary>
public sealed class DeepXmlTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Nested(string root, int depth, int repeat = 1)
    {
        var text = new StringBuilder("<").Append(root).Append('>');
        for (var r = 0; r < repeat; r++)
        {
            for (var i = 0; i < depth; i++)
            {
                text.Append("<a>");
            }
            for (var i = 0; i < depth; i++)
            {
                text.Append("</a>");
            }
        }
        return text.Append("</").Append(root).Append('>').ToString();
    }

    private static (CliRunner.Result Result, TimeSpan Elapsed) Timed(params string[] args) => QuickWork.Time(() => CliRunner.Run(args));

    [Theory]
    [InlineData("App.csproj", "Project")]
    [InlineData("packages.config", "packages")]
    public void Deps_XmlNested100kLevels_RefusedAsTooDeepQuickly(string fileName, string root)
    {
        var path = _temp.File(fileName);
        File.WriteAllText(path, Nested(root, 100_000));

        var (result, elapsed) = Timed("deps", path);

        DamagedInput.AssertLocatedError(result, path, "TG0008", line: 1);
        QuickWork.AssertQuick(elapsed);
    }

    [Fact]
    public void Deps_DirectoryBuildPropsNestedTooDeep_RefusedAsTooDeep()
    {
        File.WriteAllText(_temp.File("Directory.Build.props"), Nested("Project", 100_000));
        var project = _temp.File("App.csproj");
        File.WriteAllText(project, "<Project Sdk=\"Microsoft.NET.Sdk\"><ItemGroup><PackageReference Include=\"A\" Version=\"1.0.0\" /></ItemGroup></Project>");

        var (result, elapsed) = Timed("deps", project);

        DamagedInput.AssertLocatedError(result, _temp.File("Directory.Build.props"), "TG0008", line: 1);
        QuickWork.AssertQuick(elapsed);
    }

    [Fact]
    public void Deps_XmlJustUnderTheDepthLimitRepeated_ReadInLinearTime()
    {
        // 700 KB of elements 250 levels deep (the limit is 256): as much text as the refused file, read in full, as fast.
        var path = _temp.File("packages.config");
        File.WriteAllText(path, Nested("packages", 250, repeat: 400));

        var (result, elapsed) = Timed("deps", path);

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        QuickWork.AssertQuick(elapsed);
    }
}
