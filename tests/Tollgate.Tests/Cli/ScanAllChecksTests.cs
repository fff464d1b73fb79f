using System.Text.Json;
using Tollgate.Tests.Advisories;

namespace Tollgate.Tests.Cli;

/// <summary>
/// One <c>scan</c> runs every check whose inputs it finds: dependencies, MCP client configurations, deployment files,
/// package-manager client configuration and update-bot configuration, into one report, one verdict and one SARIF run.
/// </summary>
public sealed class ScanAllChecksTests : IDisposable
{
    private readonly TempFolder _temp = new();

    /// <summary>A repository with an input for every check: the npm example, a Claude Code .mcp.json, a Dockerfile, an .npmrc and a Renovate config.</summary>
    private string Repository()
    {
        var root = _temp.File("repo");
        Directory.CreateDirectory(root);
        foreach (var name in new[] { "package.json", "package-lock.json" })
        {
            File.Copy(Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm", name), Path.Combine(root, name));
        }
        File.Copy(TestData.Path("mcp", "claude-code", "project", ".mcp.json"), Path.Combine(root, ".mcp.json"));
        File.Copy(TestData.Path("deploy", "real", "fetch-dockerfile", "Dockerfile"), Path.Combine(root, "Dockerfile"));
        File.Copy(TestData.Path("update-bots", "renovate-docs-automerge", "renovate.json"), Path.Combine(root, "renovate.json"));
        // A publish token written out, as the npm docs warn against (TG5004); the value is fake.
        File.WriteAllText(Path.Combine(root, ".npmrc"), "ignore-scripts=true\n//npm.example.invalid/:_authToken=npm_FAKEfakeFAKEfake0123456789abcdefABCD\n");
        return root;
    }

    private static string Advisories => Path.Combine(TestData.RepositoryRoot, "examples", "advisories");

    private static List<string> Ids(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("id").GetString()!)];
    }

    [Fact]
    public void Scan_ByDefault_RunsEveryCheckIntoOneReport()
    {
        var repo = Repository();
        var run = CliRunner.Run("scan", repo, "--advisories", Advisories, "--format", "json");
        Assert.Equal(1, run.ExitCode);
        var ids = Ids(run.Stdout);
        Assert.Contains("GHSA-xvch-5gv4-984h", ids);                      // deps: minimist in the lockfile
        Assert.Contains(ids, id => id.StartsWith("TG2", StringComparison.Ordinal)); // mcp: the SSE server over http with a token
        Assert.Contains(ids, id => id.StartsWith("TG30", StringComparison.Ordinal)); // deploy: the Dockerfile
        Assert.Contains("TG5004", ids);                                     // clients: the token in .npmrc
        Assert.Contains(ids, id => id.StartsWith("TG41", StringComparison.Ordinal)); // updates: Renovate automerge
        Assert.DoesNotContain("npm_FAKEfakeFAKEfake0123456789abcdefABCD", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_Sarif_HasOneRunWithEveryRuleDescribedAsItself()
    {
        var repo = Repository();
        var run = CliRunner.Run("scan", repo, "--advisories", Advisories, "--format", "sarif");
        Assert.Equal(1, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Stdout);
        var runs = doc.RootElement.GetProperty("runs");
        Assert.Equal(1, runs.GetArrayLength());
        var rules = runs[0].GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray()
            .ToDictionary(r => r.GetProperty("id").GetString()!, r => r.GetProperty("name").GetString()!);
        Assert.Equal("PlaintextRegistryCredential", rules["TG5004"]);
        Assert.All(rules.Where(r => r.Key.StartsWith("TG", StringComparison.Ordinal)), r => Assert.NotEqual("VulnerableDependency", r.Value));
        var results = runs[0].GetProperty("results").EnumerateArray().ToList();
        var token = Assert.Single(results, r => r.GetProperty("ruleId").GetString() == "TG5004");
        var location = token.GetProperty("locations")[0].GetProperty("physicalLocation");
        Assert.EndsWith(".npmrc", location.GetProperty("artifactLocation").GetProperty("uri").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, location.GetProperty("region").GetProperty("startLine").GetInt32());
    }

    [Fact]
    public void Scan_ChecksSelectsWhichChecksRun()
    {
        var repo = Repository();
        var deps = Ids(CliRunner.Run("scan", repo, "--advisories", Advisories, "--format", "json", "--checks", "deps").Stdout);
        Assert.Contains("GHSA-xvch-5gv4-984h", deps);
        Assert.DoesNotContain(deps, id => id.StartsWith("TG2", StringComparison.Ordinal) || id.StartsWith("TG3", StringComparison.Ordinal)
            || id.StartsWith("TG5", StringComparison.Ordinal) || id.StartsWith("TG41", StringComparison.Ordinal));

        var mcpAndClients = CliRunner.Run("scan", repo, "--advisories", Advisories, "--format", "json", "--checks", "mcp,clients");
        Assert.Equal(1, mcpAndClients.ExitCode);
        var ids = Ids(mcpAndClients.Stdout);
        Assert.Contains("TG5004", ids);
        Assert.Contains(ids, id => id.StartsWith("TG2", StringComparison.Ordinal));
        Assert.DoesNotContain("GHSA-xvch-5gv4-984h", ids);
        Assert.DoesNotContain(ids, id => id.StartsWith("TG30", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_ChecksWhoseInputsAreAbsent_IsIncompleteNotAPass()
    {
        var folder = _temp.File("only-lockfile");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm", "package-lock.json"), Path.Combine(folder, "package-lock.json"));
        var run = CliRunner.Run("scan", folder, "--no-advisories", "--format", "json", "--checks", "mcp");
        Assert.Equal(2, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Stdout);
        Assert.Equal("incomplete", doc.RootElement.GetProperty("verdict").GetString());
        Assert.Contains(doc.RootElement.GetProperty("incomplete").EnumerateArray(), r => r.GetString()!.Contains("nothing was checked", StringComparison.Ordinal));

        var unknown = CliRunner.Run("scan", folder, "--checks", "deps,mpc");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown check 'mpc'", unknown.Stderr, StringComparison.Ordinal);
        Assert.Contains("deps, mcp, deploy, clients, updates", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_PolicySetsClientConfigurationRuleLevelsAndIgnoresThem()
    {
        var repo = Repository();
        // TG5004 (the token in .npmrc, fail by default) ignored; TG5001 (npm has no registry, warn by default) made fail.
        File.WriteAllText(Path.Combine(repo, "tollgate.yaml"), """
            rules:
              TG5001: fail
            ignore:
              - id: TG5004
                reason: "the token is a fake one for this test"
                expires: 2099-12-31
            """);

        var run = CliRunner.Run("scan", repo, "--no-advisories", "--checks", "clients", "--format", "json");

        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}; stderr: {run.Stderr}");
        using var doc = JsonDocument.Parse(run.Stdout);
        var findings = doc.RootElement.GetProperty("findings").EnumerateArray().ToList();
        var token = Assert.Single(findings, f => f.GetProperty("id").GetString() == "TG5004");
        Assert.Equal("policy", token.GetProperty("suppressed").GetProperty("source").GetString());
        var bypass = Assert.Single(findings, f => f.GetProperty("id").GetString() == "TG5001");
        Assert.Equal("fail", bypass.GetProperty("level").GetString());
    }

    public void Dispose() => _temp.Dispose();
}
