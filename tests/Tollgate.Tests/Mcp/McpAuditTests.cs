using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Mcp;

namespace Tollgate.Tests.Mcp;

public sealed class McpAuditTests
{
    private static string Sample(params string[] parts) => TestData.Path(["mcp", .. parts]);

    /// <summary>Audits one sample with the samples folder as the working folder; findings as "id server line".</summary>
    private static (McpAuditResult Result, List<string> Findings) Audit(params string[] parts)
    {
        var diagnostics = new DiagnosticBag();
        var result = McpAudit.Run([Sample(parts)], new McpAuditOptions { WorkingFolder = Sample(), UserHome = "/home/nobody" }, diagnostics);
        return (result, [.. result.Findings.Select(Describe)]);
    }

    private static string Describe(Finding f)
    {
        var server = f.Summary.Split('\'')[1];
        return $"{f.Id} {server} {f.Component.Locations[0].Line}";
    }

    [Fact]
    public void ClaudeDesktop_Sample_ReportsUnpinnedAutoConfirmSecretAndOutsidePath()
    {
        var (result, findings) = Audit("claude-desktop", "claude_desktop_config.json");

        Assert.Equal(["TG2001 filesystem 4", "TG2002 filesystem 4", "TG2002 github 8", "TG2003 github 11", "TG2005 weather 15"], findings);
        Assert.Equal(McpClient.ClaudeDesktop, Assert.Single(result.Files).Client);
        Assert.Equal(["filesystem", "github", "weather"], result.Servers.Select(s => s.Entry.Name));
        var github = result.Servers[1].Component;
        Assert.Equal((Ecosystem.Npm, "@modelcontextprotocol/server-github", "2025.4.8", true), (github.Ecosystem, github.Name, github.Version, github.Resolved));
    }

    [Fact]
    public void ClaudeCode_ProjectFile_ReadsTypesUrlsAndHeaders()
    {
        var (result, findings) = Audit("claude-code", "project", ".mcp.json");

        Assert.Equal(["TG2002 airtable 5", "TG2004 sentry 20", "TG2003 sentry 21", "TG2005 local-db 25"], findings);
        Assert.Equal([McpTransport.Stdio, McpTransport.Http, McpTransport.Sse, McpTransport.Stdio], result.Servers.Select(s => s.Entry.Transport));
        Assert.Equal(Sample("claude-code", "project"), result.Files[0].ProjectFolder);
    }

    [Fact]
    public void ClaudeCode_UserFile_ReadsTopLevelAndPerProjectServers()
    {
        var (result, findings) = Audit("claude-code", "home", ".claude.json");

        Assert.Equal(["TG2001 memory 6", "TG2001 postgres 17", "TG2006 postgres 17"], findings);
        Assert.Equal([null, "/home/dev/app"], result.Servers.Select(s => s.Entry.ProjectScope));
        Assert.Null(result.Files[0].ProjectFolder);
    }

    [Fact]
    public void VsCode_JsoncWithInputsAndEnvFile_AuditsAndReportsMissingEnvFile()
    {
        var (result, findings) = Audit("vscode", "project", ".vscode", "mcp.json");

        Assert.Equal(["TG2001 fetch 22", "TG2003 github 31", "TG2002 dotnet-tool 36"], findings);
        var missing = Assert.Single(result.Diagnostics);
        Assert.Equal((DiagnosticIds.MissingReference, DiagnosticSeverity.Warning, 24), (missing.Id, missing.Severity, missing.Location!.Line));
        var dotnet = result.Servers.Single(s => s.Entry.Name == "dotnet-tool").Component;
        Assert.Equal((Ecosystem.NuGet, "Contoso.McpServer", "1.2.3"), (dotnet.Ecosystem, dotnet.Name, dotnet.Version));
        var perplexity = result.Servers.Single(s => s.Entry.Name == "Perplexity");
        Assert.True(perplexity.Launch.Pinned);
    }

