using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Advisories;

/// <summary>What an import should do besides reading its inputs.</summary>
public sealed record AdvisoryImportOptions
{
    /// <summary>The database file to create or merge into.</summary>
    public required string DatabasePath { get; init; }

    /// <summary>Start from an empty database instead of merging into the existing one.</summary>
    public bool Replace { get; init; }

    /// <summary>What to record as the source (paths, or the update's base URL); by default the input paths.</summary>
    public string? Source { get; init; }

    /// <summary>Extra meta values to store with the data (HTTP validators of an update).</summary>
    public ImmutableDictionary<string, string> Meta { get; init; } = ImmutableDictionary<string, string>.Empty;

    public ArchiveLimits Limits { get; init; } = ArchiveLimits.Default;

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>The counts of an import. <see cref="Succeeded"/> is false when nothing was changed.</summary>
public sealed record AdvisoryImportResult
{
    public required bool Succeeded { get; init; }

    /// <summary>Records read from the inputs (well-formed or not).</summary>
    public int Read { get; init; }

    /// <summary>New advisories written.</summary>
    public int Inserted { get; init; }

    /// <summary>Advisories replaced by a newer version (<c>modified</c> later than the stored one).</summary>
    public int Updated { get; init; }

    /// <summary>Records the database already had in the same or a newer version.</summary>
    public int Unchanged { get; init; }

    /// <summary>Well-formed records that affect no npm, PyPI or NuGet package.</summary>
    public int OtherEcosystem { get; init; }

    /// <summary>Malformed records, skipped with a diagnostic.</summary>
    public int Rejected { get; init; }

    public TimeSpan Elapsed { get; init; }

    /// <summary>Records read per second.</summary>
    public double RecordsPerSecond => Elapsed.TotalSeconds > 0 ? Read / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Imports OSV records into the advisory database atomically: a new file is built beside the old one
/// (starting from a copy of it, so an import merges and the newer <c>modified</c> wins), then renamed
/// over it. A failed or interrupted import leaves the old database as it was and no temporary file.
/// </summary>
public static class AdvisoryImporter
{
    public static AdvisoryImportResult Import(IReadOnlyList<string> inputs, AdvisoryImportOptions options, DiagnosticBag diagnostics, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        var failed = new AdvisoryImportResult { Succeeded = false };
        if (inputs.Count == 0)
        {
            diagnostics.Error(DiagnosticIds.NoInput, "no input given", hint: "give OSV all.zip archives, folders of OSV .json records, or .json files");
            return failed;
        }
        var missing = inputs.Where(i => !File.Exists(i) && !Directory.Exists(i)).ToList();
        foreach (var path in missing)
        {
            diagnostics.Error(DiagnosticIds.NoInput, $"no such file or folder: {path}", new SourceLocation(path));
        }
        if (missing.Count > 0)
        {
            return failed;
        }

        var target = Path.GetFullPath(options.DatabasePath);
        var folder = Path.GetDirectoryName(target) ?? ".";
        Directory.CreateDirectory(folder);
        RemoveStaleTemporaryFiles(target);
        var temp = Path.Combine(folder, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            if (!options.Replace && File.Exists(target))
            {
                if (!CanMergeInto(target, diagnostics))
                {
                    return failed;
                }
                File.Copy(target, temp);
            }
            AdvisoryImportResult counts;
            using (var writer = AdvisoryStoreWriter.Open(temp, out var error))
            {
                if (writer is null)
                {
                    diagnostics.Error(DiagnosticIds.FileUnreadable, $"cannot use the advisory database {target}: {error}", new SourceLocation(target),
                        "pass --replace to rebuild it from the inputs, or --db to import into another file");
                    return failed;
                }
                counts = ReadInputs(inputs, options, writer, diagnostics, cancellationToken);
                if (!counts.Succeeded)
                {
                    return failed;
                }
                if (counts.Inserted + counts.Updated + counts.Unchanged == 0)
                {
                    // A file that is not OSV, or OSV of other ecosystems only, must never empty or replace a database.
                    diagnostics.Error(DiagnosticIds.NoInput,
                        string.Create(CultureInfo.InvariantCulture,
                            $"no valid OSV record for npm, PyPI or NuGet in {string.Join(", ", inputs)}: {counts.Read} record(s) read, {counts.Rejected} malformed, {counts.OtherEcosystem} of other ecosystems"),
                        new SourceLocation(inputs[0]),
                        "give OSV all.zip archives, folders of OSV .json records, or .json files (see the warnings above for why records were skipped)");
                    return failed;
                }
                var now = options.Time.GetUtcNow();
                writer.SetMeta(AdvisoryMetaKeys.Source, options.Source ?? string.Join(", ", inputs.Select(Path.GetFullPath)));
                writer.SetMeta(AdvisoryMetaKeys.ImportedAt, AdvisoryStoreSchema.FormatTime(now));
                writer.SetMeta(AdvisoryMetaKeys.LastImport, string.Create(CultureInfo.InvariantCulture,
                    $"read={counts.Read} inserted={counts.Inserted} updated={counts.Updated} unchanged={counts.Unchanged} other={counts.OtherEcosystem} rejected={counts.Rejected}"));
                foreach (var (key, value) in options.Meta)
                {
                    writer.SetMeta(key, value);
                }
                writer.Commit();
            }
            FlushToDisk(temp);
            File.Move(temp, target, overwrite: true);
            return counts with { Elapsed = stopwatch.Elapsed };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SqliteException)
        {
            diagnostics.Error(DiagnosticIds.FileUnreadable, $"the import failed and nothing was changed: {AdvisoryStore.SqliteMessage(e)}", new SourceLocation(target));
            return failed;
        }
        finally
        {
            DeleteQuietly(temp);
            DeleteQuietly(temp + "-journal");
        }
    }

