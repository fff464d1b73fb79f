namespace Tollgate.Advisories;

/// <summary>
/// Where Tollgate keeps its data: <c>$TOLLGATE_HOME</c>, else <c>$XDG_DATA_HOME/tollgate</c>,
/// else <c>~/.local/share/tollgate</c> (on Windows, the local application data folder).
/// </summary>
public static class TollgateHome
{
    /// <summary>The environment variable that overrides the data folder.</summary>
    public const string HomeVariable = "TOLLGATE_HOME";

    /// <summary>The file name of the advisory database inside the data folder.</summary>
    public const string DatabaseFileName = "advisories.db";

    /// <summary>The data folder, read from the given environment (the process environment by default).</summary>
    public static string Resolve(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment(HomeVariable) is { Length: > 0 } home)
        {
            return Path.GetFullPath(home);
        }
        if (environment("XDG_DATA_HOME") is { Length: > 0 } xdg && Path.IsPathFullyQualified(xdg))
        {
            return Path.Combine(xdg, "tollgate");
        }
        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "tollgate");
        }
        var user = environment("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(user, ".local", "share", "tollgate");
    }

    /// <summary>The advisory database path: <paramref name="explicitPath"/> when given, else <c>advisories.db</c> in the data folder.</summary>
    public static string DatabasePath(string? explicitPath = null, Func<string, string?>? environment = null) =>
        explicitPath is { Length: > 0 } ? Path.GetFullPath(explicitPath) : Path.Combine(Resolve(environment), DatabaseFileName);
}
