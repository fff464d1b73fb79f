using System.Diagnostics;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// The local npm client's configured registry: the feed's upstream when none is given, and the default registry a
/// scan compares private names with. Read from npm itself, so .npmrc files and npm_config_* variables all count.
/// </summary>
public static class NpmRegistryConfig
{
    /// <summary>
    /// Runs <c>npm config get registry</c> in <paramref name="workingDirectory"/> (where a project's .npmrc applies);
    /// null when npm is missing, fails or prints no absolute http(s) URL.
    /// </summary>
    public static Uri? Read(TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("config");
        start.ArgumentList.Add("get");
        start.ArgumentList.Add("registry");
        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }
            var text = output.Result.Trim();
            return process.ExitCode == 0 && Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? WithSlash(uri)
                : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>The URL with a trailing '/', so relative package paths resolve under it.</summary>
    public static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
