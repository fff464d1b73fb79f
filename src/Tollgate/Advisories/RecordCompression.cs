using System.IO.Compression;

namespace Tollgate.Advisories;

/// <summary>
/// The stored form of an OSV record: its UTF-8 JSON as raw deflate (RFC 1951), the encoding of the entries of an OSV
/// <c>all.zip</c>, so that an import stores an entry's own compressed bytes instead of compressing the record again.
/// </summary>
internal static class RecordCompression
{
    /// <summary>Compresses a record that did not come deflated (a .json file, a stored zip entry).</summary>
    public static byte[] Compress(ReadOnlySpan<byte> json)
    {
        using var output = new MemoryStream(json.Length / 2 + 64);
        using (var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(json);
        }
        return output.ToArray();
    }

    /// <summary>
    /// Inflates <paramref name="compressed"/> into <paramref name="buffer"/> (grown when needed, starting from
    /// <paramref name="expected"/> bytes). Returns the length, or -1 when the data expands beyond <paramref name="max"/>
    /// bytes. Damaged data throws <see cref="InvalidDataException"/>.
    /// </summary>
    public static int Inflate(byte[] compressed, ref byte[] buffer, long expected, long max)
    {
        var size = (int)Math.Min(Math.Max(expected, 0) + 1, max + 1);
        if (buffer.Length < size)
        {
            buffer = new byte[Math.Max(size, buffer.Length * 2)];
        }
        using var input = new MemoryStream(compressed, writable: false);
        using var deflate = new DeflateStream(input, CompressionMode.Decompress);
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
            var read = deflate.Read(buffer, length, buffer.Length - length);
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

    /// <summary>A record as schema version 1 stored it (Brotli), for the upgrade to version 2.</summary>
    public static byte[] DecompressBrotli(byte[] compressed)
    {
        using var input = new MemoryStream(compressed, writable: false);
        using var brotli = new BrotliStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream(compressed.Length * 6);
        brotli.CopyTo(output);
        return output.ToArray();
    }
}
