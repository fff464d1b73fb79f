using Tollgate.Graph;

namespace Tollgate.Inputs;

/// <summary>Reading input files safely: size limits, clear diagnostics, paths shown relative to the working folder.</summary>
public static class InputFile
{
    /// <summary>Files larger than this are refused (a lockfile of 100,000 packages is about 60 MB).</summary>
    public static long MaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>The path as shown to users and recorded in locations: relative to the current folder when inside it, '/' separated.</summary>
    public static string DisplayPath(string path)
    {
        var full = Path.GetFullPath(path);
        var cwd = Directory.GetCurrentDirectory();
        var relative = Path.GetRelativePath(cwd, full);
        var shown = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? full : relative;
        return shown.Replace('\\', '/');
    }

    /// <summary>Reads the whole file as bytes, or adds a diagnostic and returns null.</summary>
    public static byte[]? ReadBytes(string path, DiagnosticBag diagnostics)
    {
        var shown = DisplayPath(path);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                if (Directory.Exists(path))
                {
                    diagnostics.Error(DiagnosticIds.FileUnreadable, "this is a folder; a file was expected", new SourceLocation(shown),
                        "name the file itself");
                    return null;
                }
                diagnostics.Error(DiagnosticIds.FileUnreadable, "file not found", new SourceLocation(shown));
                return null;
            }
            if (info.Length > MaxBytes)
            {
                diagnostics.Error(DiagnosticIds.FileTooLarge,
                    $"file is {info.Length:N0} bytes, more than the limit of {MaxBytes:N0}",
                    new SourceLocation(shown), "is this really a lockfile? split it, or raise the limit with TOLLGATE_MAX_INPUT_BYTES");
                return null;
            }
            // As many bytes as the file says it has, and no more: a device (-r /dev/zero in a requirements file, or a
            // lockfile that is a symbolic link to one) says 0 and never ends, and reading it to its end filled the memory.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            var bytes = new byte[info.Length];
            stream.ReadExactly(bytes);
            if (stream.ReadByte() >= 0)
            {
                diagnostics.Error(DiagnosticIds.FileUnreadable, "the file has more bytes than its size says: it is not a regular file (a device?), or it grew while it was read",
                    new SourceLocation(shown), "name a lockfile or manifest, not a device or pipe");
                return null;
            }
            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(DiagnosticIds.FileUnreadable, $"cannot read file: {e.Message}", new SourceLocation(shown));
            return null;
        }
    }

    /// <summary>Reads the whole file as UTF-8 text (BOM removed), or adds a diagnostic and returns null.</summary>
    public static string? ReadText(string path, DiagnosticBag diagnostics)
    {
        var bytes = ReadBytes(path, diagnostics);
        if (bytes is null)
        {
            return null;
        }
        var span = bytes.AsSpan();
        if (span.StartsWith("\uFEFF"u8))
        {
            span = span[3..];
        }
        return System.Text.Encoding.UTF8.GetString(span);
    }

    /// <summary>
    /// Adds an error at the first NUL character of a text lockfile and returns true when it has one: no text format
    /// holds one, and names or paths with one would reach the file system and the reports.
    /// </summary>
    public static bool RefuseNul(string text, string displayPath, DiagnosticBag diagnostics)
    {
        var at = text.IndexOf('\0', StringComparison.Ordinal);
        if (at < 0)
        {
            return false;
        }
        var (line, column) = new TextLines(text).Position(at);
        diagnostics.Error(DiagnosticIds.InvalidEntry, "a NUL character: a text lockfile never holds one",
            new SourceLocation(displayPath, line, column),
            "the file is damaged or not text; a file saved as UTF-16 (as PowerShell's '>' writes it) must be saved as UTF-8");
        return true;
    }
}
