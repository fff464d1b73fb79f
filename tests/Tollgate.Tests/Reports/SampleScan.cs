using System.Collections.Immutable;
using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Reports;
using Tollgate.Risk;

namespace Tollgate.Tests.Reports;

/// <summary>
/// One scan with every kind of finding, built by hand: an npm project with a vulnerable transitive package (a real
/// advisory), a suppressed vulnerability, install-script and typosquat signals, a package without location, and a
/// NuGet project with a real malicious package. Advisory texts are read from the real OSV records in testdata/reference.
/// </summary>
internal static class SampleScan
{
    public const string NpmLock = "package-lock.json";
    public const string NuGetLock = "service/packages.lock.json";

    public static ScanReport Build(string? sourceRoot = null, Func<string, string>? file = null)
    {
        file ??= f => f;
        var npmRoot = new ProjectRoot(ProjectRoot.KeyFor(file(NpmLock)), Ecosystem.Npm, "mcp-weather", "1.0.0", file(NpmLock), [file("package.json"), file(NpmLock)]);
        var nugetRoot = new ProjectRoot(ProjectRoot.KeyFor(file(NuGetLock)), Ecosystem.NuGet, "Weather.Service", null, file(NuGetLock), [file(NuGetLock)]);

        var express = Npm("express", "4.19.2", file(NpmLock), 12, direct: true);
        var bodyParser = Npm("body-parser", "1.20.2", file(NpmLock), 40);
        var ms = Npm("ms", "2.0.0", null, 0) with { Integrity = IntegrityHash.ParseSri("sha1-VgiurfwAvmwpAd9fmGF4jeDVl8g=") };
        var lodash = Npm("lodash", "4.17.20", file(NpmLock), 61, direct: true);
        var esbuild = Npm("esbuild", "0.24.0", file(NpmLock), 30, direct: true) with { HasInstallScript = true };
        var crossenv = Npm("crossenv", "7.0.3", file(NpmLock), 20, direct: true);
        var anotar = new Component
        {
            Ecosystem = Ecosystem.NuGet,
            Name = MaliciousName(),
            Version = "6.0.0",
            Purl = PackageUrl.For(Ecosystem.NuGet, MaliciousName(), "6.0.0"),
            Direct = true,
            Integrity = IntegrityHash.ParseSri("sha512-AAAA"),
            Locations = [new SourceLocation(file(NuGetLock), 7, 7)],
        };
        var components = new[] { express, bodyParser, ms, lodash, esbuild, crossenv, anotar };
        var edges = new[]
        {
            new DependencyEdge(npmRoot.Key, express.Key),
            new DependencyEdge(npmRoot.Key, lodash.Key),
            new DependencyEdge(npmRoot.Key, esbuild.Key),
            new DependencyEdge(npmRoot.Key, crossenv.Key),
            new DependencyEdge(express.Key, bodyParser.Key),
            new DependencyEdge(express.Key, ms.Key),
            new DependencyEdge(bodyParser.Key, ms.Key),
            new DependencyEdge(nugetRoot.Key, anotar.Key),
        };
        var diagnostics = new[]
        {
            new Diagnostic(DiagnosticIds.DanglingReference, DiagnosticSeverity.Warning, "'node_modules/debug' names a package the lockfile does not contain",
                new SourceLocation(file(NpmLock), 88, 9), "regenerate the lockfile with npm install"),
        };
        var graph = new DependencyGraph(components, edges, [npmRoot, nugetRoot], diagnostics);

        var findings = new List<ReportedFinding>
        {
            ReportedFinding.Create(Advisory("GHSA-qwcr-r2fm-qrc7.json", bodyParser, 7.5), FindingLevel.Fail, null, graph),
            ReportedFinding.Create(Advisory("GHSA-35jh-r3h4-6jhm.json", lodash, 7.2), FindingLevel.Fail,
                new Suppression("GHSA-35jh-r3h4-6jhm", "not reachable: template() is never called", "team-mcp", new DateOnly(2026, 12, 31)), graph),
            ReportedFinding.Create(new Finding
            {
                Kind = FindingKind.Malicious,
                Id = "MAL-2024-4003",
                Severity = Severity.Critical,
                Summary = $"Malicious code in {anotar.Name} (NuGet)",
                Component = anotar,
            }, FindingLevel.Fail, null, graph),
        };
        var levels = new Dictionary<string, FindingLevel>(StringComparer.Ordinal) { ["TG1006"] = FindingLevel.Info };
        findings.AddRange(RiskRules.Evaluate(graph, RiskContext.Empty)
            .Select(f => ReportedFinding.Create(f, levels.GetValueOrDefault(f.Id, FindingLevel.Warn), null, graph)));

        return new ScanReport
        {
            Outcome = ScanOutcome.Fail,
            FailOn = Severity.High,
            Findings = [.. findings],
            Diagnostics = [.. diagnostics],
            ToolVersion = "0.1.0",
            ToolInformationUri = "https://tollgate.invalid/",
            ScannedFiles = [.. graph.Files],
            SourceRoot = sourceRoot,
            Graph = graph,
            // The reference records: 7 npm advisories, 2 NuGet advisories and 2 NuGet malicious-package records.
            Advisories = new AdvisoryCoverage("advisories.db", [.. graph.Components.GroupBy(c => c.Ecosystem).OrderBy(g => g.Key)
                .Select(g => new EcosystemCoverage(g.Key, g.Count(), g.Key == Ecosystem.Npm ? 7 : 4))]),
        };
    }

    private static Component Npm(string name, string version, string? file, int line, bool direct = false) => new()
    {
        Ecosystem = Ecosystem.Npm,
        Name = name,
        Version = version,
        Purl = PackageUrl.For(Ecosystem.Npm, name, version),
        Direct = direct,
        Integrity = IntegrityHash.ParseSri("sha512-AAAA"),
        Locations = file is null ? [] : [new SourceLocation(file, line, 5)],
    };

    /// <summary>The name of the real MAL-2024-4003 record: Latin with Cyrillic letters.</summary>
    private static string MaliciousName() =>
        Json("osv", "malicious", "MAL-2024-4003.json").GetProperty("affected")[0].GetProperty("package").GetProperty("name").GetString()!;

    /// <summary>A vulnerability finding from a real GitHub advisory: its summary, aliases, severity and fixed version.</summary>
    private static Finding Advisory(string file, Component component, double score)
    {
        var record = Json("osv", "github", file);
        var affected = record.GetProperty("affected").EnumerateArray()
            .First(a => a.GetProperty("package").GetProperty("name").GetString() == component.Name);
        SeverityNames.TryParse(record.GetProperty("database_specific").GetProperty("severity").GetString(), out var severity);
        return new Finding
        {
            Kind = FindingKind.Vulnerability,
            Id = record.GetProperty("id").GetString()!,
            Aliases = [.. record.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()!)],
            Severity = severity,
            Score = score,
            Summary = record.GetProperty("summary").GetString()!,
            Component = component,
            FixedIn = [.. affected.GetProperty("ranges").EnumerateArray()
                .SelectMany(r => r.GetProperty("events").EnumerateArray())
                .Where(e => e.TryGetProperty("fixed", out _))
                .Select(e => e.GetProperty("fixed").GetString()!)],
            HelpUri = "https://advisories.tollgate.invalid/" + record.GetProperty("id").GetString(),
        };
    }

    private static JsonElement Json(params string[] parts)
    {
        var path = TestData.Reference(parts);
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();
    }
}
