using System.Text.Json.Nodes;
using Tollgate.Updates;
using static Tollgate.Tests.Updates.UpdateTestKit;

namespace Tollgate.Tests.Updates;

/// <summary>
/// <c>tollgate update --apply</c> on yarn projects, through the real yarn 1 and yarn 4 pinned in
/// tests/tools/feed-clients against the loopback fixture registry; then yarn's own frozen install accepts the result.
/// </summary>
public sealed class YarnApplyTests
{
    private static string Tool(string relative)
    {
        var path = Path.Combine(TestData.RepositoryRoot, "tests", "tools", "feed-clients", "node_modules", relative);
        Assert.True(File.Exists(path), $"{relative} is not installed: run `npm ci --ignore-scripts --prefix tests/tools/feed-clients` (.ci/run does).");
        return path;
    }

    private static string YarnClassic => Tool(Path.Combine("yarn", "bin", "yarn.js"));

    private static string YarnBerry => Tool(Path.Combine("@yarnpkg", "cli-dist", "bin", "yarn.js"));

    private static JsonNode Manifest(string project) => JsonNode.Parse(File.ReadAllText(Path.Combine(project, "package.json")))!;

    /// <summary>A yarn 1 project whose settings (registry, cache, no self-update check) live in its own files.</summary>
    private static string ClassicProject(FixtureRegistry registry, string manifest)
    {
        var project = NewFolder("yarn-classic");
        File.WriteAllText(Path.Combine(project, "package.json"), manifest);
        File.WriteAllText(Path.Combine(project, ".npmrc"), $"registry={registry.NpmUrl}\n");
        File.WriteAllText(Path.Combine(project, ".yarnrc"), $"cache-folder \"{Path.Combine(project, ".yarn-cache")}\"\ndisable-self-update-check true\n");
        return project;
    }

    /// <summary>yarn 1's own check: a frozen install (into a throw-away modules folder) that fails when yarn.lock would change.</summary>
    private static void ClassicFrozenInstall(string project) =>
        Run(project, "node", YarnClassic, "install", "--frozen-lockfile", "--ignore-scripts", "--non-interactive", "--modules-folder", Path.Combine(project, "check-modules"));

