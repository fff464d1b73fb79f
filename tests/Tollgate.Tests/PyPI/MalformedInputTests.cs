using Tollgate.Graph;

namespace Tollgate.Tests.PyPI;

/// <summary>Bad input gives diagnostics with a place to look, never an exception.</summary>
public sealed class MalformedInputTests
{
    private static string Malformed(string name) => TestData.Path("pypi", "malformed", name);

    [Fact]
    public void Read_TomlSyntaxError_Tg0004AtTheUnclosedString()
    {
        var (graph, diagnostics) = PyPITestRead.Read(Malformed("syntax-error-poetry.lock"));

        var d = diagnostics.Only("TG0004");
        // Line 8 is `version = "2.31.0` (17 characters): the string meets the end of the line at column 18.
        Assert.Equal((8, 18), (d.Location!.Line, d.Location.Column));
        Assert.Empty(graph.Components);
    }

    [Fact]
    public void Read_TruncatedUvLock_Tg0004SaysTruncated()
    {
        var (_, diagnostics) = PyPITestRead.Read(Malformed("truncated-uv.lock"));

        var d = diagnostics.Only("TG0004");
        Assert.Equal(25, d.Location!.Line); // the file stops in the middle of line 25
        Assert.Contains("truncated", d.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedPipfileLock_Tg0002()
    {
        var (_, diagnostics) = PyPITestRead.Read(Malformed("truncated-Pipfile.lock"));

        Assert.Equal(14, diagnostics.Only("TG0002").Location!.Line);
    }

    [Theory]
    [InlineData("unknown-version-uv.lock", 1, "version 99")]
    [InlineData("unknown-version-poetry.lock", 9, "'9.0'")]
    [InlineData("unknown-version-pdm.lock", 3, "'9'")]
    [InlineData("unknown-version-pylock.toml", 1, "'2.0'")]
    public void Read_UnknownLockVersion_Tg0005WithHint(string file, int line, string quoted)
    {
        var (graph, diagnostics) = PyPITestRead.Read(Malformed(file));

        var d = diagnostics.Only("TG0005");
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(line, d.Location!.Line);
        Assert.Contains(quoted, d.Message, StringComparison.Ordinal);
        Assert.Contains("upgrade tollgate", d.Hint, StringComparison.Ordinal);
        Assert.Empty(graph.Components);
    }

    [Fact]
    public void Read_WrongTypesInUvLock_Tg0009ForEachAndTheRestRead()
    {
        var (_, diagnostics) = PyPITestRead.Read(Malformed("wrong-types-uv.lock"));

        var shape = diagnostics.Where(d => d.Id == "TG0009").OrderBy(d => d.Location!.Line).ToList();
        Assert.Equal(2, shape.Count);
        Assert.Equal((5, 8), (shape[0].Location!.Line, shape[0].Location!.Column));
        Assert.Equal("'name' is an integer; expected a string", shape[0].Message);
        Assert.Equal(18, shape[1].Location!.Line);
        Assert.Equal("'dependencies' is a string; expected an array", shape[1].Message);
    }

    [Fact]
    public void Read_WrongTypesInPyProject_Tg0009AndTg0010()
    {
        var (graph, diagnostics) = PyPITestRead.Read(Malformed("wrong-types-pyproject.toml"));

        Assert.Equal((3, 16), (diagnostics.Where(d => d.Id == "TG0009").First().Location!.Line, diagnostics.Where(d => d.Id == "TG0009").First().Location!.Column));
        Assert.Equal(6, diagnostics.Where(d => d.Id == "TG0009").Last().Location!.Line);
        var entry = diagnostics.Only("TG0010");
        Assert.Equal((6, 29), (entry.Location!.Line, entry.Location.Column)); // "a valid spec!" after the name "not"
        Assert.Equal("pytest", graph.Components.Single().Name);
    }
}
