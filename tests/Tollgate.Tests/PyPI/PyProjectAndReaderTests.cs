using Tollgate.Ecosystems.PyPI;
using Tollgate.Graph;

namespace Tollgate.Tests.PyPI;

public sealed class PyProjectAndReaderTests
{
    [Fact]
    public void Read_PyProjectAlone_UnresolvedDirectComponents()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi", "pyproject-only"));

        diagnostics.NoErrors();
        Assert.Equal("mcp-weather@0.1.0", graph.Roots.Single().DisplayName);
        Assert.Equal(
            ["helper@v2", "httpx@>=0.27", "matplotlib@>=3.8", "mcp@>=1.2.0", "pillow@^10.3", "pytest@>=8", "ruff@==0.5.0", "tomli@>=2"],
            graph.Components.Select(c => $"{c.Name}@{c.Version}").Order(StringComparer.Ordinal));
        Assert.All(graph.Components, c => Assert.False(c.Resolved));
        Assert.All(graph.Components, c => Assert.True(c.Direct));
        Assert.Equal(DependencyScopes.Optional, graph.One("matplotlib").Scopes);
        Assert.Equal(DependencyScopes.Dev, graph.One("ruff").Scopes);
        Assert.Equal(DependencyScopes.Prod, graph.One("pillow").Scopes);
        Assert.Equal(OriginKind.Git, graph.One("helper").Origin.Kind);
        Assert.Equal(6, graph.One("mcp").Locations.Single().Line);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostics.Only("TG0013").Severity);
    }

    [Theory]
    [InlineData("requirements.txt", false, true)]
    [InlineData("requirements-dev.txt", false, true)]
    [InlineData("dev-requirements.txt", false, true)]
    [InlineData("notes.txt", false, false)]
    [InlineData("old-requirements-2023.txt", false, false)]
    [InlineData("old-requirements-2023.txt", true, true)]
    [InlineData("uv.lock", false, true)]
    [InlineData("poetry.lock", false, true)]
    [InlineData("pdm.lock", false, true)]
    [InlineData("Pipfile.lock", false, true)]
    [InlineData("Pipfile", false, true)]
    [InlineData("pyproject.toml", false, true)]
    [InlineData("pylock.toml", false, true)]
    [InlineData("pylock.spam.toml", false, true)]
    [InlineData("pylock.a.b.toml", false, false)]
    [InlineData("malformed-poetry.lock", false, false)]
    [InlineData("malformed-poetry.lock", true, true)]
    [InlineData("unknown-version-pylock.toml", true, true)]
    [InlineData("package-lock.json", true, false)]
    [InlineData("Cargo.lock", true, false)]
    public void IsInput_FileNames_AcceptedAsDocumented(string name, bool named, bool expected) =>
        Assert.Equal(expected, new PyPIReader().IsInput(name, named));

    [Fact]
    public void Group_LockfilesInOneFolder_FirstByPriorityDecides()
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-pypi-");
        try
        {
            File.Copy(TestData.Path("pypi", "poetry-2x", "poetry.lock"), Path.Combine(dir.FullName, "poetry.lock"));
            File.Copy(TestData.Path("pypi", "poetry-2x", "pyproject.toml"), Path.Combine(dir.FullName, "pyproject.toml"));
            File.Copy(TestData.Path("pypi", "pipfile-git", "Pipfile.lock"), Path.Combine(dir.FullName, "Pipfile.lock"));

            var (graph, diagnostics) = PyPITestRead.Read(dir.FullName);

            var root = Assert.Single(graph.Roots);
            Assert.EndsWith("poetry.lock", root.AuthoritativeFile, StringComparison.Ordinal);
            Assert.EndsWith("pyproject.toml", root.Files[1], StringComparison.Ordinal);
            var info = diagnostics.Only("TG0015");
            Assert.EndsWith("Pipfile.lock", info.Location!.File, StringComparison.Ordinal);
            Assert.Equal(DiagnosticSeverity.Info, info.Severity);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Read_WholeTestdataFolder_EveryProjectReadWithoutExceptions()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi"));

        // Walking skips nothing it should read: the fixtures with a lockfile or manifest each give a root.
        Assert.Contains(graph.Roots, r => r.AuthoritativeFile.EndsWith("pdm/pdm.lock", StringComparison.Ordinal));
        Assert.Contains(graph.Roots, r => r.AuthoritativeFile.EndsWith("pylock/pylock.toml", StringComparison.Ordinal));
        Assert.Contains(graph.Roots, r => r.AuthoritativeFile.EndsWith("poetry-1x/poetry.lock", StringComparison.Ordinal));
        Assert.Contains(diagnostics, d => d.Id == "TG0006");
        Assert.Contains(diagnostics, d => d.Id == "TG0011");
    }
}
