using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Tollgate.Ecosystems;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Feeds.NuGet;

/// <summary>
/// The NuGet registration client's metadata cache (service index, registration indexes and pages) in the feed's
/// shared upstream-metadata store (<c>feed_nuget_metadata</c> with <c>state:</c>), keyed by URL and <c>Accept</c>, so
/// a document one instance fetched is read by the others and a revalidation (304) by one renews it for all. A 404 is
/// not kept, as for npm and PyPI: the upstream is asked again. A store that cannot be reached is logged and reported
/// to the client as an <see cref="IOException"/>, which then asks the upstream afresh, without validators.
/// </summary>
internal sealed partial class SharedRegistryCache(IPackumentCache documents, ILogger logger) : IRegistryCache
{
    public async Task<RegistryCacheEntry?> ReadAsync(string url, string accept, CancellationToken cancellationToken)
    {
        var key = Key(url, accept);
        var entry = await Logged(url, () => documents.FindAsync(key, cancellationToken)).ConfigureAwait(false);
        if (entry is null)
        {
            return null;
        }
        var body = await Logged(url, () => documents.ReadAsync(key, cancellationToken)).ConfigureAwait(false);
        if (body is null)
        {
            return null;
        }
        if (entry.FetchedAt is not { } fetchedAt || entry.Digest != Digest(body))
        {
            // Another instance replaced the row between the two reads: these validators describe other bytes, so the
            // copy is treated as out of date and the upstream asked without them.
            return new RegistryCacheEntry(body, null, null, DateTimeOffset.MinValue);
        }
        return new RegistryCacheEntry(body, entry.ETag, entry.LastModified, fetchedAt);
    }

    public Task StoreAsync(string url, string accept, RegistryCacheEntry entry, CancellationToken cancellationToken) =>
        entry.NotFound
            ? Task.CompletedTask
            : Logged(url, () => documents.StoreAsync(Key(url, accept), entry.Body, Describe(entry), cancellationToken));

    public Task ConfirmAsync(string url, string accept, RegistryCacheEntry entry, CancellationToken cancellationToken) =>
        Logged(url, () => documents.ConfirmAsync(Key(url, accept), Describe(entry), cancellationToken));

    /// <summary>The row's name: the URL (never with credentials) and the media types asked for.</summary>
    private static string Key(string url, string accept) => url + "\n" + accept;

    private static CachedPackument Describe(RegistryCacheEntry entry) => new(entry.ETag, entry.LastModified, entry.FetchedAt, Digest(entry.Body));

    private static string Digest(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private async Task<T> Logged<T>(string url, Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            LogCacheUnavailable(logger, url, e.Message);
            throw;
        }
    }

    private Task Logged(string url, Func<Task> operation) => Logged(url, async () =>
    {
        await operation().ConfigureAwait(false);
        return true;
    });

    [LoggerMessage(Level = LogLevel.Warning, Message = "nuget {Url}: the feed's metadata cache cannot be used: {Problem}")]
    private static partial void LogCacheUnavailable(ILogger logger, string url, string problem);
}
