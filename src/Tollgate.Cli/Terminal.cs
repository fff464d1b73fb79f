using Spectre.Console;
using Tollgate.Graph;

namespace Tollgate.Cli;

/// <summary>
/// The two streams a command writes to: machine output and tables on stdout, messages and diagnostics on stderr.
/// Colour only when the stream is a terminal and NO_COLOR is unset.
/// </summary>
internal sealed class Terminal
{
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <param name="width">The width tables are laid out for; default: the console's, or 160 when output is redirected.</param>
    public Terminal(TextWriter output, TextWriter error, int? width = null)
    {
        OutWriter = output;
        ErrorWriter = error;
        Out = Create(output, Console.IsOutputRedirected || output != Console.Out, 160);
        if (width is { } w)
        {
            Out.Profile.Width = w;
        }
        // Messages are read line by line in CI logs: never wrap them.
        Error = Create(error, Console.IsErrorRedirected || error != Console.Error, 1000);
    }

    public static Terminal System { get; } = new(Console.Out, Console.Error);

    /// <summary>The raw stdout writer, for JSON, SARIF and other machine output.</summary>
    public TextWriter OutWriter { get; }

    /// <summary>The raw stderr writer.</summary>
    public TextWriter ErrorWriter { get; }

    /// <summary>Rich rendering (tables, trees) to stdout.</summary>
    public IAnsiConsole Out { get; private set; }

    /// <summary>Messages, warnings and diagnostics to stderr.</summary>
    public IAnsiConsole Error { get; private set; }

    private static IAnsiConsole Create(TextWriter writer, bool redirected, int redirectedWidth, bool noColor = false)
    {
        noColor |= !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected || noColor ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected || noColor ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(writer),
        });
        if (redirected)
        {
            // Redirected output is read by people in CI logs and by tools: do not wrap at 80 columns.
            console.Profile.Width = redirectedWidth;
        }
        return console;
    }

    /// <summary>Turns colours and escape codes off on both streams (<c>--no-color</c>).</summary>
    public void NoColor()
    {
        // Spectre.Console reads NO_COLOR itself when it detects what the terminal supports: set it for this process.
        Environment.SetEnvironmentVariable("NO_COLOR", "1");
        var width = Out.Profile.Width;
        Out = Create(OutWriter, Console.IsOutputRedirected || OutWriter != Console.Out, 160, noColor: true);
        Out.Profile.Width = width;
        Error = Create(ErrorWriter, Console.IsErrorRedirected || ErrorWriter != Console.Error, 1000, noColor: true);
    }

    /// <summary>True with <c>--quiet</c>: progress and file lines are not printed; results, warnings and errors are.</summary>
    public bool Quiet { get; set; }

    /// <summary>The live status line of the work in progress, if any: erased before each message so they do not mix.</summary>
    public ScanProgress? Live { get; set; }

    public void Message(string text) => Print(() => Error.MarkupLineInterpolated($"{text}"));

    /// <summary>A progress line (<c>read FILE</c>, <c>wrote FILE</c>): a grey label and its text, left out with --quiet.</summary>
    public void Progress(string label, string text)
    {
        if (!Quiet)
        {
            Print(() => Error.MarkupLineInterpolated($"[grey]{label}[/] {text}"));
        }
    }

    public void Warning(string text) => Print(() => Error.MarkupLineInterpolated($"[yellow]warning:[/] {text}"));

    public void Fail(string text) => Print(() => Error.MarkupLineInterpolated($"[red]error:[/] {text}"));

    /// <summary>Prints diagnostics, errors first, each with its location and hint.</summary>
    public void Diagnostics(IEnumerable<Diagnostic> diagnostics, bool includeInfo = false) => Print(() =>
    {
        foreach (var d in diagnostics.OrderByDescending(d => d.Severity))
        {
            if (d.Severity == DiagnosticSeverity.Info && !includeInfo)
            {
                continue;
            }
            var (colour, label) = d.Severity switch
            {
                DiagnosticSeverity.Error => ("red", "error"),
                DiagnosticSeverity.Warning => ("yellow", "warning"),
                _ => ("grey", "info"),
            };
            var where = d.Location is null ? "" : d.Location + ": ";
            Error.MarkupLineInterpolated($"{where}[{colour}]{label}[/] {d.Id}: {d.Message}");
            if (d.Hint is not null)
            {
                Error.MarkupLineInterpolated($"  [grey]hint:[/] {d.Hint}");
            }
        }
    });

    /// <summary>Prints a message: with a live status line, erased first and held off until the message is written.</summary>
    private void Print(Action write)
    {
        if (Live is { } live)
        {
            live.Interrupt(write);
        }
        else
        {
            write();
        }
    }
}
