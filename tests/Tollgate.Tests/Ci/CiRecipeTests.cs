using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NJsonSchema;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Tests.Ci;

/// <summary>
/// The CI recipes are checked against the published schemas (SchemaStore's GitHub action and workflow schemas,
/// Microsoft's Azure Pipelines schema; testdata/reference/README.md) and against the rules docs/ci.md promises.
/// </summary>
public sealed partial class CiRecipeTests
{
    private static string Root => TestData.RepositoryRoot;

    private static async Task<ICollection<NJsonSchema.Validation.ValidationError>> Validate(string yamlPath, string schemaFile)
    {
        var schema = await JsonSchema.FromJsonAsync(File.ReadAllText(TestData.Reference("schemas", schemaFile)));
        var json = YamlJson.Load(yamlPath)!.ToJsonString();
        return schema.Validate(json);
    }

    [Fact]
    public async Task ActionYml_IsValidAgainstTheGitHubActionSchema()
    {
        var errors = await Validate(Path.Combine(Root, "action.yml"), "github-action.json");

        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
    }

    [Fact]
    public async Task ActionYml_SchemaCheckIsReal_AnUnknownKeyIsRefused()
    {
        var copy = Path.Combine(Path.GetTempPath(), $"tollgate-action-{Guid.NewGuid():N}.yml");
        try
        {
            File.WriteAllText(copy, File.ReadAllText(Path.Combine(Root, "action.yml")).Replace("  using: composite", "  using: composite\n  shell: bash", StringComparison.Ordinal));
            Assert.NotEmpty(await Validate(copy, "github-action.json"));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public async Task OwnWorkflow_IsValidAgainstTheGitHubWorkflowSchema_AndUsesTheAction()
    {
        var path = Path.Combine(Root, ".github", "workflows", "tollgate.yml");

        var errors = await Validate(path, "github-workflow.json");

        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
        Assert.Contains("uses: ./", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AzureTemplate_IsValidAgainstTheAzurePipelinesSchema()
    {
        var errors = await Validate(Path.Combine(Root, "ci", "azure-pipelines", "tollgate.yml"), "azure-pipelines-service-schema.json");

        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
    }

    [Fact]
    public void AzureTemplate_PublishesSarifAsCodeAnalysisLogsAndTheSbomAsAPipelineArtifact()
    {
        var text = File.ReadAllText(Path.Combine(Root, "ci", "azure-pipelines", "tollgate.yml"));

        Assert.Matches(@"task: PublishBuildArtifacts@1[\s\S]*?ArtifactName: CodeAnalysisLogs", text);
        Assert.Matches(@"task: PublishPipelineArtifact@1[\s\S]*?artifact: \$\{\{ parameters\.sbomArtifact \}\}", text);
        Assert.Matches(@"task: Cache@2[\s\S]*?tollgateInstall\.day", text);
        // Both recipes run the same scripts: one implementation of install, scan, SBOM and gate.
        foreach (var script in new[] { "install.sh", "scan.sh", "sbom.sh", "gate.sh" })
        {
            Assert.Contains($"ci/scripts/{script}", text, StringComparison.Ordinal);
            Assert.Contains($"ci/scripts/{script}", File.ReadAllText(Path.Combine(Root, "action.yml")), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("action.yml")]
    [InlineData(".github/workflows/tollgate.yml")]
    public void Uses_EveryActionPinnedToAFullCommitShaWithItsVersion(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(Root, file)).Where(l => UsesLine().IsMatch(l)).ToList();

        Assert.NotEmpty(lines);
        Assert.All(lines.Where(l => !l.Contains("uses: ./", StringComparison.Ordinal)), l => Assert.Matches(PinnedUses(), l));
    }

    [Fact]
    public void Action_RunScriptsTakeInputsFromTheEnvironmentOnly()
    {
        // An input spliced into a script is a script-injection hole: inputs reach scripts through env only.
        var action = YamlJson.Mapping(Path.Combine(Root, "action.yml"));
        var steps = ((YamlSequenceNode)((YamlMappingNode)action["runs"])["steps"]).Children.Cast<YamlMappingNode>();

        Assert.All(steps.Where(s => s.Children.ContainsKey(new YamlScalarNode("run"))), s =>
            Assert.DoesNotContain("${{", ((YamlScalarNode)s["run"]).Value, StringComparison.Ordinal));
    }

    [Fact]
    public void PreCommitHook_SelectsLockfilesAndManifestsOnly()
    {
        var hooks = (YamlJson.Load(Path.Combine(Root, ".pre-commit-hooks.yaml")) as JsonArray)!;
        var hook = Assert.Single(hooks)!.AsObject();
        var files = new Regex(hook["files"]!.GetValue<string>());

        Assert.Equal("tollgate-scan", hook["id"]!.GetValue<string>());
        Assert.Equal("tollgate scan", hook["entry"]!.GetValue<string>());
        Assert.True(hook["pass_filenames"]!.GetValue<bool>());
        // pre-commit matches 'files' with Python's re.search against repository-relative paths.
        string[] lockfiles = ["examples/mcp-server-npm/package-lock.json", "package.json", "web/yarn.lock", "pnpm-lock.yaml", "requirements.txt",
            "svc/requirements-dev.txt", "poetry.lock", "uv.lock", "Pipfile.lock", "pyproject.toml", "src/Tollgate/packages.lock.json",
            "src/Tollgate.Cli/Tollgate.Cli.csproj", "Directory.Packages.props"];
        string[] others = ["README.md", "src/Tollgate/Scanner.cs", "docs/package-lock.json.md", "tollgate.yaml", "package.json5"];
        Assert.All(lockfiles, f => Assert.True(files.IsMatch(f), f));
        Assert.All(others, f => Assert.False(files.IsMatch(f), f));
    }

    [GeneratedRegex(@"^\s*(-\s+)?uses:\s")]
    private static partial Regex UsesLine();

    [GeneratedRegex(@"uses: [A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$")]
    private static partial Regex PinnedUses();
}
