using System.Collections.Immutable;
using Tollgate.Ecosystems.PyPI;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Mcp;

/// <summary>What one configuration file declares: its client, its servers, and the folder its project paths are relative to.</summary>
/// <param name="Path">The file as shown to users.</param>
/// <param name="FullPath">The absolute path.</param>
/// <param name="Client">The client whose format the file is in.</param>
/// <param name="ProjectFolder">The project the file belongs to (e.g. the parent of <c>.vscode</c>); null for per-user files.</param>
/// <param name="Servers">The servers, in document order.</param>
public sealed record McpConfigFile(string Path, string FullPath, McpClient Client, string? ProjectFolder, ImmutableArray<McpServerEntry> Servers);

/// <summary>
/// Reads MCP client configuration files: the JSON formats of Claude Desktop, Claude Code, VS Code, Cursor, Windsurf
/// and Gemini CLI (comments and trailing commas accepted, unknown fields ignored) and Codex's TOML. The client is
/// recognised from the file's name and folder. Problems become diagnostics; a file that cannot be read gives null.
/// </summary>
public static class McpConfigReader
{
    /// <summary>The client whose format a file at <paramref name="path"/> is in, from its name and folder.</summary>
    public static McpClient ClientFor(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var name = System.IO.Path.GetFileName(full);
        var folder = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(full) ?? "");
        return name.ToLowerInvariant() switch
        {
            "claude_desktop_config.json" => McpClient.ClaudeDesktop,
            ".mcp.json" or ".claude.json" => McpClient.ClaudeCode,
            "mcp_config.json" => McpClient.Windsurf,
            _ when name.EndsWith(".toml", StringComparison.OrdinalIgnoreCase) => McpClient.Codex,
            "mcp.json" when folder.Equals(".cursor", StringComparison.OrdinalIgnoreCase) => McpClient.Cursor,
            "mcp.json" => McpClient.VsCode,
            "settings.json" when folder.Equals(".gemini", StringComparison.OrdinalIgnoreCase) => McpClient.GeminiCli,
            "settings.json" => McpClient.VsCode,
            _ => McpClient.Unknown,
        };
    }

    /// <summary>The project folder a file belongs to: the parent of <c>.vscode</c>, <c>.cursor</c>, <c>.gemini</c>, <c>.codex</c>, or the folder of <c>.mcp.json</c>.</summary>
    public static string? ProjectFolderFor(string path, string? userHome = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(full);
        if (dir is null)
        {
            return null;
        }
        var folder = System.IO.Path.GetFileName(dir);
        var name = System.IO.Path.GetFileName(full);
        string? project = null;
        if (folder is ".vscode" or ".cursor" or ".gemini" or ".codex")
        {
            project = System.IO.Path.GetDirectoryName(dir);
        }
        else if (name == ".mcp.json")
        {
            project = dir;
        }
        // ~/.cursor/mcp.json and ~/.gemini/settings.json are the user's files, not a project's.
        if (project is not null && userHome is not null && SamePath(project, userHome))
        {
            return null;
        }
        return project;
    }

    /// <summary>Reads one file; null (with a diagnostic) when it cannot be read or parsed.</summary>
    public static McpConfigFile? Read(string path, DiagnosticBag diagnostics, string? userHome = null)
    {
        var client = ClientFor(path);
        var shown = InputFile.DisplayPath(path);
        var full = System.IO.Path.GetFullPath(path);
        var project = ProjectFolderFor(path, userHome);
        if (client == McpClient.Codex)
        {
            var toml = LocatedToml.ParseFile(path, diagnostics);
            return toml is null ? null : new McpConfigFile(shown, full, client, project, ReadCodex(toml, shown, diagnostics));
        }
        var json = LocatedJson.ParseFile(path, diagnostics, allowCommentsAndTrailingCommas: true);
        if (json is null)
        {
            return null;
        }
        if (!json.IsObject)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, $"expected a JSON object at the top of an MCP configuration, found {Describe(json)}",
                json.LocationIn(shown), "an MCP client configuration is an object with 'mcpServers' or 'servers'");
            return null;
        }
        var servers = ImmutableArray.CreateBuilder<McpServerEntry>();
        var reader = new JsonServers(client, shown, diagnostics);
        switch (client)
        {
            case McpClient.VsCode when System.IO.Path.GetFileName(full).Equals("settings.json", StringComparison.OrdinalIgnoreCase):
                // User settings keep servers under "mcp": { "servers": … }; a settings file without it simply has none.
                if (json["mcp"] is { IsObject: true } mcp)
                {
                    reader.ReadMap(mcp["servers"], "mcp.servers", servers, null);
                }
                break;
            case McpClient.VsCode:
                reader.ReadMap(json["servers"], "servers", servers, null);
                break;
            case McpClient.ClaudeCode when System.IO.Path.GetFileName(full).Equals(".claude.json", StringComparison.OrdinalIgnoreCase):
                reader.ReadMap(json["mcpServers"], "mcpServers", servers, null);
                if (json["projects"] is { IsObject: true } projects)
                {
                    foreach (var (folder, settings) in projects.Properties)
                    {
                        if (settings.IsObject)
                        {
                            reader.ReadMap(settings["mcpServers"], $"projects[{folder}].mcpServers", servers, folder);
                        }
                    }
                }
                break;
            case McpClient.Unknown:
                reader.ReadMap(json["mcpServers"] ?? json["servers"], json["mcpServers"] is null ? "servers" : "mcpServers", servers, null);
                break;
            default:
                reader.ReadMap(json["mcpServers"], "mcpServers", servers, null);
                break;
        }
        return new McpConfigFile(shown, full, client, project, servers.ToImmutable());
    }

    private sealed class JsonServers(McpClient client, string file, DiagnosticBag diagnostics)
    {
        public void ReadMap(JsonNode? map, string what, ImmutableArray<McpServerEntry>.Builder servers, string? projectScope)
        {
            if (map is null || map.Kind == JsonKind.Null)
            {
                return;
            }
            if (!map.IsObject)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"'{what}' is {Describe(map)}; expected an object of servers by name",
                    map.LocationIn(file), "no server in it was audited");
                return;
            }
            foreach (var (name, server) in map.Properties)
            {
                if (!server.IsObject)
                {
                    diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"server '{name}' is {Describe(server)}; expected an object",
                        server.LocationIn(file), "the server was not audited");
                    continue;
                }
                if (Entry(name, server, projectScope) is { } entry)
                {
                    servers.Add(entry);
                }
            }
        }

        private McpServerEntry? Entry(string name, JsonNode server, string? projectScope)
        {
            var url = Value(server["url"]) ?? Value(server["serverUrl"]) ?? Value(server["httpUrl"]);
            var command = server["command"];
            var type = server.GetString("type")?.Trim().ToLowerInvariant();
            McpTransport transport;
            if (type is "http" or "streamable-http" or "streamablehttp")
            {
                transport = McpTransport.Http;
            }
            else if (type is "sse")
            {
                transport = McpTransport.Sse;
            }
            else if (type is "stdio" or "local" || (type is null && command is not null))
            {
                transport = McpTransport.Stdio;
            }
            else if (url is not null)
            {
                // Gemini CLI: "url" is SSE and "httpUrl" streamable HTTP; the others infer the transport from the server.
                transport = client == McpClient.GeminiCli && server["httpUrl"] is null ? McpTransport.Sse : McpTransport.Http;
            }
            else
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"server '{name}' has neither a 'command' nor a URL",
                    server.LocationIn(file), "the server was not audited");
                return null;
            }
            return new McpServerEntry
            {
                Client = client,
                ConfigFile = file,
                Name = name,
                Transport = transport,
                Command = command is { IsString: true } ? command.Text : null,
                CommandLine = command?.Line ?? server.Line,
                Args = [.. server["args"] is { IsArray: true } args ? args.Items.Select(Value).OfType<McpValue>() : []],
                Env = Settings(server["env"]),
                EnvFile = Value(server["envFile"]),
                Url = transport == McpTransport.Stdio ? null : url,
                Headers = Settings(server["headers"]),
                ProjectScope = projectScope,
                // The object's '{' is on the name's line in every usual layout: the line users look for.
                Location = server.LocationIn(file),
            };
        }

        private static ImmutableArray<McpSetting> Settings(JsonNode? node) =>
            node is { IsObject: true }
                ? [.. node.Properties.Where(p => p.Value.Kind is JsonKind.String or JsonKind.Number or JsonKind.True or JsonKind.False)
                    .Select(p => new McpSetting(p.Key, p.Value.ToString(), p.Value.Line))]
                : [];

        private static McpValue? Value(JsonNode? node) =>
            node is { Kind: JsonKind.String or JsonKind.Number } ? new McpValue(node.ToString(), node.Line) : null;
    }

    private static ImmutableArray<McpServerEntry> ReadCodex(TomlTableNode toml, string file, DiagnosticBag diagnostics)
    {
        var servers = ImmutableArray.CreateBuilder<McpServerEntry>();
        var map = toml["mcp_servers"];
        if (map is null)
        {
            return [];
        }
        if (map is not TomlTableNode table)
        {
            diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"'mcp_servers' is a {map.TypeName}; expected a table of servers by name",
                map.LocationIn(file), "no server in it was audited");
            return [];
        }
        foreach (var (name, node) in table.Entries)
        {
            if (node is not TomlTableNode server)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"server '{name}' is a {node.TypeName}; expected a table",
                    node.LocationIn(file), "the server was not audited");
                continue;
            }
            var command = server["command"] as TomlScalarNode;
            var url = server["url"] as TomlScalarNode;
            if (command is null && url is null)
            {
                diagnostics.Warning(DiagnosticIds.UnexpectedShape, $"server '{name}' has neither a 'command' nor a 'url'",
                    server.LocationIn(file), "the server was not audited");
                continue;
            }
            var headers = TomlSettings(server.GetTable("http_headers"));
            // Older Codex releases took the token itself as 'bearer_token': it is sent as an Authorization header.
            if (server["bearer_token"] is TomlScalarNode bearer)
            {
                headers = headers.Add(new McpSetting("Authorization", "Bearer " + bearer.Text, bearer.Line));
            }
            servers.Add(new McpServerEntry
            {
                Client = McpClient.Codex,
                ConfigFile = file,
                Name = name,
                Transport = command is not null ? McpTransport.Stdio : McpTransport.Http,
                Command = command?.Text,
                CommandLine = command?.Line ?? server.Line,
                Args = [.. server.GetArray("args")?.Items.OfType<TomlScalarNode>().Select(s => new McpValue(s.Text, s.Line)) ?? []],
                Env = TomlSettings(server.GetTable("env")),
                Url = command is null && url is not null ? new McpValue(url.Text, url.Line) : null,
                Headers = headers,
                Location = server.LocationIn(file),
            });
        }
        return servers.ToImmutable();
    }

    private static ImmutableArray<McpSetting> TomlSettings(TomlTableNode? table) =>
        table is null ? [] : [.. table.Entries.Where(e => e.Value is TomlScalarNode).Select(e => new McpSetting(e.Key, ((TomlScalarNode)e.Value).Text, e.Value.Line))];

    private static string Describe(JsonNode node) => node.Kind switch
    {
        JsonKind.Array => "an array",
        JsonKind.String => "a string",
        JsonKind.Number => "a number",
        JsonKind.True or JsonKind.False => "a boolean",
        JsonKind.Null => "null",
        _ => "an object",
    };

    private static bool SamePath(string a, string b) =>
        string.Equals(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(a)),
            System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(b)),
            OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
}
