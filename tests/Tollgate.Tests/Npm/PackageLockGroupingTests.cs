using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using static Tollgate.Tests.Npm.PackageLockFixtures;

namespace Tollgate.Tests.Npm;

/// <summary>How npm files are found and grouped into projects: one lockfile with its package.json per folder.</summary>
public sealed class PackageLockGroupingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tollgate-npm-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("package-lock.json", false, true)]
    [InlineData("npm-shrinkwrap.json", false, true)]
    [InlineData("yarn.lock", false, true)]
    [InlineData("pnpm-lock.yaml", false, true)]
    [InlineData("bun.lock", false, true)]
    [InlineData("package.json", false, true)]
    [InlineData("v1-package-lock.json", false, false)]
    [InlineData("v1-package-lock.json", true, true)]
    [InlineData("malformed-package-lock.json", true, true)]
    [InlineData("old.package.json", true, true)]
    [InlineData("packages.lock.json", true, false)]
    [InlineData("bun.lockb", false, true)]
    [InlineData("bun.lockb", true, true)]
    [InlineData("tsconfig.json", true, false)]
    public void IsInput_FileName_ClaimedAsNpmDoes(string fileName, bool named, bool expected)
    {
        Assert.Equal(expected, new NpmReader().IsInput(fileName, named));
    }

    [Fact]
    public void Read_WorkspaceFolder_OneProjectForRootAndMembers()
    {
        var graph = Read(TestData.Path("npm", "workspaces"), out var diagnostics);

        // packages/a, packages/b (workspace globs) and vendor/local-dep (listed in the lockfile) each have a
        // package.json, but the root lockfile covers them.
        var root = Assert.Single(graph.Roots);
        Assert.Equal("mcp-monorepo", root.Name);
        Assert.DoesNotContain(diagnostics.Items, d => d.Id == DiagnosticIds.Unresolved);
        Assert.All(graph.Components, c => Assert.True(c.Resolved));
    }

    [Fact]
    public void Read_AllFixtures_OneProjectPerFixtureFolder()
    {
        var graph = Read(TestData.Path("npm"), out _);

        var fixtures = new[] { "large", "lockfile-v1", "lockfile-v2", "mcp-filesystem", "no-resolved", "shrinkwrap", "workspaces", "workspaces-v1" };
        foreach (var fixture in fixtures)
        {
            Assert.Contains(graph.Roots, r => r.AuthoritativeFile.Contains($"npm/{fixture}/", StringComparison.Ordinal));
        }
        // Other npm fixtures in this folder (other lockfile formats) may add their own projects, but no workspace
        // member, malformed file or vendored package becomes one.
        Assert.DoesNotContain(graph.Roots, r => r.AuthoritativeFile.Contains("/packages/", StringComparison.Ordinal));
        Assert.DoesNotContain(graph.Roots, r => r.AuthoritativeFile.Contains("/vendor/", StringComparison.Ordinal));
        Assert.DoesNotContain(graph.Roots, r => r.AuthoritativeFile.Contains("/malformed/", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_PackageJsonAlone_UnresolvedDirectRanges()
    {
        File.WriteAllText(Path.Combine(_folder, "package.json"), """
            {
              "name": "no-lock",
              "version": "0.1.0",
              "dependencies": { "@modelcontextprotocol/sdk": "^1.0.0", "my-lodash": "npm:lodash@^4.17.21", "tool": "git+https://example.invalid/tool.git#v1" },
              "devDependencies": { "typescript": "~5.4.0" }
            }
            """);

        var graph = Read(_folder, out var diagnostics);

        var info = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticIds.Unresolved, info.Id);
        Assert.Equal(DiagnosticSeverity.Info, info.Severity);
        Assert.Equal("no-lock", Assert.Single(graph.Roots).Name);
        Assert.All(graph.Components, c => Assert.False(c.Resolved));
        Assert.All(graph.Components, c => Assert.True(c.Direct));
        var sdk = Single(graph, "@modelcontextprotocol/sdk");
        Assert.Equal("^1.0.0", sdk.Version);
        Assert.Equal("pkg:npm/%40modelcontextprotocol/sdk", sdk.Purl.ToString());
        Assert.Equal(4, sdk.Locations.Single().Line);
        Assert.Equal("^4.17.21", Single(graph, "lodash").Version);
        Assert.Equal(new Origin(OriginKind.Git, "git+https://example.invalid/tool.git#v1"), Single(graph, "tool").Origin);
        Assert.Equal(DependencyScopes.Dev, Single(graph, "typescript").Scopes);
    }

    [Fact]
    public void Read_SeveralLockfilesInOneFolder_FirstByPrecedenceAndInfoNamingTheOthers()
    {
        var source = TestData.Path("npm", "no-resolved");
        File.Copy(Path.Combine(source, "package.json"), Path.Combine(_folder, "package.json"));
        File.Copy(Path.Combine(source, "package-lock.json"), Path.Combine(_folder, "package-lock.json"));
        File.Copy(Path.Combine(source, "package-lock.json"), Path.Combine(_folder, "npm-shrinkwrap.json"));
        File.WriteAllText(Path.Combine(_folder, "yarn.lock"), "# not read\n");

        var graph = Read(_folder, out var diagnostics);

        var root = Assert.Single(graph.Roots);
        Assert.EndsWith("/npm-shrinkwrap.json", root.AuthoritativeFile, StringComparison.Ordinal);
        var ignored = diagnostics.Items.Where(d => d.Id == DiagnosticIds.AuthoritativeFile).ToList();
        Assert.Equal(2, ignored.Count);
        Assert.Contains(ignored, d => d.Message.StartsWith("package-lock.json ignored", StringComparison.Ordinal));
        Assert.Contains(ignored, d => d.Message.StartsWith("yarn.lock ignored", StringComparison.Ordinal));
        Assert.All(ignored, d => Assert.Equal(DiagnosticSeverity.Info, d.Severity));
        Assert.Equal(NpmLsPackages("no-resolved"), Ours(graph));
    }

    [Fact]
    public void Read_NamedLockfileWithItsOwnName_ReadAsGiven()
    {
        var named = Path.Combine(_folder, "v1-package-lock.json");
        File.Copy(TestData.Path("npm", "lockfile-v1", "package-lock.json"), named);

        var graph = Read(named, out var diagnostics);

        Assert.DoesNotContain(diagnostics.Items, d => d.Severity != DiagnosticSeverity.Info);
        var root = Assert.Single(graph.Roots);
        Assert.Equal("lockfile-v1", root.Name);
        Assert.Equal(root.AuthoritativeFile, Assert.Single(root.Files));
        Assert.Equal(NpmLsPackages("lockfile-v1"), Ours(graph));
        // Without package.json, the direct dependencies of a version 1 lockfile are its top-level packages that no
        // other package requires. package.json also declares ms 2.1.3, but send requires that same top-level copy,
        // so the lockfile alone cannot tell it is direct.
        Assert.Equal(["colors", "express", "minimist", "semver"], graph.Components.Where(c => c.Direct).Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Read_LockfileNamedAlone_PicksUpThePackageJsonBesideIt()
    {
        var graph = Read(TestData.Path("npm", "lockfile-v1", "package-lock.json"), out _);

        var root = Assert.Single(graph.Roots);
        Assert.Equal(2, root.Files.Length);
        Assert.EndsWith("lockfile-v1/package.json", root.Files[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Read_StaleLockfile_WarnsAboutTheMissingDependency()
    {
        File.WriteAllText(Path.Combine(_folder, "package-lock.json"), """
            {
              "name": "stale",
              "lockfileVersion": 3,
              "packages": {
                "": { "name": "stale", "dependencies": { "ms": "^2.1.3", "left-pad": "^1.3.0" } },
                "node_modules/ms": { "version": "2.1.3" }
              }
            }
            """);

        var graph = Read(_folder, out var diagnostics);

        var warning = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticIds.DanglingReference, warning.Id);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal(5, warning.Location!.Line);
        Assert.Contains("left-pad", warning.Message, StringComparison.Ordinal);
        Assert.Equal("ms@2.1.3", Assert.Single(Ours(graph)));
    }

    [Fact]
    public void Read_GitAndUrlOrigins_QualifiedPurls()
    {
        File.WriteAllText(Path.Combine(_folder, "package-lock.json"), """
            {
              "name": "origins",
              "lockfileVersion": 3,
              "packages": {
                "": { "name": "origins", "dependencies": { "tool": "github:acme/tool#v1", "tarball": "https://files.example.invalid/tarball-2.0.0.tgz", "mirror": "^1.0.0" } },
                "node_modules/tool": { "version": "1.0.0", "resolved": "git+ssh://git@example.invalid/acme/tool.git#0123456789abcdef0123456789abcdef01234567" },
                "node_modules/tarball": { "version": "2.0.0", "resolved": "https://files.example.invalid/tarball-2.0.0.tgz", "integrity": "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=" },
                "node_modules/mirror": { "version": "1.0.0", "resolved": "http://127.0.0.1:4873/mirror/-/mirror-1.0.0.tgz" }
              }
            }
            """);

        var graph = Read(_folder, out var diagnostics);

        Assert.Empty(diagnostics.Items);
        var tool = Single(graph, "tool");
        Assert.Equal(OriginKind.Git, tool.Origin.Kind);
        Assert.Equal("pkg:npm/tool@1.0.0?vcs_url=git%2Bssh:%2F%2Fgit%40example.invalid%2Facme%2Ftool.git%230123456789abcdef0123456789abcdef01234567", tool.Purl.ToString());
        var tarball = Single(graph, "tarball");
        Assert.Equal(new Origin(OriginKind.Url, "https://files.example.invalid/tarball-2.0.0.tgz"), tarball.Origin);
        Assert.Equal("download_url", Assert.Single(tarball.Purl.Qualifiers).Key);
        Assert.Equal("sha1", Assert.Single(tarball.Integrity).Algorithm);
        // Any registry has the same tarball layout, so a private one is still a registry.
        Assert.Equal(Origin.Registry("http://127.0.0.1:4873/mirror/-/mirror-1.0.0.tgz"), Single(graph, "mirror").Origin);
        Assert.Equal("pkg:npm/mirror@1.0.0", Single(graph, "mirror").Purl.ToString());
    }
}
