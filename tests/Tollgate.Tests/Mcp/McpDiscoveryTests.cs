using Tollgate.Cli;
using Tollgate.Cli.Commands;
using Tollgate.Mcp;
using Tollgate.Tests.Advisories;

namespace Tollgate.Tests.Mcp;

public sealed class McpDiscoveryTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Home => _temp.File("home");

    private string Project => _temp.File("project");

    private McpDiscoveryEnvironment Linux(Dictionary<string, string>? extra = null)
    {
        var variables = new Dictionary<string, string>(extra ?? []) { ["HOME"] = Home };
        return new McpDiscoveryEnvironment(McpPlatform.Linux, name => variables.GetValueOrDefault(name), Project);
    }

    private void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private void CopySample(string target, params string[] sample) => Write(target, File.ReadAllText(TestData.Path(["mcp", .. sample])));

    [Fact]
    public void Find_FakeLinuxHome_FindsEveryPerUserAndPerProjectFile()
    {
        CopySample(Path.Combine(Home, ".config", "Claude", "claude_desktop_config.json"), "claude-desktop", "claude_desktop_config.json");
        CopySample(Path.Combine(Home, ".claude.json"), "claude-code", "home", ".claude.json");
        CopySample(Path.Combine(Home, ".config", "Code", "User", "settings.json"), "vscode", "user", "settings.json");
        CopySample(Path.Combine(Home, ".cursor", "mcp.json"), "cursor", "project", ".cursor", "mcp.json");
        CopySample(Path.Combine(Home, ".codeium", "windsurf", "mcp_config.json"), "windsurf", "mcp_config.json");
        CopySample(Path.Combine(Home, ".gemini", "settings.json"), "gemini", "project", ".gemini", "settings.json");
        CopySample(Path.Combine(Home, ".codex", "config.toml"), "codex", "config.toml");
        CopySample(Path.Combine(Project, ".mcp.json"), "claude-code", "project", ".mcp.json");
        CopySample(Path.Combine(Project, ".vscode", "mcp.json"), "vscode", "project", ".vscode", "mcp.json");

        var found = McpDiscovery.Find(Linux());

        Assert.Equal(
        [
            (McpClient.ClaudeDesktop, ".config/Claude/claude_desktop_config.json", true),
            (McpClient.VsCode, ".config/Code/User/settings.json", true),
            (McpClient.ClaudeCode, ".claude.json", true),
            (McpClient.Cursor, ".cursor/mcp.json", true),
            (McpClient.Windsurf, ".codeium/windsurf/mcp_config.json", true),
            (McpClient.GeminiCli, ".gemini/settings.json", true),
            (McpClient.Codex, ".codex/config.toml", true),
            (McpClient.ClaudeCode, ".mcp.json", false),
            (McpClient.VsCode, ".vscode/mcp.json", false),
        ], found.Select(l => (l.Client, Path.GetRelativePath(l.PerUser ? Home : Project, l.Path), l.PerUser)));
        Assert.All(found, l => Assert.Equal(l.Client, McpConfigReader.ClientFor(l.Path)));
    }

    [Fact]
    public void Candidates_XdgConfigHomeAndCodexHome_MoveTheUserFiles()
    {
        var candidates = McpDiscovery.Candidates(Linux(new() { ["XDG_CONFIG_HOME"] = "/xdg", ["CODEX_HOME"] = "/codex" }));

        Assert.Contains(candidates, l => l.Path == "/xdg/Claude/claude_desktop_config.json");
        Assert.Contains(candidates, l => l.Path == "/xdg/Code/User/mcp.json");
        Assert.Contains(candidates, l => l.Path == "/codex/config.toml");
    }

    [Fact]
    public void Candidates_MacOS_ApplicationSupport()
    {
        var env = new McpDiscoveryEnvironment(McpPlatform.MacOS, name => name == "HOME" ? "/Users/me" : null, "/Users/me/proj");

        var paths = McpDiscovery.Candidates(env).Select(l => l.Path).ToList();

        Assert.Contains("/Users/me/Library/Application Support/Claude/claude_desktop_config.json", paths);
        Assert.Contains("/Users/me/Library/Application Support/Code/User/mcp.json", paths);
        Assert.Contains("/Users/me/.cursor/mcp.json", paths);
        Assert.Contains("/Users/me/.codeium/windsurf/mcp_config.json", paths);
        Assert.Contains("/Users/me/proj/.vscode/mcp.json", paths);
    }

    [Fact]
    public void Candidates_Windows_AppDataAndUserProfile()
    {
        var variables = new Dictionary<string, string> { ["USERPROFILE"] = @"C:\Users\me", ["APPDATA"] = @"C:\Users\me\AppData\Roaming" };
        var env = new McpDiscoveryEnvironment(McpPlatform.Windows, name => variables.GetValueOrDefault(name), @"C:\src\proj");

        var paths = McpDiscovery.Candidates(env).Select(l => l.Path).ToList();

        Assert.Contains(@"C:\Users\me\AppData\Roaming\Claude\claude_desktop_config.json", paths);
        Assert.Contains(@"C:\Users\me\AppData\Roaming\Code\User\settings.json", paths);
        Assert.Contains(@"C:\Users\me\.claude.json", paths);
        Assert.Contains(@"C:\Users\me\.codex\config.toml", paths);
        Assert.Contains(@"C:\src\proj\.cursor\mcp.json", paths);
    }

    [Fact]
    public void McpAuditCommand_ExplicitDatabaseMissing_ExitsWithInputErrorBeforeAuditing()
    {
        CopySample(Path.Combine(Home, ".cursor", "mcp.json"), "cursor", "project", ".cursor", "mcp.json");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = McpCommand.Run(new McpAuditCommandOptions([], true, "json", null, null, _temp.File("none.db"), null),
            new Terminal(stdout, stderr), Linux(), TimeProvider.System);

        Assert.Equal(ExitCodes.InputError, exit);
        Assert.Equal("", stdout.ToString());
        Assert.Contains("none.db", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void McpAuditCommand_DiscoverWithoutDatabase_IsIncompleteNotAPass()
    {
        CopySample(Path.Combine(Home, ".cursor", "mcp.json"), "cursor", "project", ".cursor", "mcp.json");
        CopySample(Path.Combine(Project, ".vscode", "mcp.json"), "vscode", "project", ".vscode", "mcp.json");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var env = Linux(new() { ["TOLLGATE_HOME"] = _temp.File("tollgate-home") });

        var exit = McpCommand.Run(new McpAuditCommandOptions([], true, "json", null, null, null, null),
            new Terminal(stdout, stderr), env, TimeProvider.System);

        // The pinned server packages could not be checked against advisories: never a pass, and it says why.
        Assert.Equal(ExitCodes.InputError, exit);
        Assert.Contains("no advisory database", stderr.ToString(), StringComparison.Ordinal);
        var json = System.Text.Json.JsonDocument.Parse(stdout.ToString()).RootElement;
        Assert.Equal("incomplete", json.GetProperty("verdict").GetString());
        Assert.Contains("no advisory database", json.GetProperty("incomplete")[0].GetString(), StringComparison.Ordinal);
        var ids = json.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("id").GetString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["TG2001", "TG2001", "TG2002", "TG2002", "TG2003", "TG2003", "TG2004"], ids);
        Assert.Contains(".vscode/mcp.json", stderr.ToString(), StringComparison.Ordinal);
    }
}
