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

/// <summary>
/// Scoped registries and credentials from npm's configuration files (the project's <c>.npmrc</c>, then the user's,
/// <c>$NPM_CONFIG_USERCONFIG</c> or <c>~/.npmrc</c>): <c>@scope:registry=URL</c>, and
/// <c>//host/path/:_authToken</c>, <c>:_auth</c> or <c>:username</c>/<c>:_password</c> for the registry under that
/// path. <c>${VAR}</c> is expanded from the environment as npm does. Tokens are only ever turned into headers.
/// </summary>
public sealed class NpmrcSettings
{
    private readonly List<KeyValuePair<string, string>> _entries = [];

    /// <summary>Reads the project's and the user's .npmrc (missing files are skipped; the project's wins).</summary>
    public static NpmrcSettings Read(string? projectFolder, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var settings = new NpmrcSettings();
        if (projectFolder is not null)
        {
            settings.Load(Path.Combine(projectFolder, ".npmrc"), environment);
        }
        var user = environment("NPM_CONFIG_USERCONFIG") ?? environment("npm_config_userconfig");
        if (string.IsNullOrEmpty(user) && environment("HOME") is { Length: > 0 } home)
        {
            user = Path.Combine(home, ".npmrc");
        }
        if (!string.IsNullOrEmpty(user))
        {
            settings.Load(user, environment);
        }
        return settings;
    }

    /// <summary>Adds the entries of one file (later files never override earlier ones).</summary>
    public void Load(string path, Func<string, string?> environment)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }
            var key = line[..eq].Trim();
            var value = Expand(line[(eq + 1)..].Trim().Trim('"'), environment);
            if (!_entries.Any(e => e.Key == key))
            {
                _entries.Add(new(key, value));
            }
        }
    }

    private string? Get(string key) => _entries.FirstOrDefault(e => e.Key == key).Value;

    /// <summary>The registry of an npm scope (<c>@scope:registry</c>), or null.</summary>
    public Uri? ScopeRegistry(string packageName)
    {
        var slash = packageName.IndexOf('/', StringComparison.Ordinal);
        if (!packageName.StartsWith('@') || slash < 0)
        {
            return null;
        }
        return Get(packageName[..slash] + ":registry") is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? NpmRegistryConfig.WithSlash(uri)
            : null;
    }

    /// <summary>The Authorization header value for <paramref name="registry"/>, or null when no credential is configured.</summary>
    public string? Authorization(Uri registry)
    {
        // npm matches the "nerf dart" //host:port/path/ of the registry, trying shorter paths down to the host.
        var path = registry.AbsolutePath.EndsWith('/') ? registry.AbsolutePath : registry.AbsolutePath + "/";
        var host = registry.IsDefaultPort ? registry.Host : $"{registry.Host}:{registry.Port}";
        while (true)
        {
            var nerf = $"//{host}{path}";
            if (Get(nerf + ":_authToken") is { Length: > 0 } token)
            {
                return "Bearer " + token;
            }
            if (Get(nerf + ":_auth") is { Length: > 0 } auth)
            {
                return "Basic " + auth;
            }
            if (Get(nerf + ":username") is { Length: > 0 } user && Get(nerf + ":_password") is { Length: > 0 } password)
            {
                string decoded;
                try
                {
                    decoded = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(password));
                }
                catch (FormatException)
                {
                    decoded = password;
                }
                return "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(user + ":" + decoded));
            }
            if (path == "/")
            {
                return null;
            }
            path = path[..(path.TrimEnd('/').LastIndexOf('/') + 1)];
        }
    }

    private static string Expand(string value, Func<string, string?> environment)
    {
        var start = value.IndexOf("${", StringComparison.Ordinal);
        while (start >= 0)
        {
            var end = value.IndexOf('}', start);
            if (end < 0)
            {
                break;
            }
            var name = value[(start + 2)..end];
            var replacement = environment(name) ?? "";
            value = value[..start] + replacement + value[(end + 1)..];
            start = value.IndexOf("${", start + replacement.Length, StringComparison.Ordinal);
        }
        return value;
    }
}
