using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Sbom;
using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Sbom;

/// <summary>Write → <see cref="SbomReader"/> gives back the graph that was written.</summary>
public sealed class SbomRoundTripTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static IEnumerable<object[]> Cases() =>
        from input in SbomInputs.Names
        from format in new[] { "cyclonedx-1.5", "cyclonedx-1.6", "cyclonedx-1.7", "spdx-2.2", "spdx-2.3" }
        select new object[] { input, format };

    [Theory]
    [MemberData(nameof(Cases))]
    public void WriteThenRead_RealGraph_SameComponentsEdgesAndHashes(string input, string format)
    {
        var graph = SbomInputs.Graph(input);

        var back = WriteAndRead(graph, format);

        Assert.Equal(graph.Components.Select(c => c.Key), back.Components.Select(c => c.Key));
        Assert.Equal(Edges(graph), Edges(back));
        Assert.Equal(graph.Components.Select(c => (c.Key, c.Direct)), back.Components.Select(c => (c.Key, c.Direct)));
        Assert.Equal(graph.Components.Select(c => (c.Key, Hashes(c))), back.Components.Select(c => (c.Key, Hashes(c))));
        Assert.Equal(graph.Components.Select(c => (c.Key, c.Origin.Kind)), back.Components.Select(c => (c.Key, c.Origin.Kind)));
        if (format.StartsWith("cyclonedx", StringComparison.Ordinal))
        {
            // CycloneDX carries every scope flag in a tollgate:scopes property, plus install scripts and pins.
            Assert.Equal(graph.Components.Select(c => (c.Key, c.Scopes)), back.Components.Select(c => (c.Key, c.Scopes)));
            Assert.Equal(graph.Components.Select(c => (c.Key, c.HasInstallScript == true)), back.Components.Select(c => (c.Key, c.HasInstallScript == true)));
            Assert.Equal(graph.Components.Select(c => (c.Key, c.License)), back.Components.Select(c => (c.Key, c.License)));
        }
        else
        {
            // SPDX 2 relationships say only "development dependency" or "dependency": what matters for
            // matching (is it shipped?) survives; the finer flags (optional, peer) do not.
            Assert.Equal(graph.Components.Select(c => (c.Key, c.Scopes == DependencyScopes.Dev)), back.Components.Select(c => (c.Key, c.Scopes == DependencyScopes.Dev)));
        }
    }

    [Theory]
    [MemberData(nameof(SbomInputs.All), MemberType = typeof(SbomInputs))]
    public void DepsSbom_OwnSbom_GivesTheComponentsDepsPathGives(string input)
    {
        var path = SbomInputs.PathOf(input);
        var sbom = _temp.File(input.Replace('/', '-') + ".cdx.json");
        var write = CliRunner.Run("sbom", path, "-o", sbom);
        var fromLockfile = CliRunner.Run("deps", path, "--include-dev", "--format", "json");
        var fromSbom = CliRunner.Run("deps", "--sbom", sbom, "--include-dev", "--format", "json");

        Assert.True(write.ExitCode == 0, write.Stderr);
        Assert.True(fromLockfile.ExitCode == 0, fromLockfile.Stderr);
        Assert.True(fromSbom.ExitCode == 0, fromSbom.Stderr);
        Assert.Equal(ComponentFacts(fromLockfile.Stdout), ComponentFacts(fromSbom.Stdout));
    }

    [Fact]
    public void DepsSbom_OwnSbomWithoutDevFlag_GivesTheSameProductionComponents()
    {
        var path = SbomInputs.PathOf("npm/mcp-filesystem");
        var sbom = _temp.File("prod.cdx.json");
        Assert.Equal(0, CliRunner.Run("sbom", path, "-o", sbom).ExitCode);

        Assert.Equal(
            ComponentFacts(CliRunner.Run("deps", path, "--format", "json").Stdout),
            ComponentFacts(CliRunner.Run("deps", "--sbom", sbom, "--format", "json").Stdout));
    }

    /// <summary>What `scan --sbom` depends on: identity, pin, scopes, directness, origin kind and hashes.</summary>
    private static List<string> ComponentFacts(string depsJson)
    {
        using var doc = JsonDocument.Parse(depsJson);
        return [.. doc.RootElement.GetProperty("components").EnumerateArray().Select(Fact).Order(StringComparer.Ordinal)];

        static string Fact(JsonElement c)
        {
            var script = c.TryGetProperty("hasInstallScript", out var s) && s.ValueKind == JsonValueKind.True;
            var scopes = string.Join(',', c.GetProperty("scopes").EnumerateArray().Select(x => x.GetString()));
            return $"{c.GetProperty("purl").GetString()} resolved={c.GetProperty("resolved").GetBoolean()} direct={c.GetProperty("direct").GetBoolean()} "
                + $"scopes={scopes} origin={c.GetProperty("origin").GetProperty("kind").GetString()} script={script}";
        }
    }

    private DependencyGraph WriteAndRead(DependencyGraph graph, string format)
    {
        var (kind, version) = (format.Split('-')[0], format.Split('-')[1]);
        var options = SbomWriterSchemaTests.Fixed with { SpecVersion = version };
        var file = _temp.File($"{Guid.NewGuid():N}.json");
        File.WriteAllText(file, kind == "cyclonedx" ? CycloneDxWriter.Write(graph, options) : SpdxWriter.Write(graph, options));
        var bag = new DiagnosticBag();
        var back = SbomReader.Read(file, bag);
        Assert.DoesNotContain(bag.Items, d => d.Severity != DiagnosticSeverity.Info);
        return back;
    }

    /// <summary>Edges with every project root written as "root" (the reader names its one root after the SBOM file).</summary>
    private static List<string> Edges(DependencyGraph graph) =>
        [.. graph.Edges.Select(e => (graph.IsRoot(e.From) ? "root" : e.From) + " > " + e.To).Distinct().Order(StringComparer.Ordinal)];

    private static string Hashes(Component c) =>
        string.Join(' ', c.Integrity.Select(SbomHashes.ToHex).OfType<(string Algorithm, string Hex)>().Select(h => h.Algorithm + ":" + h.Hex).Distinct().Order(StringComparer.Ordinal));
}
