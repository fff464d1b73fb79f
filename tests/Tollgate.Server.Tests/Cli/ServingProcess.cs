using System.Diagnostics;
using System.Text;

namespace Tollgate.Server.Tests.Cli;

/// <summary>
/// A <c>tollgate</c> process that listens on port 0 and prints the address it got. Its addresses are read from those
/// lines, so no port is chosen by the test, released, and perhaps taken by another process before the server binds it
/// (a server started as a process takes seconds to bind on a loaded machine). Stderr is read as it comes.
/// </summary>
internal sealed class ServingProcess : IDisposable
{
    private readonly StringBuilder _stderr = new();
    private readonly Task _reading;

    private ServingProcess(Process process, Dictionary<string, TaskCompletionSource<Uri?>> addresses)
    {
        Process = process;
        Stdout = process.StandardOutput.ReadToEndAsync();
        _reading = Read(addresses);
    }

    public Process Process { get; }

    public Task<string> Stdout { get; }

    /// <summary>Everything the process printed on stderr, once it has closed stderr (exited).</summary>
    public async Task<string> Stderr()
    {
        await _reading;
        lock (_stderr)
        {
            return _stderr.ToString();
        }
    }

    /// <summary>
    /// Asks the process to stop as Ctrl+C does: SIGINT. A test run started in the background by a shell without job
    /// control ignores SIGINT, and so do the processes it starts (an ignored signal is inherited, and a program keeps it
    /// ignored); then SIGTERM, which the servers handle the same way.
    /// </summary>
    public async Task InterruptAsync()
    {
        var signal = SigintIgnored() ? "-TERM" : "-INT";
        using var kill = System.Diagnostics.Process.Start("kill", [signal, Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    /// <summary>True when this process ignores SIGINT (bit 2 of <c>SigIgn</c> in <c>/proc/self/status</c>).</summary>
    private static bool SigintIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << 1)) != 0;
    }

    /// <summary>What the process printed on stderr so far.</summary>
    public string StderrSoFar()
    {
        lock (_stderr)
        {
            return _stderr.ToString();
        }
    }

    /// <summary>
    /// Starts <paramref name="start"/> (whose listen addresses have port 0) and waits, for up to two minutes, for a line
    /// that has each of <paramref name="markers"/> followed by a URL; returns the process and those URLs in order.
    /// Fails the test, with what the process printed, when it exits or stays silent instead.
    /// </summary>
    public static async Task<(ServingProcess Process, Uri[] Addresses)> StartAsync(ProcessStartInfo start, params string[] markers)
    {
        var addresses = markers.ToDictionary(m => m, _ => new TaskCompletionSource<Uri?>(TaskCreationOptions.RunContinuationsAsynchronously), StringComparer.Ordinal);
        var serving = new ServingProcess(Process.Start(start)!, addresses);
        var all = Task.WhenAll(addresses.Values.Select(a => a.Task));
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromMinutes(2))) != all || all.Result.Any(a => a is null))
        {
            if (!serving.Process.HasExited)
            {
                serving.Process.Kill(entireProcessTree: true);
            }
            Assert.Fail($"{string.Join(" and ", markers.Select(m => $"'{m}'"))} not printed: {serving.StderrSoFar()}");
        }
        return (serving, [.. markers.Select(m => addresses[m].Task.Result!)]);
    }

    private async Task Read(Dictionary<string, TaskCompletionSource<Uri?>> addresses)
    {
        try
        {
            while (await Process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_stderr)
                {
                    _stderr.Append(line).Append('\n');
                }
                foreach (var (marker, address) in addresses)
                {
                    var at = line.IndexOf(marker, StringComparison.Ordinal);
                    if (at >= 0 && !address.Task.IsCompleted)
                    {
                        var url = line[(at + marker.Length)..].Split([' ', ','], 2)[0];
                        address.TrySetResult(Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Port > 0 ? parsed : null);
                    }
                }
            }
        }
        finally
        {
            // Exited (or closed stderr) before printing an address: no address will come.
            foreach (var address in addresses.Values)
            {
                address.TrySetResult(null);
            }
        }
    }

    /// <summary>Ends the process if it still runs (a test that failed before stopping it leaves no server behind).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
        Process.Dispose();
    }

    private bool _disposed;
}
