namespace Tollgate.Policy;

/// <summary>"Did you mean …?" for misspelt keys and values: the closest known word by edit distance.</summary>
public static class Suggestions
{
    /// <summary>The candidate closest to <paramref name="given"/> (ignoring case), or null when none is close enough to be a typo.</summary>
    public static string? Closest(string given, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        // A third of the word may be wrong, at least two letters: catches 'failon', 'alow', 'minimumReleaseAges'.
        var limit = Math.Max(2, given.Length / 3);
        foreach (var candidate in candidates)
        {
            var distance = Distance(given.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance <= limit && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost one.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
