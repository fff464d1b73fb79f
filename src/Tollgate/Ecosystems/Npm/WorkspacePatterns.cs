using System.Collections.Immutable;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// The <c>workspaces</c> globs of a root package.json (<c>packages/*</c>, <c>apps/**</c>, <c>!packages/legacy</c>),
/// matched against folder paths relative to the root, '/' separated.
/// </summary>
internal sealed class WorkspacePatterns
{
    private readonly ImmutableArray<string[]> _include;
    private readonly ImmutableArray<string[]> _exclude;

    public WorkspacePatterns(IEnumerable<string> patterns)
    {
        var include = ImmutableArray.CreateBuilder<string[]>();
        var exclude = ImmutableArray.CreateBuilder<string[]>();
        foreach (var raw in patterns)
        {
            var negated = raw.StartsWith('!');
            var segments = Segments(negated ? raw[1..] : raw);
            if (segments.Length > 0)
            {
                (negated ? exclude : include).Add(segments);
            }
        }
        _include = include.ToImmutable();
        _exclude = exclude.ToImmutable();
    }

    public bool IsEmpty => _include.IsEmpty;

    /// <summary>Whether the folder at <paramref name="relativePath"/> is a workspace member.</summary>
    public bool Matches(string relativePath)
    {
        var path = Segments(relativePath);
        return path.Length > 0 && _include.Any(p => Match(p, path)) && !_exclude.Any(p => Match(p, path));
    }

    private static string[] Segments(string path) =>
        path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToArray();

    /// <summary>
    /// Whether the path's segments match the pattern's. Segment by segment over every position the path can be at
    /// (not by backtracking, which took time exponential in the number of '**': twenty of them hung on a deep path).
    /// </summary>
    private static bool Match(string[] pattern, string[] path)
    {
        // at[i]: the pattern so far can have consumed the first i segments of the path.
        var at = new bool[path.Length + 1];
        at[0] = true;
        foreach (var segment in pattern)
        {
            var next = new bool[path.Length + 1];
            if (segment == "**")
            {
                var reached = false;
                for (var i = 0; i <= path.Length; i++)
                {
                    reached |= at[i];
                    next[i] = reached;
                }
            }
            else
            {
                for (var i = 0; i < path.Length; i++)
                {
                    next[i + 1] = at[i] && MatchSegment(segment, path[i]);
                }
            }
            at = next;
        }
        return at[path.Length];
    }

    /// <summary>One path segment against a pattern with '*' and '?' wildcards.</summary>
    private static bool MatchSegment(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }
}