    /// <summary>
    /// What became of one document: a mapped record ready for the database; or nothing to write (<see cref="Skipped"/>:
    /// too large, with a warning; <c>Damage</c>: the archive is damaged and the import must stop).
    /// </summary>
    private readonly record struct Mapped(OsvReadStatus Status, AdvisoryRow? Row, bool Skipped = false, string? Damage = null, string? Archive = null);

    /// <summary>Documents mapped together: their rows in input order, and the diagnostics of their records.</summary>
    private sealed record MappedBatch(Mapped[] Items, DiagnosticBag Diagnostics);

    private const int BatchSize = 256;

    // Reading archives runs on one thread (it only copies each entry's compressed bytes); inflating, parsing and
    // building the stored columns run on every core, a batch of documents at a time; writing SQLite runs on the calling
    // thread. The writer takes the batches in the order they were read, so which of two copies of a record wins stays
    // deterministic.
    private static AdvisoryImportResult ReadInputs(IReadOnlyList<string> inputs, AdvisoryImportOptions options, AdvisoryStoreWriter writer, DiagnosticBag diagnostics, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Bounded: a few batches per core in flight, so memory stays flat however large the input.
        using var batches = new BlockingCollection<Task<MappedBatch>>(boundedCapacity: 4 * Environment.ProcessorCount);
        var archiveDiagnostics = new DiagnosticBag();
        var limits = options.Limits;

        var reading = Task.Factory.StartNew(() =>
        {
            try
            {
                var batch = new List<ArchiveDocument>(BatchSize);
                void Flush()
                {
                    var documents = batch.ToArray();
                    batch.Clear();
                    batches.Add(Task.Run(() => Map(documents, limits), stop.Token), stop.Token);
                }
                foreach (var input in inputs)
                {
                    var ok = AdvisoryArchive.Read(input, limits, archiveDiagnostics, (in ArchiveDocument document) =>
                    {
                        batch.Add(document);
                        if (batch.Count == BatchSize)
                        {
                            Flush();
                        }
                    }, stop.Token);
                    if (!ok)
                    {
                        return false;
                    }
                }
                if (batch.Count > 0)
                {
                    Flush();
                }
                return true;
            }
            finally
            {
                batches.CompleteAdding();
            }
        }, stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        int read = 0, inserted = 0, updated = 0, unchanged = 0, other = 0, rejected = 0;
        Mapped? damaged = null;
        var recordDiagnostics = new List<DiagnosticBag>();
        var pending = new List<Task>();
        try
        {
            foreach (var task in batches.GetConsumingEnumerable(stop.Token))
            {
                pending.Add(task);
                var batch = task.GetAwaiter().GetResult();
                recordDiagnostics.Add(batch.Diagnostics);
                foreach (var item in batch.Items)
                {
                    if (item.Damage is not null)
                    {
                        damaged = item;
                        break;
                    }
                    if (item.Skipped)
                    {
                        continue;
                    }
                    read++;
                    switch (item.Status)
                    {
                        case OsvReadStatus.Rejected:
                            rejected++;
                            break;
                        case OsvReadStatus.OtherEcosystem:
                            other++;
                            break;
                        default:
                            switch (writer.Upsert(item.Row!))
                            {
                                case UpsertOutcome.Inserted: inserted++; break;
                                case UpsertOutcome.Updated: updated++; break;
                                default: unchanged++; break;
                            }
                            break;
                    }
                }
                pending.Clear();
                if (damaged is not null)
                {
                    stop.Cancel();
                    break;
                }
            }
        }
        catch
        {
            stop.Cancel();
            throw;
        }
        finally
        {
            // Wait for the reader and every batch it started whatever happened, so no thread still reads an input after we return.
            try
            {
                reading.Wait(CancellationToken.None);
            }
            catch (AggregateException) when (stop.IsCancellationRequested)
            {
            }
            var started = pending.Concat(batches.ToArray()).ToArray();
            try
            {
                Task.WaitAll(started, CancellationToken.None);
            }
            catch (AggregateException) when (stop.IsCancellationRequested)
            {
            }
            foreach (var d in archiveDiagnostics.Items.Concat(recordDiagnostics.SelectMany(b => b.Items)))
            {
                diagnostics.Add(d);
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (damaged is { } damage)
        {
            AdvisoryArchive.ReportDamaged(diagnostics, damage.Archive!, damage.Damage!);
            return new AdvisoryImportResult { Succeeded = false };
        }
        // An exception of a stage (a bug, or an I/O failure) surfaces here.
        if (!reading.GetAwaiter().GetResult())
        {
            return new AdvisoryImportResult { Succeeded = false };
        }
        return new AdvisoryImportResult
        {
            Succeeded = true,
            Read = read,
            Inserted = inserted,
            Updated = updated,
            Unchanged = unchanged,
            OtherEcosystem = other,
            Rejected = rejected,
        };
    }

    /// <summary>Inflates and parses a batch of documents and prepares the stored columns of each record (on a pool thread).</summary>
    private static MappedBatch Map(ArchiveDocument[] documents, ArchiveLimits limits)
    {
        var diagnostics = new DiagnosticBag();
        var items = new Mapped[documents.Length];
        var buffer = new byte[64 * 1024];
        var rows = new OsvRowReader();
        for (var i = 0; i < documents.Length; i++)
        {
            var document = documents[i];
            ReadOnlySpan<byte> json;
            try
            {
                if (!AdvisoryArchive.Decode(document, limits, ref buffer, diagnostics, out json))
                {
                    items[i] = new Mapped(OsvReadStatus.Rejected, null, Skipped: true);
                    continue;
                }
            }
            catch (InvalidDataException e)
            {
                items[i] = new Mapped(OsvReadStatus.Rejected, null, Damage: e.Message, Archive: document.Archive);
                break;
            }
            // The row is read straight from the JSON; a record the fast reader is not sure of is read in full, which
            // says what is wrong with it.
            if (rows.TryRead(json, out var status))
            {
                items[i] = status == OsvReadStatus.Read ? new Mapped(status, rows.Row(Stored(document, json))) : new Mapped(status, null);
                continue;
            }
            var result = OsvReader.Read(json, document.Source, diagnostics);
            items[i] = result.Status == OsvReadStatus.Read
                ? new Mapped(result.Status, AdvisoryRow.Create(result.Advisory!, Stored(document, json)))
                : new Mapped(result.Status, null);
        }
        return new MappedBatch(items, diagnostics);

        // An archive entry is stored as it was compressed in the archive; a loose file is compressed here.
        static byte[] Stored(in ArchiveDocument document, ReadOnlySpan<byte> json) => document.Deflated ? document.Data : RecordCompression.Compress(json);
    }

    private static bool CanMergeInto(string target, DiagnosticBag diagnostics)
    {
        if (AdvisoryStore.TryOpen(target, out var store, out var error))
        {
            store.Dispose();
            return true;
        }
        // An older schema is fine: the writer upgrades the copy. Anything else would be overwritten blindly.
        if (error.Problem == AdvisoryStoreProblem.WrongVersion && error.Message.Contains("this release reads", StringComparison.Ordinal) && OlderSchema(target))
        {
            return true;
        }
        diagnostics.Error(DiagnosticIds.FileUnreadable, error.Message, new SourceLocation(target),
            "pass --replace to rebuild it from the inputs, or --db to import into another file");
        return false;
    }

    /// <summary>True when the file is an advisory database of an older schema version (an import upgrades it).</summary>
    internal static bool OlderSchema(string path)
    {
        try
        {
            using var connection = new SqliteConnection(AdvisoryStoreSchema.ConnectionString(path, SqliteOpenMode.ReadOnly));
            connection.Open();
            var version = AdvisoryStoreSchema.ReadVersion(connection);
            return version > 0 && version < AdvisoryStoreSchema.CurrentVersion;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    /// <summary>fsync before the rename, so a crash cannot leave a renamed but half-written database.</summary>
    private static void FlushToDisk(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Removes temporary files left by imports whose process was killed (no finally block ran).</summary>
    private static void RemoveStaleTemporaryFiles(string target)
    {
        var folder = Path.GetDirectoryName(target)!;
        var prefix = $".{Path.GetFileName(target)}.";
        foreach (var file in Directory.EnumerateFiles(folder, prefix + "*.tmp*"))
        {
            var rest = Path.GetFileName(file)[prefix.Length..];
            var dot = rest.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !IsRunning(pid))
            {
                DeleteQuietly(file);
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
