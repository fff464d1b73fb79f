using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Storage;

/// <summary>
/// Takes audit entries off the request path: requests add entries to a bounded queue and go on; one writer takes
/// what has queued up and stores it in one transaction, folding repeats of the same decision into one counted upsert.
/// When the queue is full, requests wait for room (back-pressure) rather than drop an entry. <see cref="DisposeAsync"/>
/// stores everything queued before it returns, so a graceful stop loses nothing; a crash loses what was still queued
/// (at most <see cref="Capacity"/> entries, in practice the last few milliseconds of decisions).
/// </summary>
internal sealed partial class AuditQueue : IAsyncDisposable
{
    /// <summary>How many entries may wait to be written.</summary>
    public const int Capacity = 65536;

    private const int MaxBatch = 4096;

    /// <summary>
    /// How long the writer lets entries gather after the first of a batch arrives: under load one transaction per
    /// interval instead of one per handful of requests (each a write of the database file), at the cost of a crash
    /// losing up to this much more. A graceful stop does not wait for it.
    /// </summary>
    internal static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(50);

    /// <summary>Consecutive failed writes of one batch (about ten seconds) before it is given up.</summary>
    private const int MaxFailures = 50;

    private readonly FeedAuditLog _log;
    private readonly ILogger _logger;
    private readonly Channel<AuditEntry> _channel = Channel.CreateBounded<AuditEntry>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly Task _writer;
    private long _written;
    private long _lost;
    private long _queued;
    private readonly TaskCompletionSource _stopping = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public AuditQueue(FeedAuditLog log, ILogger logger)
    {
        _log = log;
        _logger = logger;
        _writer = Task.Run(WriteLoop);
    }

    /// <summary>Entries stored so far (before folding), for tests and shutdown logs.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Queues entries; completes at once unless the queue is full.</summary>
    public ValueTask AddAsync(IReadOnlyList<AuditEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        for (var i = 0; i < entries.Count; i++)
        {
            if (!_channel.Writer.TryWrite(entries[i]))
            {
                return AddSlowly(entries, i);
            }
            Interlocked.Increment(ref _queued);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Queues entries from code that does not wait: at once unless the queue is full, then in the background (the
    /// entries are still stored, in order after those already queued).
    /// </summary>
    public void Enqueue(IReadOnlyList<AuditEntry> entries)
    {
        var pending = AddAsync(entries);
        if (!pending.IsCompletedSuccessfully)
        {
            _ = pending.AsTask();
        }
    }

    private async ValueTask AddSlowly(IReadOnlyList<AuditEntry> entries, int from)
    {
        for (var i = from; i < entries.Count; i++)
        {
            await _channel.Writer.WriteAsync(entries[i]).ConfigureAwait(false);
            Interlocked.Increment(ref _queued);
        }
    }

    /// <summary>Returns once every entry queued before the call is stored, or given up as lost (for `feed log` readers and tests).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var target = Interlocked.Read(ref _queued);
        while (Interlocked.Read(ref _written) + Interlocked.Read(ref _lost) < target && !_writer.IsCompleted)
        {
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WriteLoop()
    {
        var batch = new List<AuditEntry>(MaxBatch);
        while (await _channel.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (!_stopping.Task.IsCompleted && _channel.Reader.Count < MaxBatch)
            {
                await Task.WhenAny(Task.Delay(Linger), _stopping.Task).ConfigureAwait(false);
            }
            while (batch.Count < MaxBatch && _channel.Reader.TryRead(out var entry))
            {
                batch.Add(entry);
            }
            // The same batch is tried again until it is stored: a retry must not wait for the next entry to arrive.
            for (var failures = 1; ; failures++)
            {
                try
                {
                    _log.Write(Fold(batch));
                    Interlocked.Add(ref _written, batch.Count);
                    break;
                }
                catch (System.Data.Common.DbException e) when (failures < MaxFailures)
                {
                    // The database is locked or full, or the shared PostgreSQL state cannot be reached: keep the entries
                    // and try again shortly rather than lose them.
                    LogWriteFailed(_logger, batch.Count, e.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
                }
                catch (System.Data.Common.DbException e)
                {
                    // Retrying for ever would stop the feed from ever shutting down; say loudly what is lost.
                    LogEntriesLost(_logger, batch.Count, e.Message);
                    Interlocked.Add(ref _lost, batch.Count);
                    break;
                }
            }
            batch.Clear();
        }
    }

    /// <summary>Repeats of one decision become one entry with their count; request-level entries stay one each.</summary>
    internal static List<AuditEntry> Fold(IReadOnlyList<AuditEntry> batch)
    {
        var result = new List<AuditEntry>(batch.Count);
        var index = new Dictionary<(string, string?, string, string?), int>();
        foreach (var e in batch)
        {
            if (e.IsRequestLevel)
            {
                result.Add(e);
                continue;
            }
            var key = (e.Package, e.Version, e.Verdict, e.Rule);
            if (index.TryGetValue(key, out var at))
            {
                var seen = result[at];
                // The latest wording, client and request win, as in the log's own upsert; the first time is kept.
                result[at] = e with { Time = seen.Time < e.Time ? seen.Time : e.Time, Count = seen.Count + e.Count, LastSeen = seen.LastSeen > e.LastSeen ? seen.LastSeen : e.LastSeen };
            }
            else
            {
                index[key] = result.Count;
                result.Add(e);
            }
        }
        return result;
    }

    /// <summary>Stops taking entries and returns once every queued entry is stored.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        _stopping.TrySetResult();
        await _writer.ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} audit entries could not be stored yet, retrying: {Problem}")]
    private static partial void LogWriteFailed(ILogger logger, int count, string problem);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Count} audit entries were NOT stored after repeated failures: {Problem}")]
    private static partial void LogEntriesLost(ILogger logger, int count, string problem);
}
