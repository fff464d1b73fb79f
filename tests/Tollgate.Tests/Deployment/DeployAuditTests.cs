using System.Text.Json;
using Tollgate.Deployment;
using Tollgate.Inputs;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Deployment;

public sealed class DeployAuditTests
{
    /// <summary>The Bicep CLI .ci/run downloads (TOLLGATE_TEST_BICEP, else its place under tests/tools/bicep).</summary>
    internal static string Bicep()
    {
        var path = Environment.GetEnvironmentVariable("TOLLGATE_TEST_BICEP") is { Length: > 0 } set ? set
            : Path.Combine(TestData.RepositoryRoot, "tests", "tools", "bicep", "packages", "azure.bicep.commandline.linux-x64", "0.49.2", "tools", "bicep");
        Assert.True(File.Exists(path), $"the Bicep CLI is missing at {path}: run 'dotnet restore tests/tools/bicep' (see .ci/run)");
        return path;
    }

    private static List<string> Findings(string folder, string? bicep = null) => FindingsOf([TestData.Path("deploy", folder)], bicep);

    /// <summary>The findings of an audit of <paramref name="paths"/> as "id file:line resource", sorted; the audit must have read every file.</summary>
    internal static List<string> FindingsOf(IEnumerable<string> paths, string? bicep = null)
    {
        var result = DeployAudit.Run(paths, new DeployAuditOptions { BicepPath = bicep }, new DiagnosticBag());
        Assert.Empty(result.Diagnostics.Where(d => d.Severity == Graph.DiagnosticSeverity.Error));
        Assert.Empty(result.Incomplete);
        Assert.All(result.Files, f => Assert.Null(f.Skipped));
        return [.. result.Findings.Select(f => $"{f.Id} {Path.GetFileName(f.Component.Locations[0].File)}:{f.Component.Locations[0].Line} {f.Component.Name}").Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void FeedOnAzureExample_PassesTollgatesOwnDeploymentChecks()
    {
        // examples/feed-azure/main.bicep, the deployment docs/feed.md describes: compiled by the real Bicep CLI.
        var result = DeployAudit.Run([Path.Combine(TestData.RepositoryRoot, "examples", "feed-azure")], new DeployAuditOptions { BicepPath = Bicep() }, new DiagnosticBag());

        Assert.Empty(result.Incomplete);
        Assert.Empty(result.Diagnostics.Where(d => d.Severity == Graph.DiagnosticSeverity.Error));
        Assert.Equal([("main.bicep", (string?)null)], result.Files.Select(f => (Path.GetFileName(f.Path), f.Skipped)));
        Assert.Empty(result.Findings);
    }

    [Fact]
    public void RealFetchDockerfile_FindingsReviewedByHand()
    {
        Assert.Equal(
        [
            "TG3040 Dockerfile:25 FROM python:3.12-slim-bookworm",
            "TG3050 Dockerfile:2 stage 'uv'",
            "TG3050 Dockerfile:25 FROM python:3.12-slim-bookworm",
            "TG3052 Dockerfile:36 FROM python:3.12-slim-bookworm ENTRYPOINT",
        ], Findings("real/fetch-dockerfile"));
    }

    [Fact]
    public void RealServersWorkflow_FindingsReviewedByHand()
    {
        Assert.Equal(
        [
            "TG3051 typescript.yml:100 jobs.publish.steps[0]",
            "TG3051 typescript.yml:101 jobs.publish.steps[1]",
            "TG3051 typescript.yml:18 jobs.detect-packages.steps[0]",
            "TG3051 typescript.yml:34 jobs.test.steps[0]",
            "TG3051 typescript.yml:36 jobs.test.steps[1]",
            "TG3051 typescript.yml:69 jobs.build.steps[0]",
            "TG3051 typescript.yml:71 jobs.build.steps[1]",
            "TG3061 typescript.yml:109 jobs.publish.steps[2]",
            "TG3061 typescript.yml:43 jobs.test.steps[2]",
            "TG3061 typescript.yml:78 jobs.build.steps[2]",
            "TG3070 typescript.yml:1 workflow",
        ], Findings("real/servers-workflow"));
    }

    [Fact]
    public void HardenedVariants_GiveNoFinding()
    {
        Assert.Empty(Findings("hardened", Bicep()));
        Assert.Empty(Findings("bicep/hardened", Bicep()));
    }

    [Fact]
    public void Bicep_CompiledByTheRealCli_FindingsAtBicepLines()
    {
        Assert.Equal(
        [
            "TG3001 main.bicep:20 Microsoft.App/containerApps 'mcp'",
            "TG3002 main.bicep:12 Microsoft.Storage/storageAccounts '[format('mcpstate{0}', uniqueString(resourceGroup().id))]'",
            "TG3002 main.bicep:20 Microsoft.App/containerApps 'mcp'",
            "TG3010 main.bicep:20 Microsoft.App/containerApps 'mcp'",
            "TG3011 main.bicep:3 parameter 'githubToken'",
            "TG3020 main.bicep:46 Microsoft.Authorization/roleAssignments '[guid(resourceGroup().id, parameters('principalId'), 'contributor')]'",
            "TG3030 main.bicep:6 Microsoft.App/managedEnvironments 'mcp-env'",
            "TG3033 main.bicep:12 Microsoft.Storage/storageAccounts '[format('mcpstate{0}', uniqueString(resourceGroup().id))]'",
            "TG3050 main.bicep:20 Microsoft.App/containerApps 'mcp'",
        ], Findings("bicep/risky", Bicep()));
    }

    [Fact]
    public void Command_Json_HasTheDocumentedShapeAndMasksSecrets()
    {
        var run = CliRunner.Run("deploy", "audit", TestData.Path("deploy", "bicep", "risky"), "--bicep", Bicep(), "--format", "json");
        Assert.Equal(1, run.ExitCode);
        Assert.DoesNotContain("sk-proj-FAKEfakeFAKEfake0123456789abcdef", run.Stdout + run.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(run.Stdout);
        var finding = json.RootElement.GetProperty("findings")[0];
        Assert.Equal(["ruleId", "category", "severity", "level", "file", "line", "resource", "message", "fix"], finding.EnumerateObject().Select(p => p.Name));
        Assert.Equal("fail", finding.GetProperty("level").GetString());
        var file = json.RootElement.GetProperty("files")[0];
        Assert.Equal("bicep", file.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, file.GetProperty("skipped").ValueKind);
        Assert.Equal("fail", json.RootElement.GetProperty("summary").GetProperty("verdict").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("summary").GetProperty("byCategory").GetProperty("secret").GetInt32());
    }

    [Fact]
    public void Command_WithoutBicepCli_NamesSkippedFilesAndIsNotAPass()
    {
        var run = CliRunner.Run("deploy", "audit", TestData.Path("deploy", "bicep", "hardened"), "--bicep", Path.Combine(Path.GetTempPath(), "no-such-bicep"), "--format", "json");
        Assert.Equal(2, run.ExitCode);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal("incomplete", json.RootElement.GetProperty("summary").GetProperty("verdict").GetString());
        Assert.Contains("no-such-bicep", json.RootElement.GetProperty("files")[0].GetProperty("skipped").GetString(), StringComparison.Ordinal);
        Assert.Contains("main.bicep", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Command_BicepNamingAFolder_SaysItIsAFolderAndIsNotAPass()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-bicep-folder-").FullName;

        var run = CliRunner.Run("deploy", "audit", TestData.Path("deploy", "bicep", "hardened"), "--bicep", folder, "--format", "json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"--bicep {folder} is a folder; name the bicep program itself", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", run.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal("incomplete", json.RootElement.GetProperty("summary").GetProperty("verdict").GetString());
    }

    [Fact]
    public void Command_MalformedInputs_ErrorsWithFileAndLine_OthersStillChecked()
    {
        var run = CliRunner.Run("deploy", "audit", TestData.Path("deploy", "malformed"), TestData.Path("deploy", "real", "fetch-dockerfile"), "--bicep", Bicep(), "--format", "json");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("broken.bicep:4:12: error TG0010: Bicep does not compile: BCP009", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("cyclic.json:16:22: error TG0006: cyclic dependsOn", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("broken.yml:8:9: error TG0003: invalid YAML", run.Stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(run.Stdout);
        // The Dockerfile beside the broken files is still checked.
        Assert.Contains(json.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("ruleId").GetString() == "TG3052");
        Assert.Equal(3, json.RootElement.GetProperty("files").EnumerateArray().Count(f => f.GetProperty("skipped").ValueKind == JsonValueKind.String));
    }

    [Fact]
    public void Command_IgnoreEntry_SuppressesUntilItExpires()
    {
        using var temp = new Advisories.TempFolder();
        var policy = temp.File("tollgate.yaml");
        File.WriteAllText(policy, """
            ignore:
              - id: TG3051
                reason: "actions are pinned by the organisation's allow-list"
                expires: 2999-12-31
            rules:
              TG3070: off
            """);
        var run = CliRunner.Run("deploy", "audit", TestData.Path("deploy", "real", "servers-workflow"), "--policy", policy, "--format", "json");
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Stdout);
        var findings = json.RootElement.GetProperty("findings").EnumerateArray().ToList();
        Assert.All(findings.Where(f => f.GetProperty("ruleId").GetString() == "TG3051"), f => Assert.Equal("ignored", f.GetProperty("level").GetString()));
        Assert.DoesNotContain(findings, f => f.GetProperty("ruleId").GetString() == "TG3070");
    }

    [Fact]
    public void Command_Sarif_CarriesCategoryTagsAndLocations()
    {
        var run = CliRunner.Run("deploy", "audit", TestData.Path("deploy", "real", "fetch-dockerfile"), "--format", "sarif");
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Stdout);
        var runs = json.RootElement.GetProperty("runs")[0];
        var rules = runs.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray().ToList();
        Assert.Contains(rules, r => r.GetProperty("id").GetString() == "TG3052"
            && r.GetProperty("properties").GetProperty("tags").EnumerateArray().Any(t => t.GetString() == "pinning"));
        Assert.All(runs.GetProperty("results").EnumerateArray(), r =>
            Assert.True(r.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("region").GetProperty("startLine").GetInt32() >= 1));
    }

    [Fact]
    public void Scan_RunsDeploymentChecksByDefault_AndChecksChoosesThem()
    {
        var folder = TestData.Path("deploy", "real", "fetch-dockerfile");
        var both = CliRunner.Run("scan", folder, "--no-advisories", "--format", "json");
        Assert.Equal(0, both.ExitCode);
        using (var json = JsonDocument.Parse(both.Stdout))
        {
            Assert.Contains(json.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("id").GetString() == "TG3052");
        }
        // Without the deployment check the folder holds nothing to scan: incomplete, never a pass.
        var depsOnly = CliRunner.Run("scan", folder, "--no-advisories", "--checks", "deps");
        Assert.Equal(2, depsOnly.ExitCode);
        var unknown = CliRunner.Run("scan", folder, "--checks", "deps,dockerfiles");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown check 'dockerfiles'", unknown.Stderr, StringComparison.Ordinal);
    }
}
