using System.Text.Json;
using Tollgate.Advisories;
using Tollgate.Inputs;
using Tollgate.Mcp;
using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Mcp;

public sealed class McpAuditCommandTests : IDisposable
{
    /// <summary>Every secret written in the samples, in full: none may appear in any output.</summary>
    private static readonly string[] s_secrets =
    [
        "ghp_FAKEfake0000000000000000000000000000",
        "sntrys_FAKEfakeFAKEfake1234567890abcdef",
        "github_pat_FAKE0000000000000000000000fake",
        "sk_test_51Hq2Xp0aZ9kLmN3bV7cR4tY8",
        "BSAf4k3V4lu3N0tR3al9x7Qz2Lm8Wp",
        "xoxb-FAKE-0000000000-fakefakefake",
        "sk-ant-api03-FAKEfakeFAKEfake0000000000",
        "AKIAFAKEFAKEFAKE0000",
    ];

    private static readonly string[] s_masked = ["ghp_****", "sntr****", "gith****", "sk_t****", "BSAf****", "xoxb****", "sk-a****", "AKIA****"];

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string[] Samples() =>
    [
        TestData.Path("mcp", "claude-desktop", "claude_desktop_config.json"),
        TestData.Path("mcp", "claude-code", "project", ".mcp.json"),
        TestData.Path("mcp", "vscode", "project", ".vscode", "mcp.json"),
        TestData.Path("mcp", "cursor", "project", ".cursor", "mcp.json"),
        TestData.Path("mcp", "windsurf", "mcp_config.json"),
        TestData.Path("mcp", "gemini", "project", ".gemini", "settings.json"),
        TestData.Path("mcp", "codex", "config.toml"),
    ];

    /// <summary>An advisory database holding one record about a package no sample runs.</summary>
    private string EmptyDatabase()
    {
        var db = _temp.File("unrelated.db");
        if (File.Exists(db))
        {
            return db;
        }
        var records = _temp.File("unrelated");
        Directory.CreateDirectory(records);
        File.WriteAllText(Path.Combine(records, "MAL-2099-0002.json"), """
            {
              "modified": "2099-01-02T00:00:00Z",
              "id": "MAL-2099-0002",
              "summary": "Malicious code in tollgate-unrelated-fake (npm)",
              "affected": [ { "package": { "ecosystem": "npm", "name": "tollgate-unrelated-fake" }, "versions": [ "1.0.0" ] } ]
            }
            """);
        var diagnostics = new DiagnosticBag();
        Assert.True(AdvisoryImporter.Import([records], new AdvisoryImportOptions { DatabasePath = db }, diagnostics).Succeeded,
            string.Join("; ", diagnostics.Items));
        return db;
    }

