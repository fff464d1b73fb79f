using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Tollgate.Server.Storage;

/// <summary>
/// A finished answer of a feed (a filtered packument, a listing): the same bytes in every content coding, a strong
/// entity tag per coding, and the time it stops being true (the next release-age boundary, an expiring ignore).
/// Built once per change of its inputs and then served as bytes.
/// </summary>
internal sealed class CachedResponse
{
    private CachedResponse(byte[] identity, byte[] gzip, byte[] brotli, string mediaType, string tag, DateTimeOffset? expires)
    {
        Identity = identity;
        Gzip = gzip;
        Brotli = brotli;
        MediaType = mediaType;
        Tag = tag;
        Expires = expires;
    }

    public byte[] Identity { get; }

    public byte[] Gzip { get; }

    public byte[] Brotli { get; }

    /// <summary>The <c>Content-Type</c> value.</summary>
    public string MediaType { get; }

    /// <summary>The digest part of the entity tags (hex SHA-256 prefix of the identity bytes).</summary>
    public string Tag { get; }

    /// <summary>When the answer's inputs change by the clock alone; null when only a new input changes it.</summary>
    public DateTimeOffset? Expires { get; }

    /// <summary>Memory held by this entry, for the cache's budget.</summary>
    public long Size => Identity.Length + Gzip.Length + Brotli.Length + 256;

    /// <summary>Compresses <paramref name="identity"/> both ways (done once per entry, never per request).</summary>
    public static CachedResponse Create(byte[] identity, string mediaType, DateTimeOffset? expires)
    {
        ArgumentNullException.ThrowIfNull(identity);
        using var gzip = new MemoryStream();
        using (var z = new GZipStream(gzip, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(identity);
        }
        var brotli = new byte[BrotliEncoder.GetMaxCompressedLength(identity.Length)];
        // Quality 9 of 11: close to the best ratio for JSON at a fraction of the time of 11.
        if (!BrotliEncoder.TryCompress(identity, brotli, out var written, quality: 9, window: 22))
        {
            throw new InvalidOperationException("Brotli compression failed with a buffer of the maximum compressed size.");
        }
        var tag = Convert.ToHexStringLower(SHA256.HashData(identity).AsSpan(0, 16));
        return new CachedResponse(identity, gzip.ToArray(), brotli[..written], mediaType, tag, expires);
    }

    /// <summary>Rebuilds an entry read back from disk (the bytes were compressed when it was created).</summary>
    internal static CachedResponse FromParts(byte[] identity, byte[] gzip, byte[] brotli, string mediaType, string tag, DateTimeOffset? expires) =>
        new(identity, gzip, brotli, mediaType, tag, expires);

    /// <summary>
    /// Answers with the coding the client accepts best (Brotli, then gzip, then none), or 304 when the client's
    /// <c>If-None-Match</c> names this answer. <paramref name="status"/> is 200 for anything a client may cache.
    /// </summary>
    public Task WriteAsync(HttpContext context, int status = StatusCodes.Status200OK)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (body, coding) = Choose(context.Request.Headers.AcceptEncoding.ToString());
        var etag = $"\"{Tag}{coding switch { "br" => "-br", "gzip" => "-gz", _ => "" }}\"";
        var headers = context.Response.Headers;
        headers.ETag = etag;
        headers.Vary = "Accept, Accept-Encoding";
        // Clients revalidate every time: a policy or advisory change must reach them at once, and a 304 is cheap.
        headers.CacheControl = "no-cache";
        if (NoneMatch(context.Request.Headers.IfNoneMatch.ToString()))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = MediaType;
        if (coding is not null)
        {
            headers.ContentEncoding = coding;
        }
        return ResponseBody.WriteAsync(context, body);
    }

