using System.Diagnostics;
using Tollgate.Reports;
using Tollgate.Tests.Advisories;

namespace Tollgate.Tests.Cli;

/// <summary>
/// <c>-o</c> replaces regular files whole, but never replaces a device, FIFO or socket with a regular file
/// (<c>-o /dev/null</c> as root once turned /dev/null into a file).
/// </summary>
public sealed class OutputFileTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Example => Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm");

    private static string Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {output}");
    }

    private static string Kind(string path) => Run("stat", "-c", "%F", path);

    [Fact]
    public void Output_ToACharacterDevice_WritesThroughItAndLeavesItADevice()
    {
        var device = _temp.File("null");
        try
        {
            // The same device as /dev/null, made inside the test's own folder.
            Run("mknod", device, "c", "1", "3");
        }
        catch (InvalidOperationException) when (Environment.GetEnvironmentVariable("CI") != "true")
        {
            // Making a device node needs root; CI runs as root and so always runs this case.
            return;
        }

        var result = CliRunner.Run("sbom", Example, "-o", device);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("character special file", Kind(device));
        Assert.Empty(Directory.GetFiles(_temp.Path, ".*.tmp"));
    }

    [Fact]
    public async Task Output_ToAFifo_WritesTheReportIntoThePipeAndLeavesItAFifo()
    {
        var fifo = _temp.File("report.pipe");
        Run("mkfifo", fifo);
        var reader = Task.Run(() => File.ReadAllText(fifo));

        var result = CliRunner.Run("scan", Example, "--no-advisories", "--format", "json", "-o", fifo);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var text = await reader.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("\"verdict\": \"pass\"", text, StringComparison.Ordinal);
        Assert.Equal("fifo", Kind(fifo));
    }

    [Fact]
    public void Output_Dash_IsStandardOutput()
    {
        var result = CliRunner.Run("deps", Example, "--format", "json", "-o", "-");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("{", result.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists("-"));
    }

    [Fact]
    public void Output_SymbolicLink_WritesItsTargetAndSaysSo()
    {
        var target = _temp.File("real.json");
        File.WriteAllText(target, "old");
        var link = _temp.File("link.json");
        File.CreateSymbolicLink(link, target);

        var result = CliRunner.Run("deps", Example, "--format", "json", "-o", link);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("is a symbolic link; wrote the file it points to", result.Stderr, StringComparison.Ordinal);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.StartsWith("{", File.ReadAllText(target), StringComparison.Ordinal);
    }

    [Fact]
    public void IsRegularFile_TellsFilesFromSpecialFiles()
    {
        var file = _temp.File("plain.txt");
        File.WriteAllText(file, "x");

        Assert.True(OutputFile.IsRegularFile(file));
        Assert.False(OutputFile.IsRegularFile("/dev/null"));
    }
}