    [Theory]
    [InlineData("table")]
    [InlineData("json")]
    [InlineData("sarif")]
    [InlineData("markdown")]
    public void Audit_EveryFormat_NeverPrintsASecretInFull(string format)
    {
        var result = CliRunner.Run(["mcp", "audit", .. Samples(), "--format", format, "--no-advisories"]);

        Assert.Equal(1, result.ExitCode);
        Assert.All(s_secrets, secret =>
        {
            Assert.DoesNotContain(secret, result.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, result.Stderr, StringComparison.Ordinal);
        });
        if (format is "json" or "sarif")
        {
            Assert.All(s_masked, masked => Assert.Contains(masked, result.Stdout, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Audit_OutputFile_WritesTheReportAndMasksSecrets()
    {
        var output = _temp.File("report.sarif");

        var result = CliRunner.Run(["mcp", "audit", .. Samples(), "--format", "sarif", "-o", output, "--no-advisories"]);

        Assert.Equal(1, result.ExitCode);
        var sarif = File.ReadAllText(output);
        Assert.All(s_secrets, secret => Assert.DoesNotContain(secret, sarif, StringComparison.Ordinal));
        var run = JsonDocument.Parse(sarif).RootElement.GetProperty("runs")[0];
        var rules = run.GetProperty("tool").GetProperty("driver").GetProperty("rules").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Equal(["TG2001", "TG2002", "TG2003", "TG2004", "TG2005", "TG2006"], rules);
        var secretRule = run.GetProperty("tool").GetProperty("driver").GetProperty("rules")[2];
        Assert.Contains("${env:NAME}", secretRule.GetProperty("help").GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Audit_InvalidJsonAmongOthers_ExitsTwoAndStillReportsTheOthers()
    {
        var result = CliRunner.Run("mcp", "audit", TestData.Path("mcp", "broken", "claude_desktop_config.json"),
            TestData.Path("mcp", "cursor", "project", ".cursor", "mcp.json"), "--format", "json", "--db", EmptyDatabase());

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("claude_desktop_config.json:5:7: error TG0002", result.Stderr, StringComparison.Ordinal);
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal(4, json.GetProperty("findings").GetArrayLength());
        Assert.Equal("TG0002", json.GetProperty("diagnostics")[0].GetProperty("id").GetString());
    }

    [Fact]
    public void Audit_PolicyTurnsRulesOff_Passes()
    {
        var policy = _temp.File("tollgate.yaml");
        File.WriteAllText(policy, "rules:\n  TG2001: off\n  TG2002: info\n");

        var result = CliRunner.Run("mcp", "audit", TestData.Path("mcp", "vscode", "user", "settings.json"),
            TestData.Path("mcp", "codex", "config.toml"), "--policy", policy, "--format", "json", "--no-advisories");

        // Codex's sample still has an AWS key (TG2003, fail); the rest is off or info.
        Assert.Equal(1, result.ExitCode);
        var levels = JsonDocument.Parse(result.Stdout).RootElement.GetProperty("findings").EnumerateArray()
            .Select(f => $"{f.GetProperty("id").GetString()} {f.GetProperty("level").GetString()}").ToList();
        Assert.Equal(["TG2003 fail", "TG2002 info"], levels);
        Assert.DoesNotContain("not known", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Audit_NoArguments_AsksForFilesOrDiscover()
    {
        var result = CliRunner.Run("mcp", "audit");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--discover", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Audit_MaliciousPinnedServerVersion_IsReportedFromTheAdvisoryDatabase()
    {
        // An OSV malicious-package record for a made-up npm MCP server, in the shape of the OSV malicious-packages feed.
        var records = _temp.File("osv");
        Directory.CreateDirectory(records);
        File.WriteAllText(Path.Combine(records, "MAL-2099-0001.json"), """
            {
              "modified": "2099-01-02T00:00:00Z",
              "published": "2099-01-01T00:00:00Z",
              "schema_version": "1.7.4",
              "id": "MAL-2099-0001",
              "summary": "Malicious code in mcp-server-tollgate-fake (npm)",
              "details": "The package exfiltrates environment variables on start.",
              "affected": [
                { "package": { "ecosystem": "npm", "name": "mcp-server-tollgate-fake" }, "versions": [ "1.0.3" ] }
              ]
            }
            """);
        var db = _temp.File("advisories.db");
        Assert.True(AdvisoryImporter.Import([records], new AdvisoryImportOptions { DatabasePath = db }, new DiagnosticBag()).Succeeded);
        var config = _temp.File("claude_desktop_config.json");
        File.WriteAllText(config, """
            {
              "mcpServers": {
                "evil": { "command": "npx", "args": ["mcp-server-tollgate-fake@1.0.3"] },
                "fine": { "command": "npx", "args": ["mcp-server-tollgate-fake@1.0.4"] }
              }
            }
            """);

        var result = CliRunner.Run("mcp", "audit", config, "--db", db, "--format", "json");

        Assert.Equal(1, result.ExitCode);
        var finding = Assert.Single(JsonDocument.Parse(result.Stdout).RootElement.GetProperty("findings").EnumerateArray());
        Assert.Equal("MAL-2099-0001", finding.GetProperty("id").GetString());
        Assert.Equal("malicious", finding.GetProperty("kind").GetString());
        Assert.Equal("pkg:npm/mcp-server-tollgate-fake@1.0.3", finding.GetProperty("package").GetProperty("purl").GetString());
        Assert.Equal(3, finding.GetProperty("locations")[0].GetProperty("line").GetInt32());
    }

    [Fact]
    public void SecretDetector_ReferencesAndPlaceholders_AreNotSecrets()
    {
        Assert.Null(SecretDetector.Find("GITHUB_TOKEN", "${env:GITHUB_TOKEN}"));
        Assert.Null(SecretDetector.Find("API_KEY", "${input:api-key}"));
        Assert.Null(SecretDetector.Find("API_KEY", "$API_KEY"));
        Assert.Null(SecretDetector.Find("API_KEY", "<your-api-key>"));
        Assert.Null(SecretDetector.Find("Authorization", "Bearer ${API_TOKEN}"));
        Assert.Null(SecretDetector.Find("LOG_LEVEL", "debug"));
        Assert.Null(SecretDetector.Find("ALLOWED_DIR", "/home/me/projects/mcp-servers-2024"));
        Assert.Equal(new SecretMatch("Azure storage account key", "Zm9v****"),
            SecretDetector.Find("STORAGE", "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4;EndpointSuffix=core"));
        Assert.Equal(new SecretMatch("OpenAI API key", "sk-p****"), SecretDetector.Find(null, "sk-proj-FAKEfake0000000000000000"));
        Assert.Equal(new SecretMatch("npm token", "npm_****"), SecretDetector.Find("NPM", "npm_FAKEfake0000000000000000000000000000"));
    }
}
