using Tollgate.Graph;

namespace Tollgate.Inputs;

/// <summary>
/// Paths written inside input files (workspace folders, <c>-r</c> includes, <c>link:</c> and <c>file:</c> targets,
/// project references): resolved without letting a path no file can have reach the file system APIs, which throw
/// on it ("Null character in path").
/// </summary>
public static class InputPath
{
    /// <summary>The full path of <paramref name="written"/> relative to <paramref name="baseDirectory"/>; null when no file can have that name.</summary>
    public static string? TryResolve(string baseDirectory, string written)
    {
        if (written.Contains('\0', StringComparison.Ordinal) || baseDirectory.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            return Path.GetFullPath(Path.Combine(baseDirectory, written));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return null;
        }
    }

    /// <summary>
    /// As <see cref="TryResolve"/>, adding an error at <paramref name="at"/> (where the path is written) when the path
    /// cannot be resolved.
    /// </summary>
    public static string? Resolve(string baseDirectory, string written, SourceLocation at, DiagnosticBag diagnostics)
    {
        var full = TryResolve(baseDirectory, written);
        if (full is null)
        {
            diagnostics.Error(DiagnosticIds.InvalidEntry, $"the path '{Printable(written)}' cannot name a file"
                + (written.Contains('\0', StringComparison.Ordinal) ? ": it holds a NUL character" : ""),
                at, "the file is damaged or was edited by hand: regenerate it");
        }
        return full;
    }

    /// <summary>The text with control characters written as escapes, fit for a message.</summary>
    public static string Printable(string text)
    {
        if (!text.Any(char.IsControl))
        {
            return text;
        }
        var builder = new System.Text.StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            builder.Append(c == '\0' ? "\\0" : char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        }
        return builder.ToString();
    }
}