    [Fact]
    public void VsCode_UserSettings_ReadsTheMcpKey()
    {
        var (result, findings) = Audit("vscode", "user", "settings.json");

        Assert.Empty(findings);
        var server = Assert.Single(result.Servers);
        Assert.Equal(("playwright", "@playwright/mcp", "0.0.29"), (server.Entry.Name, server.Component.Name, server.Component.Version));
    }

    [Fact]
    public void Cursor_Sample_ReportsSecretInArgumentsAndPlainHttpButNotLoopback()
    {
        var (_, findings) = Audit("cursor", "project", ".cursor", "mcp.json");

        Assert.Equal(["TG2001 stripe 4", "TG2002 stripe 4", "TG2003 stripe 5", "TG2004 remote 8"], findings);
    }

    [Fact]
    public void Windsurf_Sample_ReportsContainerHostAccessAndSecretInDockerEnv()
    {
        var (result, findings) = Audit("windsurf", "mcp_config.json");

        Assert.Equal(["TG2002 brave-search 4", "TG2003 brave-search 6", "TG2001 slack 12", "TG2006 slack 12", "TG2003 slack 13"], findings);
        Assert.Equal(McpTransport.Http, result.Servers.Single(s => s.Entry.Name == "figma").Entry.Transport);
        Assert.Equal(["--privileged", "-v /:/host"], result.Servers.Single(s => s.Entry.Name == "slack").Launch.HostAccess.ToArray());
    }

    [Fact]
    public void Gemini_Sample_UrlIsSseHttpUrlIsHttp()
    {
        var (result, findings) = Audit("gemini", "project", ".gemini", "settings.json");

        Assert.Equal(["TG2004 sseServer 17", "TG2003 httpServer 20", "TG2005 serena 23"], findings);
        Assert.Equal(McpTransport.Sse, result.Servers.Single(s => s.Entry.Name == "sseServer").Entry.Transport);
        Assert.Equal(McpTransport.Http, result.Servers.Single(s => s.Entry.Name == "httpServer").Entry.Transport);
    }

    [Fact]
    public void Codex_Toml_ReadsServerTablesAndEnv()
    {
        var (result, findings) = Audit("codex", "config.toml");

        Assert.Equal(["TG2001 context7 4", "TG2002 context7 4", "TG2003 docs 16"], findings);
        var docs = result.Servers.Single(s => s.Entry.Name == "docs").Component;
        Assert.Equal((Ecosystem.PyPI, "mcp-docs-server", "0.4.1", true), (docs.Ecosystem, docs.Name, docs.Version, docs.Resolved));
    }

    [Fact]
    public void Run_InvalidJsonAmongOthers_ReportsPositionAndAuditsTheRest()
    {
        var diagnostics = new DiagnosticBag();

        var result = McpAudit.Run([Sample("broken", "claude_desktop_config.json"), Sample("cursor", "project", ".cursor", "mcp.json")],
            new McpAuditOptions { WorkingFolder = Sample() }, diagnostics);

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal((DiagnosticIds.InvalidJson, DiagnosticSeverity.Error, 5, 7), (error.Id, error.Severity, error.Location!.Line, error.Location.Column));
        Assert.Equal(4, result.Findings.Length);
    }

    [Fact]
    public void Graph_OneRootPerFile_ComponentsAtTheirConfigLine()
    {
        var (result, _) = Audit("claude-desktop", "claude_desktop_config.json");

        var root = Assert.Single(result.Graph.Roots);
        Assert.EndsWith("claude_desktop_config.json", root.AuthoritativeFile, StringComparison.Ordinal);
        Assert.Equal(3, result.Graph.ChildrenOf(root.Key).Length);
        var github = Assert.Single(result.Graph.FindByName("@modelcontextprotocol/server-github"));
        Assert.Equal(8, Assert.Single(github.Locations).Line);
    }
}
