using System.Diagnostics;
using System.Text.Json.Nodes;
using Tollgate.Tests.Cli;
using Tollgate.Updates;

namespace Tollgate.Tests.Updates;

/// <summary><c>tollgate update lint</c> on real Dependabot and Renovate configurations (testdata/update-bots, see its README).</summary>
public sealed class UpdateLintTests
{
    private static string Case(string name) => TestData.Path("update-bots", name);

    private static string[] Found(string name) =>
        [.. UpdateBotLint.Run(Case(name)).Findings.Select(f => $"{f.Id}:{f.Component.Locations[0].Line}").Order(StringComparer.Ordinal)];

    [Theory]
    [InlineData("mcp-typescript-sdk", new[] { "TG4101:22", "TG4101:3" })]
    [InlineData("mcp-python-sdk", new string[0])]
    [InlineData("tauri", new[] { "TG4106:19" })]
    [InlineData("starship", new string[0])]
    [InlineData("github-docs-ignore", new[] { "TG4101:15", "TG4101:7", "TG4105:12", "TG4106:22" })]
    [InlineData("renovate-docs-automerge", new[] { "TG4101:1", "TG4103:6" })]
    [InlineData("package-json-key", new[] { "TG4101:1", "TG4102:1", "TG4103:1", "TG4106:1" })]
    public void Lint_RealConfigurations_FindsWhatTheyLack(string folder, string[] expected)
    {
        Assert.Equal(expected, Found(folder));
        Assert.Empty(UpdateBotLint.Run(Case(folder)).Diagnostics);
    }

    [Fact]
    public void Lint_RepositoryWithoutAnyBot_ReportsEveryEcosystemUncovered()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-lint-").FullName;
        File.WriteAllText(Path.Combine(folder, "package.json"), "{}");
        Directory.CreateDirectory(Path.Combine(folder, "server"));
        File.WriteAllText(Path.Combine(folder, "server", "Server.csproj"), "<Project />");

        var findings = UpdateBotLint.Run(folder).Findings;

        Assert.Equal(["npm", "NuGet"], findings.Where(f => f.Id == "TG4104").Select(f => f.Summary.Split(' ')[3]).Order(StringComparer.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("table")]
    [InlineData("json")]
    [InlineData("markdown")]
    public void Lint_Cli_FolderWithNothingToCheck_IsIncompleteNotAPass(string format)
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-lint-empty-").FullName;
        File.WriteAllText(Path.Combine(folder, "README.md"), "# no bot configuration and no dependencies here\n");

        var result = CliRunner.Run("update", "lint", folder, "--format", format);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Contains("error TG0012: no Dependabot or Renovate configuration, and no dependencies for one to cover, in this folder", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("PASS", result.Stdout, StringComparison.Ordinal);
        switch (format)
        {
            case "json":
                Assert.Equal("incomplete", JsonNode.Parse(result.Stdout)!["verdict"]!.GetValue<string>());
                break;
            case "markdown":
                Assert.Contains("**Result: INCOMPLETE.**", result.Stdout, StringComparison.Ordinal);
                break;
            default:
                Assert.Contains("INCOMPLETE", result.Stdout, StringComparison.Ordinal);
                break;
        }
    }

    [Fact]
    public void Lint_Cli_JsonHasFileAndLineAndWarnsWithExitZero()
    {
        var result = CliRunner.Run("update", "lint", Case("github-docs-ignore"), "--format", "json");

        Assert.Equal(0, result.ExitCode);
        var findings = JsonNode.Parse(result.Stdout)!["findings"]!.AsArray();
        Assert.Contains(findings, f => f!["id"]!.GetValue<string>() == "TG4105" && f.ToJsonString().Contains("dependabot.yml", StringComparison.Ordinal));
    }

    [Fact]
    public void Scan_FolderWithADependabotFile_ReportsTheLintFindingsToo()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-lint-scan-").FullName;
        Directory.CreateDirectory(Path.Combine(folder, ".github"));
        File.Copy(Path.Combine(Case("github-docs-ignore"), ".github", "dependabot.yml"), Path.Combine(folder, ".github", "dependabot.yml"));
        File.Copy(TestData.Path("npm", "large", "package.json"), Path.Combine(folder, "package.json"));
        File.Copy(TestData.Path("npm", "large", "package-lock.json"), Path.Combine(folder, "package-lock.json"));

        var result = CliRunner.Run("scan", folder, "--no-advisories", "--format", "json");

        var ids = JsonNode.Parse(result.Stdout)!["findings"]!.AsArray().Select(f => f!["id"]!.GetValue<string>()).ToHashSet();
        Assert.Superset(new HashSet<string> { "TG4101", "TG4105", "TG4106" }, ids);
    }

    [Fact]
    public void Lint_PolicyMakesARuleFail_ExitsOne()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-lint-").FullName;
        foreach (var file in Directory.GetFiles(Case("renovate-docs-automerge")))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        File.WriteAllText(Path.Combine(folder, "tollgate.yaml"), "rules:\n  TG4103: fail\n");

        var result = CliRunner.Run("update", "lint", folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("TG4103", result.Stdout, StringComparison.Ordinal);
    }

    /// <summary>Every Renovate configuration Tollgate reads without a diagnostic is one Renovate's own validator accepts.</summary>
    [Theory]
    [InlineData("tauri")]
    [InlineData("starship")]
    [InlineData("renovate-docs-automerge")]
    [InlineData("package-json-key")]
    public async Task Lint_RenovateConfigurationsReadAsValid_PassRenovateConfigValidator(string folder)
    {
        Assert.Empty(UpdateBotLint.Run(Case(folder)).Diagnostics);
        var validator = Path.Combine(TestData.RepositoryRoot, "tests", "tools", "renovate", "node_modules", "renovate", "dist", "config-validator.js");
        Assert.True(File.Exists(validator), "renovate is not installed: run `npm ci --ignore-scripts` in tests/tools/renovate (.ci/run does).");
        var start = new ProcessStartInfo("node", [validator])
        {
            WorkingDirectory = Case(folder),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["RENOVATE_CONFIG_FILE"] = null;
        start.Environment["LOG_FORMAT"] = null;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        var text = await output + "\n" + await error;
        Assert.True(process.ExitCode == 0, $"renovate-config-validator rejected {folder}:\n{text}");
        Assert.Contains("Config validated successfully", text, StringComparison.Ordinal);
    }
}
