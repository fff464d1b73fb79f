using System.Text.Json;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Npm;

public sealed class BunLockReaderTests
{
    internal static (ProjectGraph? Project, DependencyGraph Graph, DiagnosticBag Bag) Read(string folder, string lockfile = "bun.lock")
    {
        var bag = new DiagnosticBag();
        var dir = TestData.Path("npm", folder);
        var manifestPath = Path.Combine(dir, "package.json");
        var manifest = File.Exists(manifestPath) ? PackageJson.Read(manifestPath, bag) : null;
        var project = BunLockReader.Read(Path.Combine(dir, lockfile), manifest, bag);
        var graph = GraphMerger.Merge(project is null ? [] : [project], bag.Items);
        return (project, graph, bag);
    }

    [Fact]
    public void Read_RealBunLockfileVersion1_AttioMcp_EveryPackageAndTheWorkspaceMember()
    {
        // Independent reading: bun.lock is JSON with trailing commas; each "packages" value starts with "name@version".
        using var lockfile = JsonDocument.Parse(File.ReadAllText(TestData.Path("npm", "bun-real-attio", "bun.lock")),
            new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in lockfile.RootElement.GetProperty("packages").EnumerateObject())
        {
            var spec = entry.Value[0].GetString()!;
            expected.Add(spec.Contains("@workspace:", StringComparison.Ordinal) ? "@attio-mcp/core@0.1.0" : spec);
        }

        var (project, graph, bag) = Read("bun-real-attio");

        Assert.DoesNotContain(bag.Items, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(1, lockfile.RootElement.GetProperty("lockfileVersion").GetInt32());
        Assert.Equal(548, expected.Count);
        Assert.Equal(expected, OurSet(graph));
        Assert.Equal("attio-mcp", project!.Root.Name);
        Assert.Equal(OriginKind.Workspace, Assert.Single(graph.FindByName("@attio-mcp/core")).Origin.Kind);
    }

    private static SortedSet<string> OurSet(DependencyGraph graph) =>
        new(graph.Components.Select(c => $"{c.Name}@{c.Version}"), StringComparer.Ordinal);

    /// <summary>
    /// Every package in `bun pm ls --all`: a tree of install folders, one "name@version" per line. The names are folder
    /// names, so aliases appear under the alias; folder and workspace packages show their reference, not a version.
    /// <paramref name="rename"/> maps those labels to what the lockfile records (real name, package.json version).
    /// </summary>
    private static SortedSet<string> Oracle(string folder, IReadOnlyDictionary<string, string> rename)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(TestData.Path("npm", folder, "bun-pm-ls.txt")).Skip(1))
        {
            var label = line.TrimStart('│', '├', '└', '─', ' ', '\u00a0');
            if (label.Length == 0)
            {
                continue;
            }
            var at = label.IndexOf('@', 1);
            var name = label[..at];
            var version = label[(at + 1)..];
            set.Add(rename.GetValueOrDefault(label) ?? $"{rename.GetValueOrDefault(name, name)}@{version}");
        }
        return set;
    }

    private static readonly Dictionary<string, string> FixtureRenames = new(StringComparer.Ordinal)
    {
        // Aliases: "chalk4": "npm:chalk@^4.1.2" in package.json, "*-cjs" aliases inside @isaacs/cliui.
        ["chalk4"] = "chalk",
        ["string-width-cjs"] = "string-width",
        ["strip-ansi-cjs"] = "strip-ansi",
        ["wrap-ansi-cjs"] = "wrap-ansi",
        // bun lists folder and workspace packages by reference; we read their version from their package.json.
        ["local-lib@local-lib"] = "local-lib@0.1.0",
        ["@acme/mcp-server@workspace:packages/server"] = "@acme/mcp-server@1.0.0",
        ["@acme/shared@workspace:packages/shared"] = "@acme/shared@1.0.0",
    };

    [Theory]
    [InlineData("bun-basic")]
    [InlineData("bun-workspace")]
    public void Read_RealLockfile_MatchesBunPmLs(string folder)
    {
        var (_, graph, bag) = Read(folder);

        Assert.Empty(bag.Items);
        Assert.Equal(string.Join('\n', Oracle(folder, FixtureRenames)), string.Join('\n', OurSet(graph)));
    }

    [Fact]
    public void Read_NestedInstallPath_ResolvesLikeNodeNearestFirst()
    {
        var (project, graph, _) = Read("bun-basic");

        // "debug": "^2.6.9" at the top, "express/debug" (4.4.3) under express; ms 2.0.0 at the top, 2.1.3 nested.
        var express = Assert.Single(graph.FindByName("express"));
        Assert.Contains("debug@4.4.3", graph.ChildrenOf(express.Key).Select(graph.Label));
        var debug2 = Assert.Single(graph.FindByName("debug", "2.6.9"));
        Assert.Equal(["ms@2.0.0"], graph.ChildrenOf(debug2.Key).Select(graph.Label));
        Assert.Equal(["ms@2.1.3"], graph.ChildrenOf(Assert.Single(graph.FindByName("debug", "4.4.3")).Key).Select(graph.Label));
        Assert.True(debug2.Direct);
        Assert.False(Assert.Single(graph.FindByName("debug", "4.4.3")).Direct);
        Assert.Equal(6, Assert.Single(graph.FindByName("debug", "4.4.3")).Locations.Length);
        Assert.Contains(debug2.Key, graph.ChildrenOf(project!.Root.Key));
    }

    [Fact]
    public void Read_AliasAndFile_AreTheRealPackageAndALocalFolder()
    {
        var (project, graph, _) = Read("bun-basic");

        var chalk = Assert.Single(graph.FindByName("chalk"));
        Assert.Equal("pkg:npm/chalk@4.1.2", chalk.Purl.ToString());
        Assert.Equal(Origin.Registry(), chalk.Origin);
        Assert.Equal(new IntegrityHash("sha512", "oKnbhFyRIXpUuez8iBMmyEa4nbj4IOQyuhc/wy9kY7/WVPcwIO9VA668Pu8RkO7+0G76SLROeyw9CpQ061i4mA=="), Assert.Single(chalk.Integrity));
        Assert.Equal(new SourceLocation(project!.Root.AuthoritativeFile, 58, 15), Assert.Single(chalk.Locations));
        Assert.True(chalk.Direct);
        Assert.Null(chalk.HasInstallScript);

        var local = Assert.Single(graph.FindByName("local-lib"));
        Assert.Equal(new Origin(OriginKind.File, "local-lib"), local.Origin);
        Assert.Equal("0.1.0", local.Version);
        Assert.Equal(DependencyScopes.Prod | DependencyScopes.Optional, Assert.Single(graph.FindByName("is-number")).Scopes);
        Assert.Equal(DependencyScopes.Dev, Assert.Single(graph.FindByName("typescript")).Scopes);
    }

    [Fact]
    public void Read_Workspace_MembersAreWorkspaceComponentsWithTheirOwnScopes()
    {
        var (project, graph, _) = Read("bun-workspace");

        var server = Assert.Single(graph.FindByName("@acme/mcp-server"));
        var shared = Assert.Single(graph.FindByName("@acme/shared"));
        Assert.Equal(new Origin(OriginKind.Workspace, "packages/server"), server.Origin);
        Assert.Equal("1.0.0", server.Version);
        Assert.Contains(shared.Key, graph.ChildrenOf(server.Key));
        Assert.Contains(server.Key, graph.ChildrenOf(project!.Root.Key));
        Assert.Equal(DependencyScopes.Prod, Assert.Single(graph.FindByName("ms")).Scopes);
        Assert.Equal(DependencyScopes.Dev, Assert.Single(graph.FindByName("rimraf")).Scopes);
        Assert.Equal(DependencyScopes.Dev, Assert.Single(graph.FindByName("typescript")).Scopes);
    }

    [Fact]
    public void Read_BrokenJson_ReportsTG0002WithLine()
    {
        var (project, _, bag) = Read("bun-malformed", "broken.lock");

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.InvalidJson, d.Id);
        Assert.Equal(13, d.Location!.Line);
    }

    [Fact]
    public void Read_Truncated_ReportsTG0002SayingItLooksTruncated()
    {
        var (project, _, bag) = Read("bun-malformed", "truncated.lock");

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.InvalidJson, d.Id);
        Assert.Contains("truncated", d.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnknownVersion_ReportsTG0005AtTheVersion()
    {
        var (project, _, bag) = Read("bun-malformed", "version-99.lock");

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.UnsupportedVersion, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(2, d.Location!.Line);
    }

    [Fact]
    public void Read_EntryNotAnArray_IsSkippedWithTG0010AndTheRestIsRead()
    {
        var (project, graph, bag) = Read("bun-malformed", "bad-entry.lock");

        Assert.NotNull(project);
        Assert.Equal(["is-number@7.0.0"], OurSet(graph));
        Assert.Equal(15, Assert.Single(bag.Items, d => d.Id == DiagnosticIds.InvalidEntry).Location!.Line);
        Assert.Contains(bag.Items, d => d.Id == DiagnosticIds.DanglingReference && d.Message.Contains("'ms'", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_GitAndTarballDependencies_RecordOriginWithTheReferenceAsVersion()
    {
        var bag = new DiagnosticBag();
        var dir = TestData.Path("npm", "bun-handwritten");
        var project = BunLockReader.Read(Path.Combine(dir, "git-url.lock"), PackageJson.Read(Path.Combine(dir, "git-url-package.json"), bag), bag);
        var graph = GraphMerger.Merge([project!], bag.Items);

        Assert.Empty(bag.Items);
        // bun.lock does not record the version inside a git checkout or tarball: the reference stands in for it.
        var isEven = Assert.Single(graph.FindByName("is-even"));
        Assert.Equal(new Origin(OriginKind.Git, "github:owner/is-even#0123456"), isEven.Origin);
        Assert.Equal("github:owner/is-even#0123456", isEven.Purl.Qualifiers["vcs_url"]);
        var leftPad = Assert.Single(graph.FindByName("left-pad"));
        Assert.Equal(new Origin(OriginKind.Url, "https://example.invalid/left-pad-1.3.0.tgz"), leftPad.Origin);
        Assert.Equal(OriginKind.Git, Assert.Single(graph.FindByName("x-lib")).Origin.Kind);
        Assert.All(graph.Components, c => Assert.True(c.Direct));
    }
}
