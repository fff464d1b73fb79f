namespace Tollgate.Cli;

/// <summary>
/// A one-line status on stderr for work that takes longer than a second ("reading 3 lockfile(s)…", "matching 1,512
/// package(s) against 300,000 advisories…"), rewritten in place and erased when the work ends. Only on a terminal:
/// silent with <c>--quiet</c> and when stderr is redirected (CI logs, files, pipes), so it never mixes with output a
/// program reads.
/// </summary>
internal sealed class ScanProgress : IDisposable
{
    /// <summary>How long work runs before the status line appears.</summary>
    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(1);

    private readonly TextWriter? _writer;
    private readonly Timer? _timer;
    private readonly Lock _gate = new();
    private string _status = "";
    private string _shown = "";
    private bool _visible;
    private bool _disposed;

    /// <param name="writer">Standard error.</param>
    /// <param name="enabled">False when quiet or when <paramref name="writer"/> is not a terminal: nothing is ever written.</param>
    /// <param name="delay">How long work runs before the status line appears.</param>
    public ScanProgress(TextWriter writer, bool enabled, TimeSpan delay)
    {
        if (!enabled)
        {
            return;
        }
        _writer = writer;
        _timer = new Timer(_ => Show(), null, delay, TimeSpan.FromMilliseconds(200));
    }

    /// <summary>For a command's terminal: enabled when stderr is the process's own, a terminal, and not --quiet.</summary>
    public static ScanProgress For(Terminal terminal) =>
        new(terminal.ErrorWriter, !terminal.Quiet && terminal.ErrorWriter == Console.Error && !Console.IsErrorRedirected
            && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal), DefaultDelay);

    /// <summary>What is being done now, in words.</summary>
    public void Stage(string status)
    {
        lock (_gate)
        {
            _status = status;
        }
    }

    private void Show()
    {
        lock (_gate)
        {
            if (_disposed || _writer is null || (_visible && _shown == _status))
            {
                return;
            }
            // Carriage return, the status, then erase to the end of the line (what was left of a longer status).
            _writer.Write($"\r{_status}…\u001b[K");
            _writer.Flush();
            _shown = _status;
            _visible = true;
        }
    }

    /// <summary>Erases the status line so a message can be printed; it is drawn again on the next tick.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            ClearLocked();
        }
    }

    /// <summary>
    /// Erases the status line and prints a message with <paramref name="write"/> while no tick can draw the line again:
    /// a tick between the erase and the message would put the message after the status on the same line.
    /// </summary>
    public void Interrupt(Action write)
    {
        ArgumentNullException.ThrowIfNull(write);
        lock (_gate)
        {
            ClearLocked();
            write();
        }
    }

    private void ClearLocked()
    {
        if (_visible && _writer is not null)
        {
            _writer.Write("\r\u001b[K");
            _writer.Flush();
            _visible = false;
        }
    }

    /// <summary>Erases the status line (before results or messages are printed) and stops updating it.</summary>
    public void Dispose()
    {
        _timer?.Dispose();
        lock (_gate)
        {
            // A tick already under way sees this and draws nothing more.
            _disposed = true;
        }
        Clear();
    }
}
