using System.Collections.Immutable;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Mcp;

/// <summary>Settings of an audit: where relative paths are judged from, the user's home, and where rules are documented.</summary>
public sealed record McpAuditOptions
{
    /// <summary>The folder the audit runs in: the project of per-user configurations (default: the current folder).</summary>
    public string? WorkingFolder { get; init; }

    /// <summary>The user's home folder, for <c>~</c> in paths and to tell per-user files from project files.</summary>
    public string? UserHome { get; init; }

    /// <summary>Where docs/rules.md is published; findings link to its sections. Null: no links.</summary>
    public string? RulesDocumentationUri { get; init; }
}

/// <summary>One server audited: its entry, how it launches, and the component that stands for it in the graph.</summary>
public sealed record AuditedServer(McpServerEntry Entry, McpLaunch Launch, Component Component);

/// <summary>The outcome of auditing configuration files: the servers, the findings, the graph and the input problems.</summary>
public sealed record McpAuditResult(
    ImmutableArray<McpConfigFile> Files,
    ImmutableArray<AuditedServer> Servers,
    ImmutableArray<Finding> Findings,
    DependencyGraph Graph,
    ImmutableArray<Diagnostic> Diagnostics);

/// <summary>
/// Audits MCP client configurations: reads each file, runs the TG2xxx rules over every server, and turns the
/// packages the servers run into a dependency graph (one root per configuration file) that advisory matching
/// can check, so a known-malicious or vulnerable server version is reported. Nothing is run, resolved or sent.
/// </summary>
public static class McpAudit
{
    /// <summary>Audits <paramref name="paths"/>; files that cannot be read add diagnostics and the rest are still audited.</summary>
    public static McpAuditResult Run(IEnumerable<string> paths, McpAuditOptions options, DiagnosticBag diagnostics, AdvisoryStore? advisories = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var working = Path.GetFullPath(options.WorkingFolder ?? Directory.GetCurrentDirectory());
        var files = ImmutableArray.CreateBuilder<McpConfigFile>();
        var servers = ImmutableArray.CreateBuilder<AuditedServer>();
        var findings = new List<Finding>();
        var projects = new List<ProjectGraph>();
        foreach (var path in paths)
        {
            if (McpConfigReader.Read(path, diagnostics, options.UserHome) is not { } file)
            {
                continue;
            }
            files.Add(file);
            var root = new ProjectRoot(ProjectRoot.KeyFor(file.Path), Ecosystem.Generic, null, null, file.Path, [file.Path]);
            var components = new List<Component>();
            foreach (var entry in file.Servers)
            {
                var launch = McpLaunch.Parse(entry);
                var component = ComponentFor(entry, launch);
                servers.Add(new AuditedServer(entry, launch, component));
                components.Add(component);
                var project = file.ProjectFolder ?? working;
                findings.AddRange(McpRules.Evaluate(new McpServerContext(entry, launch, component, project, options.UserHome, options.RulesDocumentationUri)));
                CheckEnvFile(entry, file, project, diagnostics);
            }
            projects.Add(new ProjectGraph(root, [.. components], [.. components.Select(c => new DependencyEdge(root.Key, c.Key))]));
        }
        var graph = GraphMerger.Merge(projects, diagnostics.Items);
        if (advisories is not null)
        {
            findings.AddRange(new AdvisoryMatcher(advisories).Match(graph).Findings);
        }
        return new McpAuditResult(files.ToImmutable(), servers.ToImmutable(),
            [.. findings.OrderBy(f => f.Component.Locations.FirstOrDefault()?.File, StringComparer.Ordinal)
                .ThenBy(f => f.Component.Locations.FirstOrDefault()?.Line ?? 0)
                .ThenBy(f => f.Id, StringComparer.Ordinal)],
            graph, [.. diagnostics.Items]);
    }

    /// <summary>
    /// The component a server stands for: the registry package it runs (exact version when pinned, else the written range
    /// and unresolved), or, for containers, remote servers, git sources and local programs, a <see cref="Ecosystem.Generic"/>
    /// component named after the image or the server, never matched against advisories.
    /// </summary>
    public static Component ComponentFor(McpServerEntry entry, McpLaunch launch)
    {
        var location = new SourceLocation(entry.ConfigFile, entry.CommandLine > 0 ? entry.CommandLine : entry.Location.Line);
        switch (launch.Kind)
        {
            case LaunchKind.Package when launch.Ecosystem is { } ecosystem && launch.Name is { Length: > 0 } name:
            {
                var version = launch.Pinned ? launch.VersionSpec! : launch.VersionSpec ?? "latest";
                var canonical = ecosystem == Ecosystem.PyPI ? Component.NormalizePyPIName(name) : name;
                return new Component
                {
                    Ecosystem = ecosystem,
                    Name = canonical,
                    Version = version,
                    Purl = PackageUrl.For(ecosystem, canonical, launch.Pinned ? version : null),
                    Resolved = launch.Pinned,
                    Direct = true,
                    Locations = [location],
                };
            }
            case LaunchKind.Container when launch.Name is { Length: > 0 } image:
            {
                var slash = image.LastIndexOf('/');
                var version = launch.VersionSpec ?? "latest";
                return new Component
                {
                    Ecosystem = Ecosystem.Generic,
                    Name = image,
                    Version = version,
                    Purl = new PackageUrl("docker", slash > 0 ? image[..slash] : null, slash > 0 ? image[(slash + 1)..] : image, version),
                    Resolved = false,
                    Direct = true,
                    Origin = Origin.Registry(),
                    Locations = [location],
                };
            }
            default:
            {
                var (version, origin) = launch.Kind switch
                {
                    LaunchKind.Remote => (launch.Spec is { } s && IsGitLike(s) ? "git" : "url", new Origin(IsGitLike(launch.Spec ?? "") ? OriginKind.Git : OriginKind.Url, RedactSpec(launch.Spec ?? ""))),
                    LaunchKind.LocalPath => ("local", new Origin(OriginKind.File, launch.Path)),
                    LaunchKind.RemoteServer => ("remote", new Origin(OriginKind.Url, entry.Url is { } u && Uri.TryCreate(u.Text, UriKind.Absolute, out var uri) ? DisplayUrl(uri) : null)),
                    _ => ("program", new Origin(OriginKind.File, entry.Command)),
                };
                return new Component
                {
                    Ecosystem = launch.Kind is LaunchKind.Remote or LaunchKind.LocalPath && launch.Ecosystem is { } e ? e : Ecosystem.Generic,
                    Name = entry.Name,
                    Version = version,
                    Purl = new PackageUrl("generic", null, entry.Name, version),
                    Resolved = false,
                    Direct = true,
                    Origin = origin,
                    Locations = [location],
                };
            }
        }
    }

