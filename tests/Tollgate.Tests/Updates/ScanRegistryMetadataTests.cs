using System.Text.Json.Nodes;
using Tollgate.Cli;
using Tollgate.Cli.Commands;
using static Tollgate.Tests.Updates.UpdateTestKit;

namespace Tollgate.Tests.Updates;

/// <summary><c>scan --registry-metadata</c>: release age and compromise signals of locked versions, from the fixture registry.</summary>
public sealed class ScanRegistryMetadataTests
{
    private static (int Exit, JsonObject Report, string Stderr) Scan(string project, string registry, bool metadata = true)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var options = new ScanOptions([project], null, null, null, "json", null, null, [], true, [],
            RegistryMetadata: metadata, Registries: ["npm=" + registry], CacheFolder: Path.Combine(NewFolder("cache"), "registry-cache"));
        var exit = ScanCommand.Run(options, new Terminal(stdout, stderr), new FixedTime(FixedTime.FixtureNow));
        return (exit, JsonNode.Parse(stdout.ToString())!.AsObject(), stderr.ToString());
    }

    private static string[] Ids(JsonObject report) =>
        [.. report["findings"]!.AsArray().Select(f => f!["id"]!.GetValue<string>()).Where(id => id.StartsWith("TG4", StringComparison.Ordinal)).Distinct().Order()];

    [Fact]
    public void Scan_LockedTakeoverLookalike_IsYoungAndCarriesItsSignals()
    {
        using var registry = new FixtureRegistry("npm", "npm-signals");
        var project = NpmProject(registry, "\"chalk\": \"6.0.2\"");

        var (exit, report, stderr) = Scan(project, registry.NpmUrl);

        Assert.True(exit == 0, stderr);
        Assert.Equal(["TG4001", "TG4002", "TG4003", "TG4004", "TG4006"], Ids(report));
    }

    [Fact]
    public void Scan_WithoutTheOption_AsksNoRegistry()
    {
        using var registry = new FixtureRegistry("npm", "npm-signals");
        var project = NpmProject(registry, "\"chalk\": \"6.0.2\"");
        var before = registry.Log.Count;

        var (_, report, _) = Scan(project, registry.NpmUrl, metadata: false);

        Assert.Empty(Ids(report));
        Assert.Equal(before, registry.Log.Count);
    }

    [Fact]
    public void Scan_RegistryUnreachable_IsIncomplete()
    {
        using var registry = new FixtureRegistry();
        var project = NpmProject(registry, "\"ms\": \"2.0.0\"");
        registry.Dispose();

        var (exit, report, stderr) = Scan(project, registry.NpmUrl);

        Assert.Equal(2, exit);
        Assert.Equal("incomplete", report["outcome"]?.GetValue<string>() ?? report["verdict"]?.GetValue<string>());
        Assert.Contains("registry metadata of npm ms", stderr, StringComparison.Ordinal);
    }
}
