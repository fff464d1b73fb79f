using Tollgate.Graph;

namespace Tollgate.Tests.PyPI;

public sealed class RequirementsFileReaderTests
{
    private static readonly string Fixture = TestData.Path("pypi", "requirements", "requirements.txt");

    [Fact]
    public void Read_EveryFeature_OneComponentPerRequirement()
    {
        var (graph, diagnostics) = PyPITestRead.Read(Fixture);

        diagnostics.NoErrors();
        var root = Assert.Single(graph.Roots);
        Assert.Equal(4, root.Files.Length); // the file, its -r include, the include's own include, and the -c file
        Assert.Equal(
            ["attrs@23.2.0", "click@*", "editable-tool@v1.2.0", "flask@2.3.3", "idna@3.7", "local-pkg@*", "local-pkg@*",
             "mcp-helper@0123456789abcdef0123456789abcdef01234567", "requests@2.31.0", "tomli@2.0.1", "uvicorn@0.30.1",
             "vendored-pkg@0.3.0", "wheelpkg@1.4.0"],
            graph.Components.Select(c => $"{c.Name}@{c.Version}").Order(StringComparer.Ordinal));
        // Flat: every requirement hangs from the root and is direct.
        Assert.All(graph.Components, c => Assert.True(c.Direct));
        Assert.Equal(graph.Components.Length, graph.ChildrenOf(root.Key).Length);
        // A constraints file pins, but adds nothing: werkzeug is only in constraints.txt.
        Assert.Empty(graph.FindByName("werkzeug"));
    }

    [Fact]
    public void Read_HashesOnContinuationLines_AreRecorded()
    {
        var (graph, _) = PyPITestRead.Read(Fixture);

        var requests = graph.One("requests");
        Assert.Equal(
            [new IntegrityHash("sha256", "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f"),
             new IntegrityHash("sha256", "942c5a758f98d790eaed1a29cb6eefc7ffb0d1cf7af05c3d2791656dbd6ad1e1")],
            requests.Integrity.ToArray());
        Assert.Equal(9, requests.Locations.Single().Line);
    }

    [Fact]
    public void Read_IndexUrl_IsTheRegistryOfPinnedPackages()
    {
        var (graph, _) = PyPITestRead.Read(Fixture);

        Assert.Equal(Origin.Registry("https://packages.example.invalid/simple"), graph.One("requests").Origin);
    }

