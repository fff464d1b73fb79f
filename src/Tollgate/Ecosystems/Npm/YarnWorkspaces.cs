namespace Tollgate.Ecosystems.Npm;

/// <summary>Expands the <c>workspaces</c> patterns of a package.json into member folders, as yarn 1 does.</summary>
internal static class YarnWorkspaces
{
    /// <summary>Folders (relative, '/'-separated) matching the patterns that hold a package.json; sorted, without node_modules.</summary>
    public static IReadOnlyList<string> Expand(string root, IEnumerable<string> patterns)
    {
        var result = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var pattern in patterns)
        {
            var negated = pattern.StartsWith('!');
            var segments = pattern.TrimStart('!').Replace('\\', '/').Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
            var matches = new List<string>();
            Match(root, "", segments, 0, matches, 0, []);
            foreach (var match in matches)
            {
                if (negated)
                {
                    result.Remove(match);
                }
                else if (File.Exists(Path.Combine(root, match, "package.json")))
                {
                    result.Add(match);
                }
            }
        }
        return [.. result];
    }

    // Visited holds the (folder, segment) pairs tried: '**' reaches one pair by many routes, and trying each route
    // again took time exponential in the number of '**'.
    private static void Match(string root, string relative, string[] segments, int index, List<string> matches, int depth,
        HashSet<(string, int)> visited)
    {
        if (depth > 32 || !visited.Add((relative, index)))
        {
            return;
        }
        if (index == segments.Length)
        {
            if (relative.Length > 0)
            {
                matches.Add(relative);
            }
            return;
        }
        var segment = segments[index];
        if (segment is "." or "..")
        {
            // Members outside the project folder are not read.
            if (segment == ".")
            {
                Match(root, relative, segments, index + 1, matches, depth + 1, visited);
            }
            return;
        }
        var dir = Path.Combine(root, relative);
        if (segment == "**")
        {
            Match(root, relative, segments, index + 1, matches, depth + 1, visited);
        }
        if (!segment.Contains('*', StringComparison.Ordinal))
        {
            if (Directory.Exists(Path.Combine(dir, segment)))
            {
                Match(root, Join(relative, segment), segments, index + 1, matches, depth + 1, visited);
            }
            return;
        }
        string[] children;
        try
        {
            children = Directory.GetDirectories(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        Array.Sort(children, StringComparer.Ordinal);
        foreach (var child in children)
        {
            var name = Path.GetFileName(child);
            if (name == "node_modules" || name.StartsWith('.') || !Glob(segment, name))
            {
                continue;
            }
            var next = Join(relative, name);
            Match(root, next, segments, segment == "**" ? index : index + 1, matches, depth + 1, visited);
        }
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : a + "/" + b;

    /// <summary>Matches one path segment against a pattern where '*' is any run of characters.</summary>
    private static bool Glob(string pattern, string name)
    {
        if (pattern is "*" or "**")
        {
            return true;
        }
        var parts = pattern.Split('*');
        if (!name.StartsWith(parts[0], StringComparison.Ordinal))
        {
            return false;
        }
        var position = parts[0].Length;
        for (var i = 1; i < parts.Length; i++)
        {
            var found = i == parts.Length - 1
                ? (name.Length - parts[i].Length >= position && name.EndsWith(parts[i], StringComparison.Ordinal) ? name.Length - parts[i].Length : -1)
                : name.IndexOf(parts[i], position, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }
            position = found + parts[i].Length;
        }
        return true;
    }
}