    /// <summary>A URL without user info, query or fragment: what may be printed of a URL that can carry secrets.</summary>
    public static string DisplayUrl(Uri uri) => uri.GetLeftPart(UriPartial.Path).Replace(uri.UserInfo + "@", "", StringComparison.Ordinal);

    /// <summary>A package spec with any URL in it reduced to <see cref="DisplayUrl"/> (git URLs can carry tokens).</summary>
    public static string RedactSpec(string spec)
    {
        var plus = spec.StartsWith("git+", StringComparison.OrdinalIgnoreCase) ? 4 : 0;
        var hash = spec.IndexOf('#', StringComparison.Ordinal);
        var body = hash >= 0 ? spec[plus..hash] : spec[plus..];
        var fragment = hash >= 0 ? spec[hash..] : "";
        return Uri.TryCreate(body, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "git" or "ssh"
            ? spec[..plus] + DisplayUrl(uri) + fragment
            : spec;
    }

    /// <summary>
    /// The absolute form of <paramref name="path"/> when it lies outside <paramref name="projectFolder"/>, else null.
    /// <c>~</c> is the user's home, <c>${workspaceFolder}</c> the project; paths with other variables cannot be judged (null).
    /// </summary>
    public static string? IsOutside(string path, string? projectFolder, string? userHome)
    {
        var p = path.Trim();
        if (p.StartsWith("${workspaceFolder}", StringComparison.Ordinal) || p.StartsWith("${workspaceRoot}", StringComparison.Ordinal))
        {
            return null;
        }
        if (p.Contains("${", StringComparison.Ordinal) || p.Contains('%', StringComparison.Ordinal) || p.StartsWith('$'))
        {
            return null;
        }
        if (p.StartsWith('~'))
        {
            if (userHome is null)
            {
                return p;
            }
            p = Path.Join(userHome, p[1..].TrimStart('/', '\\'));
        }
        var windowsRooted = p.Length > 2 && char.IsAsciiLetter(p[0]) && p[1] == ':' && p[2] is '\\' or '/';
        if (projectFolder is null)
        {
            return Path.IsPathRooted(p) || windowsRooted ? p : null;
        }
        if (windowsRooted && !OperatingSystem.IsWindows())
        {
            // A Windows path judged on another system cannot lie in this project.
            return p;
        }
        var full = Path.GetFullPath(p, projectFolder);
        var relative = Path.GetRelativePath(projectFolder, full);
        return relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative)
            ? full.Replace('\\', '/')
            : null;
    }

    private static bool IsGitLike(string spec) =>
        spec.StartsWith("git", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("bitbucket:", StringComparison.OrdinalIgnoreCase)
        || spec.EndsWith(".git", StringComparison.OrdinalIgnoreCase) || (!spec.Contains(':', StringComparison.Ordinal) && spec.Contains('/', StringComparison.Ordinal));

    private static void CheckEnvFile(McpServerEntry entry, McpConfigFile file, string project, DiagnosticBag diagnostics)
    {
        if (entry.EnvFile is not { } envFile)
        {
            return;
        }
        var path = envFile.Text.Trim();
        path = path.Replace("${workspaceFolder}", file.ProjectFolder ?? project, StringComparison.Ordinal)
            .Replace("${workspaceRoot}", file.ProjectFolder ?? project, StringComparison.Ordinal);
        if (path.Contains("${", StringComparison.Ordinal))
        {
            return;
        }
        var full = Path.GetFullPath(path, file.ProjectFolder ?? Path.GetDirectoryName(file.FullPath) ?? project);
        if (!File.Exists(full))
        {
            diagnostics.Warning(DiagnosticIds.MissingReference, $"server '{entry.Name}': envFile '{envFile.Text}' does not exist",
                new SourceLocation(entry.ConfigFile, envFile.Line), "the client starts the server without these variables; create the file or remove 'envFile'");
        }
    }
}
