using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Cli.Commands;

internal sealed record DbImportOptions(IReadOnlyList<string> Paths, string? Database, bool Replace);

internal sealed record DbUpdateOptions(string? Source, IReadOnlyList<string> Ecosystems, string? Database);

internal sealed record DbStatusOptions(string? Database, string Format);

/// <summary><c>tollgate db import|update|status</c>: the local advisory database that <c>scan</c> reads.</summary>
internal static class DbCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Command("db", """
            Manage the local advisory database (OSV records for npm, PyPI and NuGet) that scans read.

            The database lives in $TOLLGATE_HOME/advisories.db (default: $XDG_DATA_HOME/tollgate or
            ~/.local/share/tollgate); --db picks another file. Every change builds a new file and renames it
            over the old one, so a failed or interrupted update leaves the old database working.

            Examples:
              tollgate db update
              tollgate db update --ecosystem npm --ecosystem PyPI
              tollgate db import npm-all.zip PyPI-all.zip
              tollgate db status --format json
            """)
        {
            CreateImport(terminal),
            CreateUpdate(terminal),
            CreateStatus(terminal),
        };
        return command;
    }

    private static Option<string?> DatabaseOption() => new("--db")
    {
        Description = "The advisory database file (default: $TOLLGATE_HOME/advisories.db).",
        HelpName = "FILE",
    };

    private static Command CreateImport(Terminal terminal)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "OSV all.zip archives, folders of OSV .json records (searched recursively), or .json records.",
            Arity = ArgumentArity.OneOrMore,
        };
        var database = DatabaseOption();
        var replace = new Option<bool>("--replace")
        {
            Description = "Start from an empty database instead of merging into the existing one.",
        };
        var command = new Command("import", """
            Import OSV records from files, for offline use or a mirror you fetch yourself.

            Records merge into the existing database: a record replaces the stored one only when its
            'modified' time is newer. Records of other ecosystems are counted and left out; malformed
            records are skipped with a warning. A damaged archive stops the import and changes nothing.

            Examples:
              tollgate db import all.zip
              tollgate db import ./advisories/ --db ./ci/advisories.db
            """)
        {
            paths, database, replace,
        };
        command.SetAction((result, cancellationToken) => Task.FromResult(Import(new DbImportOptions(
            result.GetValue(paths) ?? [],
            result.GetValue(database),
            result.GetValue(replace)), terminal, cancellationToken)));
        return command;
    }

    private static Command CreateUpdate(Terminal terminal)
    {
        var source = new Option<string?>("--source")
        {
            Description = $"Base URL of an OSV mirror holding {{Ecosystem}}/all.zip (default: ${AdvisorySource.SourceVariable}, else OSV's public bucket).",
            HelpName = "URL",
        };
        var ecosystems = new Option<string[]>("--ecosystem", "-e")
        {
            Description = "Only these ecosystems: npm, PyPI, NuGet (repeatable; default: all three).",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "ECOSYSTEM",
        };
        var database = DatabaseOption();
        var command = new Command("update", """
            Download the OSV archives of npm, PyPI and NuGet and import them.

            Conditional requests (ETag, Last-Modified) skip archives that have not changed; when none has,
            the database is left untouched. Server errors and timeouts are retried three times.

            Examples:
              tollgate db update
              tollgate db update --source https://mirror.example.com/osv --ecosystem npm
            """)
        {
            source, ecosystems, database,
        };
        command.SetAction((result, cancellationToken) => UpdateAsync(new DbUpdateOptions(
            result.GetValue(source),
            result.GetValue(ecosystems) ?? [],
            result.GetValue(database)), terminal, cancellationToken));
        return command;
    }

    private static Command CreateStatus(Terminal terminal)
    {
        var database = DatabaseOption();
        var format = new Option<string>("--format", "-f")
        {
            Description = "Output format: table or json.",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("status", """
            Show what the advisory database holds: advisories per ecosystem and kind, source and age.

            Examples:
              tollgate db status
              tollgate db status --format json
            """)
        {
            database, format,
        };
        command.SetAction(result => Status(new DbStatusOptions(result.GetValue(database), result.GetValue(format) ?? "table"), terminal, TimeProvider.System));
        return command;
    }

    public static int Import(DbImportOptions options, Terminal terminal, CancellationToken cancellationToken = default)
    {
        var path = TollgateHome.DatabasePath(options.Database);
        var diagnostics = new DiagnosticBag();
        AdvisoryImportResult result;
        try
        {
            result = AdvisoryImporter.Import(options.Paths, new AdvisoryImportOptions { DatabasePath = path, Replace = options.Replace }, diagnostics, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            terminal.Fail($"interrupted; the advisory database {path} is unchanged.");
            return ExitCodes.InputError;
        }
        terminal.Diagnostics(diagnostics.Items);
        if (!result.Succeeded)
        {
            terminal.Fail($"nothing was imported; the advisory database {path} is unchanged.");
            return ExitCodes.InputError;
        }
        ReportImport(result, path, terminal);
        return ExitCodes.Pass;
    }

    public static async Task<int> UpdateAsync(DbUpdateOptions options, Terminal terminal, CancellationToken cancellationToken = default)
    {
        if (!AdvisorySource.TryResolve(options.Source, out var baseUrl, out var sourceError))
        {
            terminal.Fail($"--source: {sourceError}");
            return ExitCodes.InputError;
        }
        var ecosystems = ImmutableArray.CreateBuilder<Ecosystem>();
        foreach (var name in options.Ecosystems)
        {
            if (!EcosystemNames.TryParse(name, out var ecosystem))
            {
                terminal.Fail($"--ecosystem: unknown ecosystem '{name}' (expected npm, PyPI or NuGet)");
                return ExitCodes.InputError;
            }
            ecosystems.Add(ecosystem);
        }
        var path = TollgateHome.DatabasePath(options.Database);
        var updateOptions = new AdvisoryUpdateOptions
        {
            DatabasePath = path,
            BaseUrl = baseUrl!,
            Ecosystems = ecosystems.Count > 0 ? ecosystems.ToImmutable() : [Ecosystem.Npm, Ecosystem.PyPI, Ecosystem.NuGet],
        };
        var diagnostics = new DiagnosticBag();
        using var http = CreateHttpClient();
        var updater = new AdvisoryUpdater(http);
        AdvisoryUpdateResult result;
        try
        {
            if (terminal.Error.Profile.Capabilities.Interactive)
            {
                result = await terminal.Error.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn())
                    .StartAsync(context => updater.UpdateAsync(updateOptions, diagnostics, new LiveProgress(context), cancellationToken)).ConfigureAwait(false);
            }
            else
            {
                result = await updater.UpdateAsync(updateOptions, diagnostics, new LineProgress(terminal), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            terminal.Fail($"interrupted; the advisory database {path} is unchanged.");
            return ExitCodes.InputError;
        }
        terminal.Diagnostics(diagnostics.Items);
        switch (result.Outcome)
        {
            case AdvisoryUpdateOutcome.UpToDate:
                terminal.Message($"the advisory database {path} is up to date.");
                return ExitCodes.Pass;
            case AdvisoryUpdateOutcome.Updated:
                ReportImport(result.Import!, path, terminal);
                return ExitCodes.Pass;
            default:
                terminal.Fail($"the update failed; the advisory database {path} is unchanged.");
                return ExitCodes.InputError;
        }
    }

    public static int Status(DbStatusOptions options, Terminal terminal, TimeProvider time)
    {
        var path = TollgateHome.DatabasePath(options.Database);
        if (!AdvisoryStore.TryOpen(path, out var store, out var error))
        {
            terminal.Fail(error.Message);
            if (error.Problem != AdvisoryStoreProblem.Missing)
            {
                terminal.Message($"hint: {error.Hint}");
            }
            return ExitCodes.InputError;
        }
        AdvisoryStoreStatus status;
        using (store)
        {
            status = store.Status();
        }
        var now = time.GetUtcNow();
        if (options.Format == "json")
        {
            terminal.OutWriter.WriteLine(StatusJson(status, now));
            return ExitCodes.Pass;
        }
        var table = new TerminalTable(["Ecosystem", "Kind", "Advisories", "Withdrawn"]);
        foreach (var count in status.Counts)
        {
            table.AddRow(
                Markup.Escape(count.Ecosystem.ToOsvName()),
                count.Kind == AdvisoryKind.Malicious ? "[red]malicious[/]" : "vulnerability",
                count.Advisories.ToString("N0", CultureInfo.InvariantCulture),
                count.Withdrawn.ToString("N0", CultureInfo.InvariantCulture));
        }
        table.Write(terminal.Out);
        terminal.Out.MarkupLineInterpolated($"{status.Advisories:N0} advisories ({status.Withdrawn:N0} withdrawn) in {status.Path} ({status.SizeBytes / 1048576.0:0.0} MiB, schema {status.SchemaVersion})");
        terminal.Out.MarkupLineInterpolated($"source:   {status.Source ?? "unknown"}");
        terminal.Out.MarkupLineInterpolated($"imported: {Time(status.ImportedAt)} ({Age(status.ImportedAt, now)})");
        terminal.Out.MarkupLineInterpolated($"newest record modified: {Time(status.NewestModified)} ({Age(status.NewestModified, now)})");
        return ExitCodes.Pass;
    }

    private static void ReportImport(AdvisoryImportResult result, string path, Terminal terminal)
    {
        var speed = result.Elapsed.TotalSeconds > 0 ? $", {result.RecordsPerSecond:N0} records/s" : "";
        terminal.Message(string.Create(CultureInfo.InvariantCulture,
            $"read {result.Read:N0} records in {result.Elapsed.TotalSeconds:0.0} s{speed}: {result.Inserted:N0} new, {result.Updated:N0} updated, {result.Unchanged:N0} unchanged, {result.OtherEcosystem:N0} of other ecosystems, {result.Rejected:N0} skipped as malformed"));
        terminal.Message($"wrote {path}");
    }

    private static string Time(DateTimeOffset? value) =>
        value is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "unknown";

    internal static string Age(DateTimeOffset? value, DateTimeOffset now)
    {
        if (value is not { } v)
        {
            return "age unknown";
        }
        var age = now - v;
        if (age < TimeSpan.Zero)
        {
            return "in the future";
        }
        return age.TotalMinutes < 1 ? "just now"
            : age.TotalHours < 1 ? $"{(int)age.TotalMinutes} min ago"
            : age.TotalDays < 2 ? $"{(int)age.TotalHours} h ago"
            : $"{(int)age.TotalDays} days ago";
    }

    private static string StatusJson(AdvisoryStoreStatus status, DateTimeOffset now)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("path", status.Path);
            json.WriteNumber("sizeBytes", status.SizeBytes);
            json.WriteNumber("schemaVersion", status.SchemaVersion);
            json.WriteNumber("advisories", status.Advisories);
            json.WriteNumber("withdrawn", status.Withdrawn);
            json.WriteStartArray("counts");
            foreach (var count in status.Counts)
            {
                json.WriteStartObject();
                json.WriteString("ecosystem", count.Ecosystem.ToOsvName());
                json.WriteString("kind", count.Kind == AdvisoryKind.Malicious ? "malicious" : "vulnerability");
                json.WriteNumber("advisories", count.Advisories);
                json.WriteNumber("withdrawn", count.Withdrawn);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            WriteStringOrNull(json, "source", status.Source);
            WriteTime(json, "importedAt", status.ImportedAt);
            if (status.ImportedAt is { } imported)
            {
                json.WriteNumber("ageSeconds", (long)Math.Max(0, (now - imported).TotalSeconds));
            }
            else
            {
                json.WriteNull("ageSeconds");
            }
            WriteTime(json, "newestModified", status.NewestModified);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            json.WriteString(name, v.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static HttpClient CreateHttpClient()
    {
        // No overall timeout: archives are large; the updater times out each request and each read instead.
        var http = new HttpClient(new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("tollgate/" + (typeof(DbCommand).Assembly.GetName().Version?.ToString(3) ?? "0"));
        return http;
    }

    /// <summary>Plain progress lines for logs and pipes.</summary>
    private sealed class LineProgress(Terminal terminal) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value)
        {
            var name = value.Ecosystem.ToOsvName();
            switch (value.Stage)
            {
                case DownloadStage.Started:
                    terminal.Message($"{name}: downloading {value.Url}");
                    break;
                case DownloadStage.Retrying:
                    terminal.Warning($"{name}: {value.Message}");
                    break;
                case DownloadStage.NotModified:
                    terminal.Message($"{name}: up to date (not modified since the last update)");
                    break;
                case DownloadStage.Finished:
                    terminal.Message($"{name}: downloaded {value.Received / 1048576.0:0.0} MiB");
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>Spectre.Console progress bars, when stderr is a terminal.</summary>
    private sealed class LiveProgress(ProgressContext context) : IProgress<DownloadProgress>
    {
        private readonly Dictionary<Ecosystem, ProgressTask> _tasks = [];

        public void Report(DownloadProgress value)
        {
            if (!_tasks.TryGetValue(value.Ecosystem, out var task))
            {
                task = context.AddTask(Markup.Escape(value.Ecosystem.ToOsvName()), maxValue: 1);
                task.IsIndeterminate = true;
                _tasks[value.Ecosystem] = task;
            }
            switch (value.Stage)
            {
                case DownloadStage.Receiving:
                    if (value.Total is { } total)
                    {
                        task.IsIndeterminate = false;
                        task.MaxValue = total;
                    }
                    task.Value = value.Received;
                    break;
                case DownloadStage.Retrying:
                    task.Description = Markup.Escape($"{value.Ecosystem.ToOsvName()} ({value.Message})");
                    break;
                case DownloadStage.NotModified:
                    task.Description = Markup.Escape($"{value.Ecosystem.ToOsvName()} (up to date)");
                    task.IsIndeterminate = false;
                    task.Value = task.MaxValue;
                    task.StopTask();
                    break;
                case DownloadStage.Finished:
                    task.IsIndeterminate = false;
                    task.Value = task.MaxValue;
                    task.StopTask();
                    break;
                default:
                    break;
            }
        }
    }
}
