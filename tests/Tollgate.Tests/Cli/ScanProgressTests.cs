using Tollgate.Cli;

namespace Tollgate.Tests.Cli;

/// <summary>The live status line of a long scan: on a terminal only, erased before messages and before the results.</summary>
public sealed class ScanProgressTests
{
    private static void WaitFor(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < until)
        {
            Thread.Sleep(20);
        }
        Assert.True(condition());
    }

    [Fact]
    public void Progress_OnTerminal_ShowsTheStageThenErasesIt()
    {
        var error = new StringWriter();
        using (var progress = new ScanProgress(error, enabled: true, TimeSpan.Zero))
        {
            progress.Stage("matching 1,512 package(s)");
            WaitFor(() => error.ToString().Contains("matching 1,512 package(s)", StringComparison.Ordinal));
        }
        var text = error.ToString();
        Assert.StartsWith("\r", text, StringComparison.Ordinal);
        Assert.EndsWith("\r\u001b[K", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Progress_Disabled_WritesNothing()
    {
        var error = new StringWriter();
        using (var progress = new ScanProgress(error, enabled: false, TimeSpan.Zero))
        {
            progress.Stage("reading");
            Thread.Sleep(300);
        }
        Assert.Equal("", error.ToString());
    }

    [Fact]
    public void Progress_NotShownBeforeTheDelay()
    {
        var error = new StringWriter();
        using (var progress = new ScanProgress(error, enabled: true, TimeSpan.FromSeconds(30)))
        {
            progress.Stage("reading");
            Thread.Sleep(300);
        }
        Assert.Equal("", error.ToString());
    }

    [Fact]
    public void Terminal_Message_ErasesTheStatusLineFirst()
    {
        var error = new StringWriter();
        var terminal = new Terminal(new StringWriter(), error);
        using var progress = new ScanProgress(error, enabled: true, TimeSpan.Zero);
        terminal.Live = progress;
        progress.Stage("reading");
        WaitFor(() => error.ToString().Contains("reading", StringComparison.Ordinal));
        terminal.Warning("a warning");
        var text = error.ToString();
        var warning = text.IndexOf("warning: a warning", StringComparison.Ordinal);
        Assert.True(warning > 0);
        Assert.EndsWith("\r\u001b[K", text[..warning], StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_StderrRedirected_NoStatusLine()
    {
        var run = CliRunner.Run("scan", TestData.Path("npm", "large"), "--no-advisories");
        Assert.DoesNotContain("\r", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[K", run.Stderr, StringComparison.Ordinal);
    }
}
