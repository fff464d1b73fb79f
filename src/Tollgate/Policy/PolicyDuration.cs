using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Tollgate.Policy;

/// <summary>
/// Durations in a policy file: a number with a unit (<c>30m</c>, <c>72h</c>, <c>3d</c>, <c>1w</c>), <c>0</c>, or an
/// ISO 8601 duration without years and months (<c>P3D</c>, <c>PT12H</c>, <c>P1W</c>, <c>P1DT12H</c>).
/// </summary>
public static class PolicyDuration
{
    /// <summary>Parses a duration, or returns false with a reason a user can act on.</summary>
    public static bool TryParse(string? text, out TimeSpan duration, [NotNullWhen(false)] out string? error)
    {
        duration = TimeSpan.Zero;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "a duration cannot be empty";
            return false;
        }
        if (text == "0")
        {
            error = null;
            return true;
        }
        if (text[0] is 'P' or 'p')
        {
            return TryParseIso(text, out duration, out error);
        }
        var unit = text[^1];
        var number = text[..^1];
        if (char.IsAsciiDigit(unit))
        {
            error = $"'{text}' has no unit: add one of s, m, h, d, w (e.g. {text}h)";
            return false;
        }
        if (!TryNumber(number, out var value))
        {
            error = $"'{text}' is not a number followed by a unit (s, m, h, d, w), e.g. 72h";
            return false;
        }
        if (unit == 'M')
        {
            // Read as minutes it would make "1M" (meant as a month) an age limit of one minute.
            error = $"'{text}' is ambiguous: 'M' is not a unit; write m for minutes, or days for months (e.g. 30d)";
            return false;
        }
        double? hours = char.ToLowerInvariant(unit) switch
        {
            's' => value / 3600,
            'm' => value / 60,
            'h' => value,
            'd' => value * 24,
            'w' => value * 24 * 7,
            _ => null,
        };
        if (hours is null)
        {
            error = $"'{text}' has unknown unit '{unit}': use s (seconds), m (minutes), h (hours), d (days) or w (weeks)";
            return false;
        }
        return TryHours(text, hours.Value, out duration, out error);
    }

    /// <summary>Shows a duration the way a policy file would write it (<c>72h</c>, <c>3d</c>, <c>90m</c>).</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0";
        }
        if (duration.Ticks % TimeSpan.TicksPerDay == 0 && duration.TotalDays % 7 == 0)
        {
            return ((long)duration.TotalDays / 7).ToString(CultureInfo.InvariantCulture) + "w";
        }
        if (duration.Ticks % TimeSpan.TicksPerHour == 0)
        {
            return ((long)duration.TotalHours).ToString(CultureInfo.InvariantCulture) + "h";
        }
        if (duration.Ticks % TimeSpan.TicksPerMinute == 0)
        {
            return ((long)duration.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m";
        }
        return duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
    }

    private static bool TryParseIso(string text, out TimeSpan duration, [NotNullWhen(false)] out string? error)
    {
        duration = TimeSpan.Zero;
        var hours = 0.0;
        var inTime = false;
        var any = false;
        var i = 1;
        while (i < text.Length)
        {
            var c = char.ToUpperInvariant(text[i]);
            if (c == 'T')
            {
                if (inTime)
                {
                    break;
                }
                inTime = true;
                i++;
                continue;
            }
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] is '.' or ','))
            {
                i++;
            }
            if (i == start || i == text.Length || !TryNumber(text[start..i].Replace(',', '.'), out var value))
            {
                break;
            }
            var designator = char.ToUpperInvariant(text[i++]);
            switch (designator, inTime)
            {
                case ('W', false): hours += value * 24 * 7; break;
                case ('D', false): hours += value * 24; break;
                case ('H', true): hours += value; break;
                case ('M', true): hours += value / 60; break;
                case ('S', true): hours += value / 3600; break;
                case ('Y' or 'M', false):
                    error = $"'{text}' uses years or months, whose length varies: write days or weeks (e.g. P30D)";
                    return false;
                default:
                    error = $"'{text}' is not an ISO 8601 duration like P3D or PT12H";
                    return false;
            }
            any = true;
        }
        if (!any || i != text.Length)
        {
            error = $"'{text}' is not an ISO 8601 duration like P3D or PT12H";
            return false;
        }
        return TryHours(text, hours, out duration, out error);
    }

    private static bool TryHours(string text, double hours, out TimeSpan duration, [NotNullWhen(false)] out string? error)
    {
        // Ten years is far beyond any sensible age limit and keeps TimeSpan arithmetic safe.
        if (hours > 24 * 366 * 10)
        {
            duration = TimeSpan.Zero;
            error = $"'{text}' is longer than ten years";
            return false;
        }
        duration = TimeSpan.FromMilliseconds(Math.Round(hours * 3_600_000));
        error = null;
        return true;
    }

    private static bool TryNumber(string text, out double value)
    {
        value = 0;
        if (text.Length == 0 || text[0] is '+' or '-' || text[0] == '.' || text[^1] == '.')
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && c != '.')
            {
                return false;
            }
        }
        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);
    }
}
