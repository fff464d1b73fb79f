using Tollgate.Graph;

namespace Tollgate.Policy;

/// <summary>Findings the policy itself produces from a graph: packages on the deny list (rule TG1100).</summary>
public static class PolicyFindings
{
    /// <summary>The rule id of "denied by policy" findings.</summary>
    public const string DeniedRuleId = "TG1100";

    /// <summary>
    /// A TG1100 finding for every component that matches a <c>deny</c> pattern and no <c>allow</c> pattern.
    /// Components whose version cannot be checked against a pattern's range (unresolved, unreadable range) do not match.
    /// </summary>
    public static IReadOnlyList<Finding> FromGraph(DependencyGraph graph, TollgatePolicy policy, IVersionRangeMatcher? versions = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(policy);
        var findings = new List<Finding>();
        if (policy.Deny.IsEmpty)
        {
            return findings;
        }
        foreach (var component in graph.Components)
        {
            if (policy.DeniedBy(component, versions) is not { } denied || policy.AllowedBy(component, versions) is not null)
            {
                continue;
            }
            var where = denied.Location is null ? "" : $" ({denied.Location})";
            findings.Add(new Finding
            {
                Kind = FindingKind.Signal,
                Id = DeniedRuleId,
                Severity = Severity.High,
                Summary = "denied by policy",
                Component = component,
                Evidence = $"{component.Name}@{component.Version} matches deny pattern '{denied.Text}'{where}",
            });
        }
        return findings;
    }
}