    private (byte[] Body, string? Coding) Choose(string acceptEncoding)
    {
        if (acceptEncoding.Length == 0)
        {
            return (Identity, null);
        }
        double br = 0, gzip = 0;
        foreach (var part in acceptEncoding.Split(','))
        {
            var item = part.Trim();
            var semicolon = item.IndexOf(';', StringComparison.Ordinal);
            var name = (semicolon < 0 ? item : item[..semicolon]).Trim();
            var q = 1.0;
            if (semicolon >= 0 && item[(semicolon + 1)..].Trim() is var parameter && parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                && !double.TryParse(parameter[2..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out q))
            {
                q = 0;
            }
            if (name.Equals("br", StringComparison.OrdinalIgnoreCase))
            {
                br = q;
            }
            else if (name.Equals("gzip", StringComparison.OrdinalIgnoreCase) || name.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
            {
                gzip = q;
            }
            else if (name == "*")
            {
                br = br == 0 ? q : br;
                gzip = gzip == 0 ? q : gzip;
            }
        }
        if (br > 0 && br >= gzip)
        {
            return (Brotli, "br");
        }
        return gzip > 0 ? (Gzip, "gzip") : (Identity, null);
    }

    /// <summary>True when an <c>If-None-Match</c> list names any coding of this answer (or is <c>*</c>).</summary>
    private bool NoneMatch(string ifNoneMatch)
    {
        if (ifNoneMatch.Length == 0)
        {
            return false;
        }
        foreach (var part in ifNoneMatch.Split(','))
        {
            var candidate = part.Trim();
            if (candidate == "*")
            {
                return true;
            }
            if (candidate.StartsWith("W/", StringComparison.Ordinal))
            {
                candidate = candidate[2..];
            }
            candidate = candidate.Trim('"');
            if (candidate.StartsWith(Tag, StringComparison.Ordinal) && candidate.Length - Tag.Length is 0 or 3)
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>
/// Finished answers by key, for every ecosystem's routes. The key names every input of the answer (package, upstream
/// validator, policy and advisory database version, base URL, media type), so a changed input is a different key and
/// never meets an old entry; entries past their <see cref="CachedResponse.Expires"/> are not returned. The most
/// recently used entries stay in memory within <paramref name="memoryBudget"/> bytes; entries pushed out are kept on
/// disk in <paramref name="folder"/> (when given) and read back on the next request for them.
/// </summary>
internal sealed class ResponseCache(long memoryBudget, string? folder, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Slot> _entries = new(StringComparer.Ordinal);
    private readonly Lock _evictGate = new();
    private long _size;
    private long _clock;

    private sealed class Slot(CachedResponse response)
    {
        public CachedResponse Response { get; } = response;

        public long LastUsed;
    }

    /// <summary>Bytes held in memory now.</summary>
    public long MemoryBytes => Interlocked.Read(ref _size);

    /// <summary>The entry for <paramref name="key"/> while it is still true, or null.</summary>
    public CachedResponse? Get(string key)
    {
        if (_entries.TryGetValue(key, out var slot))
        {
            if (slot.Response.Expires is { } expires && time.GetUtcNow() >= expires)
            {
                Remove(key);
                return null;
            }
            Volatile.Write(ref slot.LastUsed, Interlocked.Increment(ref _clock));
            return slot.Response;
        }
        if (folder is not null && ReadFromDisk(key) is { } stored)
        {
            if (stored.Expires is { } expires && time.GetUtcNow() >= expires)
            {
                return null;
            }
            Add(key, stored);
            return stored;
        }
        return null;
    }

    public void Add(string key, CachedResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var slot = new Slot(response) { LastUsed = Interlocked.Increment(ref _clock) };
        if (_entries.TryGetValue(key, out var old))
        {
            if (_entries.TryUpdate(key, slot, old))
            {
                Interlocked.Add(ref _size, response.Size - old.Response.Size);
            }
        }
        else if (_entries.TryAdd(key, slot))
        {
            Interlocked.Add(ref _size, response.Size);
        }
        if (Interlocked.Read(ref _size) > memoryBudget)
        {
            Evict();
        }
    }

    private void Remove(string key)
    {
        if (_entries.TryRemove(key, out var slot))
        {
            Interlocked.Add(ref _size, -slot.Response.Size);
        }
    }

    /// <summary>Pushes the least recently used entries to disk until the memory held is three quarters of the budget.</summary>
    private void Evict()
    {
        lock (_evictGate)
        {
            if (Interlocked.Read(ref _size) <= memoryBudget)
            {
                return;
            }
            foreach (var (key, slot) in _entries.ToArray().OrderBy(e => Volatile.Read(ref e.Value.LastUsed)))
            {
                if (Interlocked.Read(ref _size) <= memoryBudget * 3 / 4)
                {
                    break;
                }
                if (folder is not null && (slot.Response.Expires is null || slot.Response.Expires > time.GetUtcNow()))
                {
                    WriteToDisk(key, slot.Response);
                }
                if (_entries.TryRemove(new KeyValuePair<string, Slot>(key, slot)))
                {
                    Interlocked.Add(ref _size, -slot.Response.Size);
                }
            }
        }
    }

    private string FileOf(string key) =>
        Path.Combine(folder!, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))) + ".response");

    // Layout: a header line "tag\tmediaType\texpires-ticks-or-empty\tidentity\tgzip\tbrotli" (lengths), then the bytes.
    private void WriteToDisk(string key, CachedResponse response)
    {
        try
        {
            Directory.CreateDirectory(folder!);
            var target = FileOf(key);
            var temp = target + "." + Guid.NewGuid().ToString("N") + ".part";
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                var header = $"{key.Length}\t{response.Tag}\t{response.MediaType}\t{response.Expires?.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)}\t"
                    + $"{response.Identity.Length}\t{response.Gzip.Length}\t{response.Brotli.Length}\n{key}";
                file.Write(Encoding.UTF8.GetBytes(header));
                file.Write(response.Identity);
                file.Write(response.Gzip);
                file.Write(response.Brotli);
            }
            File.Move(temp, target, overwrite: true);
        }
        catch (IOException)
        {
            // The disk tier is an optimisation: an entry that cannot be written is rebuilt when next asked for.
        }
    }

    private CachedResponse? ReadFromDisk(string key)
    {
        var path = FileOf(key);
        byte[] data;
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }
            data = File.ReadAllBytes(path);
        }
        catch (IOException)
        {
            return null;
        }
        var newline = Array.IndexOf(data, (byte)'\n');
        if (newline < 0)
        {
            return null;
        }
        var parts = Encoding.UTF8.GetString(data, 0, newline).Split('\t');
        if (parts.Length != 7 || !int.TryParse(parts[0], out var keyLength) || !int.TryParse(parts[4], out var identity)
            || !int.TryParse(parts[5], out var gzip) || !int.TryParse(parts[6], out var brotli))
        {
            return null;
        }
        var keyBytes = Encoding.UTF8.GetByteCount(key);
        var offset = newline + 1;
        // A hash collision or a torn file is never served: the stored key must be this key and the lengths must add up.
        if (keyLength != key.Length || data.Length != offset + keyBytes + identity + gzip + brotli
            || Encoding.UTF8.GetString(data, offset, keyBytes) != key)
        {
            return null;
        }
        offset += keyBytes;
        DateTimeOffset? expires = parts[3].Length == 0 ? null
            : new DateTimeOffset(long.Parse(parts[3], System.Globalization.CultureInfo.InvariantCulture), TimeSpan.Zero);
        var identityBytes = data[offset..(offset + identity)];
        var digest = Convert.ToHexStringLower(SHA256.HashData(identityBytes).AsSpan(0, 16));
        if (digest != parts[1])
        {
            return null;
        }
        offset += identity;
        return CachedResponse.FromParts(identityBytes, data[offset..(offset + gzip)], data[(offset + gzip)..(offset + gzip + brotli)], parts[2], parts[1], expires);
    }
}
