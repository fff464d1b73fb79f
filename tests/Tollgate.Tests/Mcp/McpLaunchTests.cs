using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Mcp;

namespace Tollgate.Tests.Mcp;

public sealed class McpLaunchTests
{
    private static McpLaunch Parse(string command, params string[] args) => McpLaunch.Parse(new McpServerEntry
    {
        Client = McpClient.ClaudeDesktop,
        ConfigFile = "c.json",
        Name = "s",
        Transport = McpTransport.Stdio,
        Command = command,
        Args = [.. args.Select(a => new McpValue(a, 1))],
        Location = new SourceLocation("c.json", 1),
    });

    [Theory]
    [InlineData("npx", "-y|@scope/pkg@1.2.3", "@scope/pkg", "1.2.3", true)]
    [InlineData("npx", "pkg", "pkg", null, false)]
    [InlineData("npx", "pkg@latest", "pkg", "latest", false)]
    [InlineData("npx", "pkg@^1.2.0", "pkg", "^1.2.0", false)]
    [InlineData("npx", "--package=pkg@2.0.0|pkg-bin", "pkg", "2.0.0", true)]
    [InlineData("bunx", "pkg@1.0.0", "pkg", "1.0.0", true)]
    [InlineData("pnpm", "dlx|pkg@1.x", "pkg", "1.x", false)]
    [InlineData("yarn", "dlx|pkg@1.0.0", "pkg", "1.0.0", true)]
    [InlineData("npm", "exec|--yes|pkg@3.1.4", "pkg", "3.1.4", true)]
    [InlineData("C:\\Program Files\\nodejs\\npx.cmd", "-y|pkg", "pkg", null, false)]
    [InlineData("cmd", "/c|npx|-y|pkg@1.0.0", "pkg", "1.0.0", true)]
    [InlineData("uvx", "mcp-server-fetch", "mcp-server-fetch", null, false)]
    [InlineData("uvx", "mcp-server-fetch==2025.1.17", "mcp-server-fetch", "2025.1.17", true)]
    [InlineData("uvx", "mcp-server-fetch>=1.0", "mcp-server-fetch", ">=1.0", false)]
    [InlineData("uvx", "mcp-server-fetch==1.*", "mcp-server-fetch", "1.*", false)]
    [InlineData("uvx", "mcp-server-fetch@1.2.0", "mcp-server-fetch", "1.2.0", true)]
    [InlineData("uvx", "--from|pkg[cli]==1.0|pkg-cli", "pkg", "1.0", true)]
    [InlineData("uv", "tool|run|pkg==0.1", "pkg", "0.1", true)]
    [InlineData("pipx", "run|pkg", "pkg", null, false)]
    [InlineData("pipx", "run|--spec|pkg==2.0|pkg", "pkg", "2.0", true)]
    [InlineData("dnx", "Contoso.Mcp@1.0.0|--yes", "Contoso.Mcp", "1.0.0", true)]
    [InlineData("dnx", "Contoso.Mcp", "Contoso.Mcp", null, false)]
    [InlineData("dotnet", "tool|exec|Contoso.Mcp|--version|2.1.0", "Contoso.Mcp", "2.1.0", true)]
    [InlineData("dotnet", "tool|exec|Contoso.Mcp|--version|2.*", "Contoso.Mcp", "2.*", false)]
    public void Parse_PackageRunners_NameVersionAndPin(string command, string args, string name, string? version, bool pinned)
    {
        var launch = Parse(command, args.Split('|'));

        Assert.Equal(LaunchKind.Package, launch.Kind);
        Assert.Equal((name, version, pinned), (launch.Name, launch.VersionSpec, launch.Pinned));
    }

    [Theory]
    [InlineData("npx", "github:owner/repo")]
    [InlineData("npx", "owner/repo")]
    [InlineData("npx", "git+https://git.example.invalid/repo.git")]
    [InlineData("npx", "https://files.example.invalid/pkg-1.0.0.tgz")]
    [InlineData("uvx", "--from|git+https://git.example.invalid/pkg|pkg")]
    [InlineData("pipx", "run|--spec|git+https://git.example.invalid/pkg|pkg")]
    public void Parse_GitOrUrlSpec_IsRemote(string command, string args) =>
        Assert.Equal(LaunchKind.Remote, Parse(command, args.Split('|')).Kind);

