using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Advisories;

/// <summary>Why an advisory database could not be opened.</summary>
public enum AdvisoryStoreProblem
{
    /// <summary>There is no file at the path.</summary>
    Missing,
    /// <summary>The file exists but is not a readable Tollgate advisory database.</summary>
    Unreadable,
    /// <summary>The file was written by a newer release (or needs an upgrade that a read-only open cannot do).</summary>
    WrongVersion,
}

/// <summary>An advisory database that could not be opened, with a message for people.</summary>
public sealed record AdvisoryStoreError(AdvisoryStoreProblem Problem, string Path, string Message)
{
    /// <summary>The advice printed under the message.</summary>
    public string Hint => Problem switch
    {
        AdvisoryStoreProblem.Missing => "run `tollgate db update`, or `tollgate db import FILE` for offline use",
        AdvisoryStoreProblem.WrongVersion => "run `tollgate db update` (or `tollgate db import`) with this release to rebuild it",
        _ => "delete the file and run `tollgate db update`, or pass --db to use another file",
    };

    public override string ToString() => Message;
}

/// <summary>Thrown by <see cref="AdvisoryStore.Open"/>; <see cref="AdvisoryStore.TryOpen"/> returns the same error as a value.</summary>
public sealed class AdvisoryStoreException : Exception
{
    public AdvisoryStoreException(AdvisoryStoreError error) : base(error.Message) => Error = error;

    public AdvisoryStoreException() : this(new AdvisoryStoreError(AdvisoryStoreProblem.Unreadable, "", "advisory database error")) { }

    public AdvisoryStoreException(string message) : this(new AdvisoryStoreError(AdvisoryStoreProblem.Unreadable, "", message)) { }

    public AdvisoryStoreException(string message, Exception inner) : base(message, inner) =>
        Error = new AdvisoryStoreError(AdvisoryStoreProblem.Unreadable, "", message);

    public AdvisoryStoreError Error { get; }
}

/// <summary>How many advisories of one kind affect packages of one ecosystem.</summary>
public sealed record AdvisoryCount(Ecosystem Ecosystem, AdvisoryKind Kind, int Advisories, int Withdrawn);

/// <summary>What an advisory database holds and where it came from (<c>tollgate db status</c>).</summary>
public sealed record AdvisoryStoreStatus
{
    public required string Path { get; init; }
    public required long SizeBytes { get; init; }
    public required int SchemaVersion { get; init; }

    /// <summary>Distinct advisories in the database (an advisory affecting two ecosystems counts once).</summary>
    public required int Advisories { get; init; }
    public required int Withdrawn { get; init; }

    /// <summary>Per ecosystem and kind; an advisory affecting two ecosystems counts in both.</summary>
    public required ImmutableArray<AdvisoryCount> Counts { get; init; }

    /// <summary>Where the last import or update read from (paths or the base URL).</summary>
    public string? Source { get; init; }

    /// <summary>When the database was last written by an import or update.</summary>
    public DateTimeOffset? ImportedAt { get; init; }

    /// <summary>The newest <c>modified</c> time among the advisories: how fresh the data itself is.</summary>
    public DateTimeOffset? NewestModified { get; init; }
}

/// <summary>
/// The local advisory database (SQLite), opened read-only. Scans look advisories up by package or id;
/// imports and updates write a new file and rename it over this one (see <see cref="AdvisoryImporter"/>).
/// </summary>
public sealed class AdvisoryStore : IDisposable
{
    private readonly SqliteConnection _connection;
    // A scan asks once per package name, over a thousand times: the statement is prepared once.

    private AdvisoryStore(string path, SqliteConnection connection, int schemaVersion)
    {
        Path = path;
        _connection = connection;
        SchemaVersion = schemaVersion;
    }

    public string Path { get; }

    public int SchemaVersion { get; }

    /// <summary>Opens a database read-only, or throws <see cref="AdvisoryStoreException"/> with a clear message.</summary>
    public static AdvisoryStore Open(string path) =>
        TryOpen(path, out var store, out var error) ? store : throw new AdvisoryStoreException(error);

