using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Risk;
using static Tollgate.Tests.Risk.GraphBuilder;

namespace Tollgate.Tests.Risk;

public sealed class RiskRulesTests
{
    private const string Approved = "https://artifacts.tollgate.invalid/npm";
    private const string DefaultRegistry = "https://registry.tollgate.invalid/";

    private static readonly RiskContext s_withRegistries = RiskContext.Empty with
    {
        ApprovedRegistries = [Approved],
        DefaultRegistries = ImmutableDictionary<Ecosystem, string>.Empty.Add(Ecosystem.Npm, DefaultRegistry),
    };

    private static List<string> Ids(IEnumerable<Finding> findings) => [.. findings.Select(f => f.Id)];

    [Fact]
    public void All_Ids_AreUniqueOrderedAndDescribed()
    {
        var ids = RiskRules.All.Select(r => r.Id).ToList();

        Assert.Equal(["TG1001", "TG1002", "TG1003", "TG1004", "TG1005", "TG1006", "TG1007", "TG1008", "TG1009", "TG1010", "TG1011"], ids);
        Assert.All(RiskRules.All, r =>
        {
            Assert.False(string.IsNullOrWhiteSpace(r.Title));
            Assert.False(string.IsNullOrWhiteSpace(r.Rationale));
            Assert.False(string.IsNullOrWhiteSpace(r.Fix));
            Assert.Matches("^[A-Z][A-Za-z]+$", r.Name);
            Assert.Same(r, RiskRules.Find(r.Id.ToLowerInvariant()));
        });
    }

