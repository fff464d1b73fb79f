using System.Text.Json.Nodes;
using Tollgate.Updates;
using static Tollgate.Tests.Updates.UpdateTestKit;

namespace Tollgate.Tests.Updates;

/// <summary>
/// <c>tollgate update --apply</c> on bun projects, through the real bun pinned in tests/tools/feed-clients against the
/// loopback fixture registry; then bun's own frozen install accepts the result.
/// </summary>
public sealed class BunApplyTests
{
    private static string Bun
    {
        get
        {
            var path = Path.Combine(TestData.RepositoryRoot, "tests", "tools", "feed-clients", "node_modules", "@oven", "bun-linux-x64", "bin", "bun");
            Assert.True(File.Exists(path), "bun is not installed: run `npm ci --ignore-scripts --prefix tests/tools/feed-clients` (.ci/run does).");
            return path;
        }
    }

    private static JsonNode Manifest(string project) => JsonNode.Parse(File.ReadAllText(Path.Combine(project, "package.json")))!;

    /// <summary>A bun project whose registry and cache are set in its own bunfig.toml, locked by bun itself.</summary>
    private static string BunProject(FixtureRegistry registry, string manifest, bool binaryLockfile = false)
    {
        var project = NewFolder("bun");
        File.WriteAllText(Path.Combine(project, "package.json"), manifest);
        WriteBunfig(project, registry, binaryLockfile ? "saveTextLockfile = false\n" : "");
        Run(project, Bun, "install", "--lockfile-only", "--ignore-scripts", "--no-progress");
        return project;
    }

    /// <summary>The project's bun settings: the fixture registry, a cache of its own, and <paramref name="install"/> lines.</summary>
    private static void WriteBunfig(string project, FixtureRegistry registry, string install = "") =>
        File.WriteAllText(Path.Combine(project, "bunfig.toml"), $"""
            [install]
            registry = "{registry.NpmUrl}"
            {install}

            [install.cache]
            dir = "{Path.Combine(project, ".bun-cache").Replace("\\", "/", StringComparison.Ordinal)}"
            """);

    /// <summary>bun's own check: an install that fails when bun.lock does not match package.json.</summary>
    private static void FrozenInstall(string project) =>
        Run(project, Bun, "install", "--frozen-lockfile", "--ignore-scripts", "--no-progress");

