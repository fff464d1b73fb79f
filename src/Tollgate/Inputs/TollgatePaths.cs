namespace Tollgate.Inputs;

/// <summary>Where Tollgate keeps its data: $TOLLGATE_HOME, else the XDG data folder (~/.local/share/tollgate).</summary>
public static class TollgatePaths
{
    public static string Home
    {
        get
        {
            var home = Environment.GetEnvironmentVariable("TOLLGATE_HOME");
            if (!string.IsNullOrEmpty(home))
            {
                return home;
            }
            var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            var data = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
                : xdg;
            return Path.Combine(data, "tollgate");
        }
    }
}