    [Fact]
    public void RulesDoc_EveryRuleAndDiagnosticId_HasAnEntry()
    {
        var doc = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "docs", "rules.md"));
        foreach (var rule in RiskRules.All)
        {
            Assert.Contains($"## {rule.Id}: {rule.Title}", doc, StringComparison.Ordinal);
            Assert.Contains($"| `{rule.DefaultLevel.ToName()}` | `{rule.DefaultSeverity.ToName()}` |", doc, StringComparison.Ordinal);
        }
        var diagnosticIds = typeof(DiagnosticIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.True(diagnosticIds.Count >= 15, "the diagnostic ids were not found by reflection");
        Assert.All(diagnosticIds, id => Assert.Contains($"| {id} |", doc, StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluate_CleanRegistryGraph_FindsNothing()
    {
        var graph = GraphOf(Package("express", "4.21.2"), Package("lodash", "4.17.21", installScript: false));

        Assert.Empty(Evaluate(graph, s_withRegistries with { ApprovedRegistries = [DefaultRegistry] }));
    }

    [Fact]
    public void InstallScript_NotOnAllowlist_ReportsTG1001Medium()
    {
        var graph = GraphOf(Package("esbuild", "0.24.0", installScript: true), Package("sharp", "0.33.5", installScript: true), Package("left-pad", "1.3.0"));
        var context = RiskContext.Empty with { IsInstallScriptAllowed = c => c.Name == "sharp" };

        var finding = Assert.Single(Evaluate(graph, context));

        Assert.Equal("TG1001", finding.Id);
        Assert.Equal("esbuild", finding.Component.Name);
        Assert.Equal(Severity.Medium, finding.Severity);
        Assert.Equal(FindingKind.Signal, finding.Kind);
    }

    [Fact]
    public void Sources_GitUrlAndFile_ReportOneRuleEach()
    {
        var graph = GraphOf(
            Package("from-git", "1.0.0", origin: new Origin(OriginKind.Git, "git+ssh://git@git.tollgate.invalid/acme/from-git.git#0123456789abcdef0123456789abcdef01234567"), integrity: null),
            Package("from-url", "1.0.0", origin: new Origin(OriginKind.Url, "https://files.tollgate.invalid/from-url-1.0.0.tgz")),
            Package("from-file", "1.0.0", origin: new Origin(OriginKind.File, "../vendor/from-file"), integrity: null),
            Package("in-workspace", "1.0.0", origin: new Origin(OriginKind.Workspace, "packages/in-workspace"), integrity: null));

        var findings = Evaluate(graph);

        Assert.Equal(["TG1002", "TG1003", "TG1004"], Ids(findings));
        Assert.Equal(["from-git", "from-url", "from-file"], findings.Select(f => f.Component.Name));
        Assert.Equal([Severity.Medium, Severity.Medium, Severity.Low], findings.Select(f => f.Severity));
    }

    [Fact]
    public void UrlSource_PlainHttpWithCredentials_IsHighAndHidesTheSecret()
    {
        var graph = GraphOf(Package("tarball", "1.0.0", origin: new Origin(OriginKind.Url, "http://deploy:s3cr3t@files.tollgate.invalid/tarball-1.0.0.tgz")));

        var finding = Assert.Single(Evaluate(graph));

        Assert.Equal("TG1003", finding.Id);
        Assert.Equal(Severity.High, finding.Severity);
        Assert.Contains("files.tollgate.invalid/tarball-1.0.0.tgz", finding.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", finding.Evidence, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("package-lock.json", true)]
    [InlineData("sub/dir/pnpm-lock.yaml", true)]
    [InlineData("packages.lock.json", true)]
    [InlineData("uv.lock", true)]
    [InlineData("requirements.txt", false)]
    [InlineData("package.json", false)]
    [InlineData("app.csproj", false)]
    public void MissingIntegrity_DependsOnTheLockfileFormat(string file, bool reported)
    {
        var graph = GraphOf(Package("no-hash", "1.0.0", integrity: null, file: file));

        Assert.Equal(reported ? ["TG1005"] : [], Ids(Evaluate(graph)));
    }

    [Fact]
    public void MissingIntegrity_UnresolvedOrNonRegistry_IsNotTG1005()
    {
        var graph = GraphOf(
            Package("range-only", "^1.0.0", integrity: null, resolved: false),
            Package("linked", "1.0.0", integrity: null, origin: new Origin(OriginKind.Workspace, "packages/linked")));

        Assert.Equal(["TG1008"], Ids(Evaluate(graph)));
    }

    [Fact]
    public void WeakIntegrity_Sha1Only_ReportsTG1006_Sha1WithSha512_DoesNot()
    {
        // Integrity strings as npm lockfiles write them for old packages (sha1 only) and for current ones (sha512).
        var graph = GraphOf(
            Package("old", "1.0.0", integrity: "sha1-PVXd5O9EFXoGK9BEArCaSsUNCRk="),
            Package("both", "1.0.0", integrity: "sha1-PVXd5O9EFXoGK9BEArCaSsUNCRk= sha512-AAAA"));

        var finding = Assert.Single(Evaluate(graph));

        Assert.Equal("TG1006", finding.Id);
        Assert.Equal("old", finding.Component.Name);
        Assert.Contains("SHA1", finding.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void UnapprovedRegistry_NoApprovedList_IsSilent()
    {
        var graph = GraphOf(Package("a", "1.0.0", origin: Origin.Registry("https://elsewhere.tollgate.invalid/a/-/a-1.0.0.tgz")));

        Assert.Empty(Evaluate(graph));
    }

    [Theory]
    [InlineData("https://artifacts.tollgate.invalid/npm/a/-/a-1.0.0.tgz", false)]
    [InlineData("https://ARTIFACTS.tollgate.invalid/npm/a/-/a-1.0.0.tgz", false)]
    [InlineData("https://artifacts.tollgate.invalid/npm-evil/a/-/a-1.0.0.tgz", true)]
    [InlineData("https://elsewhere.tollgate.invalid/a/-/a-1.0.0.tgz", true)]
    [InlineData(null, true)]
    public void UnapprovedRegistry_ComparesUrlPrefixes(string? resolved, bool reported)
    {
        // A null location means the default registry, which the approved list does not contain here.
        var graph = GraphOf(Package("a", "1.0.0", origin: Origin.Registry(resolved)));

        Assert.Equal(reported ? ["TG1007"] : [], Ids(Evaluate(graph, s_withRegistries)));
    }

    [Fact]
    public void UnapprovedRegistry_DefaultRegistryApproved_IsSilent()
    {
        var graph = GraphOf(Package("a", "1.0.0"));
        var context = s_withRegistries with { ApprovedRegistries = ["https://registry.tollgate.invalid"] };

        Assert.Empty(Evaluate(graph, context));
    }

    [Fact]
    public void UnapprovedRegistry_DefaultUnknown_IsSilent()
    {
        var graph = GraphOf(Package("a", "1.0.0"));
        var context = RiskContext.Empty with { ApprovedRegistries = [Approved] };

        Assert.Empty(Evaluate(graph, context));
    }

    [Fact]
    public void Unpinned_ManifestRange_ReportsTG1008WithTheRange()
    {
        var graph = GraphOf(Package("requests", ">=2.31", Ecosystem.PyPI, resolved: false, integrity: null, file: "requirements.txt"));

        var finding = Assert.Single(Evaluate(graph));

        Assert.Equal("TG1008", finding.Id);
        Assert.Contains(">=2.31", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void DependencyConfusion_PrivateNameFromDefaultRegistry_ReportsTG1009()
    {
        var graph = GraphOf(
            Package("@acme/tools", "99.0.0"),
            Package("@acme/ui", "1.0.0", origin: Origin.Registry("https://npm.acme.tollgate.invalid/@acme/ui/-/ui-1.0.0.tgz")),
            Package("@acme/local", "1.0.0", origin: new Origin(OriginKind.Workspace, "packages/local"), integrity: null),
            Package("public-pkg", "1.0.0"));
        var context = RiskContext.Empty with
        {
            IsPrivateName = c => c.Name.StartsWith("@acme/", StringComparison.Ordinal),
            DefaultRegistries = ImmutableDictionary<Ecosystem, string>.Empty.Add(Ecosystem.Npm, "https://registry.tollgate.invalid/"),
        };

        var finding = Assert.Single(Evaluate(graph, context));

        Assert.Equal("TG1009", finding.Id);
        Assert.Equal("@acme/tools", finding.Component.Name);
        Assert.Equal(Severity.High, finding.Severity);
    }

    [Fact]
    public void DependencyConfusion_PrivateNameResolvedUnderTheConfiguredDefaultRegistry_ReportsTG1009()
    {
        // What package-lock.json records for a dependency-confusion install: the public registry's tarball URL.
        var graph = GraphOf(
            Package("@acme/tools", "99.0.0", origin: Origin.Registry("https://registry.tollgate.invalid/@acme/tools/-/tools-99.0.0.tgz")),
            Package("@acme/ui", "1.0.0", origin: Origin.Registry("https://npm.acme.tollgate.invalid/@acme/ui/-/ui-1.0.0.tgz")));
        var context = RiskContext.Empty with
        {
            IsPrivateName = c => c.Name.StartsWith("@acme/", StringComparison.Ordinal),
            DefaultRegistries = ImmutableDictionary<Ecosystem, string>.Empty.Add(Ecosystem.Npm, "https://registry.tollgate.invalid/"),
        };

        var finding = Assert.Single(Evaluate(graph, context));

        Assert.Equal("@acme/tools", finding.Component.Name);
        Assert.Contains("(the default registry)", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void DependencyConfusion_DefaultRegistryUnknown_ReportsRecordedRegistryAndSaysHowToApproveIt()
    {
        var graph = GraphOf(Package("@acme/ui", "1.0.0", origin: Origin.Registry("https://npm.acme.tollgate.invalid/@acme/ui/-/ui-1.0.0.tgz")));
        var context = RiskContext.Empty with { IsPrivateName = c => c.Name.StartsWith("@acme/", StringComparison.Ordinal) };

        var finding = Assert.Single(Evaluate(graph, context));

        Assert.Equal("TG1009", finding.Id);
        Assert.Contains("registries.approved", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void DependencyConfusion_WithApprovedList_PrivateNamesMustComeFromIt()
    {
        var graph = GraphOf(
            Package("acme-core", "1.0.0", origin: Origin.Registry("https://artifacts.tollgate.invalid/npm/acme-core/-/acme-core-1.0.0.tgz")),
            Package("acme-cli", "1.0.0", origin: Origin.Registry("https://registry.tollgate.invalid/acme-cli/-/acme-cli-1.0.0.tgz")));
        var context = s_withRegistries with { IsPrivateName = c => c.Name.StartsWith("acme-", StringComparison.Ordinal) };

        var findings = Evaluate(graph, context);

        Assert.Equal(["TG1007", "TG1009"], Ids(findings));
        Assert.All(findings, f => Assert.Equal("acme-cli", f.Component.Name));
    }

    [Fact]
    public void Typosquat_RealHomoglyphNuGetNames_ReportTG1010High()
    {
        // The package names of two real malicious-package records: Cyrillic letters inside Latin names.
        var names = new[] { "MAL-2024-3991.json", "MAL-2024-4003.json" }
            .Select(file => TestData.Reference("osv", "malicious", file))
            .Select(path => JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("affected")[0].GetProperty("package").GetProperty("name").GetString()!)
            .ToList();
        var graph = GraphOf([.. names.Select(n => Package(n, "1.0.0", Ecosystem.NuGet, file: "packages.lock.json", direct: false))]);

        var findings = Evaluate(graph);

        Assert.Equal(["TG1010", "TG1010"], Ids(findings));
        Assert.All(findings, f =>
        {
            Assert.Equal(Severity.High, f.Severity);
            Assert.Contains("Latin with Cyrillic", f.Summary, StringComparison.Ordinal);
        });
        Assert.Contains(findings, f => f.Summary.EndsWith("it reads as 'Anotar.Serilog.Fody'", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Summary.EndsWith("it reads as '2CaptchaAPI'", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Evidence!.Contains("U+04BB Cyrillic", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(Ecosystem.Npm, "crossenv", "cross-env")]        // a missing separator
    [InlineData(Ecosystem.Npm, "loadsh", "lodash")]             // two letters swapped
    [InlineData(Ecosystem.Npm, "expresss", "express")]          // one letter too many
    [InlineData(Ecosystem.Npm, "debag", "debug")]               // five letters: the shortest compared
    [InlineData(Ecosystem.PyPI, "jeIlyfish", "jellyfish")]      // capital I for l: PyPI names compare in lower case
    [InlineData(Ecosystem.PyPI, "urlib3", "urllib3")]           // one letter missing
    [InlineData(Ecosystem.NuGet, "Newtonsoft.Jsom", "newtonsoft.json")]
    public void Typosquat_DirectDependencyOneEditFromPopular_ReportsTG1010(Ecosystem ecosystem, string name, string popular)
    {
        var graph = GraphOf(Package(name, "1.0.0", ecosystem));

        var finding = Assert.Single(Evaluate(graph));

        Assert.Equal("TG1010", finding.Id);
        Assert.Equal(Severity.Medium, finding.Severity);
        Assert.Contains($"'{popular}'", finding.Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("crossenv", false)]   // transitive: nobody typed the name
    [InlineData("lodash", true)]      // the real one
    [InlineData("mysql2", true)]      // both neighbours are listed
    [InlineData("reat", true)]        // too short to compare
    [InlineData("chalk-pipe", true)]  // further than one edit
    public void Typosquat_NotACandidate_IsSilent(string name, bool direct)
    {
        Assert.Empty(Evaluate(GraphOf(Package(name, "1.0.0", direct: direct))));
    }

    [Theory]
    [InlineData("lodash", "lodash", true)]
    [InlineData("lodash", "lodas", true)]
    [InlineData("lodash", "lodahs", true)]
    [InlineData("lodash", "lodashh", true)]
    [InlineData("lodash", "xlodash", true)]
    [InlineData("lodash", "lodash-es", false)]
    [InlineData("lodash", "ldoahs", false)]
    [InlineData("abc", "bca", false)]
    [InlineData("", "a", true)]
    public void EditDistance_AtMostOne_MatchesOptimalStringAlignment(string a, string b, bool expected)
    {
        Assert.Equal(expected, EditDistance.AtMostOne(a, b));
        Assert.Equal(expected, EditDistance.AtMostOne(b, a));
    }

    [Fact]
    public void Evaluate_WithDocumentationUri_LinksEachFindingToItsSection()
    {
        var graph = GraphOf(Package("esbuild", "0.24.0", installScript: true));
        var context = RiskContext.Empty with { RulesDocumentationUri = "https://docs.tollgate.invalid/rules" };

        var finding = Assert.Single(Evaluate(graph, context));

        Assert.Equal("https://docs.tollgate.invalid/rules#tg1001", finding.HelpUri);
        Assert.Null(Assert.Single(Evaluate(graph)).HelpUri);
    }
}
