using System.IO.Compression;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Advisories;

/// <summary>
/// Limits that keep a hostile archive from exhausting memory or disk: an OSV record is a few
/// kilobytes, so anything far larger, or compressed far better than JSON compresses, is refused.
/// </summary>
public sealed record ArchiveLimits
{
    /// <summary>The largest record, uncompressed.</summary>
    public long MaxEntryBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>The most uncompressed bytes one archive may hold in total.</summary>
    public long MaxTotalBytes { get; init; } = 4L * 1024 * 1024 * 1024;

    /// <summary>The highest uncompressed:compressed ratio allowed for entries of at least <see cref="RatioCheckMinBytes"/>.</summary>
    public double MaxRatio { get; init; } = 100;

    /// <summary>Entries smaller than this are not ratio-checked (tiny files compress oddly either way).</summary>
    public long RatioCheckMinBytes { get; init; } = 1024 * 1024;

    public static ArchiveLimits Default { get; } = new();
}

/// <summary>Receives one JSON document: its name for diagnostics and its bytes (valid only during the call).</summary>
internal delegate void AdvisoryDocumentHandler(string source, ReadOnlySpan<byte> json);

/// <summary>
/// Reads OSV JSON documents from an input: an archive (<c>all.zip</c> as OSV publishes per ecosystem),
/// a folder of <c>.json</c> files (searched recursively) or one <c>.json</c> file. Entries are read one at
/// a time into a reused buffer; nothing is extracted to disk.
/// </summary>
internal static class AdvisoryArchive
{
    /// <summary>Feeds every document of <paramref name="path"/> to <paramref name="handler"/>.</summary>
    /// <returns>False when the input as a whole cannot be read (an error diagnostic says why); the import must then stop.</returns>
    public static bool Read(string path, ArchiveLimits limits, DiagnosticBag diagnostics, AdvisoryDocumentHandler handler, CancellationToken cancellationToken)
    {
        if (Directory.Exists(path))
        {
            return ReadFolder(path, limits, diagnostics, handler, cancellationToken);
        }
        if (!File.Exists(path))
        {
            diagnostics.Error(DiagnosticIds.NoInput, $"no such file or folder: {path}", new SourceLocation(path));
            return false;
        }
        return IsZip(path)
            ? ReadZip(path, limits, diagnostics, handler, cancellationToken)
            : ReadJsonFile(path, path, limits, diagnostics, handler);
    }

