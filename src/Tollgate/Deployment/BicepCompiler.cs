using System.Diagnostics;
using System.Text.RegularExpressions;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Deployment;

/// <summary>Compiles Bicep to an ARM template with the Bicep CLI (<c>bicep build --stdout --no-restore</c>); nothing is deployed or downloaded.</summary>
public static partial class BicepCompiler
{
    /// <summary>
    /// The Bicep CLI to use: <paramref name="explicitPath"/> when given, else <c>bicep</c> on PATH, else the copy the Azure
    /// CLI installs (<c>~/.azure/bin/bicep</c>); null when there is none.
    /// </summary>
    public static string? Locate(string? explicitPath)
    {
        if (explicitPath is not null)
        {
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : null;
        }
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in OperatingSystem.IsWindows() ? (string[])["bicep.exe"] : ["bicep"])
            {
                var candidate = Path.Combine(folder, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var azure = Path.Combine(home, ".azure", "bin", OperatingSystem.IsWindows() ? "bicep.exe" : "bicep");
        return home.Length > 0 && File.Exists(azure) ? azure : null;
    }

    /// <summary>The compiled template as UTF-8 JSON, or null with a diagnostic per compile error (file and line of the Bicep source).</summary>
    public static byte[]? Compile(string bicep, string fullPath, string displayPath, DiagnosticBag diagnostics)
    {
        var start = new ProcessStartInfo(bicep)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["build", fullPath, "--stdout", "--no-restore"])
        {
            start.ArgumentList.Add(argument);
        }
        // The CLI needs no ICU to compile; without it, machines lacking libicu still work.
        start.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        start.Environment["BICEP_TRACING_ENABLED"] = "false";
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            diagnostics.Error(DiagnosticIds.FileUnreadable, $"the Bicep CLI at {bicep} could not be started: {e.Message}", new SourceLocation(displayPath),
                "check --bicep PATH, or install the Bicep CLI");
            return null;
        }
        var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            diagnostics.Error(DiagnosticIds.FileUnreadable, "the Bicep CLI did not finish within 2 minutes", new SourceLocation(displayPath));
            return null;
        }
        copy.Wait();
        var stderr = errors.Result;
        if (process.ExitCode == 0 && output.Length > 0)
        {
            return output.ToArray();
        }
        var reported = false;
        foreach (Match match in CompileError().Matches(stderr))
        {
            var file = match.Groups["file"].Value.Trim();
            var shown = Path.GetFullPath(file) == fullPath ? displayPath : InputFile.DisplayPath(file);
            diagnostics.Error(DiagnosticIds.InvalidEntry, $"Bicep does not compile: {match.Groups["id"].Value}: {match.Groups["message"].Value.Trim()}",
                new SourceLocation(shown, int.Parse(match.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(match.Groups["column"].Value, System.Globalization.CultureInfo.InvariantCulture)),
                "fix the Bicep file (bicep build shows the same error); it was not checked");
            reported = true;
        }
        if (!reported)
        {
            diagnostics.Error(DiagnosticIds.InvalidEntry, $"Bicep does not compile (exit code {process.ExitCode}): {FirstLine(stderr)}", new SourceLocation(displayPath),
                "run bicep build on the file to see the problem; it was not checked");
        }
        return null;
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no message";
        return line.Length <= 200 ? line : line[..197] + "...";
    }

    /// <summary>The local modules a Bicep file uses (<c>module x './app.bicep'</c>), as absolute paths.</summary>
    public static IEnumerable<string> LocalModules(string text, string fullPath)
    {
        var folder = Path.GetDirectoryName(fullPath) ?? ".";
        foreach (Match match in ModuleReference().Matches(text))
        {
            yield return Path.GetFullPath(Path.Combine(folder, match.Groups["path"].Value));
        }
    }

    [GeneratedRegex(@"^(?<file>.+?)\((?<line>\d+),(?<column>\d+)\) : Error (?<id>BCP\d+): (?<message>.*?)(?: \[https?://[^\]]*\])?\r?$", RegexOptions.Multiline)]
    private static partial Regex CompileError();

    [GeneratedRegex(@"^\s*module\s+\w+\s+'(?<path>[^':]+\.bicep)'", RegexOptions.Multiline)]
    private static partial Regex ModuleReference();
}
