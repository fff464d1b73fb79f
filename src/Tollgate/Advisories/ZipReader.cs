using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Tollgate.Advisories;

/// <summary>One file of a zip archive as its central directory describes it.</summary>
internal readonly record struct ZipEntry(string Name, int Method, int Flags, uint Crc32, long CompressedLength, long Length, long LocalHeaderOffset)
{
    public const int Stored = 0;
    public const int Deflated = 8;
}

/// <summary>
/// Reads a zip archive's central directory and the compressed bytes of its entries, without inflating them: an
/// import inflates entries on several threads and stores an entry's deflate bytes as they are. Zip64 is understood;
/// split archives and encryption are not. Anything malformed throws <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class ZipReader : IDisposable
{
    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint EndSignature = 0x06054b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const int EndLength = 22;
    private const int CentralHeaderLength = 46;
    private const int LocalHeaderLength = 30;

    private readonly SafeFileHandle _file;
    private readonly long _length;
    // Entries follow each other in the file: they are read through a window of it, one system call per megabyte.
    private byte[] _window = new byte[1 << 20];
    private long _windowStart;
    private int _windowLength;
    private long _dataEnd;

    private ZipReader(SafeFileHandle file)
    {
        _file = file;
        _length = RandomAccess.GetLength(file);
        _dataEnd = _length;
    }

    /// <summary>Opens an archive so that nobody may write it while it is read.</summary>
    public static ZipReader Open(string path) =>
        new(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan));

    public void Dispose() => _file.Dispose();

    /// <summary>The entries in the order of the central directory (the order other zip readers list them in).</summary>
    public List<ZipEntry> ReadEntries()
    {
        var (count, directoryOffset, directoryLength) = FindCentralDirectory();
        if (directoryOffset < 0 || directoryLength < 0 || directoryOffset + directoryLength > _length)
        {
            throw new InvalidDataException("the central directory lies outside the file (the archive is truncated)");
        }
        if (directoryLength > int.MaxValue)
        {
            throw new InvalidDataException("the central directory is larger than 2 GB");
        }
        _dataEnd = directoryOffset;
        var directory = new byte[directoryLength];
        if (!ReadExactly(directory, directoryOffset))
        {
            throw new InvalidDataException("the central directory lies outside the file (the archive is truncated)");
        }
        var entries = new List<ZipEntry>((int)Math.Clamp(count, 0, directoryLength / CentralHeaderLength));
        var at = 0;
        var span = directory.AsSpan();
        while (at < span.Length)
        {
            if (span.Length - at < CentralHeaderLength || BinaryPrimitives.ReadUInt32LittleEndian(span[at..]) != CentralHeaderSignature)
            {
                throw new InvalidDataException("a central directory entry is damaged");
            }
            var header = span.Slice(at, CentralHeaderLength);
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
            var method = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(header[16..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
            long length = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
            long disk = BinaryPrimitives.ReadUInt16LittleEndian(header[34..]);
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(header[42..]);
            var end = at + CentralHeaderLength + nameLength + extraLength + commentLength;
            if (end > span.Length)
            {
                throw new InvalidDataException("a central directory entry is damaged");
            }
            var name = Encoding.UTF8.GetString(span.Slice(at + CentralHeaderLength, nameLength));
            ReadZip64Extra(span.Slice(at + CentralHeaderLength + nameLength, extraLength), ref length, ref compressed, ref offset, ref disk);
            if (disk != 0)
            {
                throw new InvalidDataException("split or spanned archives are not supported");
            }
            if (length < 0 || compressed < 0 || offset < 0 || offset + LocalHeaderLength + compressed > directoryOffset)
            {
                throw new InvalidDataException($"the entry {name} lies outside the archive's data");
            }
            entries.Add(new ZipEntry(name, method, flags, crc, compressed, length, offset));
            at = end;
        }
        if (entries.Count != count)
        {
            throw new InvalidDataException($"the central directory lists {entries.Count} entries, the end record says {count}");
        }
        return entries;
    }

    /// <summary>
    /// The bytes of an entry as stored in the archive (deflate data, or the file itself when stored). Valid until the
    /// next call.
    /// </summary>
    public ReadOnlySpan<byte> ReadData(in ZipEntry entry)
    {
        if ((entry.Flags & 1) != 0)
        {
            throw new InvalidDataException($"the entry {entry.Name} is encrypted");
        }
        if (entry.Method is not (ZipEntry.Stored or ZipEntry.Deflated))
        {
            throw new InvalidDataException($"the entry {entry.Name} uses compression method {entry.Method}; only stored and deflate entries are read");
        }
        var header = Window(entry.LocalHeaderOffset, LocalHeaderLength);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != LocalHeaderSignature)
        {
            throw new InvalidDataException($"the local header of the entry {entry.Name} is damaged");
        }
        var start = entry.LocalHeaderOffset + LocalHeaderLength + BinaryPrimitives.ReadUInt16LittleEndian(header[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        if (start + entry.CompressedLength > _dataEnd || entry.CompressedLength > int.MaxValue)
        {
            throw new InvalidDataException($"the data of the entry {entry.Name} lies outside the archive's data");
        }
        return Window(start, (int)entry.CompressedLength);
    }

    /// <summary>Bytes [offset, offset + count) of the file, through the window.</summary>
    private ReadOnlySpan<byte> Window(long offset, int count)
    {
        if (offset < _windowStart || offset + count > _windowStart + _windowLength)
        {
            if (_window.Length < count)
            {
                _window = new byte[Math.Max(count, _window.Length * 2)];
            }
            _windowStart = offset;
            _windowLength = 0;
            while (_windowLength < _window.Length)
            {
                var read = RandomAccess.Read(_file, _window.AsSpan(_windowLength), offset + _windowLength);
                if (read == 0)
                {
                    break;
                }
                _windowLength += read;
            }
            if (_windowLength < count)
            {
                throw new InvalidDataException("the archive ends in the middle of an entry (it is truncated)");
            }
        }
        return _window.AsSpan((int)(offset - _windowStart), count);
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; false when the file ends first.</summary>
    private bool ReadExactly(Span<byte> buffer, long offset)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var read = RandomAccess.Read(_file, buffer[done..], offset + done);
            if (read == 0)
            {
                return false;
            }
            done += read;
        }
        return true;
    }

    /// <summary>The end of central directory record (Zip64 when present): the entry count, and where the directory is.</summary>
    private (long Count, long Offset, long Length) FindCentralDirectory()
    {
        var tailLength = (int)Math.Min(_length, EndLength + ushort.MaxValue);
        var tail = new byte[tailLength];
        var tailStart = _length - tailLength;
        if (tailLength < EndLength || !ReadExactly(tail, tailStart))
        {
            throw new InvalidDataException("the end of the central directory is missing (the file is not a zip archive, or it is truncated)");
        }
        var at = -1;
        for (var i = tailLength - EndLength; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndSignature && i + EndLength + BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(i + 20)) <= tailLength)
            {
                at = i;
                break;
            }
        }
        if (at < 0)
        {
            throw new InvalidDataException("the end of the central directory is missing (the file is not a zip archive, or it is truncated)");
        }
        var end = tail.AsSpan(at, EndLength);
        var disk = BinaryPrimitives.ReadUInt16LittleEndian(end[4..]);
        var directoryDisk = BinaryPrimitives.ReadUInt16LittleEndian(end[6..]);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(end[10..]);
        long length = BinaryPrimitives.ReadUInt32LittleEndian(end[12..]);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(end[16..]);
        var endOffset = tailStart + at;
        // A Zip64 locator right before the record means the counts and offsets above may be placeholders.
        if (endOffset >= 20)
        {
            var locator = new byte[20];
            if (ReadExactly(locator, endOffset - 20) && BinaryPrimitives.ReadUInt32LittleEndian(locator) == Zip64LocatorSignature)
            {
                var zip64Offset = BinaryPrimitives.ReadInt64LittleEndian(locator.AsSpan(8));
                var record = new byte[56];
                if (zip64Offset < 0 || zip64Offset + record.Length > endOffset
                    || !ReadExactly(record, zip64Offset)
                    || BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64EndSignature)
                {
                    throw new InvalidDataException("the Zip64 end of central directory record is damaged");
                }
                disk = (ushort)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(16)), ushort.MaxValue);
                directoryDisk = (ushort)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(20)), ushort.MaxValue);
                count = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(32));
                length = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(40));
                offset = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(48));
            }
        }
        if (disk != 0 || directoryDisk != 0)
        {
            throw new InvalidDataException("split or spanned archives are not supported");
        }
        return (count, offset, length);
    }

    /// <summary>The Zip64 extra field (id 1): the 64-bit values of the fields whose 32-bit form is all ones, in this order.</summary>
    private static void ReadZip64Extra(ReadOnlySpan<byte> extra, ref long length, ref long compressed, ref long offset, ref long disk)
    {
        while (extra.Length >= 4)
        {
            var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (size > extra.Length - 4)
            {
                throw new InvalidDataException("an extra field of the central directory is damaged");
            }
            if (id == 1)
            {
                var data = extra.Slice(4, size);
                if (length == uint.MaxValue)
                {
                    length = Next(ref data);
                }
                if (compressed == uint.MaxValue)
                {
                    compressed = Next(ref data);
                }
                if (offset == uint.MaxValue)
                {
                    offset = Next(ref data);
                }
                if (disk == ushort.MaxValue)
                {
                    disk = data.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(data) : throw new InvalidDataException("the Zip64 extra field is too short");
                }
                return;
            }
            extra = extra[(4 + size)..];
        }

        static long Next(ref ReadOnlySpan<byte> data)
        {
            if (data.Length < 8)
            {
                throw new InvalidDataException("the Zip64 extra field is too short");
            }
            var value = BinaryPrimitives.ReadInt64LittleEndian(data);
            data = data[8..];
            return value;
        }
    }
}
