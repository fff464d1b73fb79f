using System.Collections.Frozen;
using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Risk;

namespace Tollgate.Mcp;

/// <summary>One server as the rules see it: its entry, its launch understood, its component, and the project it belongs to.</summary>
/// <param name="Entry">The server as configured.</param>
/// <param name="Launch">Its command line understood.</param>
/// <param name="Component">The component findings about the server are attached to.</param>
/// <param name="ProjectFolder">The folder paths are judged against: the configuration's project, else the folder the audit runs in.</param>
/// <param name="UserHome">The user's home folder, for <c>~</c> in paths; null when unknown.</param>
/// <param name="RulesDocumentationUri">Where docs/rules.md is published; null for no links.</param>
public sealed record McpServerContext(
    McpServerEntry Entry,
    McpLaunch Launch,
    Component Component,
    string? ProjectFolder,
    string? UserHome,
    string? RulesDocumentationUri = null);

/// <summary>
/// A check of one MCP server entry (rules TG2xxx). It is a <see cref="RiskRule"/> for its metadata, so reports and the
/// policy describe it like every other rule, but it reads configurations, not dependency graphs.
/// </summary>
public abstract class McpRule(string id, string name, string title, RuleLevel defaultLevel, Severity defaultSeverity, string rationale, string fix)
    : RiskRule(id, name, title, defaultLevel, defaultSeverity, rationale, fix)
{
    /// <summary>MCP rules find nothing in a dependency graph: see <see cref="Evaluate(McpServerContext)"/>.</summary>
    public sealed override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context) => [];

    /// <summary>The findings of this rule about one server.</summary>
    public abstract IEnumerable<Finding> Evaluate(McpServerContext server);

    /// <summary>A finding about <paramref name="server"/>, located at <paramref name="line"/> of its configuration file.</summary>
    protected Finding Report(McpServerContext server, string summary, string? evidence, int line, Severity? severity = null) => new()
    {
        Kind = FindingKind.Signal,
        Id = Id,
        Severity = severity ?? DefaultSeverity,
        Summary = $"server '{server.Entry.Name}' ({server.Entry.Client.DisplayName()}) {summary}",
        Component = server.Component with { Locations = [new SourceLocation(server.Entry.ConfigFile, line)] },
        Evidence = evidence,
        HelpUri = server.RulesDocumentationUri is { } docs ? $"{docs}#{Anchor}" : null,
    };
}

/// <summary>The MCP configuration rules, by id. docs/rules.md documents each.</summary>
public static class McpRules
{
    /// <summary>The rules in id order.</summary>
    public static ImmutableArray<McpRule> All { get; } =
    [
        new UnpinnedLaunchRule(),
        new AutoConfirmRule(),
        new PlaintextSecretRule(),
        new PlainHttpRule(),
        new SourceLaunchRule(),
        new ContainerHostAccessRule(),
    ];

    private static readonly FrozenDictionary<string, McpRule> s_byId = All.ToFrozenDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);

    /// <summary>The rule with this id (any case), or null.</summary>
    public static McpRule? Find(string id) => s_byId.GetValueOrDefault(id);

    /// <summary>The findings of every rule about one server, in rule order.</summary>
    public static IEnumerable<Finding> Evaluate(McpServerContext server) => All.SelectMany(rule => rule.Evaluate(server));
}

/// <summary>TG2001: a package runner or container without an exact version.</summary>
internal sealed class UnpinnedLaunchRule() : McpRule(
    "TG2001",
    "UnpinnedMcpServer",
    "MCP server launched without an exact version",
    RuleLevel.Warn,
    Severity.Medium,
    "npx, bunx, pnpm dlx, yarn dlx, uvx, pipx run and dnx download the newest matching release every time the client starts "
    + "the server, and docker pulls whatever the tag points at. A compromised or hijacked release then runs on the next start, "
    + "with the server's credentials, and nobody reviewed it: there is no lockfile for a client configuration.",
    "Pin the exact version (npx pkg@1.2.3, uvx pkg==1.2.3, dnx Pkg@1.2.3 or --version 1.2.3), or the image digest "
    + "(image@sha256:…). Update the pin deliberately, after checking the release.")
{
    public override IEnumerable<Finding> Evaluate(McpServerContext server)
    {
        var launch = server.Launch;
        var line = server.Entry.CommandLine;
        if (launch.Kind == LaunchKind.Package && !launch.Pinned)
        {
            var what = launch.VersionSpec switch
            {
                null => "no version: the newest release runs at every start",
                "latest" => "'latest': the newest release runs at every start",
                var range => $"'{range}' is a range or tag, not one version",
            };
            yield return Report(server, $"runs {launch.Name} through {launch.Runner} without an exact version", $"{launch.Runner} {launch.Spec}: {what}", line);
        }
        else if (launch.Kind == LaunchKind.Container && !launch.Pinned)
        {
            yield return Report(server, $"runs image {launch.Name} without a digest",
                $"{launch.Runner} {launch.Spec}: a tag can be moved to other content; pin @sha256:…", line);
        }
    }
}

