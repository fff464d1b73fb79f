using Tollgate.Ecosystems.PyPI;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.PyPI;

public sealed class LocatedTomlTests
{
    [Fact]
    public void Parse_TablesArraysAndDottedKeys_KeepLines()
    {
        const string text = "a = 1\n[b]\nc.d = \"x\"\n[[p]]\nname = 'n1'\n[p.sub]\nk = true\n[[p]]\nname = 'n2'\ninline = { x = [1, 2] }\n";
        var bag = new DiagnosticBag();

        var doc = LocatedToml.Parse(text, "f.toml", bag);

        Assert.NotNull(doc);
        Assert.Empty(bag.Items);
        Assert.Equal("x", doc.GetTablePath("b.c")!.GetString("d"));
        var packages = doc.GetArray("p")!.Items.Cast<TomlTableNode>().ToList();
        Assert.Equal(["n1", "n2"], packages.Select(p => p.GetString("name")));
        Assert.Equal(5, packages[0]["name"]!.Line);
        Assert.Equal(true, packages[0].GetTable("sub")!.GetBool("k"));
        Assert.Equal(9, packages[1]["name"]!.Line);
        Assert.Equal(2, packages[1].GetTable("inline")!.GetArray("x")!.Items.Count);
    }

    [Theory]
    [InlineData("[")]
    [InlineData("{ b = ")]
    public void Parse_ValueNestedTooDeep_TooDeepAtTheBracketPastTheLimit(string open)
    {
        // Tomlyn's own exception has no position (it was reported at 1:1, telling to change TomlSerializerOptions).
        var text = "version = 1\na = " + string.Concat(Enumerable.Repeat(open, 10_000)) + "\n";
        var bag = new DiagnosticBag();

        var doc = LocatedToml.Parse(text, "f.toml", bag);

        Assert.Null(doc);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.TooDeep, d.Id);
        Assert.Equal(new SourceLocation("f.toml", 2, 5 + (64 * open.Length)), d.Location);
    }

    [Fact]
    public void Parse_TextEndingInAnEscape_InvalidTomlAtTheBackslash()
    {
        // Found by ReaderFuzzTests (pdm.lock cut after a backslash): Tomlyn's lexer threw ArgumentOutOfRangeException.
        const string text = "[[package]]\nname = \"a\"\nmarker = \"sys_platform == \\\"win32\\";
        var bag = new DiagnosticBag();

        var doc = LocatedToml.Parse(text, "pdm.lock", bag);

        Assert.Null(doc);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.InvalidToml, d.Id);
        Assert.Equal(new SourceLocation("pdm.lock", 3, 34), d.Location);
    }

    [Fact]
    public void Parse_UnclosedString_OneDiagnosticAtTheMistake()
    {
        const string text = "name = \"idna\"\nversion = \"3.7\n\n[metadata]\nlock-version = \"2.1\"\n";
        var bag = new DiagnosticBag();

        var doc = LocatedToml.Parse(text, "f.toml", bag);

        Assert.Null(doc);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.InvalidToml, d.Id);
        Assert.Equal(new SourceLocation("f.toml", 2, 15), d.Location);
    }

    [Fact]
    public void Parse_DuplicateKey_IsAnError()
    {
        var bag = new DiagnosticBag();

        Assert.Null(LocatedToml.Parse("a = 1\na = 2\n", "f.toml", bag));

        Assert.Equal(2, Assert.Single(bag.Items).Location!.Line);
    }
}
