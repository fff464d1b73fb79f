using System.Runtime.InteropServices;

namespace Tollgate.Reports;

/// <summary>What a report was written to, for the message that says so.</summary>
/// <param name="Path">The path that was written: the target, or the file a symbolic link at the target points to.</param>
/// <param name="Note">Something the user should know (a link was followed, a special file written in place), or null.</param>
public sealed record OutputWritten(string Path, string? Note);

/// <summary>An output file that could not be written (a folder without write permission, a full disk): a problem
/// of the user's environment, not a bug. Nothing was left at the target.</summary>
public sealed class OutputFileException(string message, Exception inner) : IOException(message, inner);

/// <summary>
/// Writes output files whole or not at all: a temporary file beside the target, then a rename over it. Only a regular
/// file (or a missing path) is replaced that way: a device, FIFO or socket (<c>-o /dev/null</c>, a pipe) is written in
/// place, since renaming over it would replace the device itself. A symbolic link at the target is followed, and the
/// result says so.
/// </summary>
public static class OutputFile
{
    public static OutputWritten WriteAllText(string path, string content) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(content);
        });

    /// <summary>Writes what <paramref name="write"/> writes to the stream it is given, whole or not at all (see the class).</summary>
    /// <exception cref="OutputFileException">The file could not be written; the message names it and says why.</exception>
    public static OutputWritten Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        try
        {
            return WriteWhole(path, write);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException and not OutputFileException)
        {
            throw new OutputFileException($"cannot write {path}: {e.Message}", e);
        }
    }

    private static OutputWritten WriteWhole(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        string? note = null;
        if (new FileInfo(full).LinkTarget is not null && File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target)
        {
            note = $"{path} is a symbolic link; wrote the file it points to, {target.FullName}";
            full = target.FullName;
        }
        if (File.Exists(full) && !IsRegularFile(full))
        {
            // Truncating open and write, as a shell's '>' does: the special file stays what it is.
            using (var stream = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                write(stream);
            }
            return new OutputWritten(full, note ?? $"{path} is not a regular file; wrote to it in place");
        }
        var dir = Path.GetDirectoryName(full) ?? ".";
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
        return new OutputWritten(full, note);
    }

    /// <summary>True for a regular file; false for a character or block device, a FIFO or a socket.</summary>
    internal static bool IsRegularFile(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }
        // struct stat differs per platform; only st_mode is read, from where each ABI puts it.
        int offset;
        bool wide;
        if (OperatingSystem.IsMacOS())
        {
            (offset, wide) = (4, false);
        }
        else if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64)
        {
            (offset, wide) = (24, true);
        }
        else if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
        {
            (offset, wide) = (16, true);
        }
        else
        {
            // Unknown layout: fall back to the common case of /dev paths.
            return !path.StartsWith("/dev/", StringComparison.Ordinal);
        }
        var buffer = new byte[512];
        if (Stat(path, buffer) != 0)
        {
            return true;
        }
        var mode = wide ? BitConverter.ToUInt32(buffer, offset) : BitConverter.ToUInt16(buffer, offset);
        const uint TypeMask = 0xF000, Regular = 0x8000;
        return (mode & TypeMask) == Regular;
    }

    [DllImport("libc", EntryPoint = "stat", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Stat(string path, [Out] byte[] buffer);
}
