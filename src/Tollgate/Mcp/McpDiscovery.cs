using System.Collections.Immutable;

namespace Tollgate.Mcp;

/// <summary>The operating system whose documented configuration locations apply.</summary>
public enum McpPlatform
{
    Linux,
    MacOS,
    Windows,
}

/// <summary>What discovery reads from the machine: the platform, the environment and the current folder.</summary>
/// <param name="Platform">Whose folder conventions apply.</param>
/// <param name="Environment">Reads an environment variable (HOME, USERPROFILE, APPDATA, XDG_CONFIG_HOME, CODEX_HOME).</param>
/// <param name="WorkingFolder">The project folder searched for per-project files.</param>
public sealed record McpDiscoveryEnvironment(McpPlatform Platform, Func<string, string?> Environment, string WorkingFolder)
{
    /// <summary>This machine: its platform, the process environment and the current folder.</summary>
    public static McpDiscoveryEnvironment Current() => new(
        OperatingSystem.IsWindows() ? McpPlatform.Windows : OperatingSystem.IsMacOS() ? McpPlatform.MacOS : McpPlatform.Linux,
        System.Environment.GetEnvironmentVariable,
        Directory.GetCurrentDirectory());

    /// <summary>The user's home folder: HOME, or USERPROFILE on Windows; null when neither is set.</summary>
    public string? Home => Platform == McpPlatform.Windows
        ? NonEmpty(Environment("USERPROFILE")) ?? NonEmpty(Environment("HOME"))
        : NonEmpty(Environment("HOME"));

    internal static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

/// <summary>A place a client keeps its MCP configuration.</summary>
/// <param name="Client">The client.</param>
/// <param name="Path">The file.</param>
/// <param name="PerUser">True for the user's own file, false for a project's.</param>
public sealed record McpConfigLocation(McpClient Client, string Path, bool PerUser);

/// <summary>
/// The documented per-user and per-project configuration files of each client, on Linux, macOS and Windows. Per-user
/// folders come from HOME (USERPROFILE on Windows), APPDATA, XDG_CONFIG_HOME and CODEX_HOME; per-project files from the
/// working folder. See docs/mcp-audit.md for the list.
/// </summary>
public static class McpDiscovery
{
    /// <summary>Every location that applies, whether or not a file is there.</summary>
    public static ImmutableArray<McpConfigLocation> Candidates(McpDiscoveryEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var result = ImmutableArray.CreateBuilder<McpConfigLocation>();
        var home = env.Home;
        var sep = env.Platform == McpPlatform.Windows ? '\\' : '/';
        string Join(string first, params string[] rest) => rest.Aggregate(first.TrimEnd('/', '\\'), (a, b) => a + sep + b);

        // The folder applications keep per-user settings in: Claude Desktop and VS Code live there.
        string? appConfig = env.Platform switch
        {
            McpPlatform.Windows => McpDiscoveryEnvironment.NonEmpty(env.Environment("APPDATA")) ?? (home is null ? null : Join(home, "AppData", "Roaming")),
            McpPlatform.MacOS => home is null ? null : Join(home, "Library", "Application Support"),
            _ => McpDiscoveryEnvironment.NonEmpty(env.Environment("XDG_CONFIG_HOME")) ?? (home is null ? null : Join(home, ".config")),
        };
        if (appConfig is not null)
        {
            result.Add(new(McpClient.ClaudeDesktop, Join(appConfig, "Claude", "claude_desktop_config.json"), true));
            foreach (var product in (string[])["Code", "Code - Insiders", "VSCodium"])
            {
                result.Add(new(McpClient.VsCode, Join(appConfig, product, "User", "mcp.json"), true));
                result.Add(new(McpClient.VsCode, Join(appConfig, product, "User", "settings.json"), true));
            }
        }
        if (home is not null)
        {
            result.Add(new(McpClient.ClaudeCode, Join(home, ".claude.json"), true));
            result.Add(new(McpClient.Cursor, Join(home, ".cursor", "mcp.json"), true));
            result.Add(new(McpClient.Windsurf, Join(home, ".codeium", "windsurf", "mcp_config.json"), true));
            result.Add(new(McpClient.GeminiCli, Join(home, ".gemini", "settings.json"), true));
        }
        var codexHome = McpDiscoveryEnvironment.NonEmpty(env.Environment("CODEX_HOME")) ?? (home is null ? null : Join(home, ".codex"));
        if (codexHome is not null)
        {
            result.Add(new(McpClient.Codex, Join(codexHome, "config.toml"), true));
        }

        var project = env.WorkingFolder;
        result.Add(new(McpClient.ClaudeCode, Join(project, ".mcp.json"), false));
        result.Add(new(McpClient.VsCode, Join(project, ".vscode", "mcp.json"), false));
        result.Add(new(McpClient.Cursor, Join(project, ".cursor", "mcp.json"), false));
        result.Add(new(McpClient.GeminiCli, Join(project, ".gemini", "settings.json"), false));
        result.Add(new(McpClient.Codex, Join(project, ".codex", "config.toml"), false));

        // Run from the home folder, a project file and a user file are the same file: list it once.
        return [.. result.DistinctBy(l => l.Path, env.Platform == McpPlatform.Linux ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The candidate files that exist.</summary>
    public static ImmutableArray<McpConfigLocation> Find(McpDiscoveryEnvironment env) =>
        [.. Candidates(env).Where(l => File.Exists(l.Path))];
}