/// <summary>TG2002: the runner is told to install without asking.</summary>
internal sealed class AutoConfirmRule() : McpRule(
    "TG2002",
    "AutoConfirmInstall",
    "Package runner told to install without asking",
    RuleLevel.Warn,
    Severity.Low,
    "npx -y (and --yes, and dnx --yes) installs a package that is not yet on the machine without the prompt that would show "
    + "its name and version. A typo or a changed configuration then installs and runs a package nobody chose.",
    "Pin the exact version so the prompt has nothing to decide, and install the server once by hand, or remove the flag.")
{
    public override IEnumerable<Finding> Evaluate(McpServerContext server)
    {
        if (server.Launch.AutoConfirmFlag is { } flag)
        {
            yield return Report(server, $"tells {server.Launch.Runner} to install without asking", $"{server.Launch.Runner} {flag}", server.Entry.CommandLine);
        }
    }
}

/// <summary>TG2003: a token, key or password written in the configuration.</summary>
internal sealed class PlaintextSecretRule() : McpRule(
    "TG2003",
    "PlaintextSecret",
    "Secret written in plain text in an MCP configuration",
    RuleLevel.Fail,
    Severity.High,
    "Client configurations are read by every extension and tool on the machine, synced to dotfile repositories and "
    + "pasted into bug reports; project files such as .vscode/mcp.json and .mcp.json are committed. A token written there "
    + "is as good as published, and MCP servers usually hold broad tokens (repositories, cloud accounts, chat workspaces).",
    "Replace the value with a reference the client expands: ${env:NAME} or ${input:id} in VS Code, ${NAME} in Claude Code, "
    + "an envFile, or the client's secret store. Then rotate the secret: it has been stored in plain text.")
{
    public override IEnumerable<Finding> Evaluate(McpServerContext server)
    {
        var entry = server.Entry;
        foreach (var env in entry.Env)
        {
            if (SecretDetector.Find(env.Name, env.Value) is { } secret)
            {
                yield return Report(server, $"has a plaintext {secret.Kind} ({secret.Masked}) in env {env.Name}", null, env.Line);
            }
        }
        foreach (var header in entry.Headers)
        {
            if (SecretDetector.Find(header.Name, header.Value) is { } secret)
            {
                yield return Report(server, $"has a plaintext {secret.Kind} ({secret.Masked}) in header {header.Name}", null, header.Line);
            }
        }
        for (var i = 0; i < entry.Args.Length; i++)
        {
            var arg = entry.Args[i].Text;
            var (name, value) = NamedValue(arg, i > 0 ? entry.Args[i - 1].Text : null);
            if (SecretDetector.Find(name, value) is { } secret)
            {
                yield return Report(server, $"has a plaintext {secret.Kind} ({secret.Masked}) in argument {i + 1}{(name is null ? "" : $" ({name})")}", null, entry.Args[i].Line);
            }
        }
        if (entry.Url is { } url && UrlSecret(url.Text) is { } urlSecret)
        {
            yield return Report(server, $"has a plaintext {urlSecret.Secret.Kind} ({urlSecret.Secret.Masked}) in its URL ({urlSecret.Where})", null, url.Line);
        }
    }

    /// <summary>The name an argument's value is given under: <c>--token=V</c>, <c>KEY=V</c> (docker -e), or <c>--token V</c>.</summary>
    private static (string? Name, string Value) NamedValue(string arg, string? previous)
    {
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0 && !arg.StartsWith("http", StringComparison.OrdinalIgnoreCase))
        {
            return (arg[..eq].TrimStart('-'), arg[(eq + 1)..]);
        }
        if (previous is not null && previous.StartsWith('-') && !previous.Contains('=', StringComparison.Ordinal))
        {
            return (previous.TrimStart('-'), arg);
        }
        return (null, arg);
    }

    private static (SecretMatch Secret, string Where)? UrlSecret(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            return SecretDetector.Find(null, text) is { } s ? (s, "value") : null;
        }
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            var password = Uri.UnescapeDataString(colon >= 0 ? uri.UserInfo[(colon + 1)..] : uri.UserInfo);
            if (password.Length > 0 && !SecretDetector.IsReference(password))
            {
                return (new SecretMatch("credential", SecretDetector.Mask(password)), "user info");
            }
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && SecretDetector.Find(Uri.UnescapeDataString(pair[..eq]), Uri.UnescapeDataString(pair[(eq + 1)..])) is { } secret)
            {
                return (secret, "query " + Uri.UnescapeDataString(pair[..eq]));
            }
        }
        return SecretDetector.Find(null, uri.AbsolutePath) is { } inPath ? (inPath, "path") : null;
    }
}