    [Fact]
    public void Read_RangesAndConstraints_ResolvedOnlyWhenPinned()
    {
        var (graph, diagnostics) = PyPITestRead.Read(Fixture);

        Assert.True(graph.One("flask").Resolved); // flask>=2.0,<3 pinned to 2.3.3 by constraints.txt
        var click = graph.One("click");
        Assert.False(click.Resolved);
        Assert.Equal("pkg:pypi/click", click.Purl.ToString());
        Assert.Contains("4 requirement(s)", diagnostics.Only("TG0013").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DirectReferences_HaveTheirOrigins()
    {
        var (graph, _) = PyPITestRead.Read(Fixture);

        var helper = graph.One("mcp-helper");
        Assert.Equal(OriginKind.Git, helper.Origin.Kind);
        Assert.True(helper.Resolved); // a full commit id
        Assert.Equal("pkg:pypi/mcp-helper@0123456789abcdef0123456789abcdef01234567?vcs_url=git%2Bhttps:%2F%2Fgit.example.invalid%2Forg%2Fmcp-helper.git%400123456789abcdef0123456789abcdef01234567",
            helper.Purl.ToString());
        var editable = graph.One("editable-tool");
        Assert.Equal(OriginKind.Git, editable.Origin.Kind);
        Assert.False(editable.Resolved); // a tag can move
        Assert.Equal(new SourceLocation(editable.Locations[0].File, 17, 4), editable.Locations[0]);
        var wheel = graph.One("wheelpkg");
        Assert.Equal(new Origin(OriginKind.Url, "https://files.example.invalid/packages/wheelpkg-1.4.0-py3-none-any.whl"), wheel.Origin);
        Assert.Equal(new Origin(OriginKind.File, "./vendor/vendored_pkg-0.3.0.tar.gz"), graph.One("vendored-pkg").Origin);
        // "-e ./localpkg": the name comes from the folder's pyproject.toml; "file:" with #egg names it directly.
        Assert.Equal(
            ["./localpkg", "file:./localpkg#egg=local-pkg"],
            graph.FindByName("local-pkg").Select(c => c.Origin.Location).Order(StringComparer.Ordinal));
        Assert.All(graph.FindByName("local-pkg"), c => Assert.Equal(OriginKind.File, c.Origin.Kind));
    }

    [Fact]
    public void Read_ExtrasAndMarkers_KeepThePackage()
    {
        var (graph, _) = PyPITestRead.Read(Fixture);

        Assert.Equal("0.30.1", graph.One("uvicorn").Version);
        Assert.Equal(13, graph.One("tomli").Locations.Single().Line);
    }

    [Fact]
    public void Read_IncludedFile_ComponentsPointAtTheIncludedFile()
    {
        var (graph, _) = PyPITestRead.Read(Fixture);

        Assert.EndsWith("requirements-base.txt", graph.One("attrs").Locations.Single().File, StringComparison.Ordinal);
        Assert.EndsWith("common/shared.txt", graph.One("idna").Locations.Single().File, StringComparison.Ordinal);
    }

    [Fact]
    public void Group_FolderWithIncludes_IncludedFilesAreNotRootsOfTheirOwn()
    {
        var (graph, _) = PyPITestRead.Read(TestData.Path("pypi", "requirements"));

        // requirements.txt and localpkg/pyproject.toml; requirements-base.txt is read through requirements.txt.
        Assert.Equal(2, graph.Roots.Length);
        Assert.Single(graph.Roots, r => r.AuthoritativeFile.EndsWith("requirements/requirements.txt", StringComparison.Ordinal));
        Assert.DoesNotContain(graph.Roots, r => r.AuthoritativeFile.EndsWith("requirements-base.txt", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_IncludeCycle_ReportsTheChain()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi", "requirements-cycle", "requirements.txt"));

        var d = diagnostics.Only("TG0006");
        Assert.Equal("include cycle: requirements.txt -> requirements-b.txt -> requirements.txt", d.Message);
        Assert.EndsWith("requirements-b.txt", d.Location!.File, StringComparison.Ordinal);
        Assert.Equal((2, 4), (d.Location.Line, d.Location.Column));
        // Both files are still read.
        Assert.Equal(["idna", "six"], graph.Components.Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Read_MissingInclude_ReportsLineAndKeepsTheRest()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi", "requirements-missing", "requirements.txt"));

        var d = diagnostics.Only("TG0011");
        Assert.Equal((2, 4), (d.Location!.Line, d.Location.Column));
        Assert.Contains("does-not-exist.txt", d.Message, StringComparison.Ordinal);
        Assert.Equal(["idna", "six"], graph.Components.Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Read_UnparseableLine_ReportsLineAndColumn()
    {
        var (graph, diagnostics) = PyPITestRead.Read(TestData.Path("pypi", "requirements-invalid", "requirements.txt"));

        var d = diagnostics.Only("TG0010");
        Assert.Equal((2, 10), (d.Location!.Line, d.Location.Column)); // the '=' after "requests "
        Assert.Equal(["idna", "six"], graph.Components.Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("requirements-dev.txt", true)]
    [InlineData("dev-requirements.txt", true)]
    [InlineData("requirements_test.txt", true)]
    [InlineData("requirements.txt", false)]
    [InlineData("requirements-prod.txt", false)]
    [InlineData("requirements-devices.txt", false)]
    public void IsDevFileName_CommonNames_Classified(string name, bool dev) =>
        Assert.Equal(dev, Tollgate.Ecosystems.PyPI.RequirementsFileReader.IsDevFileName(name));

    [Fact]
    public async Task Read_IncludesChainedThousandsDeep_TooDeepNotStackOverflow()
    {
        // Each -r level was a nested call with a copy of the chain: 5,000 files including each other overflowed the stack.
        var folder = Directory.CreateTempSubdirectory("tollgate-chain-");
        try
        {
            for (var i = 0; i < 5_000; i++)
            {
                File.WriteAllText(Path.Combine(folder.FullName, $"requirements{i}.txt"), $"-r requirements{i + 1}.txt\npkg{i}==1.0\n");
            }
            File.WriteAllText(Path.Combine(folder.FullName, "requirements5000.txt"), "last==1.0\n");

            // On a thread pool thread, whose stack is smaller than the main thread's.
            var (_, diagnostics) = await Task.Run(() => PyPITestRead.Read(Path.Combine(folder.FullName, "requirements0.txt")));

            var error = Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.Equal(DiagnosticIds.TooDeep, error.Id);
            Assert.EndsWith("requirements99.txt", error.Location!.File, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