    [Fact]
    public async Task Update_BunApply_KeepsSectionAndCaretAndAFrozenInstallAcceptsIt()
    {
        using var registry = new FixtureRegistry();
        var project = BunProject(registry, """{ "name": "fixture-app", "version": "1.0.0", "private": true, "devDependencies": { "ms": "2.1.2" } }""");
        // The project has been on ms ^2.1.2 since before 2.1.3 came out: the range as bun would have written it then.
        File.WriteAllText(Path.Combine(project, "package.json"), File.ReadAllText(Path.Combine(project, "package.json")).Replace("\"2.1.2\"", "\"^2.1.2\"", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(project, "bun.lock"), File.ReadAllText(Path.Combine(project, "bun.lock")).Replace("\"ms\": \"2.1.2\"", "\"ms\": \"^2.1.2\"", StringComparison.Ordinal));
        Run(project, Bun, "install", "--frozen-lockfile", "--lockfile-only", "--ignore-scripts", "--no-progress");
        var plan = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--min-age", "0");
        var ms = plan.Update("ms");
        Assert.Equal("2.1.2", ms["current"]!.GetValue<string>());
        Assert.Equal("2.1.3", ms["proposed"]!.GetValue<string>());
        var update = new DependencyUpdate
        {
            Ecosystem = Graph.Ecosystem.Npm, Name = "ms", Current = "2.1.2", Range = ms["range"]!.GetValue<string>(), Proposed = "2.1.3",
            Project = Path.Combine(project, "bun.lock"),
        };

        var applied = new UpdateApplier((_, _) => null, new ApplySettings(Bun: [Bun])).Apply([update], out var failure);

        Assert.True(failure is null, failure);
        Assert.Single(applied);
        var manifest = Manifest(project);
        Assert.Equal("^2.1.3", manifest["devDependencies"]!["ms"]!.GetValue<string>());
        Assert.Null(manifest["dependencies"]);
        var lockfile = File.ReadAllText(Path.Combine(project, "bun.lock"));
        Assert.Contains("\"ms\": \"^2.1.3\"", lockfile, StringComparison.Ordinal);
        Assert.Contains("\"ms@2.1.3\"", lockfile, StringComparison.Ordinal);
        Assert.DoesNotContain("2.1.2", lockfile, StringComparison.Ordinal);
        // --lockfile-only: the project's node_modules was never made.
        Assert.False(Directory.Exists(Path.Combine(project, "node_modules")));
        FrozenInstall(project);
        Assert.Equal("2.1.3", JsonNode.Parse(File.ReadAllText(Path.Combine(project, "node_modules", "ms", "package.json")))!["version"]!.GetValue<string>());
    }

    [Fact]
    public void Update_BunApplyExactPin_StaysExactInItsSection()
    {
        using var registry = new FixtureRegistry();
        var project = BunProject(registry, """{ "name": "fixture-app", "version": "1.0.0", "private": true, "dependencies": { "ms": "2.1.2" } }""");
        var update = new DependencyUpdate
        {
            Ecosystem = Graph.Ecosystem.Npm, Name = "ms", Current = "2.1.2", Range = "2.1.2", Proposed = "2.1.3", Project = Path.Combine(project, "bun.lock"),
        };

        new UpdateApplier((_, _) => null, new ApplySettings(Bun: [Bun])).Apply([update], out var failure);

        Assert.True(failure is null, failure);
        Assert.Equal("2.1.3", Manifest(project)["dependencies"]!["ms"]!.GetValue<string>());
        Assert.Null(Manifest(project)["devDependencies"]);
        FrozenInstall(project);
    }

    [Fact]
    public void Update_BunApplyFailing_LeavesEveryFileAsItWas()
    {
        using var registry = new FixtureRegistry();
        var project = BunProject(registry, """{ "name": "fixture-app", "version": "1.0.0", "private": true, "dependencies": { "ms": "^2.1.2" } }""");
        var manifest = File.ReadAllBytes(Path.Combine(project, "package.json"));
        var lockfile = File.ReadAllBytes(Path.Combine(project, "bun.lock"));
        // A version the registry does not have: bun itself fails to resolve it.
        var update = new DependencyUpdate
        {
            Ecosystem = Graph.Ecosystem.Npm, Name = "ms", Current = "2.1.3", Range = "^2.1.2", Proposed = "9.9.9", Project = Path.Combine(project, "bun.lock"),
        };

        var applied = new UpdateApplier((_, _) => null, new ApplySettings(Bun: [Bun], Timeout: TimeSpan.FromMinutes(2))).Apply([update], out var failure);

        Assert.NotNull(failure);
        Assert.Contains("every file was restored", failure, StringComparison.Ordinal);
        Assert.Contains("9.9.9", failure, StringComparison.Ordinal);
        Assert.Empty(applied);
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(project, "package.json")));
        Assert.Equal(lockfile, File.ReadAllBytes(Path.Combine(project, "bun.lock")));
        Assert.False(Directory.Exists(Path.Combine(project, "node_modules")));
    }

    [Fact]
    public void Apply_BinaryBunLockb_RefusedNamingTheConversionWhichThenWorks()
    {
        using var registry = new FixtureRegistry();
        var project = BunProject(registry, """{ "name": "fixture-app", "version": "1.0.0", "private": true, "dependencies": { "ms": "^2.1.2" } }""", binaryLockfile: true);
        var manifest = File.ReadAllBytes(Path.Combine(project, "package.json"));
        var binary = File.ReadAllBytes(Path.Combine(project, "bun.lockb"));
        Assert.False(File.Exists(Path.Combine(project, "bun.lock")));
        var update = new DependencyUpdate
        {
            Ecosystem = Graph.Ecosystem.Npm, Name = "ms", Current = "2.1.2", Range = "^2.1.2", Proposed = "2.1.3", Project = Path.Combine(project, "bun.lockb"),
        };

        var applied = new UpdateApplier((_, _) => null, new ApplySettings(Bun: [Bun])).Apply([update], out var failure);

        Assert.Empty(applied);
        Assert.NotNull(failure);
        const string conversion = "bun install --save-text-lockfile --lockfile-only --ignore-scripts";
        Assert.Contains(conversion, failure, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", failure, StringComparison.Ordinal);
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(project, "package.json")));
        Assert.Equal(binary, File.ReadAllBytes(Path.Combine(project, "bun.lockb")));
        Assert.False(File.Exists(Path.Combine(project, "bun.lock")));

        // A project from before bun wrote text lockfiles by default; the command the message names does what it says: bun.lock replaces bun.lockb, and the update then applies.
        WriteBunfig(project, registry);
        Run(project, Bun, [.. conversion.Split(' ').Skip(1)]);
        Assert.False(File.Exists(Path.Combine(project, "bun.lockb")));
        applied = new UpdateApplier((_, _) => null, new ApplySettings(Bun: [Bun])).Apply([update with { Project = Path.Combine(project, "bun.lock") }], out failure);
        Assert.True(failure is null, failure);
        Assert.Single(applied);
        Assert.Equal("^2.1.3", Manifest(project)["dependencies"]!["ms"]!.GetValue<string>());
        FrozenInstall(project);
    }
}
