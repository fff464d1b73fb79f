using System.IO.Enumeration;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>
/// The files an MSBuild item wildcard names (<c>..\Generators\*.csproj</c>, <c>areas\*\src\**\AzureMcp.*.csproj</c>):
/// <c>*</c> and <c>?</c> match inside one path segment, a <c>**</c> segment matches any number of folders.
/// </summary>
internal static class ProjectGlob
{
    /// <summary>Folders searched at most for one pattern: a <c>**</c> at the top of a large tree must not stall a scan.</summary>
    internal const int MaxFolders = 20_000;

    /// <summary>
    /// The full paths of the files matching <paramref name="pattern"/> ('/'-separated, relative to
    /// <paramref name="baseDirectory"/> or rooted), in ordinal order.
    /// </summary>
    public static IReadOnlyList<string> Match(string baseDirectory, string pattern, SourceLocation at, DiagnosticBag diagnostics)
    {
        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var firstWild = Array.FindIndex(segments, IsWild);
        if (firstWild < 0 || InputPath.TryResolve(baseDirectory, (pattern.StartsWith('/') ? "/" : "") + string.Join('/', segments[..firstWild])) is not { } start)
        {
            return [];
        }
        var ignoreCase = OperatingSystem.IsWindows();
        var options = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        var everyFolderBelow = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint, RecurseSubdirectories = true };
        var folders = new List<string> { start };
        var visited = 0;
        for (var i = firstWild; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            var next = new List<string>();
            foreach (var folder in folders)
            {
                if (!Directory.Exists(folder))
                {
                    continue;
                }
                if (++visited > MaxFolders)
                {
                    diagnostics.Warning(DiagnosticIds.MissingReference,
                        $"the wildcard '{pattern}' searches more than {MaxFolders:N0} folders; the references it would add are left out",
                        at, "name the referenced projects, or narrow the wildcard");
                    return [];
                }
                if (segment == "**")
                {
                    next.Add(folder);
                    next.AddRange(Directory.EnumerateDirectories(folder, "*", everyFolderBelow).Take(MaxFolders + 1));
                }
                else if (!IsWild(segment))
                {
                    next.Add(Path.Combine(folder, segment));
                }
                else
                {
                    var entries = last ? Directory.EnumerateFiles(folder, "*", options) : Directory.EnumerateDirectories(folder, "*", options);
                    next.AddRange(entries.Where(e => FileSystemName.MatchesSimpleExpression(segment, Path.GetFileName(e), ignoreCase)));
                }
            }
            folders = [.. next.Distinct(StringComparer.Ordinal)];
        }
        // "**" as the last segment names folders, not files; a plain last segment may name a folder too.
        return [.. folders.Where(File.Exists).Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    private static bool IsWild(string segment) => segment.AsSpan().IndexOfAny('*', '?') >= 0;
}