    /// <summary>Opens a database read-only; a missing, foreign, corrupt or too-new file gives an error value.</summary>
    public static bool TryOpen(string path, [NotNullWhen(true)] out AdvisoryStore? store, [NotNullWhen(false)] out AdvisoryStoreError? error)
    {
        store = null;
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            error = new AdvisoryStoreError(AdvisoryStoreProblem.Missing, full,
                $"no advisory database at {full}: run `tollgate db update`, or `tollgate db import FILE` for offline use");
            return false;
        }
        SqliteConnection? connection = null;
        try
        {
            connection = new SqliteConnection(AdvisoryStoreSchema.ConnectionString(full, SqliteOpenMode.ReadOnly));
            connection.Open();
            var version = AdvisoryStoreSchema.ReadVersion(connection);
            if (version != AdvisoryStoreSchema.CurrentVersion)
            {
                connection.Dispose();
                error = version == 0
                    ? new AdvisoryStoreError(AdvisoryStoreProblem.Unreadable, full, $"{full} is not a Tollgate advisory database")
                    : new AdvisoryStoreError(AdvisoryStoreProblem.WrongVersion, full,
                        $"{full} has advisory database schema version {version}; this release reads version {AdvisoryStoreSchema.CurrentVersion}");
                return false;
            }
            // Touch every table once so a damaged file fails here, not in the middle of a scan.
            using (var probe = connection.CreateCommand())
            {
                probe.CommandText = "SELECT (SELECT count(*) FROM meta), (SELECT 1 FROM advisories LIMIT 1), (SELECT 1 FROM affected LIMIT 1), (SELECT 1 FROM aliases LIMIT 1)";
                probe.ExecuteScalar();
            }
            store = new AdvisoryStore(full, connection, version);
            error = null;
            return true;
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            connection?.Dispose();
            error = new AdvisoryStoreError(AdvisoryStoreProblem.Unreadable, full, $"cannot read the advisory database {full}: {SqliteMessage(e)}");
            return false;
        }
    }

    /// <summary>Which advisories name each of the packages in $packages (a JSON array of [ecosystem, normalised name]).</summary>
    private const string ByPackagesSql = """
        SELECT DISTINCT f.ecosystem, f.normalized_name, f.advisory_id
        FROM json_each($packages) w
        JOIN affected f ON f.ecosystem = json_extract(w.value, '$[0]') AND f.normalized_name = json_extract(w.value, '$[1]')
        """;

    /// <summary>The stored records of the advisories in $ids (a JSON array of ids).</summary>
    private const string RecordsByIdSql = "SELECT id, raw FROM advisories WHERE id IN (SELECT value FROM json_each($ids))";

    /// <summary>Advisories (withdrawn ones included, see <see cref="Advisory.IsWithdrawn"/>) that affect a package, by its normalised name.</summary>
    public IReadOnlyList<Advisory> FindByPackage(Ecosystem ecosystem, string name) =>
        FindByPackages([(ecosystem, name)]).Values.Single();

    /// <summary>
    /// <see cref="FindByPackage"/> for many packages at once: the records are read in one pass over the database and
    /// then decompressed and parsed in parallel, each record once however many of the packages it names.
    /// </summary>
    public Dictionary<(Ecosystem Ecosystem, string Name), IReadOnlyList<Advisory>> FindByPackages(IEnumerable<(Ecosystem Ecosystem, string Name)> packages)
    {
        // Two statements however many packages: which advisories name each package, then those advisories' records.
        // (A statement per package cost more in statement overhead than in reading the database.)
        var idsByPackage = new Dictionary<(Ecosystem, string), List<string>>();
        foreach (var (ecosystem, name) in packages)
        {
            idsByPackage.TryAdd((ecosystem, Component.NormalizeName(ecosystem, name)), []);
        }
        var rawById = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = ByPackagesSql;
            command.Parameters.AddWithValue("$packages", JsonArray(idsByPackage.Keys, (json, key) =>
            {
                json.WriteStartArray();
                json.WriteStringValue(key.Item1.ToOsvName());
                json.WriteStringValue(key.Item2);
                json.WriteEndArray();
            }));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var id = reader.GetString(2);
                if (EcosystemNames.TryParse(reader.GetString(0), out var ecosystem) && idsByPackage.TryGetValue((ecosystem, reader.GetString(1)), out var ids))
                {
                    ids.Add(id);
                    rawById.TryAdd(id, []);
                }
            }
        }
        if (rawById.Count > 0)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = RecordsByIdSql;
            command.Parameters.AddWithValue("$ids", JsonArray(rawById.Keys, (json, id) => json.WriteStringValue(id)));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                rawById[reader.GetString(0)] = (byte[])reader.GetValue(1);
            }
        }
        foreach (var ids in idsByPackage.Values)
        {
            ids.Sort(StringComparer.Ordinal);
        }
        var parsed = new ConcurrentDictionary<string, Advisory>(StringComparer.Ordinal);
        Parallel.ForEach(rawById, pair =>
        {
            if (ReadRecord(pair.Key, pair.Value, new DiagnosticBag()) is { } advisory)
            {
                parsed[pair.Key] = advisory;
            }
        });
        var result = new Dictionary<(Ecosystem, string), IReadOnlyList<Advisory>>();
        foreach (var (key, ids) in idsByPackage)
        {
            result[key] = [.. ids.Where(parsed.ContainsKey).Select(id => parsed[id])];
        }
        return result;
    }

    /// <summary>A JSON array of <paramref name="items"/>, each written by <paramref name="write"/>: a list parameter for <c>json_each</c>.</summary>
    private static string JsonArray<T>(IEnumerable<T> items, Action<System.Text.Json.Utf8JsonWriter, T> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var item in items)
            {
                write(json, item);
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// The advisory with this id, then those that list it as an alias (a CVE id can be an alias of
    /// several advisories). Empty when none.
    /// </summary>
    public IReadOnlyList<Advisory> FindById(string idOrAlias)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT id, raw FROM advisories WHERE id = $id
            UNION ALL
            SELECT a.id, a.raw FROM aliases s JOIN advisories a ON a.id = s.advisory_id
            WHERE s.alias = $id AND a.id <> $id
            """;
        command.Parameters.AddWithValue("$id", idOrAlias.Trim());
        return ReadAdvisories(command);
    }

    /// <summary>A value of the meta table (source, import time, HTTP validators), or null.</summary>
    public string? Meta(string key)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    /// <summary>When the last import or update finished, from the meta table; cheap, unlike <see cref="Status"/>.</summary>
    public DateTimeOffset? ImportedAt() => AdvisoryStoreSchema.ParseTime(Meta(AdvisoryMetaKeys.ImportedAt));

    /// <summary>A value that changes whenever the database is imported or updated (also while it is open elsewhere).</summary>
    public string DataVersion() => $"{Meta(AdvisoryMetaKeys.ImportedAt)}|{Meta(AdvisoryMetaKeys.LastImport)}";

    /// <summary>
    /// How many records (withdrawn ones included) name a package of each ecosystem: what a scan reports as its coverage.
    /// An ecosystem without records is absent. Reads the package index only.
    /// </summary>
    public IReadOnlyDictionary<Ecosystem, int> RecordsByEcosystem()
    {
        var counts = new Dictionary<Ecosystem, int>();
        if (ParseCounts(Meta(AdvisoryMetaKeys.RecordsByEcosystem)) is { } stored)
        {
            // Written by every import; databases written before that are counted below.
            foreach (var (name, count) in stored)
            {
                if (OsvReader.TryEcosystem(name, out var ecosystem))
                {
                    counts[ecosystem] = count;
                }
            }
            return counts;
        }
        using var command = _connection.CreateCommand();
        command.CommandText = RecordsByEcosystemSql;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (OsvReader.TryEcosystem(reader.GetString(0), out var ecosystem))
            {
                counts[ecosystem] = reader.GetInt32(1);
            }
        }
        return counts;
    }

    internal const string RecordsByEcosystemSql = "SELECT ecosystem, count(DISTINCT advisory_id) FROM affected GROUP BY ecosystem";

    /// <summary><c>npm=200 PyPI=60</c>: the per-ecosystem record counts as the meta table keeps them.</summary>
    internal static string FormatCounts(IReadOnlyDictionary<string, int> counts) =>
        string.Join(' ', counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={AdvisoryMetaKeys.Format(c.Value)}"));

    private static Dictionary<string, int>? ParseCounts(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !int.TryParse(part.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                return null;
            }
            result[part[..eq]] = count;
        }
        return result;
    }

    /// <summary>Counts per ecosystem and kind, the source and the import time. Reads every advisory: seconds for a full database.</summary>
    public AdvisoryStoreStatus Status()
    {
        var counts = ImmutableArray.CreateBuilder<AdvisoryCount>();
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = """
                SELECT f.ecosystem, a.kind, count(*), sum(a.withdrawn IS NOT NULL)
                FROM (SELECT DISTINCT advisory_id, ecosystem FROM affected) f JOIN advisories a ON a.id = f.advisory_id
                GROUP BY f.ecosystem, a.kind ORDER BY f.ecosystem, a.kind
                """;
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (OsvReader.TryEcosystem(reader.GetString(0), out var ecosystem))
                {
                    counts.Add(new AdvisoryCount(ecosystem, AdvisoryStoreSchema.ParseKind(reader.GetString(1)), reader.GetInt32(2), reader.GetInt32(3)));
                }
            }
        }
        int total, withdrawn;
        string? newest;
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT count(*), coalesce(sum(withdrawn IS NOT NULL), 0), max(modified) FROM advisories";
            using var reader = command.ExecuteReader();
            reader.Read();
            total = reader.GetInt32(0);
            withdrawn = reader.GetInt32(1);
            newest = reader.IsDBNull(2) ? null : reader.GetString(2);
        }
        return new AdvisoryStoreStatus
        {
            Path = Path,
            SizeBytes = new FileInfo(Path).Length,
            SchemaVersion = SchemaVersion,
            Advisories = total,
            Withdrawn = withdrawn,
            Counts = [.. counts.OrderBy(c => c.Ecosystem).ThenBy(c => c.Kind)],
            Source = Meta(AdvisoryMetaKeys.Source),
            ImportedAt = ImportedAt(),
            NewestModified = AdvisoryStoreSchema.ParseTime(newest),
        };
    }

    public void Dispose()
    {
        _connection.Dispose();
    }

    private List<Advisory> ReadAdvisories(SqliteCommand command)
    {
        var result = new List<Advisory>();
        var diagnostics = new DiagnosticBag();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (ReadRecord(reader.GetString(0), (byte[])reader.GetValue(1), diagnostics) is { } advisory)
            {
                result.Add(advisory);
            }
        }
        return result;
    }

    /// <summary>
    /// One stored record. Records were validated on import; one that no longer reads (a newer writer's data) is null.
    /// </summary>
    private Advisory? ReadRecord(string id, byte[] compressed, DiagnosticBag diagnostics)
    {
        // Inflated into a pooled buffer and parsed from there: a scan reads hundreds of records at once, and a new
        // array for each (grown by a stream, then copied) made garbage collection most of what reading them cost.
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(compressed.Length * 8, 16 * 1024));
        var buffer = rented;
        try
        {
            var length = RecordCompression.Inflate(compressed, ref buffer, buffer.Length - 1, MaxStoredRecordBytes);
            return length < 0 ? null : OsvReader.Read(buffer.AsSpan(0, length), $"{Path}:{id}", diagnostics).Advisory;
        }
        catch (InvalidDataException)
        {
            // Not deflate data: a damaged file, or a newer writer's data.
            return null;
        }
        finally
        {
            // A record larger than the rented buffer grew a buffer of its own, left to the garbage collector.
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The largest record an import stores (<see cref="ArchiveLimits.MaxEntryBytes"/> can be raised, so with room).</summary>
    private const long MaxStoredRecordBytes = 1L << 30;

    internal static string SqliteMessage(Exception e) => e is SqliteException s
        ? s.SqliteErrorCode switch
        {
            26 => "the file is not an SQLite database",
            11 => "the database file is damaged",
            14 => "the file cannot be opened",
            _ => s.Message.Replace("SQLite Error ", "error ", StringComparison.Ordinal),
        }
        : e.Message;
}

/// <summary>Keys of the meta table.</summary>
public static class AdvisoryMetaKeys
{
    /// <summary>Where the last import or update read from.</summary>
    public const string Source = "source";

    /// <summary>When the last import or update finished (UTC).</summary>
    public const string ImportedAt = "imported_at";

    /// <summary>How many records name a package of each ecosystem (<c>npm=N PyPI=N NuGet=N</c>), counted when the import committed.</summary>
    public const string RecordsByEcosystem = "records_by_ecosystem";

    /// <summary>The counts of the last import, as <c>read=N imported=N unchanged=N other=N rejected=N</c>.</summary>
    public const string LastImport = "last_import";

    /// <summary>The ETag a download URL last answered with.</summary>
    public static string ETag(Uri url) => "http.etag " + url.AbsoluteUri;

    /// <summary>The Last-Modified a download URL last answered with (RFC 1123 text).</summary>
    public static string LastModified(Uri url) => "http.last_modified " + url.AbsoluteUri;

    internal static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
