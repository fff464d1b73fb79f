using System.Collections.Immutable;
using System.IO.Enumeration;
using System.Text;
using System.Text.RegularExpressions;

namespace Tollgate.Inputs;

/// <summary>
/// <c>--exclude</c> patterns for folder scans. A pattern without '/' matches a file or folder name at any depth
/// (<c>examples</c>, <c>*.test.json</c>); a pattern with '/' matches the path below the scanned folder
/// (<c>packages/*/fixtures</c>, <c>**/testdata</c>). <c>*</c> and <c>?</c> stay within one name, <c>**</c> spans
/// folders. An excluded folder excludes everything under it.
/// </summary>
public sealed class PathGlobs
{
    private readonly ImmutableArray<string> _names;
    private readonly ImmutableArray<Regex> _paths;

    public PathGlobs(IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        var names = ImmutableArray.CreateBuilder<string>();
        var paths = ImmutableArray.CreateBuilder<Regex>();
        foreach (var raw in patterns)
        {
            var pattern = raw.Replace('\\', '/').Trim().TrimEnd('/');
            if (pattern.StartsWith("./", StringComparison.Ordinal))
            {
                pattern = pattern[2..];
            }
            if (pattern.Length == 0)
            {
                continue;
            }
            if (pattern.Contains('/', StringComparison.Ordinal))
            {
                paths.Add(ToRegex(pattern));
            }
            else
            {
                names.Add(pattern);
            }
        }
        _names = names.ToImmutable();
        _paths = paths.ToImmutable();
    }

    /// <summary>No patterns: nothing is excluded.</summary>
    public static PathGlobs None { get; } = new([]);

    public bool IsEmpty => _names.IsEmpty && _paths.IsEmpty;

    /// <summary>True when the file or folder at <paramref name="relativePath"/> (below the scanned folder, '/' or the OS separator) is excluded.</summary>
    public bool IsExcluded(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        if (IsEmpty)
        {
            return false;
        }
        var path = relativePath.Replace('\\', '/');
        var name = path[(path.LastIndexOf('/') + 1)..];
        return _names.Any(n => FileSystemName.MatchesSimpleExpression(n, name, ignoreCase: false))
            || _paths.Any(r => r.IsMatch(path));
    }

    private static Regex ToRegex(string glob)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                // "**/" matches any number of folders, including none; a trailing "**" matches everything below.
                var slash = i + 2 < glob.Length && glob[i + 2] == '/';
                sb.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else
            {
                sb.Append(c switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    _ => Regex.Escape(c.ToString()),
                });
            }
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    }
}
