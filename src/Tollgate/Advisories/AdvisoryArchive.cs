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

/// <summary>
/// A document read from an input: a JSON file's bytes, or a zip entry's bytes as the archive stores them (deflate or
/// stored), still to be checked against the entry's length and CRC-32 by <see cref="AdvisoryArchive.Decode"/>.
/// </summary>
/// <param name="Source">The name for diagnostics: the file, or <c>archive!entry</c>.</param>
/// <param name="Archive">The archive it came from, or null for a file.</param>
/// <param name="Data">The JSON, or the entry's deflate data when <paramref name="Deflated"/>.</param>
/// <param name="Deflated">Whether <paramref name="Data"/> is deflate data (a deflated zip entry).</param>
/// <param name="Length">The uncompressed length the archive declares (a file: the length of <paramref name="Data"/>).</param>
/// <param name="Crc32">The CRC-32 the archive declares, or null for a file.</param>
internal readonly record struct ArchiveDocument(string Source, string? Archive, byte[] Data, bool Deflated, long Length, uint? Crc32);

/// <summary>Receives one document of an input.</summary>
internal delegate void AdvisoryDocumentHandler(in ArchiveDocument document);

/// <summary>
/// Reads OSV JSON documents from an input: an archive (<c>all.zip</c> as OSV publishes per ecosystem),
/// a folder of <c>.json</c> files (searched recursively) or one <c>.json</c> file. Zip entries are handed on still
/// compressed (an import inflates them on several threads, see <see cref="Decode"/>); nothing is extracted to disk.
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
        handler(new ArchiveDocument(source, null, bytes, Deflated: false, bytes.Length, null));
        return true;
    }

    private static bool ReadZip(string path, ArchiveLimits limits, DiagnosticBag diagnostics, AdvisoryDocumentHandler handler, CancellationToken cancellationToken)
    {
        try
        {
            using var zip = ZipReader.Open(path);
            long total = 0;
            foreach (var entry in zip.ReadEntries())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = entry.Name;
                if (name.EndsWith('/') || name.EndsWith('\\'))
                {
                    continue;
                }
                var source = $"{path}!{name}";
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
                var data = zip.ReadData(entry).ToArray();
                handler(new ArchiveDocument(source, path, data, entry.Method == ZipEntry.Deflated, entry.Length, entry.Crc32));
            }
            return true;
        }
        catch (InvalidDataException e)
        {
            ReportDamaged(diagnostics, path, e.Message);
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(DiagnosticIds.FileUnreadable, $"cannot read the archive: {e.Message}; nothing was imported", new SourceLocation(path));
            return false;
        }
    }

    /// <summary>The error of an archive that cannot be read: the import stops and changes nothing.</summary>
    internal static void ReportDamaged(DiagnosticBag diagnostics, string archive, string problem) =>
        diagnostics.Error(DiagnosticIds.FileUnreadable, $"not a readable zip archive ({problem}); nothing was imported",
            new SourceLocation(archive), "the file may be truncated or damaged: download it again");

    /// <summary>
    /// The JSON of a document: a file's bytes, or a zip entry inflated into <paramref name="buffer"/> and checked against
    /// the length and CRC-32 the archive declares. False (with a warning) when an entry expands beyond the limit for one
    /// record; a damaged entry throws <see cref="InvalidDataException"/> (the whole archive is then refused).
    /// </summary>
    internal static bool Decode(scoped in ArchiveDocument document, ArchiveLimits limits, scoped ref byte[] buffer, DiagnosticBag diagnostics, out ReadOnlySpan<byte> json)
    {
        int length;
        if (document.Deflated)
        {
            length = RecordCompression.Inflate(document.Data, ref buffer, document.Length, limits.MaxEntryBytes);
            if (length < 0)
            {
                // The header understated the size: the real data is larger than allowed.
                diagnostics.Warning(DiagnosticIds.FileTooLarge,
                    $"archive entry skipped: it expands beyond its declared size and the {limits.MaxEntryBytes}-byte limit",
                    new SourceLocation(document.Source), "this looks like a decompression bomb");
                json = default;
                return false;
            }
            json = buffer.AsSpan(0, length);
        }
        else
        {
            json = document.Data;
            length = json.Length;
        }
        if (document.Crc32 is { } crc)
        {
            var name = document.Source[(document.Archive!.Length + 1)..];
            if (length != document.Length)
            {
                throw new InvalidDataException($"the entry {name} holds {length} bytes, its header says {document.Length}");
            }
            if (System.IO.Hashing.Crc32.HashToUInt32(json) != crc)
            {
                throw new InvalidDataException($"the entry {name} fails its CRC-32 check");
            }
        }
        return true;
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
}