    [Fact]
    public async Task Update_YarnClassicApply_KeepsSectionAndCaretAndAFrozenInstallAcceptsIt()
    {
        using var registry = new FixtureRegistry();
        var project = ClassicProject(registry, """{ "name": "fixture-app", "version": "1.0.0", "private": true, "devDependencies": { "ms": "2.1.2" } }""");
        Run(project, "node", YarnClassic, "install", "--ignore-scripts", "--non-interactive", "--modules-folder", Path.Combine(project, "check-modules"));
        // The project has been on ms ^2.1.2 since before 2.1.3 came out: the range as yarn would have written it then.
        File.WriteAllText(Path.Combine(project, "package.json"), File.ReadAllText(Path.Combine(project, "package.json")).Replace("\"2.1.2\"", "\"^2.1.2\"", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(project, "yarn.lock"), File.ReadAllText(Path.Combine(project, "yarn.lock")).Replace("ms@2.1.2:", "ms@^2.1.2:", StringComparison.Ordinal));
        ClassicFrozenInstall(project);
        var plan = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--min-age", "0");
        var ms = plan.Update("ms");
        Assert.Equal("2.1.2", ms["current"]!.GetValue<string>());
        Assert.Equal("2.1.3", ms["proposed"]!.GetValue<string>());
        var update = new DependencyUpdate
        {
            Ecosystem = Graph.Ecosystem.Npm, Name = "ms", Current = "2.1.2", Range = ms["range"]!.GetValue<string>(), Proposed = "2.1.3",
            Project = Path.Combine(project, "yarn.lock"),
        };

        var applied = new UpdateApplier((_, _) => null, new ApplySettings(Yarn: ["node", YarnClassic])).Apply([update], out var failure);

        Assert.True(failure is null, failure);
        Assert.Single(applied);
        var manifest = Manifest(project);
        Assert.Equal("^2.1.3", manifest["devDependencies"]!["ms"]!.GetValue<string>());
        Assert.Null(manifest["dependencies"]);
        var lockfile = File.ReadAllText(Path.Combine(project, "yarn.lock"));
        Assert.Contains("ms@^2.1.3:\n  version \"2.1.3\"", lockfile, StringComparison.Ordinal);
        Assert.DoesNotContain("2.1.2", lockfile, StringComparison.Ordinal);
        // yarn 1 installed into a temporary modules folder: the project's own node_modules was never made.
        Assert.False(Directory.Exists(Path.Combine(project, "node_modules")));
        ClassicFrozenInstall(project);
    }

    [Fact]
    public async Task Update_YarnClassicApplyFailing_LeavesEveryFileAsItWas()
    {
        using var registry = new FixtureRegistry();
        var project = ClassicProject(registry, """{ "name": "fixture-app", "version": "1.0.0", "private": true, "dependencies": { "ms": "2.1.2" } }""");
        Run(project, "node", YarnClassic, "install", "--ignore-scripts", "--non-interactive", "--modules-folder", Path.Combine(project, "check-modules"));
        var manifest = File.ReadAllBytes(Path.Combine(project, "package.json"));
        var lockfile = File.ReadAllBytes(Path.Combine(project, "yarn.lock"));
        // A version the registry does not have: yarn itself fails to resolve it.
        var update = new DependencyUpdate
        {
            Ecosystem = Graph.Ecosystem.Npm, Name = "ms", Current = "2.1.2", Range = "2.1.2", Proposed = "9.9.9", Project = Path.Combine(project, "yarn.lock"),
        };

        var applied = new UpdateApplier((_, _) => null, new ApplySettings(Yarn: ["node", YarnClassic], Timeout: TimeSpan.FromMinutes(2))).Apply([update], out var failure);

        Assert.NotNull(failure);
        Assert.Contains("every file was restored", failure, StringComparison.Ordinal);
        Assert.Contains("9.9.9", failure, StringComparison.Ordinal);
        Assert.Empty(applied);
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(project, "package.json")));
        Assert.Equal(lockfile, File.ReadAllBytes(Path.Combine(project, "yarn.lock")));
        Assert.False(Directory.Exists(Path.Combine(project, "node_modules")));
    }

    [Fact]
    public async Task Update_YarnBerryApply_WritesThroughYarnUpAndAnImmutableInstallAcceptsIt()
    {
        using var registry = new FixtureRegistry();
        var project = NewFolder("yarn-berry");
        File.WriteAllText(Path.Combine(project, "package.json"), """{ "name": "fixture-app", "version": "1.0.0", "private": true, "dependencies": { "ms": "2.1.2" } }""");
        File.WriteAllText(Path.Combine(project, ".yarnrc.yml"), $"""
            npmRegistryServer: "{registry.NpmUrl.TrimEnd('/')}"
            unsafeHttpWhitelist: [ "127.0.0.1" ]
            nodeLinker: node-modules
            enableGlobalCache: false
            globalFolder: "{Path.Combine(project, ".yarn-global")}"
            enableScripts: false
            enableTelemetry: false
            enableImmutableInstalls: false
            """);
        // An empty yarn.lock marks the folder as a project root of its own.
        File.WriteAllText(Path.Combine(project, "yarn.lock"), "");
        Run(project, "node", YarnBerry, "install", "--mode=update-lockfile");
        var plan = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--min-age", "0");
        var ms = plan.Update("ms");
        Assert.Equal("2.1.2", ms["current"]!.GetValue<string>());
        Assert.Equal("2.1.3", ms["proposed"]!.GetValue<string>());
        var update = new DependencyUpdate
        {
            Ecosystem = Graph.Ecosystem.Npm, Name = "ms", Current = "2.1.2", Range = ms["range"]!.GetValue<string>(), Proposed = "2.1.3",
            Project = Path.Combine(project, "yarn.lock"),
        };

        var applied = new UpdateApplier((_, _) => null, new ApplySettings(Yarn: ["node", YarnBerry])).Apply([update], out var failure);

        Assert.True(failure is null, failure);
        Assert.Single(applied);
        // An exact pin stays exact.
        Assert.Equal("2.1.3", Manifest(project)["dependencies"]!["ms"]!.GetValue<string>());
        var lockfile = File.ReadAllText(Path.Combine(project, "yarn.lock"));
        Assert.Contains("\"ms@npm:2.1.3\":\n  version: 2.1.3", lockfile, StringComparison.Ordinal);
        Assert.DoesNotContain("ms@npm:2.1.2", lockfile, StringComparison.Ordinal);
        // --mode=update-lockfile skipped the link step.
        Assert.False(Directory.Exists(Path.Combine(project, "node_modules")));
        Run(project, "node", YarnBerry, "install", "--immutable");
        Assert.True(File.Exists(Path.Combine(project, "node_modules", "ms", "package.json")));
        Assert.Equal("2.1.3", JsonNode.Parse(File.ReadAllText(Path.Combine(project, "node_modules", "ms", "package.json")))!["version"]!.GetValue<string>());
    }

    [Fact]
    public void Apply_BerryLockfileButYarnClassicRuns_RefusedBeforeAnyChange()
    {
        var project = NewFolder("yarn-mismatch");
        File.WriteAllText(Path.Combine(project, "package.json"), """{ "name": "fixture-app", "version": "1.0.0", "private": true, "dependencies": { "ms": "2.1.2" } }""");
        var lockfile = "__metadata:\n  version: 8\n  cacheKey: 10c0\n";
        File.WriteAllText(Path.Combine(project, "yarn.lock"), lockfile);
        var update = new DependencyUpdate
        {
            Ecosystem = Graph.Ecosystem.Npm, Name = "ms", Current = "2.1.2", Range = "2.1.2", Proposed = "2.1.3", Project = Path.Combine(project, "yarn.lock"),
        };

        new UpdateApplier((_, _) => null, new ApplySettings(Yarn: ["node", YarnClassic])).Apply([update], out var failure);

        Assert.NotNull(failure);
        Assert.Contains("written by yarn 2 or later", failure, StringComparison.Ordinal);
        Assert.Contains("'1.22.22'", failure, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", failure, StringComparison.Ordinal);
        Assert.Equal(lockfile, File.ReadAllText(Path.Combine(project, "yarn.lock")));
    }

    [Fact]
    public void Apply_UvProject_RefusedNamingTheCommandToRun()
    {
        var project = NewFolder("uv");
        File.WriteAllText(Path.Combine(project, "pyproject.toml"), "[project]\nname = \"app\"\nversion = \"1.0.0\"\ndependencies = [\"tollgate-fixture-greeting>=1.0\"]\n");
        File.WriteAllText(Path.Combine(project, "uv.lock"), "version = 1\n");
        var update = new DependencyUpdate
        {
            Ecosystem = Graph.Ecosystem.PyPI, Name = "tollgate-fixture-greeting", Current = "1.0.0", Range = ">=1.0", Proposed = "1.1.0",
            Project = Path.Combine(project, "uv.lock"),
            Declared = new Graph.SourceLocation(Path.Combine(project, "pyproject.toml"), 4, 1),
        };

        var applied = new UpdateApplier((_, _) => null, new ApplySettings()).Apply([update], out var failure);

        Assert.Empty(applied);
        Assert.NotNull(failure);
        Assert.Contains("uv lock --upgrade-package tollgate-fixture-greeting==1.1.0", failure, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", failure, StringComparison.Ordinal);
    }
}
