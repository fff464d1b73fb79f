using System.Diagnostics;
using Tollgate.Graph;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// The index the local pip client is configured with: the PyPI feed's upstream when none is given. Read from pip
/// itself (<c>pip config list</c>), so pip.conf/pip.ini at every level and PIP_INDEX_URL all count.
/// </summary>
public static class PipIndexConfig
{
    // pip's own order: the environment overrides the site file, which overrides the user and global files; within a
    // file the command's section ([install], [download]) overrides [global].
    private static readonly string[] Keys =
    [
        ":env:.index-url", "site.install.index-url", "site.global.index-url", "user.install.index-url", "user.global.index-url",
        "global.install.index-url", "global.global.index-url", "install.index-url", "global.index-url",
    ];

    /// <summary>The configured index URL, or null when pip is missing, fails or names no absolute http(s) URL.</summary>
    public static Uri? Read(TimeSpan? timeout = null)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("PIP_INDEX_URL");
        if (Parse(fromEnvironment) is { } direct)
        {
            return direct;
        }
        foreach (var executable in new[] { "pip3", "pip" })
        {
            var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("config");
            start.ArgumentList.Add("list");
            try
            {
                using var process = Process.Start(start);
                if (process is null)
                {
                    continue;
                }
                var output = process.StandardOutput.ReadToEndAsync();
                _ = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(30)))
                {
                    process.Kill(entireProcessTree: true);
                    return null;
                }
                return process.ExitCode == 0 ? FromConfigList(output.Result) : null;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed under this name; try the next.
            }
        }
        return null;
    }

    /// <summary>The index URL in the output of <c>pip config list</c> (lines <c>key='value'</c>), by pip's precedence.</summary>
    public static Uri? FromConfigList(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in output.Split('\n'))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                values[line[..eq].Trim()] = line[(eq + 1)..].Trim().Trim('\'', '"');
            }
        }
        foreach (var key in Keys)
        {
            if (values.TryGetValue(key, out var value) && Parse(value.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()) is { } uri)
            {
                return uri;
            }
        }
        return null;
    }

    private static Uri? Parse(string? text) =>
        Uri.TryCreate(text?.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? (uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/"))
            : null;
}

/// <summary>A distribution file name split per the wheel and source distribution specifications.</summary>
/// <param name="Project">The project name as the file spells it.</param>
/// <param name="Version">The version text as the file spells it.</param>
/// <param name="IsWheel">True for a .whl (installed without running the project's code); false for an sdist.</param>
public sealed record PyPIDistribution(string Project, string Version, bool IsWheel)
{
    /// <summary>Splits <c>name-version(-build)?-py-abi-platform.whl</c>, <c>name-version.tar.gz</c> or <c>name-version.zip</c>.</summary>
    public static PyPIDistribution? Parse(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        if (fileName.EndsWith(".whl", StringComparison.OrdinalIgnoreCase))
        {
            var parts = fileName[..^4].Split('-');
            return parts.Length is 5 or 6 && parts[0].Length > 0 && parts[1].Length > 0 ? new PyPIDistribution(parts[0], parts[1], true) : null;
        }
        string stem;
        if (fileName.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase))
        {
            stem = fileName[..^7];
        }
        else if (fileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            stem = fileName[..^4];
        }
        else
        {
            return null;
        }
        var dash = stem.LastIndexOf('-');
        return dash > 0 && dash < stem.Length - 1 ? new PyPIDistribution(stem[..dash], stem[(dash + 1)..], false) : null;
    }

    /// <summary>True when the file belongs to <paramref name="project"/> (compared after PEP 503 normalisation).</summary>
    public bool BelongsTo(string project) => Component.NormalizePyPIName(Project) == Component.NormalizePyPIName(project);
}
