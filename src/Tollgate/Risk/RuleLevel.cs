namespace Tollgate.Risk;

/// <summary>What a rule's findings do to the verdict: nothing, a note, a warning or a failure.</summary>
public enum RuleLevel
{
    Off,
    Info,
    Warn,
    Fail,
}

public static class RuleLevelNames
{
    /// <summary>The policy-file spelling: <c>off</c>, <c>info</c>, <c>warn</c>, <c>fail</c>.</summary>
    public static string ToName(this RuleLevel level) => level.ToString().ToLowerInvariant();
}
