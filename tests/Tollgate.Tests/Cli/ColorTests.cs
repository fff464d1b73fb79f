using System.Diagnostics;

namespace Tollgate.Tests.Cli;

/// <summary>Colour on a real terminal (a pseudo-terminal from util-linux's <c>script</c>), and off with --no-color or NO_COLOR.</summary>
public sealed class ColorTests
{
    private static string OnTerminal(string arguments, bool noColorVariable = false)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Tollgate.Cli.dll");
        var start = new ProcessStartInfo("script")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-qec");
        start.ArgumentList.Add($"dotnet '{cli}' {arguments}");
        start.ArgumentList.Add("/dev/null");
        start.Environment.Remove("NO_COLOR");
        start.Environment["TERM"] = "xterm-256color";
        if (noColorVariable)
        {
            start.Environment["NO_COLOR"] = "1";
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("script did not start");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Contains("PASS", output, StringComparison.Ordinal);
        return output;
    }

    private static string Example => Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm");

    /// <summary>Colour sequences (SGR: ESC [ … m); the terminal set-up codes dotnet itself writes are not colour.</summary>
    private static bool HasColour(string text) => System.Text.RegularExpressions.Regex.IsMatch(text, "\u001b\\[[0-9;]*m");

    [Fact]
    public void Terminal_HasColour_UnlessNoColorOptionOrVariable()
    {
        Assert.True(HasColour(OnTerminal($"scan '{Example}' --no-advisories")));
        Assert.False(HasColour(OnTerminal($"scan '{Example}' --no-advisories --no-color")));
        Assert.False(HasColour(OnTerminal($"scan '{Example}' --no-advisories", noColorVariable: true)));
    }
}
