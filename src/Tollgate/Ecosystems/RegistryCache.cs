using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Tollgate.Ecosystems;

/// <summary>A registry document as <see cref="RegistryHttp"/> keeps it, with what it needs to revalidate it.</summary>
/// <param name="Body">The registry's bytes; empty for a remembered 404.</param>
/// <param name="ETag">The registry's <c>ETag</c>, sent back as <c>If-None-Match</c>.</param>
/// <param name="LastModified">The registry's <c>Last-Modified</c>, sent back as <c>If-Modified-Since</c>.</param>
/// <param name="FetchedAt">When the registry last sent or confirmed the copy.</param>
/// <param name="NotFound">True when the registry answered 404 (a cache may decline to keep these).</param>
public sealed record RegistryCacheEntry(byte[] Body, string? ETag, string? LastModified, DateTimeOffset FetchedAt, bool NotFound = false);

/// <summary>
/// Where <see cref="RegistryHttp"/> keeps registry documents between requests: a folder on this machine (the default,
/// <see cref="RegistryHttpOptions.CacheFolder"/>), or a store several processes share (the feed's state database).
/// Documents are keyed by URL (without credentials, as <see cref="RegistryHttp.Display"/> writes it) and the
/// <c>Accept</c> header sent. A store that cannot be reached throws <see cref="IOException"/>; the client then treats
/// the document as not cached and asks the registry afresh.
/// </summary>
public interface IRegistryCache
{
    /// <summary>The stored copy; null when none is stored.</summary>
    Task<RegistryCacheEntry?> ReadAsync(string url, string accept, CancellationToken cancellationToken);

    /// <summary>Stores a copy the registry sent, replacing the one stored.</summary>
    Task StoreAsync(string url, string accept, RegistryCacheEntry entry, CancellationToken cancellationToken);

    /// <summary>
    /// Records that the registry confirmed (304) <paramref name="entry"/>, the copy <see cref="ReadAsync"/> returned,
    /// at its new <see cref="RegistryCacheEntry.FetchedAt"/>.
    /// </summary>
    Task ConfirmAsync(string url, string accept, RegistryCacheEntry entry, CancellationToken cancellationToken);
}

/// <summary>
/// Registry documents as two files under a folder, named by the SHA-256 of URL and <c>Accept</c>: the body and a small
/// JSON file of the validators and <c>fetchedAt</c>. Each is written to a temporary file and renamed; a file that
/// cannot be read or written costs a request to the registry, never an answer.
/// </summary>
internal sealed class FolderRegistryCache(string folder) : IRegistryCache
{
    public Task<RegistryCacheEntry?> ReadAsync(string url, string accept, CancellationToken cancellationToken)
    {
        var path = CachePath(url, accept);
        try
        {
            var meta = JsonSerializer.Deserialize(File.ReadAllBytes(path + ".meta"), RegistryCacheJson.Default.CacheMetaRecord);
            if (meta is null || meta.Url != url)
            {
                return Task.FromResult<RegistryCacheEntry?>(null);
            }
            return Task.FromResult<RegistryCacheEntry?>(new RegistryCacheEntry(File.ReadAllBytes(path + ".body"), meta.ETag, meta.LastModified, meta.FetchedAt, meta.NotFound));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return Task.FromResult<RegistryCacheEntry?>(null);
        }
    }

    public Task StoreAsync(string url, string accept, RegistryCacheEntry entry, CancellationToken cancellationToken)
    {
        var path = CachePath(url, accept);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // The body first: the meta file never describes a copy that is not in place.
            WriteAtomically(path + ".body", entry.Body);
            WriteMeta(path, url, entry);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache that cannot be written costs speed, not correctness.
        }
        return Task.CompletedTask;
    }

    public Task ConfirmAsync(string url, string accept, RegistryCacheEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            WriteMeta(CachePath(url, accept), url, entry);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // As above.
        }
        return Task.CompletedTask;
    }

    private string CachePath(string url, string accept)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url + "\n" + accept)));
        return Path.Combine(folder, key[..2], key);
    }

    private static void WriteMeta(string path, string url, RegistryCacheEntry entry)
    {
        var record = new CacheMetaRecord { Url = url, ETag = entry.ETag, LastModified = entry.LastModified, FetchedAt = entry.FetchedAt, NotFound = entry.NotFound };
        WriteAtomically(path + ".meta", JsonSerializer.SerializeToUtf8Bytes(record, RegistryCacheJson.Default.CacheMetaRecord));
    }

    private static void WriteAtomically(string path, byte[] content)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>The cache's metadata file.</summary>
internal sealed class CacheMetaRecord
{
    public string Url { get; set; } = "";
    public string? ETag { get; set; }
    public string? LastModified { get; set; }
    public DateTimeOffset FetchedAt { get; set; }
    public bool NotFound { get; set; }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(CacheMetaRecord))]
internal sealed partial class RegistryCacheJson : System.Text.Json.Serialization.JsonSerializerContext;
