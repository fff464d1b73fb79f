using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;

namespace Tollgate.Server.Storage;

/// <summary>
/// Verified artifacts (cached npm tarballs, NuGet packages, PyPI files) shared by several feed instances: what one
/// instance downloaded and verified, another takes from here instead of asking the upstream. Every instance keeps its
/// own local copy as well (served with the OS's zero-copy path) and verifies what it takes from here against the
/// package's declared hashes before it serves it, so the shared store is a cache, never a source of trust.
/// </summary>
internal interface ISharedArtifacts
{
    /// <summary>Where the artifacts are, for the start-up banner (no secrets).</summary>
    string Description { get; }

    /// <summary>Copies the artifact <paramref name="key"/> into <paramref name="file"/>; false when there is none.</summary>
    Task<bool> TryDownloadAsync(string key, string file, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="file"/> as <paramref name="key"/> unless it is there already (another instance stored the
    /// same verified bytes first). An upload is visible only once it is complete.
    /// </summary>
    Task UploadAsync(string key, string file, CancellationToken cancellationToken);
}

/// <summary>
/// An Azure Blob Storage container: by its URL with <see cref="DefaultAzureCredential"/> (in Azure, the managed
/// identity; it needs the role Storage Blob Data Contributor on the container), or by a connection string and a
/// container name (Azurite, or an account key). Blob uploads of one call commit whole, so a reader never sees part of one.
/// </summary>
internal sealed class AzureBlobArtifacts : ISharedArtifacts
{
    private readonly BlobContainerClient _container;
    private int _created;

    private AzureBlobArtifacts(BlobContainerClient container, string description)
    {
        _container = container;
        Description = description;
    }

    public string Description { get; }

    /// <summary>
    /// From the setting: an https:// container URL (managed identity / DefaultAzureCredential), or a container name used
    /// with the connection string in <paramref name="connectionString"/> (TOLLGATE_BLOB_CONNECTION_STRING).
    /// </summary>
    public static AzureBlobArtifacts Create(string setting, string? connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(setting);
        if (Uri.TryCreate(setting, UriKind.Absolute, out var url) && url.Scheme is "https" or "http")
        {
            var client = new BlobContainerClient(url, new DefaultAzureCredential(), Options());
            return new AzureBlobArtifacts(client, $"Azure Blob container {url.GetLeftPart(UriPartial.Path)} (managed identity)");
        }
        if (string.IsNullOrEmpty(connectionString))
        {
            throw new ArgumentException(
                $"sharedArtifacts '{setting}' is a container name, which needs a connection string in TOLLGATE_BLOB_CONNECTION_STRING; or give the container's https:// URL to use the managed identity");
        }
        var container = new BlobContainerClient(connectionString, setting, Options());
        return new AzureBlobArtifacts(container, $"Azure Blob container '{setting}' at {container.Uri.GetLeftPart(UriPartial.Authority)}");
    }

    /// <summary>Two quick retries: a store that does not answer costs a download from the upstream, not a long wait.</summary>
    private static BlobClientOptions Options()
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        return options;
    }

    public async Task<bool> TryDownloadAsync(string key, string file, CancellationToken cancellationToken)
    {
        try
        {
            await _container.GetBlobClient(key).DownloadToAsync(file, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    public async Task UploadAsync(string key, string file, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _created, 1) == 0)
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        try
        {
            // If-None-Match: * makes the upload fail rather than replace a blob another instance committed first.
            await _container.GetBlobClient(key).UploadAsync(file, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // Already there: the same verified bytes, stored by another instance.
        }
    }
}

/// <summary>
/// Taking a verified copy from the shared store and putting one there, the same way for every ecosystem: a copy is
/// checked by the caller's <c>verify</c> (the package's declared hashes) before it is moved into the local cache, and
/// a store that cannot be used costs a download from the upstream and a warning, never a failed request.
/// </summary>
internal static partial class SharedCopies
{
    /// <summary>
    /// Puts a verified artifact at <paramref name="target"/>, a file in the feed's storage whose path below the storage
    /// root is its key in the shared store: the shared copy when there is one and <paramref name="verify"/> accepts it,
    /// else what <paramref name="download"/> writes into the temporary file it is given and accepts (it returns the
    /// problem that refuses it, or null); a verified download is then shared. With no <paramref name="verify"/> (the
    /// package declares no hash that could vouch for a copy) the shared store is neither read nor written.
    /// </summary>
    /// <returns>The download's problem (nothing is put in place), or null; and whether the shared copy was used.</returns>
    public static async Task<(string? Problem, bool Taken)> FetchAsync(ISharedArtifacts? shared, Feeds.Npm.FeedStorage storage, string target,
        Func<string, string?>? verify, Func<string, Task<string?>> download, ILogger logger, CancellationToken cancellationToken)
    {
        var key = Path.GetRelativePath(storage.Root, target).Replace(Path.DirectorySeparatorChar, '/');
        if (shared is not null && verify is not null
            && await TryTakeAsync(shared, key, storage.NewTempFile(), target, verify, logger, cancellationToken).ConfigureAwait(false))
        {
            return (null, true);
        }
        var temp = storage.NewTempFile();
        try
        {
            if (await download(temp).ConfigureAwait(false) is { } problem)
            {
                return (problem, false);
            }
            // Shared before it is in place: a local copy then always had its chance to be shared, even if the
            // process is killed right after.
            if (shared is not null && verify is not null)
            {
                await ShareAsync(shared, key, temp, logger, cancellationToken).ConfigureAwait(false);
            }
            Feeds.Npm.FeedStorage.MoveIntoPlace(temp, target);
            return (null, false);
        }
        finally
        {
            if (File.Exists(temp))
            {
                Feeds.Npm.FeedStorage.TryDelete(temp);
            }
        }
    }

    /// <summary>
    /// Downloads <paramref name="key"/> into <paramref name="temp"/> and moves it to <paramref name="target"/> when
    /// <paramref name="verify"/> (given the downloaded file) returns no problem; true when it did.
    /// </summary>
    private static async Task<bool> TryTakeAsync(ISharedArtifacts shared, string key, string temp, string target, Func<string, string?> verify,
        ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            if (!await shared.TryDownloadAsync(key, temp, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
            if (verify(temp) is { } problem)
            {
                LogSharedMismatch(logger, key, problem);
                return false;
            }
            Feeds.Npm.FeedStorage.MoveIntoPlace(temp, target);
            return true;
        }
        catch (Exception e) when (Unavailable(e))
        {
            LogSharedUnavailable(logger, key, e.Message);
            return false;
        }
        finally
        {
            if (File.Exists(temp))
            {
                Feeds.Npm.FeedStorage.TryDelete(temp);
            }
        }
    }

    /// <summary>Shares a verified file; a store that cannot take it costs the other instances a download, not this answer.</summary>
    private static async Task ShareAsync(ISharedArtifacts shared, string key, string file, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await shared.UploadAsync(key, file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Unavailable(e))
        {
            LogSharedUnavailable(logger, key, e.Message);
        }
    }

    /// <summary>What a shared store that cannot be used throws (unreachable, refused, no credential; retries exhausted).</summary>
    private static bool Unavailable(Exception e) =>
        e is RequestFailedException or AggregateException or IOException or AuthenticationFailedException
            or CredentialUnavailableException or HttpRequestException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "the shared copy of {Key} does not match its package's declared hashes and is not used: {Problem}")]
    private static partial void LogSharedMismatch(ILogger logger, string key, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the shared artifact store could not be used for {Key}: {Message}")]
    private static partial void LogSharedUnavailable(ILogger logger, string key, string message);
}
