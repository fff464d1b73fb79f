using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Mcp;

/// <summary>An MCP client whose configuration format Tollgate reads.</summary>
public enum McpClient
{
    /// <summary>Claude Desktop: <c>claude_desktop_config.json</c>, servers under <c>mcpServers</c>.</summary>
    ClaudeDesktop,
    /// <summary>Claude Code: project <c>.mcp.json</c> and user <c>~/.claude.json</c>.</summary>
    ClaudeCode,
    /// <summary>VS Code: <c>.vscode/mcp.json</c>, the profile's <c>mcp.json</c>, and the <c>mcp</c> key of <c>settings.json</c>.</summary>
    VsCode,
    /// <summary>Cursor: <c>.cursor/mcp.json</c> and <c>~/.cursor/mcp.json</c>.</summary>
    Cursor,
    /// <summary>Windsurf: <c>~/.codeium/windsurf/mcp_config.json</c>.</summary>
    Windsurf,
    /// <summary>Gemini CLI: <c>.gemini/settings.json</c> and <c>~/.gemini/settings.json</c>.</summary>
    GeminiCli,
    /// <summary>Codex: <c>~/.codex/config.toml</c>, servers as <c>[mcp_servers.NAME]</c> tables.</summary>
    Codex,
    /// <summary>A file of no known client's name: read as <c>mcpServers</c> or <c>servers</c>.</summary>
    Unknown,
}

/// <summary>How the client talks to the server.</summary>
public enum McpTransport
{
    /// <summary>A local process the client starts, over standard input and output.</summary>
    Stdio,
    /// <summary>A remote server over streamable HTTP.</summary>
    Http,
    /// <summary>A remote server over server-sent events.</summary>
    Sse,
}

public static class McpNames
{
    /// <summary>The client's name as users know it.</summary>
    public static string DisplayName(this McpClient client) => client switch
    {
        McpClient.ClaudeDesktop => "Claude Desktop",
        McpClient.ClaudeCode => "Claude Code",
        McpClient.VsCode => "VS Code",
        McpClient.Cursor => "Cursor",
        McpClient.Windsurf => "Windsurf",
        McpClient.GeminiCli => "Gemini CLI",
        McpClient.Codex => "Codex",
        _ => "MCP client",
    };

    /// <summary><c>stdio</c>, <c>http</c> or <c>sse</c>.</summary>
    public static string ToName(this McpTransport transport) => transport.ToString().ToLowerInvariant();
}

/// <summary>A string value of a configuration and the line it is written on.</summary>
public sealed record McpValue(string Text, int Line);

/// <summary>A named value (an environment variable or an HTTP header) and the line it is written on.</summary>
public sealed record McpSetting(string Name, string Value, int Line);

/// <summary>
/// One MCP server as a client configuration declares it. Values are kept exactly as written (variable references
/// such as <c>${env:TOKEN}</c> unexpanded); secrets among them must never be printed unmasked.
/// </summary>
public sealed record McpServerEntry
{
    public required McpClient Client { get; init; }

    /// <summary>The configuration file as shown to users (see <see cref="Inputs.InputFile.DisplayPath"/>).</summary>
    public required string ConfigFile { get; init; }

    /// <summary>The server's name: its key in the configuration.</summary>
    public required string Name { get; init; }

    public required McpTransport Transport { get; init; }

    /// <summary>The program started for a stdio server.</summary>
    public string? Command { get; init; }

    public ImmutableArray<McpValue> Args { get; init; } = [];

    public ImmutableArray<McpSetting> Env { get; init; } = [];

    /// <summary>The env file the client loads into the server's environment (VS Code <c>envFile</c>), as written.</summary>
    public McpValue? EnvFile { get; init; }

    /// <summary>The remote server's URL.</summary>
    public McpValue? Url { get; init; }

    public ImmutableArray<McpSetting> Headers { get; init; } = [];

    /// <summary>For Claude Code's <c>~/.claude.json</c>: the project folder the server is declared for; null at user scope.</summary>
    public string? ProjectScope { get; init; }

    /// <summary>Where the server's entry begins (its name).</summary>
    public required SourceLocation Location { get; init; }

    /// <summary>The line of the command, or of the entry when there is none.</summary>
    public int CommandLine { get; init; }
}