    private static bool IsZip(string path)
    {
        if (path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        Span<byte> magic = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
    }

    private static bool ReadFolder(string folder, ArchiveLimits limits, DiagnosticBag diagnostics, AdvisoryDocumentHandler handler, CancellationToken cancellationToken)
    {
        var files = Directory.EnumerateFiles(folder, "*.json", new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = false,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
            MatchCasing = MatchCasing.CaseInsensitive,
        }).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            diagnostics.Error(DiagnosticIds.NoInput, $"no .json files in {folder}", new SourceLocation(folder),
                "give OSV all.zip archives, folders of OSV .json records, or single .json records");
            return false;
        }
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ReadJsonFile(file, file, limits, diagnostics, handler);
        }
        return true;
    }

    private static bool ReadJsonFile(string file, string source, ArchiveLimits limits, DiagnosticBag diagnostics, AdvisoryDocumentHandler handler)
    {
        byte[] bytes;
        try
        {
            var length = new FileInfo(file).Length;
            if (length > limits.MaxEntryBytes)
            {
                diagnostics.Warning(DiagnosticIds.FileTooLarge, $"skipped: {length} bytes is more than the {limits.MaxEntryBytes}-byte limit for one OSV record", new SourceLocation(source));
                return true;
            }
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Warning(DiagnosticIds.FileUnreadable, $"skipped: {e.Message}", new SourceLocation(source));
            return true;
        }
        handler(source, bytes);
        return true;
    }

    private static bool ReadZip(string path, ArchiveLimits limits, DiagnosticBag diagnostics, AdvisoryDocumentHandler handler, CancellationToken cancellationToken)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using var zip = new ZipArchive(new FixedLengthStream(file), ZipArchiveMode.Read, leaveOpen: false);
            var buffer = new byte[64 * 1024];
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = entry.FullName;
                var source = $"{path}!{name}";
                if (name.EndsWith('/') || name.EndsWith('\\'))
                {
                    continue;
                }
                if (!IsSafeEntryName(name))
                {
                    diagnostics.Warning(DiagnosticIds.InvalidEntry, "archive entry skipped: its path leaves the archive (absolute, or with '..')",
                        new SourceLocation(source), "an OSV archive holds plain <ID>.json names; this archive may have been tampered with");
                    continue;
                }
                if (!name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                if (entry.Length > limits.MaxEntryBytes)
                {
                    diagnostics.Warning(DiagnosticIds.FileTooLarge,
                        $"archive entry skipped: {entry.Length} bytes uncompressed is more than the {limits.MaxEntryBytes}-byte limit for one OSV record",
                        new SourceLocation(source), "OSV records are a few kilobytes; this looks like a decompression bomb");
                    continue;
                }
                if (entry.Length >= limits.RatioCheckMinBytes && entry.Length > limits.MaxRatio * Math.Max(1, entry.CompressedLength))
                {
                    diagnostics.Warning(DiagnosticIds.FileTooLarge,
                        $"archive entry skipped: it expands {entry.Length / (double)Math.Max(1, entry.CompressedLength):0}:1, more than the {limits.MaxRatio:0}:1 allowed",
                        new SourceLocation(source), "this looks like a decompression bomb");
                    continue;
                }
                total += entry.Length;
                if (total > limits.MaxTotalBytes)
                {
                    diagnostics.Error(DiagnosticIds.FileTooLarge,
                        $"the archive expands to more than {limits.MaxTotalBytes} bytes; nothing was imported",
                        new SourceLocation(path), "this looks like a decompression bomb; use the archive OSV publishes");
                    return false;
                }
                var length = ReadEntry(entry, ref buffer, limits.MaxEntryBytes);
                if (length < 0)
                {
                    // The header understated the size: the real data is larger than allowed.
                    diagnostics.Warning(DiagnosticIds.FileTooLarge,
                        $"archive entry skipped: it expands beyond its declared size and the {limits.MaxEntryBytes}-byte limit",
                        new SourceLocation(source), "this looks like a decompression bomb");
                    continue;
                }
                handler(source, buffer.AsSpan(0, length));
            }
            return true;
        }
        catch (InvalidDataException e)
        {
            diagnostics.Error(DiagnosticIds.FileUnreadable, $"not a readable zip archive ({e.Message}); nothing was imported",
                new SourceLocation(path), "the file may be truncated or damaged: download it again");
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(DiagnosticIds.FileUnreadable, $"cannot read the archive: {e.Message}; nothing was imported", new SourceLocation(path));
            return false;
        }
    }

    /// <summary>Reads an entry whole into <paramref name="buffer"/>; -1 when it holds more than <paramref name="max"/> bytes.</summary>
    private static int ReadEntry(ZipArchiveEntry entry, ref byte[] buffer, long max)
    {
        var expected = (int)Math.Min(entry.Length, max);
        if (buffer.Length < expected + 1)
        {
            buffer = new byte[Math.Max(expected + 1, buffer.Length * 2)];
        }
        using var stream = entry.Open();
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length > max)
                {
                    return -1;
                }
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, max + 1));
            }
            var read = stream.Read(buffer, length, buffer.Length - length);
            if (read == 0)
            {
                return length;
            }
            length += read;
            if (length > max)
            {
                return -1;
            }
        }
    }

    /// <summary>False for names that would leave a destination folder: absolute paths, drive letters, '..' segments.</summary>
    internal static bool IsSafeEntryName(string name)
    {
        if (name.Length == 0 || name[0] is '/' or '\\' || (name.Length >= 2 && name[1] == ':'))
        {
            return false;
        }
        foreach (var segment in name.Split('/', '\\'))
        {
            if (segment == "..")
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// A read-only view of a file that nobody may write while we read it (opened with <see cref="FileShare.Read"/>),
    /// whose length is asked once: <see cref="ZipArchive"/> asks for it at every entry, a system call each time.
    /// </summary>
    private sealed class FixedLengthStream(FileStream inner) : Stream
    {
        private readonly long _length = inner.Length;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => _length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => inner.Read(buffer);

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