    [Theory]
    [InlineData("docker", "run|-i|--rm|mcp/x", "mcp/x", null, false)]
    [InlineData("docker", "run|-i|--rm|-e|TOKEN|ghcr.io/o/x:1.2", "ghcr.io/o/x", "1.2", false)]
    [InlineData("podman", "run|--name|x|registry:5000/o/x@sha256:abc", "registry:5000/o/x", "sha256:abc", true)]
    public void Parse_Container_ImageAndDigest(string command, string args, string image, string? version, bool pinned)
    {
        var launch = Parse(command, args.Split('|'));

        Assert.Equal(LaunchKind.Container, launch.Kind);
        Assert.Equal((image, version, pinned), (launch.Name, launch.VersionSpec, launch.Pinned));
    }

    [Theory]
    [InlineData("run|--privileged|mcp/x", "--privileged")]
    [InlineData("run|--network|host|mcp/x", "--network host")]
    [InlineData("run|--net=host|mcp/x", "--net host")]
    [InlineData("run|-v|/:/host:ro|mcp/x", "-v /:/host:ro")]
    [InlineData("run|--mount|type=bind,source=/,target=/host|mcp/x", "--mount type=bind,source=/,target=/host")]
    public void Parse_ContainerHostAccess_IsListed(string args, string expected) =>
        Assert.Equal([expected], Parse("docker", args.Split('|')).HostAccess.ToArray());

    [Fact]
    public void Parse_ContainerOrdinaryMounts_GiveNoHostAccess() =>
        Assert.Empty(Parse("docker", "run", "-v", "/home/me/data:/data", "--network", "bridge", "mcp/x").HostAccess);

    [Theory]
    [InlineData("node", "/srv/mcp/index.js", "/srv/mcp/index.js")]
    [InlineData("uv", "--directory|/srv/weather|run|weather.py", "/srv/weather")]
    [InlineData("/opt/tools/mcp-server", "", "/opt/tools/mcp-server")]
    public void Parse_LocalPrograms_ThePathThatRuns(string command, string args, string path)
    {
        var launch = Parse(command, args.Length == 0 ? [] : args.Split('|'));

        Assert.Equal((LaunchKind.LocalPath, path), (launch.Kind, launch.Path));
    }

    [Theory]
    [InlineData("/srv/other/index.js", "/work/proj", "/srv/other/index.js")]
    [InlineData("../other/index.js", "/work/proj", "/work/other/index.js")]
    [InlineData("./dist/index.js", "/work/proj", null)]
    [InlineData("/work/proj/dist/index.js", "/work/proj", null)]
    [InlineData("${workspaceFolder}/dist/index.js", "/work/proj", null)]
    [InlineData("~/servers/x.js", "/work/proj", "/home/me/servers/x.js")]
    [InlineData("${HOME}/x.js", "/work/proj", null)]
    public void IsOutside_JudgesAgainstTheProject(string path, string project, string? expected)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        Assert.Equal(expected, McpAudit.IsOutside(path, project, "/home/me"));
    }

    [Fact]
    public void RedactSpec_GitUrlWithToken_DropsUserInfo() =>
        Assert.Equal("git+https://git.example.invalid/o/r.git#v1", McpAudit.RedactSpec("git+https://user:ghp_secret@git.example.invalid/o/r.git#v1"));

    [Fact]
    public void Rules_EveryRuleDescribedAndFoundThroughRiskRules()
    {
        Assert.Equal(["TG2001", "TG2002", "TG2003", "TG2004", "TG2005", "TG2006"], McpRules.All.Select(r => r.Id));
        Assert.All(McpRules.All, r => Assert.Same(r, Tollgate.Risk.RiskRules.Find(r.Id.ToLowerInvariant())));
        var doc = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "docs", "rules.md"));
        Assert.All(McpRules.All, rule =>
        {
            Assert.Contains($"## {rule.Id}: {rule.Title}", doc, StringComparison.Ordinal);
            Assert.Matches("^[A-Z][A-Za-z]+$", rule.Name);
        });
        ImmutableArray<string> ids = [.. McpRules.All.Select(r => r.Id)];
        Assert.All(ids, id => Assert.Contains($"[{id}](#{id.ToLowerInvariant()})", doc, StringComparison.Ordinal));
    }
}
