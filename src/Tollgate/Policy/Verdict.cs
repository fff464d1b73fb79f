using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Policy;

/// <summary>The result of judging findings against a policy. The command line exits 1 on <see cref="Fail"/>, 0 otherwise.</summary>
public enum Outcome
{
    Pass,
    Warn,
    Fail,
}

/// <summary>One finding as the policy judged it.</summary>
/// <param name="Finding">The finding.</param>
/// <param name="Level">The level the policy gives the finding before ignores are applied.</param>
/// <param name="Suppression">The ignore entry that accepts the finding, or null.</param>
/// <param name="Reason">Why the finding has its level, in words (and why it is ignored, when it is).</param>
public sealed record EvaluatedFinding(Finding Finding, RuleLevel Level, IgnoreEntry? Suppression, string Reason)
{
    /// <summary>The level that counts towards the verdict: <see cref="RuleLevel.Off"/> when the finding is ignored.</summary>
    public RuleLevel EffectiveLevel => Suppression is null ? Level : RuleLevel.Off;

    public bool IsSuppressed => Suppression is not null;
}

/// <summary>An ignore entry whose expiry date has passed, with the findings it would otherwise have covered.</summary>
public sealed record ExpiredIgnore(IgnoreEntry Entry, ImmutableArray<Finding> Findings);

/// <summary>
/// Pass, warn or fail, with every finding's level and the reason for it, the ignores that applied, and the ignores
/// that expired or matched nothing.
/// </summary>
public sealed record Verdict
{
    public required Outcome Outcome { get; init; }

    /// <summary>Every finding with its level, in the order given, including those turned off or ignored.</summary>
    public required ImmutableArray<EvaluatedFinding> Findings { get; init; }

    /// <summary>Ignore entries past their expiry date: they no longer apply, and they make the outcome at least a warning.</summary>
    public ImmutableArray<ExpiredIgnore> ExpiredIgnores { get; init; } = [];

    /// <summary>Ignore entries still in force that matched no finding: candidates for removal.</summary>
    public ImmutableArray<IgnoreEntry> UnusedIgnores { get; init; } = [];

    /// <summary>The policy file the verdict was reached with; null for the built-in default.</summary>
    public string? PolicySource { get; init; }

    public int Total => Findings.Length;

    /// <summary>Findings that fail the verdict.</summary>
    public int Failing => Findings.Count(f => f.EffectiveLevel == RuleLevel.Fail);

    /// <summary>Findings shown as warnings.</summary>
    public int Warnings => Findings.Count(f => f.EffectiveLevel == RuleLevel.Warn);

    /// <summary>Findings accepted by an ignore entry.</summary>
    public int Suppressed => Findings.Count(f => f.IsSuppressed);

    /// <summary>Findings dropped by a rule level of <c>off</c>.</summary>
    public int TurnedOff => Findings.Count(f => !f.IsSuppressed && f.Level == RuleLevel.Off);
}
