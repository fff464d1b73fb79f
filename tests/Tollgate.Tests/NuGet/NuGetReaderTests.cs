using Tollgate.Ecosystems.NuGet;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.NuGet;

/// <summary>
/// The NuGet reader against real restore output (testdata/nuget, made with dotnet restore) and the SDK's own
/// view of the same projects (dotnet list package --include-transitive --format json).
/// </summary>
public sealed class NuGetReaderTests
{
    private static string Key(string id, string version) => Component.KeyFor(Ecosystem.NuGet, id, version);

    [Fact]
    public void McpServer_LockFile_MatchesDotnetListPackage()
    {
        using var fixture = new NuGetFixture("mcp-server");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics);

        var oracle = DotnetListPackage.Load("mcp-server/dotnet-list.json");
        Assert.Equal(32, oracle.All.Count);
        Assert.Equal(oracle.All, DotnetListPackage.PackagesOf(graph));
        Assert.Equal(oracle.TopLevel, DotnetListPackage.PackagesOf(graph, directOnly: true));
        Assert.Empty(diagnostics.Items);
        var root = Assert.Single(graph.Roots);
        Assert.EndsWith("mcp-server/packages.lock.json", root.AuthoritativeFile, StringComparison.Ordinal);
        Assert.Contains(root.Files, f => f.EndsWith("mcp-server/obj/project.assets.json", StringComparison.Ordinal));
        Assert.Contains(root.Files, f => f.EndsWith("mcp-server/McpServer.csproj", StringComparison.Ordinal));
        Assert.Equal("McpServer", root.Name);
        Assert.All(graph.Components, c => Assert.True(c.Resolved));
        Assert.All(graph.Components, c => Assert.Equal(DependencyScopes.Prod, c.Scopes));
    }

    [Fact]
    public void McpServer_LockFile_EdgesPointAtTheResolvedVersion()
    {
        using var fixture = new NuGetFixture("mcp-server");

        var graph = fixture.Read();

        // Microsoft.Extensions.Hosting asks for Hosting.Abstractions 10.0.0; ModelContextProtocol's 10.0.14 wins.
        var paths = graph.PathsTo(Key("Microsoft.Extensions.Hosting.Abstractions", "10.0.14"));
        var root = graph.Roots[0].Key;
        Assert.Contains(paths, p => p.SequenceEqual([root, Key("Microsoft.Extensions.Hosting", "10.0.0"), Key("Microsoft.Extensions.Hosting.Abstractions", "10.0.14")]));
        Assert.Contains(paths, p => p.SequenceEqual([root, Key("ModelContextProtocol", "2.4.0"), Key("Microsoft.Extensions.Hosting.Abstractions", "10.0.14")]));
        Assert.Null(graph.Find(Key("Microsoft.Extensions.Hosting.Abstractions", "10.0.0")));
        Assert.Equal(new[] { root, Key("ModelContextProtocol", "2.4.0"), Key("ModelContextProtocol.Core", "2.4.0") },
            graph.ShortestPathTo(Key("ModelContextProtocol.Core", "2.4.0")));
    }

    [Fact]
    public void McpServer_LockFile_RecordsHashesAndDeclarationLines()
    {
        using var fixture = new NuGetFixture("mcp-server");

        var graph = fixture.Read();

        var mcp = graph.Find(Key("ModelContextProtocol", "2.4.0"))!;
        Assert.Equal("ModelContextProtocol", mcp.Name);
        Assert.Equal("pkg:nuget/ModelContextProtocol@2.4.0", mcp.Purl.ToString());
        Assert.Equal(new[] { new IntegrityHash("sha512", "3oMhK5W0G3H8+1SbMosV7meE6sKQfmzLKSNtjQ3dGZ+IJU5RomKTs/bKWHFyOJQNMWk//+iClQJfcMpHnwCFsg==") }, mcp.Integrity);
        // First where the project declares it, then where the lockfile pins it.
        Assert.EndsWith("McpServer.csproj", mcp.Locations[0].File, StringComparison.Ordinal);
        Assert.Equal(11, mcp.Locations[0].Line);
        Assert.Contains(mcp.Locations, l => l.File.EndsWith("packages.lock.json", StringComparison.Ordinal) && l.Line == 35);
        // The runtime-specific section (net10.0/linux-x64) contributes its package to the union.
        Assert.NotNull(graph.Find(Key("System.Diagnostics.EventLog", "10.0.0")));
    }

    [Fact]
    public void McpServer_WithoutLockFile_AssetsFileGivesTheSameGraph()
    {
        using var withLock = new NuGetFixture("mcp-server");
        using var assetsOnly = new NuGetFixture("mcp-server");
        assetsOnly.Delete("packages.lock.json");
        var diagnostics = new DiagnosticBag();

        var fromLock = withLock.Read();
        var fromAssets = assetsOnly.Read(diagnostics);

        Assert.Empty(diagnostics.Items);
        Assert.EndsWith("mcp-server/obj/project.assets.json", fromAssets.Roots[0].AuthoritativeFile, StringComparison.Ordinal);
        Assert.Equal(DotnetListPackage.Load("mcp-server/dotnet-list.json").All, DotnetListPackage.PackagesOf(fromAssets));
        Assert.Equal(DotnetListPackage.PackagesOf(fromLock, directOnly: true), DotnetListPackage.PackagesOf(fromAssets, directOnly: true));
        // The same edges, with each file's own root key.
        static HashSet<(string, string)> Edges(DependencyGraph g) =>
            [.. g.Edges.Select(e => (g.IsRoot(e.From) ? "root" : e.From, e.To))];
        Assert.Equal(Edges(fromLock), Edges(fromAssets));
        // Both files record the same sha512 per package.
        Assert.All(fromAssets.Components, c => Assert.Equal(fromLock.Find(c.Key)!.Integrity.ToArray(), c.Integrity.ToArray()));
    }

    [Fact]
    public void McpServer_DepsJson_ListsTheRuntimePackagesOfTheBuiltApp()
    {
        using var fixture = new NuGetFixture("deps-json");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics, "McpServer.deps.json");

        Assert.Empty(diagnostics.Items);
        Assert.Equal(DotnetListPackage.Load("mcp-server/dotnet-list.json").All, DotnetListPackage.PackagesOf(graph));
        Assert.Equal(DotnetListPackage.Load("mcp-server/dotnet-list.json").TopLevel, DotnetListPackage.PackagesOf(graph, directOnly: true));
        var root = Assert.Single(graph.Roots);
        Assert.Equal("McpServer@1.0.0", root.DisplayName);
        var hosting = graph.Find(Key("Microsoft.Extensions.Hosting", "10.0.0"))!;
        Assert.Equal("sha512", Assert.Single(hosting.Integrity).Algorithm);
        Assert.Contains(graph.PathsTo(Key("Microsoft.Extensions.Hosting.Abstractions", "10.0.14")),
            p => p.SequenceEqual([root.Key, Key("Microsoft.Extensions.Hosting", "10.0.0"), Key("Microsoft.Extensions.Hosting.Abstractions", "10.0.14")]));
    }

    [Fact]
    public void CpmSolution_LockFileOfMultiTargetedApp_MatchesDotnetListUnionOverFrameworks()
    {
        using var fixture = new NuGetFixture("cpm-multi");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics, "src/App");

        Assert.Empty(diagnostics.Items);
        var oracle = DotnetListPackage.Load("cpm-multi/dotnet-list-app.json");
        // net8.0 needs five System.* packages that net10.0 has in the framework: the union has both frameworks' packages.
        Assert.Equal(20, oracle.All.Count);
        Assert.Equal(oracle.All, DotnetListPackage.PackagesOf(graph));
        Assert.Equal(oracle.TopLevel, DotnetListPackage.PackagesOf(graph, directOnly: true));
        var root = Assert.Single(graph.Roots);
        Assert.EndsWith("src/App/packages.lock.json", root.AuthoritativeFile, StringComparison.Ordinal);
        Assert.Contains(root.Files, f => f.EndsWith("cpm-multi/Directory.Packages.props", StringComparison.Ordinal));
    }

    [Fact]
    public void CpmSolution_ProjectReference_IsAWorkspaceComponentWithItsPackages()
    {
        using var fixture = new NuGetFixture("cpm-multi");

        var graph = fixture.Read("src/App");

        // dotnet list package leaves projects out; the lockfile has them as type Project.
        var lib = Assert.Single(graph.Components, c => c.Origin.Kind == OriginKind.Workspace);
        Assert.Equal(("Lib", "1.0.0", true), (lib.Name, lib.Version, lib.Direct));
        Assert.EndsWith("src/Lib/Lib.csproj", lib.Origin.Location, StringComparison.Ordinal);
        Assert.EndsWith("src/App/App.csproj", lib.Locations[0].File, StringComparison.Ordinal);
        Assert.Equal(15, lib.Locations[0].Line);
        Assert.Contains(graph.PathsTo(Key("Microsoft.Extensions.Logging.Abstractions", "10.0.14")),
            p => p.SequenceEqual([graph.Roots[0].Key, lib.Key, Key("Microsoft.Extensions.Logging.Abstractions", "10.0.14")]));
    }

    [Fact]
    public void MicrosoftMcp_RepoRootFromThisFileDirectoryAndWildcardReferences_ResolveToTheProjects()
    {
        // Directory.Build.props: <RepoRoot>$(MSBuildThisFileDirectory)</RepoRoot>; the server's csproj references
        // "$(RepoRoot)\core\Azure.Mcp.Core\src\Azure.Mcp.Core.csproj" and "$(RepoRoot)\tools\Azure.*\src\*.csproj".
        using var fixture = new NuGetFixture("msbuild-microsoft-mcp");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics, "servers/Azure.Mcp.Server/src/Azure.Mcp.Server.csproj");

        Assert.DoesNotContain(diagnostics.Items, d => d.Id == DiagnosticIds.MissingReference);
        var projects = graph.Components.Where(c => c.Origin.Kind == OriginKind.Workspace).ToList();
        Assert.Equal(["Azure.Mcp.Core", "Azure.Mcp.Tools.Acr", "Azure.Mcp.Tools.Aks"], projects.Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.All(projects, p => Assert.True(p.Origin.Location!.AsSpan().IndexOfAny('$', '*') < 0, p.Origin.Location));
        Assert.EndsWith("tools/Azure.Mcp.Tools.Acr/src/Azure.Mcp.Tools.Acr.csproj", projects.Single(p => p.Name == "Azure.Mcp.Tools.Acr").Origin.Location, StringComparison.Ordinal);
        Assert.All(projects, p => Assert.Equal(69 - (p.Name == "Azure.Mcp.Core" ? 1 : 0), p.Locations[0].Line));

        // A tool project reaches the core through $(RepoRoot) as well.
        var tool = fixture.Read(diagnostics, "tools/Azure.Mcp.Tools.Acr/src/Azure.Mcp.Tools.Acr.csproj");
        Assert.DoesNotContain(diagnostics.Items, d => d.Id == DiagnosticIds.MissingReference);
        Assert.EndsWith("core/Azure.Mcp.Core/src/Azure.Mcp.Core.csproj",
            Assert.Single(tool.Components, c => c.Origin.Kind == OriginKind.Workspace).Origin.Location, StringComparison.Ordinal);
    }

    [Fact]
    public void ProjectReference_UndefinedProperty_IsReportedAndLeftOut()
    {
        using var fixture = new NuGetFixture("msbuild-microsoft-mcp");
        fixture.Delete("Directory.Build.props");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics, "tools/Azure.Mcp.Tools.Acr/src/Azure.Mcp.Tools.Acr.csproj");

        var warning = Assert.Single(diagnostics.Items, d => d.Id == DiagnosticIds.MissingReference);
        Assert.Contains("$(RepoRoot)", warning.Message, StringComparison.Ordinal);
        Assert.Equal(10, warning.Location!.Line);
        Assert.DoesNotContain(graph.Components, c => c.Origin.Kind == OriginKind.Workspace);
    }

    [Fact]
    public void CpmSolution_PrivateAssetsAndGlobalReferences_AreDevScope()
    {
        using var fixture = new NuGetFixture("cpm-multi");

        var graph = fixture.Read("src/App");

        foreach (var dev in new[] { Key("Microsoft.SourceLink.GitHub", "8.0.0"), Key("Microsoft.SourceLink.Common", "8.0.0"), Key("Microsoft.Build.Tasks.Git", "8.0.0") })
        {
            Assert.Equal(DependencyScopes.Dev, graph.Find(dev)!.Scopes);
        }
        Assert.Equal(DependencyScopes.Prod, graph.Find(Key("ModelContextProtocol.Core", "2.4.0"))!.Scopes);
        var gitTasks = graph.Find(Key("Microsoft.Build.Tasks.Git", "8.0.0"))!;
        Assert.EndsWith("cpm-multi/Directory.Packages.props", gitTasks.Locations[0].File, StringComparison.Ordinal);
        Assert.Equal(15, gitTasks.Locations[0].Line);
        Assert.Equal(18, graph.WithoutDevOnly().Components.Length);
    }

    [Fact]
    public void CpmSolution_AssetsFileOnly_MatchesDotnetListAndKeepsDevScopes()
    {
        using var fixture = new NuGetFixture("cpm-multi");
        fixture.Delete("src/App/packages.lock.json");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics, "src/App");

        Assert.Empty(diagnostics.Items);
        Assert.EndsWith("src/App/obj/project.assets.json", graph.Roots[0].AuthoritativeFile, StringComparison.Ordinal);
        var oracle = DotnetListPackage.Load("cpm-multi/dotnet-list-app.json");
        Assert.Equal(oracle.All, DotnetListPackage.PackagesOf(graph));
        Assert.Equal(oracle.TopLevel, DotnetListPackage.PackagesOf(graph, directOnly: true));
        // suppressParent: All in the assets file is PrivateAssets="all" (and every GlobalPackageReference).
        Assert.Equal(DependencyScopes.Dev, graph.Find(Key("Microsoft.Build.Tasks.Git", "8.0.0"))!.Scopes);
        Assert.Equal(DependencyScopes.Dev, graph.Find(Key("Microsoft.SourceLink.Common", "8.0.0"))!.Scopes);
        var lib = Assert.Single(graph.Components, c => c.Origin.Kind == OriginKind.Workspace);
        Assert.True(lib.Direct);
        Assert.EndsWith("src/Lib/Lib.csproj", lib.Origin.Location, StringComparison.Ordinal);
    }

    [Fact]
    public void CpmSolution_WholeFolder_ReadsOneProjectPerProjectFile()
    {
        using var fixture = new NuGetFixture("cpm-multi");

        var graph = fixture.Read();

        Assert.Equal(2, graph.Roots.Length);
        var lib = Assert.Single(graph.Roots, r => r.Name == "Lib");
        // Lib has no lockfile: its restore result decides.
        Assert.EndsWith("src/Lib/obj/project.assets.json", lib.AuthoritativeFile, StringComparison.Ordinal);
        var oracle = DotnetListPackage.Load("cpm-multi/dotnet-list-app.json", "cpm-multi/dotnet-list-lib.json");
        Assert.Equal(oracle.All, DotnetListPackage.PackagesOf(graph));
        // Lib's own direct reference is direct in the merged graph, though only transitive for App.
        Assert.True(graph.Find(Key("Microsoft.Extensions.Logging.Abstractions", "10.0.14"))!.Direct);
    }

    [Fact]
    public void CpmSolution_ProjectFilesOnly_GivesDeclaredVersionsUnresolved()
    {
        using var fixture = new NuGetFixture("cpm-multi");
        fixture.Delete("src/App/packages.lock.json");
        fixture.Delete("src/App/obj");
        fixture.Delete("src/Lib/obj");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics);

        Assert.All(graph.Roots, r => Assert.EndsWith("proj", r.AuthoritativeFile, StringComparison.Ordinal));
        var declared = graph.Components.Where(c => c.Origin.Kind == OriginKind.Registry)
            .Select(c => (c.Name, c.Version, c.Resolved, c.Scopes)).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(
        [
            ("Microsoft.Build.Tasks.Git", "8.0.0", false, DependencyScopes.Dev),                 // GlobalPackageReference
            ("Microsoft.Extensions.Configuration.Json", "10.0.14", false, DependencyScopes.Prod), // VersionOverride beats the central 10.0.0
            ("Microsoft.Extensions.Logging.Abstractions", "10.0.14", false, DependencyScopes.Prod), // $(ExtensionsVersion)
            ("Microsoft.SourceLink.GitHub", "8.0.0", false, DependencyScopes.Dev),              // PrivateAssets all
            ("ModelContextProtocol.Core", "2.4.0", false, DependencyScopes.Prod),               // central PackageVersion
        ], declared);
        var mcp = graph.Components.Single(c => c.Name == "ModelContextProtocol.Core");
        Assert.Equal((8, 6), (mcp.Locations[0].Line, mcp.Locations[0].Column));
        Assert.Equal("pkg:nuget/ModelContextProtocol.Core", mcp.Purl.ToString());
        Assert.Equal(2, diagnostics.Items.Count(d => d.Id == DiagnosticIds.AuthoritativeFile && d.Severity == DiagnosticSeverity.Info));
        Assert.False(diagnostics.HasErrors);
    }

    [Fact]
    public void ProjectFile_UndefinedVersionProperty_WarnsWithTheLine()
    {
        using var fixture = new NuGetFixture("packages-config");
        File.WriteAllText(fixture.PathOf("Tool.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <JsonVersion>13.0.3</JsonVersion>
                <LoggingVersion Condition="'$(Configuration)' == 'Debug'">8.0.0</LoggingVersion>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Newtonsoft.Json" Version="$(JsonVersion)" />
                <PackageReference Include="Microsoft.Extensions.Logging.Abstractions">
                  <Version>$(LoggingVersion)</Version>
                </PackageReference>
                <PackageReference Include="Polly" Version="[8.0.0, 9.0.0)" />
              </ItemGroup>
            </Project>
            """);
        File.Delete(fixture.PathOf("packages.config"));
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics);

        var warning = Assert.Single(diagnostics.Items, d => d.Id == DiagnosticIds.Unresolved);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal((10, 8), (warning.Location!.Line, warning.Location.Column));
        Assert.Contains("$(LoggingVersion)", warning.Message, StringComparison.Ordinal);
        Assert.Contains("Condition", warning.Hint, StringComparison.Ordinal);
        Assert.Equal([("Newtonsoft.Json", "13.0.3"), ("Polly", "[8.0.0, 9.0.0)")],
            graph.Components.Select(c => (c.Name, c.Version)).OrderBy(c => c.Name, StringComparer.Ordinal));
    }

    [Fact]
    public void ProjectFile_MissingProjectReference_WarnsAndKeepsTheWorkspaceComponent()
    {
        using var fixture = new NuGetFixture("packages-config");
        File.WriteAllText(fixture.PathOf("Tool.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <ItemGroup>
                <ProjectReference Include="..\Gone\Gone.csproj" />
              </ItemGroup>
            </Project>
            """);
        File.Delete(fixture.PathOf("packages.config"));
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics);

        var warning = Assert.Single(diagnostics.Items, d => d.Severity == DiagnosticSeverity.Warning);
        Assert.Equal((DiagnosticIds.MissingReference, 3, 6), (warning.Id, warning.Location!.Line, warning.Location.Column));
        var gone = Assert.Single(graph.Components);
        Assert.Equal(("Gone", OriginKind.Workspace, true), (gone.Name, gone.Origin.Kind, gone.Direct));
    }

    [Fact]
    public void PackagesConfig_Utf16WithByteOrderMark_IsRead()
    {
        using var fixture = new NuGetFixture("packages-config");
        var path = fixture.PathOf("packages.config");
        // Older Visual Studio versions saved XML files as UTF-16.
        File.WriteAllText(path, File.ReadAllText(path).Replace("utf-8", "utf-16", StringComparison.Ordinal), System.Text.Encoding.Unicode);
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics);

        Assert.Empty(diagnostics.Items);
        Assert.Equal(4, graph.Components.Length);
    }

    [Fact]
    public void PackagesConfig_HandWritten_FlatDirectPins()
    {
        using var fixture = new NuGetFixture("packages-config");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics);

        Assert.Empty(diagnostics.Items);
        Assert.Equal(
        [
            ("Microsoft.Extensions.Logging.Abstractions", "8.0.0", DependencyScopes.Prod, 4),
            ("Newtonsoft.Json", "13.0.3", DependencyScopes.Prod, 3),
            ("StyleCop.Analyzers", "1.1.118", DependencyScopes.Dev, 6),
            ("System.Memory", "4.5.5", DependencyScopes.Prod, 5), // written 4.5.05: NuGet's normal form drops the zero
        ], graph.Components.Select(c => (c.Name, c.Version, c.Scopes, c.Locations[0].Line)).OrderBy(c => c.Name, StringComparer.Ordinal));
        Assert.All(graph.Components, c => Assert.True(c.Direct && c.Resolved));
        Assert.All(graph.Edges, e => Assert.True(graph.IsRoot(e.From)));
        Assert.Equal(4, graph.Edges.Length);
    }

    [Theory]
    [InlineData("malformed-packages.lock.json", DiagnosticIds.InvalidJson, 8, 9)]
    [InlineData("project.assets.json", DiagnosticIds.InvalidJson, 68, 58)]
    [InlineData("Broken.csproj", DiagnosticIds.InvalidXml, 7, 5)]
    [InlineData("unknown-version/packages.lock.json", DiagnosticIds.UnsupportedVersion, 2, 14)]
    public void Malformed_NamedFile_ReportsDiagnosticWithPosition(string file, string id, int line, int column)
    {
        using var fixture = new NuGetFixture("malformed");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics, file);

        var error = Assert.Single(diagnostics.Items);
        Assert.Equal((id, DiagnosticSeverity.Error), (error.Id, error.Severity));
        Assert.EndsWith(file, error.Location!.File, StringComparison.Ordinal);
        Assert.Equal((line, column), (error.Location.Line, error.Location.Column));
        Assert.Empty(graph.Components);
    }

    [Fact]
    public void Malformed_WrongShapeEntries_AreSkippedAndTheRestIsRead()
    {
        using var fixture = new NuGetFixture("malformed");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics);

        // The folder: Broken.csproj (XML error), unknown-version (TG0005) and wrong-shape (two warnings, one package read).
        Assert.Equal(
            [(DiagnosticIds.UnsupportedVersion, 2), (DiagnosticIds.UnexpectedShape, 11), (DiagnosticIds.UnexpectedShape, 12), (DiagnosticIds.InvalidXml, 7)],
            diagnostics.Items.Select(d => (d.Id, d.Location!.Line)).OrderBy(d => d.Id, StringComparer.Ordinal).ThenBy(d => d.Line));
        var only = Assert.Single(graph.Components);
        Assert.Equal(("Newtonsoft.Json", "13.0.3", true), (only.Name, only.Version, only.Direct));
    }

    [Fact]
    public void DamagedLockFile_FallsBackToTheAssetsFile()
    {
        using var fixture = new NuGetFixture("mcp-server");
        File.WriteAllText(fixture.PathOf("packages.lock.json"), "{ \"version\": 1, \"dependencies\": { ");
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics);

        Assert.Equal(DiagnosticIds.InvalidJson, Assert.Single(diagnostics.Items).Id);
        Assert.EndsWith("obj/project.assets.json", graph.Roots[0].AuthoritativeFile, StringComparison.Ordinal);
        Assert.Equal(32, graph.Components.Length);
    }

    [Fact]
    public void LockFile_OlderThanTheProjectFile_WarnsAtTheNewReference()
    {
        using var fixture = new NuGetFixture("mcp-server");
        var project = fixture.PathOf("McpServer.csproj");
        File.WriteAllText(project, File.ReadAllText(project).Replace(
            "  </ItemGroup>", "    <PackageReference Include=\"Polly\" Version=\"8.5.0\" />\n  </ItemGroup>", StringComparison.Ordinal));
        var diagnostics = new DiagnosticBag();

        var graph = fixture.Read(diagnostics);

        var warning = Assert.Single(diagnostics.Items);
        Assert.Equal((DiagnosticIds.DanglingReference, 13), (warning.Id, warning.Location!.Line));
        Assert.Contains("Polly", warning.Message, StringComparison.Ordinal);
        Assert.Equal(32, graph.Components.Length);
    }

    [Fact]
    public void NamedLockFile_WithoutItsProjectFile_IsReadAlone()
    {
        using var fixture = new NuGetFixture("cpm-multi");

        var graph = fixture.Read("src/App/packages.lock.json");

        var root = Assert.Single(graph.Roots);
        Assert.Equal(new[] { root.AuthoritativeFile }, root.Files);
        Assert.Equal(DotnetListPackage.Load("cpm-multi/dotnet-list-app.json").All, DotnetListPackage.PackagesOf(graph));
        // Without the project file the lockfile's own lower-case project name is all there is.
        var lib = Assert.Single(graph.Components, c => c.Origin.Kind == OriginKind.Workspace);
        Assert.Equal(("lib", true), (lib.Name, lib.Direct));
        Assert.All(graph.Components, c => Assert.Equal(DependencyScopes.Prod, c.Scopes));
    }

    [Fact]
    public void NamedAssetsFile_IsReadAlone()
    {
        using var fixture = new NuGetFixture("mcp-server");

        var graph = fixture.Read("obj/project.assets.json");

        var root = Assert.Single(graph.Roots);
        Assert.Equal("McpServer@1.0.0", root.DisplayName);
        Assert.Equal(DotnetListPackage.Load("mcp-server/dotnet-list.json").TopLevel, DotnetListPackage.PackagesOf(graph, directOnly: true));
    }

    [Theory]
    [InlineData("packages.lock.json", false, true)]
    [InlineData("packages.App.lock.json", false, true)]
    [InlineData("malformed-packages.lock.json", false, false)]
    [InlineData("malformed-packages.lock.json", true, true)]
    [InlineData("project.assets.json", false, false)]
    [InlineData("project.assets.json", true, true)]
    [InlineData("App.csproj", false, true)]
    [InlineData("Lib.fsproj", false, true)]
    [InlineData("Old.vbproj", false, true)]
    [InlineData("packages.config", false, true)]
    [InlineData("App.deps.json", false, true)]
    [InlineData("Directory.Packages.props", false, false)]
    [InlineData("Directory.Build.props", true, false)]
    [InlineData("package-lock.json", true, false)]
    public void IsInput_FileName_ClaimsNuGetFiles(string name, bool named, bool expected) =>
        Assert.Equal(expected, new NuGetReader().IsInput(name, named));
}
