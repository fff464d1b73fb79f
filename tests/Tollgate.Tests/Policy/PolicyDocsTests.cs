using Tollgate.Policy;

namespace Tollgate.Tests.Policy;

public sealed class PolicyDocsTests
{
    private static string Docs => File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "docs", "policy.md"));

    [Fact]
    public void PolicyDocs_EveryKey_HasARow()
    {
        var docs = Docs;

        Assert.All(PolicyYamlReader.RootKeys, key =>
            Assert.True(docs.Contains($"| `{key}", StringComparison.Ordinal), $"docs/policy.md has no table row for '{key}'"));
    }

    [Fact]
    public void PolicyDocs_ErrorExample_IsRealOutput()
    {
        var docs = Docs;
        var start = docs.IndexOf("```\ntollgate.yaml:1:1", StringComparison.Ordinal) + 4;
        var example = docs[start..docs.IndexOf("```", start, StringComparison.Ordinal)]
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var text = File.ReadAllText(TestData.Path("policy", "many-errors.yaml"));
        var actual = PolicyLoader.Parse(text, "tollgate.yaml").Diagnostics.Select(d => d.ToString()).ToList();

        Assert.NotEmpty(example);
        Assert.All(example, line => Assert.Contains(line, actual));
    }

    [Fact]
    public void PolicyDocs_CompleteExample_LoadsWithoutProblems()
    {
        var docs = Docs;
        var start = docs.IndexOf("```yaml\n", StringComparison.Ordinal) + 8;
        var yaml = docs[start..docs.IndexOf("```", start, StringComparison.Ordinal)];

        var result = PolicyLoader.Parse(yaml, "tollgate.yaml");

        Assert.Empty(result.Diagnostics);
        Assert.NotNull(result.Policy);
    }
}
