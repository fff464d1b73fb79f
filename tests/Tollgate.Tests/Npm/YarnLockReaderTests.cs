using System.Text.Json;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Npm;

public sealed class YarnLockReaderTests
{
    internal static (ProjectGraph? Project, DependencyGraph Graph, DiagnosticBag Bag) Read(
        string folder, string lockfile = "yarn.lock", string? manifestName = "package.json")
    {
        var bag = new DiagnosticBag();
        var dir = TestData.Path("npm", folder);
        var manifestPath = manifestName is null ? null : Path.Combine(dir, manifestName);
        var manifest = manifestPath is not null && File.Exists(manifestPath) ? PackageJson.Read(manifestPath, bag) : null;
        var project = YarnLockReader.Read(Path.Combine(dir, lockfile), manifest, bag);
        var graph = GraphMerger.Merge(project is null ? [] : [project], bag.Items);
        return (project, graph, bag);
    }

    [Fact]
    public void Read_RealYarn3Lockfile_LangchainMcpAdapters_EveryResolvedPackage()
    {
        // Independent reading: each entry's "version:" line, then its "resolution:" line, which names the package
        // (up to the '@' after the first character); workspace entries are the project; a patch: resolution is the
        // same package version as its npm: one.
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        string? version = null;
        foreach (var line in File.ReadLines(TestData.Path("npm", "yarn3-real-langchain-mcp", "yarn.lock")))
        {
            if (line.StartsWith("  version: ", StringComparison.Ordinal))
            {
                version = line[11..];
            }
            else if (line.StartsWith("  resolution: \"", StringComparison.Ordinal) && version is not null)
            {
                var resolution = line[15..^1];
                if (!resolution.Contains("@workspace:", StringComparison.Ordinal))
                {
                    expected.Add(resolution[..resolution.IndexOf('@', 1)] + "@" + version);
                }
                version = null;
            }
        }

        var (project, graph, bag) = Read("yarn3-real-langchain-mcp");

        Assert.DoesNotContain(bag.Items, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(840, expected.Count);
        Assert.Equal(expected, OurSet(graph));
        Assert.Equal("@langchain/mcp-adapters", project!.Root.Name);
        Assert.Single(graph.FindByName("typescript", "4.9.5")); // npm: and patch: entries, one component
    }

    private static SortedSet<string> OurSet(DependencyGraph graph) =>
        new(graph.Components.Select(c => $"{c.Name}@{c.Version}"), StringComparer.Ordinal);

    /// <summary>
    /// Every package in `yarn list --json` (yarn 1). The listing shows the installed folder tree, so an aliased package
    /// appears under its alias (the folder name); <paramref name="aliases"/> maps those back to the real names.
    /// </summary>
    private static SortedSet<string> ClassicOracle(string folder, IReadOnlyDictionary<string, string> aliases)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Path("npm", folder, "yarn-list.json")));
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tree in doc.RootElement.GetProperty("data").GetProperty("trees").EnumerateArray())
        {
            Walk(tree);
        }
        return set;

        void Walk(JsonElement node)
        {
            var label = node.GetProperty("name").GetString()!;
            var at = label.LastIndexOf('@');
            var name = label[..at];
            set.Add($"{aliases.GetValueOrDefault(name, name)}@{label[(at + 1)..]}");
            foreach (var child in node.TryGetProperty("children", out var c) ? c.EnumerateArray() : default)
            {
                // "shadow" children are references to packages listed elsewhere, written with their range.
                if (!child.TryGetProperty("shadow", out var shadow) || !shadow.GetBoolean())
                {
                    Walk(child);
                }
            }
        }
    }

    /// <summary>Every package in `yarn info --all --recursive --json` (yarn 4), except the root workspace (the project itself).</summary>
    private static SortedSet<string> BerryOracle(string folder)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(TestData.Path("npm", folder, "yarn-info.json")))
        {
            using var doc = JsonDocument.Parse(line);
            var locator = doc.RootElement.GetProperty("value").GetString()!;
            var version = doc.RootElement.GetProperty("children").GetProperty("Version").GetString()!;
            if (locator.EndsWith("@workspace:.", StringComparison.Ordinal))
            {
                continue;
            }
            // "typescript@patch:typescript@npm%3A5.9.3#..." is the package it patches.
            var name = locator[..locator.IndexOf('@', 1)];
            set.Add($"{name}@{version}");
        }
        return set;
    }

    private static readonly Dictionary<string, string> FixtureAliases = new(StringComparer.Ordinal)
    {
        ["chalk4"] = "chalk",
        ["string-width-cjs"] = "string-width",
        ["strip-ansi-cjs"] = "strip-ansi",
        ["wrap-ansi-cjs"] = "wrap-ansi",
    };

    [Theory]
    [InlineData("yarn-classic-basic")]
    [InlineData("yarn-classic-workspace")]
    public void Read_ClassicLockfile_MatchesYarnList(string folder)
    {
        var (_, graph, bag) = Read(folder);

        Assert.Empty(bag.Items);
        Assert.Equal(string.Join('\n', ClassicOracle(folder, FixtureAliases)), string.Join('\n', OurSet(graph)));
    }

    [Theory]
    [InlineData("yarn-berry-basic")]
    [InlineData("yarn-berry-workspace")]
    public void Read_BerryLockfile_MatchesYarnInfo(string folder)
    {
        var (_, graph, bag) = Read(folder);

        Assert.Empty(bag.Items);
        Assert.Equal(string.Join('\n', BerryOracle(folder)), string.Join('\n', OurSet(graph)));
    }

    [Theory]
    [InlineData("yarn-classic-basic", 155)]
    [InlineData("yarn-berry-basic", 211)]
    public void Read_Alias_IsTheRealPackageWhereTheLockfileListsIt(string folder, int line)
    {
        var (project, graph, _) = Read(folder);

        var chalk = Assert.Single(graph.FindByName("chalk"));
        Assert.Equal("4.1.2", chalk.Version);
        Assert.Equal("pkg:npm/chalk@4.1.2", chalk.Purl.ToString());
        Assert.True(chalk.Direct);
        Assert.Equal(DependencyScopes.Prod, chalk.Scopes);
        Assert.Equal(new SourceLocation(project!.Root.AuthoritativeFile, line, 1), Assert.Single(chalk.Locations));
        Assert.Contains(chalk.Key, graph.ChildrenOf(project.Root.Key));
        Assert.Null(chalk.HasInstallScript);
        Assert.Equal("mcp-weather-server", project.Root.Name);
    }

    [Fact]
    public void Read_Classic_RecordsResolvedUrlWithoutItsHashAndTheSriIntegrity()
    {
        var (_, graph, _) = Read("yarn-classic-basic");

        var chalk = Assert.Single(graph.FindByName("chalk"));
        Assert.Equal(OriginKind.Registry, chalk.Origin.Kind);
        Assert.EndsWith("/chalk/-/chalk-4.1.2.tgz", chalk.Origin.Location, StringComparison.Ordinal);
        Assert.Equal(new IntegrityHash("sha512", "oKnbhFyRIXpUuez8iBMmyEa4nbj4IOQyuhc/wy9kY7/WVPcwIO9VA668Pu8RkO7+0G76SLROeyw9CpQ061i4mA=="), Assert.Single(chalk.Integrity));
    }

    [Fact]
    public void Read_Berry_RecordsTheYarnChecksumUnderItsOwnAlgorithmName()
    {
        var (_, graph, _) = Read("yarn-berry-basic");

        var chalk = Assert.Single(graph.FindByName("chalk"));
        Assert.Equal(Origin.Registry(), chalk.Origin);
        var checksum = Assert.Single(chalk.Integrity);
        Assert.Equal("yarn-checksum", checksum.Algorithm);
        Assert.Equal("10c0/4a3fef5cc34975c898ffe77141450f679721df9dde00f6c304353fa9c8b571929123b26a0e4617bde5018977eb655b31970c297b91b63ee83bb82aeb04666880", checksum.Value);
    }

    [Theory]
    [InlineData("yarn-classic-basic", "./local-lib")]
    [InlineData("yarn-berry-basic", "./local-lib")]
    public void Read_FileDependencyDevAndOptional_GetOriginAndScopes(string folder, string localPath)
    {
        var (_, graph, _) = Read(folder);

        var local = Assert.Single(graph.FindByName("local-lib"));
        Assert.Equal(new Origin(OriginKind.File, localPath), local.Origin);
        Assert.Equal("0.1.0", local.Version);
        Assert.True(local.Direct);
        Assert.Equal(DependencyScopes.Prod | DependencyScopes.Optional, Assert.Single(graph.FindByName("is-number")).Scopes);
        Assert.Equal(DependencyScopes.Dev, Assert.Single(graph.FindByName("rimraf")).Scopes);
        // Only dev tools reach glob; chalk (prod) and rimraf (dev) both reach ansi-styles@4.
        Assert.Equal(DependencyScopes.Dev, Assert.Single(graph.FindByName("glob")).Scopes);
        Assert.Equal(DependencyScopes.Prod | DependencyScopes.Dev, Assert.Single(graph.FindByName("ansi-styles", "4.3.0")).Scopes);
    }

    [Fact]
    public void Read_BerryPatchedPackage_IsThePackageItPatches()
    {
        var (_, graph, bag) = Read("yarn-berry-basic");

        // typescript@npm:5.9.3 and typescript@patch:typescript@npm%3A5.9.3#optional!builtin<compat/typescript> are one package.
        var typescript = Assert.Single(graph.FindByName("typescript"));
        Assert.Equal("5.9.3", typescript.Version);
        Assert.Equal(DependencyScopes.Dev, typescript.Scopes);
        Assert.True(typescript.Direct);
        Assert.Equal(2, typescript.Locations.Length);
        Assert.Equal(2, typescript.Integrity.Length);
        Assert.Empty(bag.Items);
    }

    [Theory]
    [InlineData("yarn-classic-workspace")]
    [InlineData("yarn-berry-workspace")]
    public void Read_Workspace_MembersAreWorkspaceComponentsWithTheirOwnScopes(string folder)
    {
        var (project, graph, _) = Read(folder);

        var server = Assert.Single(graph.FindByName("@acme/mcp-server"));
        var shared = Assert.Single(graph.FindByName("@acme/shared"));
        Assert.Equal(new Origin(OriginKind.Workspace, "packages/server"), server.Origin);
        Assert.Equal("1.0.0", shared.Version);
        Assert.Contains(shared.Key, graph.ChildrenOf(server.Key));
        Assert.Contains(server.Key, graph.ChildrenOf(project!.Root.Key));
        Assert.Equal("mcp-monorepo", project.Root.Name);
        Assert.True(Assert.Single(graph.FindByName("@modelcontextprotocol/sdk")).Direct);
        Assert.Equal(DependencyScopes.Prod, Assert.Single(graph.FindByName("ms")).Scopes);
        Assert.Equal(DependencyScopes.Dev, Assert.Single(graph.FindByName("rimraf")).Scopes);
        Assert.Equal(DependencyScopes.Dev, Assert.Single(graph.FindByName("typescript")).Scopes);
        Assert.Contains(project.Root.Files, f => f.EndsWith("packages/server/package.json", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_ClassicWithoutManifest_ListsPackagesAndWarnsThatDirectDependenciesAreUnknown()
    {
        var (project, graph, bag) = Read("yarn-classic-basic", manifestName: null);

        Assert.NotNull(project);
        Assert.Equal(134, graph.Components.Length);
        Assert.DoesNotContain(graph.Components, c => c.Direct);
        Assert.Equal(DiagnosticIds.MissingReference, Assert.Single(bag.Items).Id);
    }

    [Fact]
    public void Read_ClassicUnknownVersion_ReportsTG0005()
    {
        var (project, _, bag) = Read("yarn-malformed", "classic-v2.lock", "classic-package.json");

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.UnsupportedVersion, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(2, d.Location!.Line);
        Assert.NotNull(d.Hint);
    }

    [Fact]
    public void Read_ClassicBadLines_ReadsTheRestAndAnEntryItCannotReadIsAnError()
    {
        var (project, graph, bag) = Read("yarn-malformed", "classic-bad-lines.lock", "classic-package.json");

        Assert.NotNull(project);
        Assert.Equal(["is-number@7.0.0", "ms@2.1.3"], OurSet(graph));
        Assert.Equal([9, 14], bag.Items.Where(d => d.Id == DiagnosticIds.InvalidEntry).Select(d => d.Location!.Line));
        // left-pad is declared in package.json but has no entry.
        Assert.Contains(bag.Items, d => d.Id == DiagnosticIds.DanglingReference && d.Message.Contains("left-pad", StringComparison.Ordinal));
        // Line 9 is no entry header, so the package whose lines follow it is unknown and unchecked: an error, which
        // makes a scan incomplete. Line 14 is an unreadable line inside an entry that was read: a warning.
        var error = Assert.Single(bag.Items, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(9, error.Location!.Line);
    }

    [Fact]
    public void Read_ClassicTruncated_ReportsTheCutLineAndTheMissingEntries()
    {
        var (project, graph, bag) = Read("yarn-malformed", "classic-truncated.lock", "../yarn-classic-basic/package.json");

        Assert.NotNull(project);
        Assert.NotEmpty(graph.Components);
        var lines = File.ReadAllLines(TestData.Path("npm", "yarn-malformed", "classic-truncated.lock")).Length;
        Assert.Contains(bag.Items, d => d.Id == DiagnosticIds.InvalidEntry && d.Location!.Line == lines);
        Assert.Contains(bag.Items, d => d.Id == DiagnosticIds.DanglingReference);
    }

    [Fact]
    public void Read_BerryBrokenYaml_ReportsTG0003WithLineAndColumn()
    {
        var (project, _, bag) = Read("yarn-malformed", "berry-broken-yaml.lock", null);

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.InvalidYaml, d.Id);
        Assert.Equal(11, d.Location!.Line);
        Assert.True(d.Location.Column > 0);
    }

    [Fact]
    public void Read_BerryUnknownVersion_ReportsTG0005AtTheVersion()
    {
        var (project, _, bag) = Read("yarn-malformed", "berry-version-99.lock", null);

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.UnsupportedVersion, d.Id);
        Assert.Equal(new SourceLocation(d.Location!.File, 5, 12), d.Location);
    }

    [Fact]
    public void Read_BerryTruncatedInAQuotedValue_ReportsTG0003SayingItLooksTruncated()
    {
        var (project, _, bag) = Read("yarn-malformed", "berry-truncated-quoted.lock", null);

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.InvalidYaml, d.Id);
        Assert.Contains("truncated", d.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_BerryTruncatedBetweenEntries_ReadsWhatIsThereAndReportsWhatIsMissing()
    {
        // Cut after a plain value, the YAML is still valid: the missing root entry and dependencies give it away.
        var (project, graph, bag) = Read("yarn-malformed", "berry-truncated-plain.lock", "../yarn-berry-basic/package.json");

        Assert.NotNull(project);
        Assert.Contains("@modelcontextprotocol/sdk@1.32.2", OurSet(graph));
        Assert.Contains(bag.Items, d => d.Id == DiagnosticIds.MissingReference);
        Assert.Contains(bag.Items, d => d.Id == DiagnosticIds.DanglingReference);
    }

    [Theory]
    [InlineData("git-url-classic.lock", "https://codeload.github.com/owner/is-even/tar.gz/0123456789abcdef0123456789abcdef01234567",
        "git+https://git.example.invalid/x-lib.git#89abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("git-url-berry.lock", "https://github.com/owner/is-even.git#commit=0123456789abcdef0123456789abcdef01234567",
        "git+https://git.example.invalid/x-lib.git#commit=89abcdef0123456789abcdef0123456789abcdef")]
    public void Read_GitAndTarballDependencies_RecordOriginAndPurlQualifiers(string lockfile, string isEvenSource, string xLibSource)
    {
        var (_, graph, bag) = Read("yarn-handwritten", lockfile, "git-url-package.json");

        Assert.Empty(bag.Items);
        Assert.Equal(["is-even@1.0.0", "left-pad@1.3.0", "x-lib@1.0.0"], OurSet(graph));
        Assert.Equal(new Origin(OriginKind.Git, isEvenSource), Assert.Single(graph.FindByName("is-even")).Origin);
        Assert.Equal(new Origin(OriginKind.Git, xLibSource), Assert.Single(graph.FindByName("x-lib")).Origin);
        Assert.Equal(xLibSource, Assert.Single(graph.FindByName("x-lib")).Purl.Qualifiers["vcs_url"]);
        var leftPad = Assert.Single(graph.FindByName("left-pad"));
        Assert.Equal(new Origin(OriginKind.Url, "https://example.invalid/left-pad-1.3.0.tgz"), leftPad.Origin);
        Assert.Equal("https://example.invalid/left-pad-1.3.0.tgz", leftPad.Purl.Qualifiers["download_url"]);
        Assert.All(graph.Components, c => Assert.True(c.Direct));
    }

    [Fact]
    public void Read_BerryArchiveUrl_IsTheRegistryTarballAndTheRootNameComesFromTheLockfile()
    {
        var (project, graph, bag) = Read("yarn-handwritten", "archive-url-berry.lock", null);

        Assert.Empty(bag.Items);
        var package = Assert.Single(graph.Components);
        Assert.Equal("private-pkg@2.0.0", $"{package.Name}@{package.Version}");
        Assert.Equal(Origin.Registry("https://npm.example.invalid/private-pkg/-/private-pkg-2.0.0.tgz"), package.Origin);
        Assert.True(package.Direct);
        Assert.Equal("archive-project", project!.Root.Name);
    }
}
