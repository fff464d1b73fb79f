using Tollgate.Graph;

namespace Tollgate.Risk;

/// <summary>
/// A supply-chain risk signal read from the dependency graph alone (no network): its metadata, used for
/// documentation and SARIF rule descriptions, and its evaluation. The policy decides what a finding's level is;
/// a rule only reports.
/// </summary>
public abstract class RiskRule
{
    protected RiskRule(string id, string name, string title, RuleLevel defaultLevel, Severity defaultSeverity, string rationale, string fix)
    {
        Id = id;
        Name = name;
        Title = title;
        DefaultLevel = defaultLevel;
        DefaultSeverity = defaultSeverity;
        Rationale = rationale;
        Fix = fix;
    }

    /// <summary>The rule id, <c>TG1xxx</c>, as the policy file and docs/rules.md spell it.</summary>
    public string Id { get; }

    /// <summary>A PascalCase name (SARIF <c>reportingDescriptor.name</c>).</summary>
    public string Name { get; }

    /// <summary>One line saying what the rule detects.</summary>
    public string Title { get; }

    /// <summary>The level used when the policy does not set one.</summary>
    public RuleLevel DefaultLevel { get; }

    /// <summary>The severity of the rule's findings unless a finding says otherwise.</summary>
    public Severity DefaultSeverity { get; }

    /// <summary>Why it matters: the attack the signal points at.</summary>
    public string Rationale { get; }

    /// <summary>What to do about a finding.</summary>
    public string Fix { get; }

    /// <summary>The group a deployment rule belongs to (<c>identity</c>, <c>secret</c>…); null for rules without one.</summary>
    public virtual string? Category => null;

    /// <summary>The anchor of the rule's section in docs/rules.md (<c>tg1001</c>).</summary>
    public string Anchor => Id.ToLowerInvariant();

    /// <summary>The findings of this rule over <paramref name="graph"/>, in the graph's component order.</summary>
    public abstract IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context);

    /// <summary>A finding of this rule about <paramref name="component"/>.</summary>
    protected Finding Report(Component component, RiskContext context, string summary, string? evidence = null, Severity? severity = null) => new()
    {
        Kind = FindingKind.Signal,
        Id = Id,
        Severity = severity ?? DefaultSeverity,
        Summary = summary,
        Component = component,
        Evidence = evidence,
        HelpUri = context.RulesDocumentationUri is { } docs ? $"{docs}#{Anchor}" : null,
    };
}
