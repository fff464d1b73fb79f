using System.Text;
using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;
using Tollgate.Tests.Inputs;

namespace Tollgate.Tests.NuGet;

/// <summary>
/// Properties that repeat each other double at each step: forty of them in a project file filled the memory and the
/// process was killed ("Out of memory", 6 GB). A value past the limit is an error at the property, left undefined.
/// </summary>
public sealed class MsBuildPropertyExpansionTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("App.csproj")]
    [InlineData("Directory.Build.props")]
    public void Deps_PropertiesDoublingEachOther_ErrorAtThePropertyPastTheLimit(string fileName)
    {
        var properties = new StringBuilder("<P0>xxxxxxxx</P0>\n");
        for (var i = 1; i < 40; i++)
        {
            properties.Append($"<P{i}>$(P{i - 1})$(P{i - 1})</P{i}>\n");
        }
        var hostile = $"<Project>\n<PropertyGroup>\n{properties}</PropertyGroup>\n</Project>\n";
        var project = _temp.File("App.csproj");
        File.WriteAllText(_temp.File(fileName), hostile);
        if (fileName != "App.csproj")
        {
            File.WriteAllText(project, "<Project Sdk=\"Microsoft.NET.Sdk\"><ItemGroup><PackageReference Include=\"A\" Version=\"$(P39)\" /></ItemGroup></Project>");
        }

        var (result, elapsed) = QuickWork.Time(() => CliRunner.Run("deps", project));

        // 8 characters doubled 13 times is 65,536; P14 is the first past the limit, on line 17.
        DamagedInput.AssertLocatedError(result, _temp.File(fileName), "TG0009", 17, 2);
        Assert.Contains("'P14'", result.Stderr, StringComparison.Ordinal);
        QuickWork.AssertQuick(elapsed);
    }
}
