using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Tollgate.Policy;

/// <summary>
/// A point in time given on a command line or in a query (<c>--since</c>, <c>--prune</c>, <c>?since=</c>): a
/// duration back from now (<c>24h</c>, <c>7d</c>, <c>P1D</c>, as a policy writes durations) or a time (ISO 8601:
/// <c>2026-12-04</c>, <c>2026-12-04T09:00:00Z</c>; a time without an offset is UTC).
/// </summary>
public static class PointInTime
{
    public static bool TryParse(string? text, DateTimeOffset now, out DateTimeOffset at, [NotNullWhen(false)] out string? error)
    {
        at = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "needs a duration (24h, 7d) or a time (2026-12-04T09:00:00Z)";
            return false;
        }
        if (char.IsAsciiDigit(text[0]) && text.Length >= 10 && text[4] == '-'
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out at))
        {
            error = null;
            return true;
        }
        if (PolicyDuration.TryParse(text, out var back, out var durationError))
        {
            at = now - back;
            error = null;
            return true;
        }
        error = $"'{text}' is neither a duration nor a time: {durationError} (or a time such as 2026-12-04T09:00:00Z)";
        return false;
    }
}
