using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Tollgate.Updates;
using static Tollgate.Tests.Updates.UpdateTestKit;

namespace Tollgate.Tests.Updates;

/// <summary><c>tollgate update</c> over projects locked by npm, dotnet and a requirements file, against the loopback fixture registry.</summary>
public sealed class UpdateCommandTests
{
    private static string[] Signals(JsonObject update) =>
        [.. update["signals"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()).Distinct().Order()];

    [Fact]
    public async Task Update_NpmProjectWithVulnerableVersions_ProposesLowestFixFirstAndExitsOne()
    {
        using var registry = new FixtureRegistry();
        var project = NpmProject(registry, "\"lodash\": \"4.17.20\", \"minimist\": \"^1.2.5\", \"ms\": \"2.0.0\"");

        var result = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--advisories", ExampleAdvisories);

        Assert.Equal(1, result.ExitCode);
        var lodash = result.Update("lodash");
        Assert.Equal("security", lodash["kind"]!.GetValue<string>());
        // 4.17.21 is the lowest version outside every range of GHSA-35jh-r3h4-6jhm.
        Assert.Equal("4.17.21", lodash["proposed"]!.GetValue<string>());
        Assert.Equal("patch", lodash["updateType"]!.GetValue<string>());
        Assert.Contains("GHSA-35jh-r3h4-6jhm", lodash["security"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Contains(lodash["reasons"]!.AsArray(), r => r!.GetValue<string>() == "security update: fixes GHSA-35jh-r3h4-6jhm");
        // minimist ^1.2.5 resolved to the newest 1.x by npm: nothing hits it, so no security proposal.
        var minimist = result.Json["updates"]!.AsArray().Select(u => u!.AsObject()).FirstOrDefault(u => u["name"]!.GetValue<string>() == "minimist");
        Assert.True(minimist is null || minimist["kind"]!.GetValue<string>() != "security");
        // The real packuments come from a mirror without _npmUser, maintainers and attestations: no such signal.
        foreach (var update in result.Json["updates"]!.AsArray())
        {
            Assert.DoesNotContain("TG4003", Signals(update!.AsObject()));
            Assert.DoesNotContain("TG4004", Signals(update!.AsObject()));
        }
        var summary = result.Json["summary"]!;
        Assert.True(summary["complete"]!.GetValue<bool>());
        Assert.True(summary["security"]!.GetValue<int>() >= 1);
    }

    [Fact]
    public async Task Update_TakeoverLookalikeVersion_IsHeldByTheCooldownThenShowsEverySignal()
    {
        using var registry = new FixtureRegistry("npm", "npm-signals");
        var project = NpmProject(registry, "\"chalk\": \"^6.0.1\"");
        // npm itself locked 6.0.2 (the latest tag); put the project back on 6.0.1 as it was before the bad release.
        Run(project, "npm", "install", "chalk@6.0.1", "--save-exact", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund");

        var held = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--min-age", "72h");
        var chalk = held.Update("chalk");
        Assert.True(chalk["proposed"] is null, chalk.ToJsonString());
        Assert.Contains("within the cooldown", chalk["reasons"]![0]!.GetValue<string>(), StringComparison.Ordinal);

        var noCooldown = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--min-age", "0");
        chalk = noCooldown.Update("chalk");
        Assert.Equal("6.0.2", chalk["proposed"]!.GetValue<string>());
        // TG4006 too: 6.0.2 comes years after 6.0.1, where chalk released monthly.
        Assert.Equal(["TG4002", "TG4003", "TG4004", "TG4005", "TG4006"], Signals(chalk));
        Assert.False(chalk["automerge"]!.GetValue<bool>());
        var messages = string.Join("\n", chalk["signals"]!.AsArray().Select(s => s!["message"]!.GetValue<string>()));
        Assert.Contains("postinstall: node setup.js", messages, StringComparison.Ordinal);
        Assert.Contains("'helpful-contributor'", messages, StringComparison.Ordinal);
        Assert.Contains("color-telemetry", messages, StringComparison.Ordinal);
        Assert.Equal(0, noCooldown.ExitCode);
    }

    [Fact]
    public async Task Update_SameProjectOnTheMirrorCopy_FindsNoPublisherOrProvenanceSignal()
    {
        // The recorded chalk (no _npmUser, maintainers or attestations anywhere): "missing before, missing now" is no change.
        using var registry = new FixtureRegistry("npm");
        var project = NpmProject(registry, "\"chalk\": \"5.6.0\"");

        var result = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--min-age", "0");

        var chalk = result.Update("chalk");
        Assert.NotNull(chalk["proposed"]);
        Assert.DoesNotContain("TG4003", Signals(chalk));
        Assert.DoesNotContain("TG4004", Signals(chalk));
        Assert.DoesNotContain("TG4002", Signals(chalk));
    }

    [Fact]
    public async Task Update_PolicyAutomergeList_DecidesWhichUpdateTypesMayMerge()
    {
        using var registry = new FixtureRegistry();
        var project = NpmProject(registry, "\"ms\": \"2.0.0\"");

        var byDefault = (await Update(project, "--registry", "npm=" + registry.NpmUrl, "--min-age", "0", "--advisories", ExampleAdvisories)).Update("ms");
        File.WriteAllText(Path.Combine(project, "tollgate.yaml"), "automerge: [patch]\n");
        var patchOnly = (await Update(project, "--registry", "npm=" + registry.NpmUrl, "--min-age", "0", "--advisories", ExampleAdvisories)).Update("ms");

        Assert.Equal("minor", byDefault["updateType"]!.GetValue<string>());
        Assert.True(byDefault["automerge"]!.GetValue<bool>(), byDefault.ToJsonString());
        Assert.False(patchOnly["automerge"]!.GetValue<bool>());
        Assert.Equal("minor update: auto-merge takes only patch updates (policy key automerge)", patchOnly["reasons"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_Markdown_IsAPullRequestBodyEndingWithTheVerdictMarker()
    {
        using var registry = new FixtureRegistry();
        var project = NpmProject(registry, "\"lodash\": \"4.17.20\"");

        var result = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--advisories", ExampleAdvisories, "--format", "markdown", "--min-age", "0");

        Assert.Contains("| lodash (npm) | 4.17.20 | 4.17.21 | patch | security: GHSA-35jh-r3h4-6jhm |", result.Stdout, StringComparison.Ordinal);
        Assert.EndsWith(UpdateReport.AutomergeYes, result.Stdout.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_RegistryFailsThenRecovers_RetriesAndUsesTheCacheWhenOffline()
    {
        using var registry = new FixtureRegistry();
        var project = NpmProject(registry, "\"ms\": \"2.0.0\"");
        var cache = Path.Combine(NewFolder("cache"), "registry-cache");
        registry.FailNext("/npm/ms", 503, 429);
        var first = registry.Log.Count;

        var online = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--cache", cache, "--min-age", "0");
        Assert.Equal(0, online.ExitCode);
        Assert.Equal(["GET /npm/ms 503", "GET /npm/ms 429", "GET /npm/ms 200"], registry.Log.Skip(first));

        var before = registry.Log.Count;
        var offline = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--cache", cache, "--offline", "--min-age", "0");
        Assert.Equal(0, offline.ExitCode);
        Assert.Equal(before, registry.Log.Count);
        Assert.Equal(online.Update("ms")["proposed"]!.ToJsonString(), offline.Update("ms")["proposed"]!.ToJsonString());

        var empty = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--offline");
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("not in the metadata cache", empty.Stderr, StringComparison.Ordinal);
        Assert.False(empty.Json["summary"]!["complete"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Update_UnreachableRegistry_IsIncompleteNeverAPass()
    {
        using var registry = new FixtureRegistry();
        var project = NpmProject(registry, "\"ms\": \"2.0.0\"");
        registry.Dispose();

        var result = await Update(project, "--registry", "npm=" + registry.NpmUrl);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("could not be reached", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("the plan is incomplete", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_TokenFromNpmrc_IsSentAndNeverPrinted()
    {
        using var registry = new FixtureRegistry();
        var project = NpmProject(registry, "\"ms\": \"2.0.0\"");
        var host = new Uri(registry.NpmUrl);
        File.AppendAllText(Path.Combine(project, ".npmrc"), $"//{host.Host}:{host.Port}{host.AbsolutePath}:_authToken=s3cr3t-fixture-token\n");
        registry.RequiredNpmToken = "s3cr3t-fixture-token";

        var result = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--min-age", "0");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Bearer s3cr3t-fixture-token", registry.Authorizations);
        Assert.DoesNotContain("s3cr3t", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_NpmApply_WritesThroughNpmAndNpmCiAcceptsTheResult()
    {
        using var registry = new FixtureRegistry();
        var project = NpmProject(registry, "\"lodash\": \"4.17.20\", \"ms\": \"2.0.0\"");

        var result = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--advisories", ExampleAdvisories, "--apply", "--only", "security");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(project, "package.json")))!;
        Assert.Equal("4.17.21", manifest["dependencies"]!["lodash"]!.GetValue<string>());
        Assert.Equal("2.0.0", manifest["dependencies"]!["ms"]!.GetValue<string>());
        var lockfile = JsonNode.Parse(File.ReadAllText(Path.Combine(project, "package-lock.json")))!;
        Assert.Equal("4.17.21", lockfile["packages"]!["node_modules/lodash"]!["version"]!.GetValue<string>());
        Run(project, "npm", "ci", "--ignore-scripts", "--dry-run", "--no-audit", "--no-fund");
    }

    [Fact]
    public async Task Update_PnpmApply_WritesThroughPnpmAndAFrozenInstallAcceptsIt()
    {
        using var registry = new FixtureRegistry();
        var pnpm = Path.Combine(TestData.RepositoryRoot, "tests", "tools", "feed-clients", "node_modules", "pnpm", "bin", "pnpm.cjs");
        Assert.True(File.Exists(pnpm), "pnpm is not installed: run `npm ci --ignore-scripts --prefix tests/tools/feed-clients` (.ci/run does).");
        var project = NewFolder("pnpm");
        File.WriteAllText(Path.Combine(project, "package.json"), """{ "name": "fixture-app", "version": "1.0.0", "private": true, "dependencies": { "lodash": "4.17.20", "ms": "2.0.0" } }""");
        File.WriteAllText(Path.Combine(project, ".npmrc"), $"registry={registry.NpmUrl}\n");
        Run(project, "node", pnpm, "install", "--lockfile-only", "--ignore-scripts", "--store-dir", Path.Combine(project, ".store"));
        var plan = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--advisories", ExampleAdvisories);
        var lodash = plan.Update("lodash");
        Assert.Equal("4.17.21", lodash["proposed"]!.GetValue<string>());
        var update = new DependencyUpdate
        {
            Ecosystem = Graph.Ecosystem.Npm, Name = "lodash", Current = "4.17.20", Range = lodash["range"]!.GetValue<string>(), Proposed = "4.17.21",
            Project = Path.Combine(project, "pnpm-lock.yaml"),
        };

        var applied = new UpdateApplier((_, _) => null, new ApplySettings(Pnpm: ["node", pnpm, "--store-dir", Path.Combine(project, ".store")])).Apply([update], out var failure);

        Assert.True(failure is null, failure);
        Assert.Single(applied);
        Assert.Equal("4.17.21", JsonNode.Parse(File.ReadAllText(Path.Combine(project, "package.json")))!["dependencies"]!["lodash"]!.GetValue<string>());
        Assert.Contains("lodash@4.17.21", File.ReadAllText(Path.Combine(project, "pnpm-lock.yaml")), StringComparison.Ordinal);
        Run(project, "node", pnpm, "install", "--frozen-lockfile", "--lockfile-only", "--ignore-scripts", "--store-dir", Path.Combine(project, ".store"));
    }

    [Fact]
    public async Task Update_NpmApplyFailing_LeavesEveryFileAsItWas()
    {
        using var registry = new FixtureRegistry();
        var project = NpmProject(registry, "\"lodash\": \"4.17.20\"");
        var manifest = File.ReadAllBytes(Path.Combine(project, "package.json"));
        var lockfile = File.ReadAllBytes(Path.Combine(project, "package-lock.json"));
        // The plan is made, then the registry goes away: npm's own run fails.
        var plan = await Update(project, "--registry", "npm=" + registry.NpmUrl, "--advisories", ExampleAdvisories);
        Assert.Equal(1, plan.ExitCode);
        File.WriteAllText(Path.Combine(project, ".npmrc"), "registry=http://127.0.0.1:9/\nfetch-retries=0\n");
        var updates = new[]
        {
            new DependencyUpdate { Ecosystem = Graph.Ecosystem.Npm, Name = "lodash", Current = "4.17.20", Range = "4.17.20", Proposed = "4.17.21", Project = Path.Combine(project, "package-lock.json") },
        };

        var applied = new UpdateApplier((_, _) => null, new ApplySettings(new Uri("http://127.0.0.1:9/"), TimeSpan.FromMinutes(2))).Apply(updates, out var failure);

        Assert.NotNull(failure);
        Assert.Contains("every file was restored", failure, StringComparison.Ordinal);
        Assert.Empty(applied);
        Assert.Equal(manifest, File.ReadAllBytes(Path.Combine(project, "package.json")));
        Assert.Equal(lockfile, File.ReadAllBytes(Path.Combine(project, "package-lock.json")));
    }

    [Fact]
    public async Task Update_RequirementsFile_ProposesTheSdistOnlyReleaseWithASignalAndAppliesHashes()
    {
        using var registry = new FixtureRegistry();
        var folder = NewFolder("pypi");
        var wheel = Path.Combine(FixtureRegistry.DataFolder, "pypi", "tollgate_fixture_greeting-1.0.0-py3-none-any.whl");
        File.WriteAllText(Path.Combine(folder, "requirements.txt"),
            $"tollgate-fixture-greeting==1.0.0 \\\n    --hash=sha256:{Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(wheel)))}\n");

        var plan = await Update(folder, "--registry", "pypi=" + registry.PyPIUrl);
        var greeting = plan.Update("tollgate-fixture-greeting");
        // 2.0.0 is yanked: the newest release is 1.1.0, which has no wheel (TG4002) where 1.0.0 had one.
        Assert.Equal("1.1.0", greeting["latest"]!.GetValue<string>());
        Assert.Equal("1.1.0", greeting["proposed"]!.GetValue<string>());
        Assert.Equal("out-of-range", greeting["kind"]!.GetValue<string>());
        // TG4006 too: a 1.x release two years after the line's last one, while 2.x exists.
        Assert.Equal(["TG4002", "TG4006"], Signals(greeting));
        Assert.False(greeting["automerge"]!.GetValue<bool>());

        var applied = await Update(folder, "--registry", "pypi=" + registry.PyPIUrl, "--apply");
        Assert.True(applied.ExitCode == 0, applied.Stderr);
        var sdist = File.ReadAllBytes(Path.Combine(FixtureRegistry.DataFolder, "pypi", "tollgate_fixture_greeting-1.1.0.tar.gz"));
        Assert.Equal(
            $"tollgate-fixture-greeting==1.1.0 \\\n    --hash=sha256:{Convert.ToHexStringLower(SHA256.HashData(sdist))}\n",
            File.ReadAllText(Path.Combine(folder, "requirements.txt")));
    }

    [Fact]
    public async Task Update_NuGetProjectWithLockFile_AppliesThroughDotnetRestore()
    {
        using var registry = new FixtureRegistry();
        var folder = NewFolder("nuget");
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="packages" /></config>
              <packageSources><clear /><add key="fixture" value="{registry.NuGetIndexUrl}" allowInsecureConnections="true" /></packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(folder, "App.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <RestorePackagesWithLockFile>true</RestorePackagesWithLockFile>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Tollgate.Fixture.Greeting" Version="1.0.0" />
              </ItemGroup>
            </Project>
            """);
        Run(folder, "dotnet", "restore");

        var plan = await Update(folder, "--min-age", "0");
        var greeting = plan.Update("Tollgate.Fixture.Greeting");
        Assert.Equal("1.0.0", greeting["wanted"]!.GetValue<string>());
        Assert.Equal("1.1.0", greeting["proposed"]!.GetValue<string>());
        Assert.Equal("minor", greeting["updateType"]!.GetValue<string>());

        var applied = await Update(folder, "--min-age", "0", "--apply");
        Assert.True(applied.ExitCode == 0, applied.Stderr);
        Assert.Contains("Version=\"1.1.0\"", File.ReadAllText(Path.Combine(folder, "App.csproj")), StringComparison.Ordinal);
        Assert.Contains("\"resolved\": \"1.1.0\"", File.ReadAllText(Path.Combine(folder, "packages.lock.json")), StringComparison.Ordinal);
        Run(folder, "dotnet", "restore", "--locked-mode");
    }
}