/// <summary>TG2004: a remote server over plain HTTP to another machine.</summary>
internal sealed class PlainHttpRule() : McpRule(
    "TG2004",
    "PlainHttpMcpServer",
    "Remote MCP server reached over plain HTTP",
    RuleLevel.Fail,
    Severity.High,
    "Over http:// anyone on the network path reads the requests, with their Authorization headers and the data the tools "
    + "return, and can change the responses: tool descriptions and results are instructions to the model.",
    "Use an https:// URL. Plain HTTP is only acceptable to a server on the same machine (localhost, 127.0.0.1, ::1).")
{
    public override IEnumerable<Finding> Evaluate(McpServerContext server)
    {
        if (server.Entry.Url is { } url
            && Uri.TryCreate(url.Text, UriKind.Absolute, out var uri)
            && uri.Scheme == Uri.UriSchemeHttp
            && !uri.IsLoopback)
        {
            yield return Report(server, "is reached over plain HTTP", $"url: {McpAudit.DisplayUrl(uri)}", url.Line);
        }
    }
}

/// <summary>TG2005: the server is started from a git repository, an archive URL, or a path outside the project.</summary>
internal sealed class SourceLaunchRule() : McpRule(
    "TG2005",
    "McpServerFromSource",
    "MCP server launched from a git repository, URL or path outside the project",
    RuleLevel.Warn,
    Severity.Medium,
    "A git repository or an archive URL is not a published release: its content changes with every push, no advisory "
    + "names it, and whoever controls the repository controls the server. A path outside the project runs whatever is at "
    + "that path on each machine: nobody reviewing the project sees it.",
    "Run a published, pinned release from a registry instead, or vendor the server into the project and review it there.")
{
    public override IEnumerable<Finding> Evaluate(McpServerContext server)
    {
        var launch = server.Launch;
        if (launch.Kind == LaunchKind.Remote)
        {
            yield return Report(server, $"is started by {launch.Runner} from a git repository or URL", $"{launch.Runner} {McpAudit.RedactSpec(launch.Spec ?? "")}", server.Entry.CommandLine);
        }
        else if (launch.Kind == LaunchKind.LocalPath && launch.Path is { } path
            && McpAudit.IsOutside(path, server.ProjectFolder, server.UserHome) is { } outside)
        {
            yield return Report(server, "is started from a path outside the project", $"path: {outside}", server.Entry.CommandLine, Severity.Low);
        }
    }
}

/// <summary>TG2006: a container given the host.</summary>
internal sealed class ContainerHostAccessRule() : McpRule(
    "TG2006",
    "ContainerHostAccess",
    "MCP server container given access to the host",
    RuleLevel.Fail,
    Severity.High,
    "A container is only a boundary without --privileged, without the host's network and without the host's root folder "
    + "mounted. With any of them a compromised server reads every file and secret of the machine, or reaches services "
    + "that listen only on localhost.",
    "Drop --privileged and --network host, and mount only the folders the server needs, read-only where it can.")
{
    public override IEnumerable<Finding> Evaluate(McpServerContext server)
    {
        if (!server.Launch.HostAccess.IsEmpty)
        {
            yield return Report(server, $"runs its container with access to the host", string.Join(", ", server.Launch.HostAccess), server.Entry.CommandLine);
        }
    }
}
