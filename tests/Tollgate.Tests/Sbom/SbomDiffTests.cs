using System.Collections.Immutable;
using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Sbom;
using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Sbom;

/// <summary>
/// `tollgate sbom diff`: the example MCP server (old: pinned vulnerable versions) against the real
/// server-filesystem lockfile (new), written as CycloneDX and SPDX, with the real GitHub advisories in testdata/reference.
/// In the environment collection: one test sets TOLLGATE_HOME, which tests running in parallel would read.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class SbomDiffTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string OldProject => SbomInputs.PathOf("examples/mcp-server-npm");
    private static string NewProject => SbomInputs.PathOf("npm/mcp-filesystem");

    /// <summary>The seven advisories of testdata/reference that hit the example's pinned versions (checked by hand against each record's ranges).</summary>
    private static readonly string[] ExampleFindings =
    [
        "GHSA-35jh-r3h4-6jhm lodash@4.17.20",
        "GHSA-8hc4-vh64-cxmj axios@1.5.1",
        "GHSA-pxg6-pf52-xh8x cookie@0.5.0",
        "GHSA-qwcr-r2fm-qrc7 body-parser@1.20.1",
        "GHSA-rv95-896h-c2vc express@4.18.2",
        "GHSA-wf5p-g6vw-rhxx axios@1.5.1",
        "GHSA-xvch-5gv4-984h minimist@1.2.5",
    ];

    private (string Old, string New) WriteSboms()
    {
        var oldSbom = _temp.File("old.cdx.json");
        var newSbom = _temp.File("new.spdx.json");
        Assert.Equal(0, CliRunner.Run("sbom", OldProject, "-o", oldSbom).ExitCode);
        Assert.Equal(0, CliRunner.Run("sbom", NewProject, "--format", "spdx", "-o", newSbom).ExitCode);
        return (oldSbom, newSbom);
    }

    private string Database()
    {
        var db = _temp.File("advisories.db");
        var import = CliRunner.Run("db", "import", TestData.Reference("osv", "github"), TestData.Reference("osv", "malicious"), "--db", db);
        Assert.True(import.ExitCode == 0, import.Stderr);
        return db;
    }

    /// <summary>name → versions installed, read straight from a package-lock.json (the reference for added/removed).</summary>
    private static Dictionary<string, SortedSet<string>> LockfilePackages(string folder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "package-lock.json")));
        var result = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var entry in doc.RootElement.GetProperty("packages").EnumerateObject())
        {
            var at = entry.Name.LastIndexOf("node_modules/", StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }
            var name = entry.Value.TryGetProperty("name", out var n) ? n.GetString()! : entry.Name[(at + "node_modules/".Length)..];
            if (!result.TryGetValue(name, out var set))
            {
                result[name] = set = new SortedSet<string>(StringComparer.Ordinal);
            }
            set.Add(entry.Value.GetProperty("version").GetString()!);
        }
        return result;
    }

    [Fact]
    public void SbomDiff_CycloneDxOldSpdxNew_AddedRemovedMatchTheLockfiles()
    {
        var (oldSbom, newSbom) = WriteSboms();

        var result = CliRunner.Run("sbom", "diff", oldSbom, newSbom, "--format", "json", "--db", Database());

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout);
        var changes = doc.RootElement.GetProperty("changes").EnumerateArray()
            .Select(c => (Change: c.GetProperty("change").GetString()!, Name: c.GetProperty("name").GetString()!,
                Old: string.Join(',', c.GetProperty("oldVersions").EnumerateArray().Select(v => v.GetString())),
                New: string.Join(',', c.GetProperty("newVersions").EnumerateArray().Select(v => v.GetString()))))
            .ToList();
        var before = LockfilePackages(OldProject);
        var after = LockfilePackages(NewProject);

        Assert.Equal(after.Keys.Except(before.Keys).Order(StringComparer.Ordinal), changes.Where(c => c.Change == "added").Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal(before.Keys.Except(after.Keys).Order(StringComparer.Ordinal), changes.Where(c => c.Change == "removed").Select(c => c.Name).Order(StringComparer.Ordinal));
        var differing = before.Keys.Intersect(after.Keys).Where(k => !before[k].SetEquals(after[k])).Order(StringComparer.Ordinal);
        Assert.Equal(differing, changes.Where(c => c.Change is "upgraded" or "downgraded" or "changed").Select(c => c.Name).Order(StringComparer.Ordinal));
        // Single-version packages whose version rose; express 4.18.2+5.3.0 → 5.3.0 keeps its highest version: "changed".
        Assert.Equal(
            [("upgraded", "on-finished", "2.4.1", "2.4.2"), ("upgraded", "range-parser", "1.2.1", "1.3.0"), ("upgraded", "zod", "3.25.76", "4.6.7")],
            changes.Where(c => c.Change == "upgraded").Select(c => (c.Change, c.Name, c.Old, c.New)));
        Assert.Contains(("changed", "express", "4.18.2,5.3.0", "5.3.0"), changes.Select(c => (c.Change, c.Name, c.Old, c.New)));
        Assert.DoesNotContain(changes, c => c.Change == "downgraded");

        var findings = doc.RootElement.GetProperty("findings");
        Assert.Empty(findings.GetProperty("new").EnumerateArray());
        Assert.Equal(ExampleFindings, findings.GetProperty("resolved").EnumerateArray()
            .Select(f => $"{f.GetProperty("id").GetString()} {f.GetProperty("name").GetString()}@{f.GetProperty("version").GetString()}").Order(StringComparer.Ordinal));
        Assert.Equal(7, doc.RootElement.GetProperty("summary").GetProperty("resolvedFindings").GetInt32());
    }

    [Fact]
    public void SbomDiff_Reversed_DowngradesAndNewFindings()
    {
        var (oldSbom, newSbom) = WriteSboms();

        var result = CliRunner.Run("sbom", "diff", newSbom, oldSbom, "--format", "json", "--db", Database());

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(["on-finished", "range-parser", "zod"], doc.RootElement.GetProperty("changes").EnumerateArray()
            .Where(c => c.GetProperty("change").GetString() == "downgraded").Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(ExampleFindings, doc.RootElement.GetProperty("findings").GetProperty("new").EnumerateArray()
            .Select(f => $"{f.GetProperty("id").GetString()} {f.GetProperty("name").GetString()}@{f.GetProperty("version").GetString()}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void SbomDiff_NoDatabase_ComparesPackagesOnlyAndSaysSo()
    {
        var (oldSbom, newSbom) = WriteSboms();
        var previous = Environment.GetEnvironmentVariable("TOLLGATE_HOME");
        try
        {
            Environment.SetEnvironmentVariable("TOLLGATE_HOME", _temp.File("empty-home"));
            var result = CliRunner.Run("sbom", "diff", oldSbom, newSbom, "--format", "json");

            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Contains("findings not compared", result.Stderr, StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(result.Stdout);
            Assert.False(doc.RootElement.TryGetProperty("findings", out _));
            Assert.NotEmpty(doc.RootElement.GetProperty("changes").EnumerateArray());
        }
        finally
        {
            Environment.SetEnvironmentVariable("TOLLGATE_HOME", previous);
        }
    }

    [Fact]
    public void SbomDiff_MissingExplicitDatabase_ExitsTwo()
    {
        var (oldSbom, newSbom) = WriteSboms();

        var result = CliRunner.Run("sbom", "diff", oldSbom, newSbom, "--db", _temp.File("none.db"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no advisory database at", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void SbomDiff_MarkdownAndTable_NameTheChangesAndFindings()
    {
        var (oldSbom, newSbom) = WriteSboms();
        var db = Database();

        var markdown = CliRunner.Run("sbom", "diff", oldSbom, newSbom, "--format", "markdown", "--db", db);
        var table = CliRunner.Run("sbom", "diff", oldSbom, newSbom, "--db", db);

        Assert.Equal(0, markdown.ExitCode);
        Assert.Contains("| upgraded | npm | zod | 3.25.76 | 4.6.7 |", markdown.Stdout, StringComparison.Ordinal);
        Assert.Contains("### Resolved findings", markdown.Stdout, StringComparison.Ordinal);
        Assert.Contains("| medium | GHSA-wf5p-g6vw-rhxx | axios@1.5.1 | 1.6.0 |", markdown.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("zod", table.Stdout, StringComparison.Ordinal);
        Assert.Contains("0 new finding(s), 7 resolved", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void SbomDiff_BrokenInput_ExitsTwoWithDiagnostic()
    {
        var (oldSbom, _) = WriteSboms();

        var result = CliRunner.Run("sbom", "diff", oldSbom, TestData.Path("sbom", "malformed", "dangling-ref.cdx.json"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("TG0014", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void SbomCommand_PathArgumentStillWorksBesideTheDiffSubcommand()
    {
        var result = CliRunner.Run("sbom", Path.Combine(TestData.RepositoryRoot, "examples"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("\"bomFormat\": \"CycloneDX\"", result.Stdout, StringComparison.Ordinal);
    }

    public static TheoryData<Ecosystem, string, string, ChangeKind> Orders() => new()
    {
        // Ordinal string order would get each of these wrong.
        { Ecosystem.Npm, "1.9.0", "1.10.0", ChangeKind.Upgraded },
        { Ecosystem.Npm, "2.0.0", "2.0.0-rc.1", ChangeKind.Downgraded },
        { Ecosystem.PyPI, "2.0rc1", "2.0", ChangeKind.Upgraded },
        { Ecosystem.PyPI, "1.0.post1", "1.0", ChangeKind.Downgraded },
        { Ecosystem.NuGet, "1.0.0-beta", "1.0.0", ChangeKind.Upgraded },
        { Ecosystem.NuGet, "10.0.0", "9.0.1", ChangeKind.Downgraded },
    };

    [Theory]
    [MemberData(nameof(Orders))]
    public void Compare_EcosystemVersionOrder_DecidesUpOrDown(Ecosystem ecosystem, string oldVersion, string newVersion, ChangeKind expected)
    {
        var change = Assert.Single(SbomDiff.Compare(Graph(ecosystem, "Some_Package", oldVersion), Graph(ecosystem, "some-package", newVersion)),
            c => c.Kind != ChangeKind.Changed || expected == ChangeKind.Changed);

        Assert.Equal(expected, change.Kind);
    }

    private static DependencyGraph Graph(Ecosystem ecosystem, string name, string version)
    {
        // PyPI names compare in PEP 503 form (Some_Package = some-package); npm and NuGet names need the same spelling.
        var spelled = ecosystem == Ecosystem.PyPI ? name : "some-package";
        var component = new Component { Ecosystem = ecosystem, Name = spelled, Version = version, Purl = PackageUrl.For(ecosystem, spelled, version) };
        return new DependencyGraph([component], [], [], ImmutableArray<Diagnostic>.Empty);
    }
}
