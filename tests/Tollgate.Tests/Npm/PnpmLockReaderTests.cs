using System.Text.Json;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Tests.Npm;

public sealed class PnpmLockReaderTests
{
    internal static (ProjectGraph? Project, DependencyGraph Graph, DiagnosticBag Bag) Read(string folder, string lockfile = "pnpm-lock.yaml")
    {
        var bag = new DiagnosticBag();
        var dir = TestData.Path("npm", folder);
        var manifestPath = Path.Combine(dir, "package.json");
        var manifest = File.Exists(manifestPath) ? PackageJson.Read(manifestPath, bag) : null;
        var project = PnpmLockReader.Read(Path.Combine(dir, lockfile), manifest, bag);
        var graph = GraphMerger.Merge(project is null ? [] : [project], bag.Items);
        return (project, graph, bag);
    }

    /// <summary>(name, version) of every package in `pnpm list --depth Infinity --json`; workspace members as projects.</summary>
    private static SortedSet<string> OracleSet(string folder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Path("npm", folder, "pnpm-list.json")));
        var set = new SortedSet<string>(StringComparer.Ordinal);
        var first = true;
        foreach (var project in doc.RootElement.EnumerateArray())
        {
            // The first project is the root (our ProjectRoot); the others are workspace members (our components).
            if (!first)
            {
                set.Add($"{project.GetProperty("name").GetString()}@{project.GetProperty("version").GetString()}");
            }
            first = false;
            Walk(project);
        }
        return set;

        void Walk(JsonElement node)
        {
            foreach (var field in new[] { "dependencies", "devDependencies", "optionalDependencies" })
            {
                if (!node.TryGetProperty(field, out var deps))
                {
                    continue;
                }
                foreach (var dep in deps.EnumerateObject())
                {
                    // "from" is the real name of an alias; "link:" versions are workspace members, listed as projects.
                    var version = dep.Value.GetProperty("version").GetString()!;
                    if (!version.StartsWith("link:", StringComparison.Ordinal))
                    {
                        set.Add($"{dep.Value.GetProperty("from").GetString()}@{version}");
                    }
                    Walk(dep.Value);
                }
            }
        }
    }

    internal static SortedSet<string> OurSet(DependencyGraph graph) =>
        new(graph.Components.Select(c => $"{c.Name}@{c.Version}"), StringComparer.Ordinal);

    /// <summary>
    /// The "name@version" keys under each document's <c>packages:</c>, read line by line: a key is indented two spaces
    /// and ends with ':'; peer suffixes in parentheses never appear there.
    /// </summary>
    private static List<HashSet<string>> PackageKeysPerDocument(string lockfile)
    {
        var documents = new List<HashSet<string>>();
        HashSet<string>? keys = null;
        foreach (var line in File.ReadLines(lockfile))
        {
            if (line == "---")
            {
                documents.Add([]);
                keys = null;
            }
            else if (line.Length > 0 && line[0] != ' ')
            {
                keys = line == "packages:" ? documents[^1] : null;
            }
            else if (keys is not null && line.StartsWith("  ", StringComparison.Ordinal) && line[2] != ' ' && line.EndsWith(':'))
            {
                keys.Add(line[2..^1].Trim('\''));
            }
        }
        return documents;
    }

    [Fact]
    public void Read_TwoDocumentLockfile_ReadsTheProjectDocumentAndTheEnvDocument()
    {
        var lockfile = TestData.Path("npm", "pnpm11-env-apify", "pnpm-lock.yaml");
        var documents = PackageKeysPerDocument(lockfile);

        var (project, graph, bag) = Read("pnpm11-env-apify");

        Assert.DoesNotContain(bag.Items, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal([19, 928], documents.Select(d => d.Count));
        Assert.Equal("@apify/actors-mcp-server", project!.Root.Name);
        // Every package of both documents (none is in both), and the workspace member src/web.
        Assert.Empty(documents[0].Intersect(documents[1]));
        var member = Assert.Single(graph.Components, c => c.Origin.Kind == OriginKind.Workspace);
        Assert.Equal("src/web", member.Origin.Location);
        Assert.Equal(documents[0].Union(documents[1]).Order(StringComparer.Ordinal),
            graph.Components.Where(c => c != member).Select(c => $"{c.Name}@{c.Version}").Order(StringComparer.Ordinal));
        // The project's packages: the override pins the SDK.
        var sdk = Assert.Single(graph.FindByName("@modelcontextprotocol/sdk"));
        Assert.Equal("1.29.0", sdk.Version);
        Assert.True((sdk.Scopes & DependencyScopes.Prod) != 0);
        // The env document's packages: pnpm itself, direct and for development only.
        var pnpm = Assert.Single(graph.FindByName("pnpm"));
        Assert.Equal(("11.11.0", DependencyScopes.Dev, true), (pnpm.Version, pnpm.Scopes, pnpm.Direct));
        Assert.Equal(DependencyScopes.Dev | DependencyScopes.Optional, Assert.Single(graph.FindByName("@pnpm/linux-x64")).Scopes);
    }

    [Theory]
    [InlineData("pnpm9-basic", "local-lib@file:local-lib")]
    [InlineData("pnpm8-basic", "local-lib@file:local-lib")]
    [InlineData("pnpm7-basic", null)]
    [InlineData("pnpm9-workspace", null)]
    [InlineData("pnpm8-workspace", null)]
    public void Read_RealLockfile_MatchesPnpmList(string folder, string? listedAsReference)
    {
        var (_, graph, bag) = Read(folder);
        var oracle = OracleSet(folder);
        if (listedAsReference is not null)
        {
            // pnpm 8 and 9 list a file: dependency by its reference; we read its version from local-lib/package.json,
            // which is what pnpm 7 lists.
            Assert.True(oracle.Remove(listedAsReference));
            oracle.Add("local-lib@0.1.0");
        }

        Assert.Empty(bag.Items);
        Assert.Equal(string.Join('\n', oracle), string.Join('\n', OurSet(graph)));
    }

    [Theory]
    [InlineData("pnpm8-basic")]
    [InlineData("pnpm7-basic")]
    [InlineData("pnpm8-workspace")]
    public void Read_Lockfile5And6_ScopesAgreeWithPnpmDevAndOptionalFlags(string folder)
    {
        // pnpm 7 and 8 write their own reachability result on each entry: dev: true (dev only), dev: false (prod only),
        // no dev field (both), optional: true (only through optional dependencies). It is our oracle for scopes.
        var (project, _, _) = Read(folder);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(TestData.Path("npm", folder, "pnpm-lock.yaml"))));
        var packages = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)[new YamlScalarNode("packages")];
        var checkedCount = 0;
        foreach (var component in project!.Components.Where(c => c.Origin.Kind == OriginKind.Registry))
        {
            var entries = packages.Children.Where(p => StripPeers(((YamlScalarNode)p.Key).Value!) is var id
                && (id == $"/{component.Name}@{component.Version}" || id == $"/{component.Name}/{component.Version}")).ToList();
            Assert.NotEmpty(entries);
            var entry = (YamlMappingNode)entries[0].Value;
            var dev = entry.Children.TryGetValue(new YamlScalarNode("dev"), out var d) ? ((YamlScalarNode)d).Value : null;
            var optional = entry.Children.TryGetValue(new YamlScalarNode("optional"), out var o) && ((YamlScalarNode)o).Value == "true";
            var expected = dev switch
            {
                "true" => DependencyScopes.Dev,
                "false" => DependencyScopes.Prod,
                _ => DependencyScopes.Prod | DependencyScopes.Dev,
            };
            if (optional)
            {
                expected |= DependencyScopes.Optional;
            }
            Assert.True(expected == component.Scopes, $"{component.Name}@{component.Version}: pnpm says {expected}, we say {component.Scopes}");
            checkedCount++;
        }
        Assert.True(checkedCount > 100);

        static string StripPeers(string id)
        {
            var cut = id.IndexOfAny(['(', '_']);
            return cut > 0 ? id[..cut] : id;
        }
    }

    [Theory]
    [InlineData("pnpm9-basic", 125, null)]
    [InlineData("pnpm8-basic", 205, false)]
    [InlineData("pnpm7-basic", 193, false)]
    public void Read_AliasFileAndOptional_RecordedAsThePackagesTheyAre(string folder, int chalkLine, bool? installScript)
    {
        var (project, graph, _) = Read(folder);

        var chalk = Assert.Single(graph.FindByName("chalk"));
        Assert.Equal("4.1.2", chalk.Version);
        Assert.True(chalk.Direct);
        Assert.Equal("pkg:npm/chalk@4.1.2", chalk.Purl.ToString());
        Assert.Equal(DependencyScopes.Prod, chalk.Scopes);
        Assert.Equal(installScript, chalk.HasInstallScript);
        Assert.Equal(new IntegrityHash("sha512", "oKnbhFyRIXpUuez8iBMmyEa4nbj4IOQyuhc/wy9kY7/WVPcwIO9VA668Pu8RkO7+0G76SLROeyw9CpQ061i4mA=="), Assert.Single(chalk.Integrity));
        var location = Assert.Single(chalk.Locations);
        Assert.Equal(project!.Root.AuthoritativeFile, location.File);
        Assert.Equal(chalkLine, location.Line);
        Assert.StartsWith("chalk", File.ReadLines(TestData.Path("npm", folder, "pnpm-lock.yaml")).ElementAt(chalkLine - 1).TrimStart(' ', '/'), StringComparison.Ordinal);

        var local = Assert.Single(graph.FindByName("local-lib"));
        Assert.Equal(new Origin(OriginKind.File, "local-lib"), local.Origin);
        Assert.Equal("0.1.0", local.Version);

        var isNumber = Assert.Single(graph.FindByName("is-number"));
        Assert.Equal(DependencyScopes.Prod | DependencyScopes.Optional, isNumber.Scopes);
        var typescript = Assert.Single(graph.FindByName("typescript"));
        Assert.Equal(DependencyScopes.Dev, typescript.Scopes);
        Assert.True(typescript.Direct);

        Assert.Equal("mcp-weather-server", project.Root.Name);
        Assert.Equal("1.0.0", project.Root.Version);
        Assert.Equal(ProjectRoot.KeyFor(project.Root.AuthoritativeFile), project.Root.Key);
        Assert.EndsWith("package.json", project.Root.Files[1], StringComparison.Ordinal);
        Assert.Contains(graph.Edges, e => e.From == project.Root.Key && e.To == chalk.Key);
    }

    [Theory]
    [InlineData("pnpm9-basic")]
    [InlineData("pnpm8-basic")]
    [InlineData("pnpm7-basic")]
    public void Read_PeerVariants_AreOneComponentWithTheDependenciesOfEach(string folder)
    {
        var (_, graph, _) = Read(folder);

        var sdk = Assert.Single(graph.FindByName("@modelcontextprotocol/sdk"));
        Assert.Equal("1.32.2", sdk.Version);
        Assert.Equal("pkg:npm/%40modelcontextprotocol/sdk@1.32.2", sdk.Purl.ToString());
        Assert.Contains("zod@3.25.76", graph.ChildrenOf(sdk.Key).Select(graph.Label));
        Assert.Contains("express@5.3.0", graph.ChildrenOf(sdk.Key).Select(graph.Label));
    }

    [Theory]
    [InlineData("pnpm9-workspace")]
    [InlineData("pnpm8-workspace")]
    public void Read_Workspace_MembersAreWorkspaceComponentsWithTheirOwnScopes(string folder)
    {
        var (project, graph, bag) = Read(folder);

        Assert.Empty(bag.Items);
        var server = Assert.Single(graph.FindByName("@acme/mcp-server"));
        var shared = Assert.Single(graph.FindByName("@acme/shared"));
        Assert.Equal(new Origin(OriginKind.Workspace, "packages/server"), server.Origin);
        Assert.Equal(new Origin(OriginKind.Workspace, "packages/shared"), shared.Origin);
        Assert.Equal("1.0.0", shared.Version);
        Assert.Contains(shared.Key, graph.ChildrenOf(server.Key));
        Assert.Contains(server.Key, graph.ChildrenOf(project!.Root.Key));
        Assert.Equal(DependencyScopes.Prod, Assert.Single(graph.FindByName("zod")).Scopes);
        Assert.True(Assert.Single(graph.FindByName("zod")).Direct);
        // rimraf is a dev dependency of the server member; typescript one of the root.
        Assert.Equal(DependencyScopes.Dev, Assert.Single(graph.FindByName("rimraf")).Scopes);
        Assert.Equal(DependencyScopes.Dev, Assert.Single(graph.FindByName("typescript")).Scopes);
        Assert.Contains(project.Root.Files, f => f.EndsWith("packages/shared/package.json", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_BrokenYaml_ReportsTG0003WithLineAndColumn()
    {
        var (project, _, bag) = Read("pnpm-malformed", "broken-yaml.yaml");

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.InvalidYaml, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(10, d.Location!.Line);
        Assert.True(d.Location.Column > 0);
        Assert.EndsWith("pnpm-malformed/broken-yaml.yaml", d.Location.File, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedFile_ReportsTG0003SayingItLooksTruncated()
    {
        var (project, _, bag) = Read("pnpm-malformed", "truncated.yaml");

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.InvalidYaml, d.Id);
        Assert.Equal(File.ReadAllLines(TestData.Path("npm", "pnpm-malformed", "truncated.yaml")).Length, d.Location!.Line);
        Assert.Contains("truncated", d.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnknownLockfileVersion_ReportsTG0005WithTheSupportedVersions()
    {
        var (project, _, bag) = Read("pnpm-malformed", "version-4.yaml");

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.UnsupportedVersion, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal(1, d.Location!.Line);
        Assert.Contains("9.x", d.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NoLockfileVersion_ReportsTG0009()
    {
        var (project, _, bag) = Read("pnpm-malformed", "no-version.yaml");

        Assert.Null(project);
        Assert.Equal(DiagnosticIds.UnexpectedShape, Assert.Single(bag.Items).Id);
    }

    [Fact]
    public void Read_DependencyWithoutEntry_ReadsTheRestAndWarnsTG0014()
    {
        var (project, graph, bag) = Read("pnpm-malformed", "dangling.yaml");

        Assert.NotNull(project);
        Assert.Equal("is-number@7.0.0", Assert.Single(graph.Components).Name + "@7.0.0");
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.DanglingReference, d.Id);
        Assert.Contains("ms@2.1.3", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_HostileNesting_ReportsTG0008InsteadOfOverflowing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tollgate-deep-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "lockfileVersion: '9.0'\npackages: " + new string('[', 100_000));
        try
        {
            var bag = new DiagnosticBag();
            Assert.Null(PnpmLockReader.Read(path, null, bag));
            Assert.Equal(DiagnosticIds.TooDeep, Assert.Single(bag.Items).Id);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_MissingFile_ReportsTG0001()
    {
        var bag = new DiagnosticBag();

        Assert.Null(PnpmLockReader.Read(TestData.Path("npm", "pnpm-malformed", "absent.yaml"), null, bag));
        Assert.Equal(DiagnosticIds.FileUnreadable, Assert.Single(bag.Items).Id);
    }

    [Fact]
    public void Read_GitAndTarballDependencies_RecordOriginAndPurlQualifiers()
    {
        var bag = new DiagnosticBag();
        var dir = TestData.Path("npm", "pnpm-handwritten");
        var project = PnpmLockReader.Read(Path.Combine(dir, "git-url-9.yaml"), PackageJson.Read(Path.Combine(dir, "git-url-package.json"), bag), bag);
        var graph = GraphMerger.Merge([project!], bag.Items);

        Assert.Empty(bag.Items);
        var isEven = Assert.Single(graph.FindByName("is-even"));
        Assert.Equal("1.0.0", isEven.Version);
        Assert.Equal(OriginKind.Git, isEven.Origin.Kind);
        Assert.True(isEven.Purl.Qualifiers.ContainsKey("vcs_url"));
        var leftPad = Assert.Single(graph.FindByName("left-pad"));
        Assert.Equal(new Origin(OriginKind.Url, "https://example.invalid/left-pad-1.3.0.tgz"), leftPad.Origin);
        Assert.Equal("pkg:npm/left-pad@1.3.0?download_url=https:%2F%2Fexample.invalid%2Fleft-pad-1.3.0.tgz", leftPad.Purl.ToString());
        var xLib = Assert.Single(graph.FindByName("x-lib"));
        Assert.Equal(new Origin(OriginKind.Git, "https://git.example.invalid/x-lib.git#89abcdef0123456789abcdef0123456789abcdef"), xLib.Origin);
        Assert.Equal("1.0.0", xLib.Version);
        Assert.All(graph.Components, c => Assert.True(c.Direct));
    }

    [Fact]
    public void Read_FolderOutsideTheLockfileFolder_IsNotOpened()
    {
        var (_, graph, bag) = Read("pnpm-handwritten/escape");

        // ../outside-lib/package.json exists (version 9.9.9), but a lockfile may not send us outside its folder.
        Assert.Empty(bag.Items);
        var outside = Assert.Single(graph.Components);
        Assert.Equal(new Origin(OriginKind.File, "../outside-lib"), outside.Origin);
        Assert.Equal("file:../outside-lib", outside.Version);
    }
}
