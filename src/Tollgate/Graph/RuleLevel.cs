namespace Tollgate.Graph;

/// <summary>How much a finding counts: <c>fail</c> fails the verdict, <c>warn</c> and <c>info</c> are shown, <c>off</c> is dropped.</summary>
public enum RuleLevel
{
    Off = 0,
    Info = 1,
    Warn = 2,
    Fail = 3,
}

public static class RuleLevelNames
{
    /// <summary>The policy-file spelling: <c>off</c>, <c>info</c>, <c>warn</c>, <c>fail</c>.</summary>
    public static string ToName(this RuleLevel level) => level.ToString().ToLowerInvariant();

    /// <summary>Parses off/info/warn/fail, ignoring case.</summary>
    public static bool TryParse(string? text, out RuleLevel level)
    {
        switch (text?.Trim().ToUpperInvariant())
        {
            case "OFF": level = RuleLevel.Off; return true;
            case "INFO": level = RuleLevel.Info; return true;
            case "WARN": level = RuleLevel.Warn; return true;
            case "FAIL": level = RuleLevel.Fail; return true;
            default: level = RuleLevel.Off; return false;
        }
    }
}
