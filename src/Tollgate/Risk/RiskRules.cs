using System.Collections.Frozen;
using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Risk;

/// <summary>Every risk rule, by id, and their evaluation over a graph. docs/rules.md documents each.</summary>
public static class RiskRules
{
    /// <summary>The rules in id order.</summary>
    public static ImmutableArray<RiskRule> All { get; } =
    [
        new InstallScriptRule(),
        new GitSourceRule(),
        new UrlSourceRule(),
        new FileSourceRule(),
        new MissingIntegrityRule(),
        new WeakIntegrityRule(),
        new UnapprovedRegistryRule(),
        new UnpinnedRule(),
        new DependencyConfusionRule(),
        new TyposquatRule(),
        new NuGetBuildCodeRule(),
    ];

    private static readonly FrozenDictionary<string, RiskRule> s_byId = All.ToFrozenDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);

    /// <summary>The rule with this id (any case), or null. MCP configuration rules (TG2xxx) are found here too, so every report writer describes them.</summary>
    public static RiskRule? Find(string id) => s_byId.GetValueOrDefault(id) ?? (RiskRule?)Mcp.McpRules.Find(id) ?? RegistryRules.Find(id) ?? (RiskRule?)Deployment.DeployRules.Find(id) ?? ClientConfig.ClientConfigRules.Find(id);

    /// <summary>True when <paramref name="id"/> is a risk rule id.</summary>
    public static bool IsRuleId(string id) => s_byId.ContainsKey(id);

    /// <summary>The findings of every rule, ordered by rule id, then by component key.</summary>
    public static ImmutableArray<Finding> Evaluate(DependencyGraph graph, RiskContext context) =>
        [.. All.SelectMany(rule => rule.Evaluate(graph, context))
            .OrderBy(f => f.Id, StringComparer.Ordinal)
            .ThenBy(f => f.Component.Key, StringComparer.Ordinal)];
}
