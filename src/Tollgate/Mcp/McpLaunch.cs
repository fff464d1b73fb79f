using System.Collections.Immutable;
using Tollgate.Ecosystems;
using Tollgate.Graph;

namespace Tollgate.Mcp;

/// <summary>What a server's command line starts.</summary>
public enum LaunchKind
{
    /// <summary>A registry package run by a package runner (npx, uvx, dnx…).</summary>
    Package,
    /// <summary>A package runner started from a git repository or an archive URL.</summary>
    Remote,
    /// <summary>A package runner or program started from a local path.</summary>
    LocalPath,
    /// <summary>A container image (<c>docker run</c>, <c>podman run</c>).</summary>
    Container,
    /// <summary>Any other program (an interpreter, a binary on the PATH).</summary>
    Program,
    /// <summary>Not started by the client: a remote HTTP or SSE server.</summary>
    RemoteServer,
}

/// <summary>
/// A server's command line understood: which runner starts which package, image or path, and whether it is pinned.
/// Built by <see cref="Parse"/> from the command and arguments as written; nothing is run or resolved.
/// </summary>
public sealed record McpLaunch
{
    public required LaunchKind Kind { get; init; }

    /// <summary>The runner as written in docs: <c>npx</c>, <c>uvx</c>, <c>pipx run</c>, <c>dnx</c>, <c>docker run</c>…; null for other programs.</summary>
    public string? Runner { get; init; }

    /// <summary>The package's ecosystem, for package runners.</summary>
    public Ecosystem? Ecosystem { get; init; }

    /// <summary>The package name (npm with its scope), or the image name.</summary>
    public string? Name { get; init; }

    /// <summary>The version or range written after the name (<c>1.2.3</c>, <c>^1</c>, <c>latest</c>); null when none is.</summary>
    public string? VersionSpec { get; init; }

    /// <summary>True when the package is pinned to one exact version, or the image to a digest.</summary>
    public bool Pinned { get; init; }

    /// <summary>The package spec, git URL, archive URL or path exactly as written.</summary>
    public string? Spec { get; init; }

    /// <summary>The auto-confirm flag given to the runner (<c>-y</c>, <c>--yes</c>), or null.</summary>
    public string? AutoConfirmFlag { get; init; }

    /// <summary>The local path launched (a script, a binary, a package folder), for <see cref="LaunchKind.LocalPath"/> and programs.</summary>
    public string? Path { get; init; }

    /// <summary>Container options that give the container the host (<c>--privileged</c>, <c>--network host</c>, host-root mounts).</summary>
    public ImmutableArray<string> HostAccess { get; init; } = [];

    private static readonly ImmutableHashSet<string> s_npxValueOptions = ["-p", "--package", "-c", "--call", "--registry", "--cache", "--userconfig", "--prefix", "-w", "--workspace", "--node-options"];
    private static readonly ImmutableHashSet<string> s_uvxValueOptions = ["--from", "--with", "--with-editable", "--with-requirements", "--python", "-p", "--index", "--index-url", "--extra-index-url", "--default-index", "--find-links", "-f", "--constraints", "-c", "--overrides", "--directory", "--project", "--config-file", "--cache-dir", "--python-preference", "--index-strategy", "--keyring-provider", "--exclude-newer", "--refresh-package", "--reinstall-package", "--upgrade-package", "-P", "--env-file"];
    private static readonly ImmutableHashSet<string> s_pipxValueOptions = ["--spec", "--python", "--pip-args", "--index-url", "-i", "--backend"];
    private static readonly ImmutableHashSet<string> s_dnxValueOptions = ["--version", "--source", "--add-source", "--configfile", "--framework", "--arch", "-a", "--verbosity", "-v"];
    private static readonly ImmutableHashSet<string> s_dockerValueOptions =
    [
        "-e", "--env", "--env-file", "-v", "--volume", "--mount", "--name", "--network", "--net", "-p", "--publish", "-w", "--workdir",
        "-u", "--user", "--entrypoint", "--platform", "--pull", "-l", "--label", "--label-file", "--cap-add", "--cap-drop", "--device",
        "--add-host", "-m", "--memory", "--memory-swap", "--cpus", "--cpu-shares", "-c", "--security-opt", "-h", "--hostname", "--ipc",
        "--pid", "--uts", "--userns", "--runtime", "--tmpfs", "--ulimit", "--log-driver", "--log-opt", "--restart", "--gpus", "--dns",
        "--dns-search", "--dns-option", "--cidfile", "--volumes-from", "--link", "--expose", "--group-add", "--health-cmd",
        "--stop-signal", "--stop-timeout", "--shm-size", "--storage-opt", "--sysctl", "--mac-address", "--ip", "--ip6", "--isolation",
        "--cgroup-parent", "--cgroupns", "--annotation", "--attach", "-a", "--detach-keys",
    ];

    /// <summary>Programs that run a script or module named by an argument; the argument is the path to judge.</summary>
    private static readonly ImmutableHashSet<string> s_interpreters = ["node", "nodejs", "python", "python3", "py", "deno", "bun", "ruby", "php", "java", "dotnet", "uv", "bash", "sh", "pwsh", "powershell", "tsx", "ts-node"];

    /// <summary>Understands <paramref name="entry"/>'s command line (or URL for remote servers).</summary>
    public static McpLaunch Parse(McpServerEntry entry)
    {
        if (entry.Transport != McpTransport.Stdio || entry.Command is null)
        {
            return new McpLaunch { Kind = LaunchKind.RemoteServer };
        }
        return ParseCommand(entry.Command, [.. entry.Args.Select(a => a.Text)]);
    }

    /// <summary>Understands a command line given as a program and its arguments (an MCP entry, a container entrypoint, a shell command).</summary>
    public static McpLaunch ParseCommand(string programText, IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(programText);
        ArgumentNullException.ThrowIfNull(arguments);
        var args = arguments.ToList();
        var command = programText.Trim();
        var program = ProgramName(command);
        // Windows configurations wrap runners in "cmd /c npx …".
        if (program == "cmd" && args.Count >= 2 && args[0].Equals("/c", StringComparison.OrdinalIgnoreCase))
        {
            command = args[1];
            program = ProgramName(command);
            args = args[2..];
        }
        return program switch
        {
            "npx" => Npm("npx", args),
            "bunx" => Npm("bunx", args),
            "pnpx" => Npm("pnpx", args),
            "npm" when args.Count > 0 && args[0] is "exec" or "x" => Npm("npm exec", args[1..]),
            "pnpm" when args.Count > 0 && args[0] == "dlx" => Npm("pnpm dlx", args[1..]),
            "yarn" when args.Count > 0 && args[0] == "dlx" => Npm("yarn dlx", args[1..]),
            "bun" when args.Count > 0 && args[0] == "x" => Npm("bun x", args[1..]),
            "uvx" => Python("uvx", args, s_uvxValueOptions, "--from"),
            "uv" when args.Count > 1 && args[0] == "tool" && args[1] == "run" => Python("uv tool run", args[2..], s_uvxValueOptions, "--from"),
            "pipx" when args.Count > 0 && args[0] == "run" => Python("pipx run", args[1..], s_pipxValueOptions, "--spec"),
            "dnx" => DotNet("dnx", args),
            "dotnet" when args.Count > 0 && args[0] == "dnx" => DotNet("dotnet dnx", args[1..]),
            "dotnet" when args.Count > 1 && args[0] == "tool" && args[1] == "exec" => DotNet("dotnet tool exec", args[2..]),
            "docker" or "podman" when args.Count > 0 && args[0] == "run" => Container(program + " run", args[1..]),
            "docker" or "podman" when args.Count > 1 && args[0] == "container" && args[1] == "run" => Container(program + " run", args[2..]),
            _ => Program(command, program, args),
        };
    }

    /// <summary>The program's file name, lower case, without a Windows extension: <c>C:\…\npx.cmd</c> is <c>npx</c>.</summary>
    internal static string ProgramName(string command)
    {
        var name = command.Replace('\\', '/');
        name = name[(name.LastIndexOf('/') + 1)..].ToLowerInvariant();
        foreach (var extension in (string[])[".cmd", ".exe", ".bat", ".ps1"])
        {
            if (name.EndsWith(extension, StringComparison.Ordinal))
            {
                return name[..^extension.Length];
            }
        }
        return name;
    }

    private static McpLaunch Npm(string runner, List<string> args)
    {
        string? autoConfirm = null;
        string? package = null;
        string? positional = null;
        for (var i = 0; i < args.Count; i++)
        {
            var (option, inline) = SplitOption(args[i]);
            if (args[i] == "--")
            {
                positional = i + 1 < args.Count ? args[i + 1] : null;
                break;
            }
            if (option is "-y" or "--yes")
            {
                autoConfirm ??= option;
                continue;
            }
            if (s_npxValueOptions.Contains(option))
            {
                var value = inline ?? (i + 1 < args.Count ? args[++i] : null);
                if (option is "-p" or "--package")
                {
                    package ??= value;
                }
                continue;
            }
            if (option.StartsWith('-'))
            {
                continue;
            }
            positional = args[i];
            break;
        }
        var spec = package ?? positional;
        if (spec is null)
        {
            return new McpLaunch { Kind = LaunchKind.Program, Runner = runner, AutoConfirmFlag = autoConfirm };
        }
        return NpmSpec(spec) with { Runner = runner, AutoConfirmFlag = autoConfirm };
    }

    /// <summary>An npm package spec as npm reads it: git hosts and URLs, local paths, or <c>name@version-or-range-or-tag</c>.</summary>
    internal static McpLaunch NpmSpec(string spec)
    {
        if (IsGitSpec(spec) || IsNpmGitHubShorthand(spec))
        {
            return new McpLaunch { Kind = LaunchKind.Remote, Spec = spec, Ecosystem = Graph.Ecosystem.Npm };
        }
        if (spec.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return new McpLaunch { Kind = LaunchKind.Remote, Spec = spec, Ecosystem = Graph.Ecosystem.Npm };
        }
        if (IsPathSpec(spec))
        {
            return new McpLaunch { Kind = LaunchKind.LocalPath, Spec = spec, Path = FilePath(spec), Ecosystem = Graph.Ecosystem.Npm };
        }
        var at = spec.IndexOf('@', 1);
        var name = at > 0 ? spec[..at] : spec;
        var version = at > 0 ? spec[(at + 1)..] : null;
        var pinned = version is not null && VersionSchemes.Npm.TryParse(version, out _) && !version.StartsWith('v') && !version.Contains(' ', StringComparison.Ordinal);
        return new McpLaunch { Kind = LaunchKind.Package, Ecosystem = Graph.Ecosystem.Npm, Name = name, VersionSpec = version, Pinned = pinned, Spec = spec };
    }

    private static McpLaunch Python(string runner, List<string> args, ImmutableHashSet<string> valueOptions, string fromOption)
    {
        string? from = null;
        string? positional = null;
        for (var i = 0; i < args.Count; i++)
        {
            var (option, inline) = SplitOption(args[i]);
            if (args[i] == "--")
            {
                positional = i + 1 < args.Count ? args[i + 1] : null;
                break;
            }
            if (valueOptions.Contains(option))
            {
                var value = inline ?? (i + 1 < args.Count ? args[++i] : null);
                if (option == fromOption)
                {
                    from ??= value;
                }
                continue;
            }
            if (option.StartsWith('-'))
            {
                continue;
            }
            positional = args[i];
            break;
        }
        var spec = from ?? positional;
        return spec is null
            ? new McpLaunch { Kind = LaunchKind.Program, Runner = runner }
            : PythonSpec(spec) with { Runner = runner };
    }

    /// <summary>A Python requirement as uv and pipx read it: <c>name==1.2</c>, <c>name@1.2</c> (uv), a git or archive URL, or a path.</summary>
    internal static McpLaunch PythonSpec(string spec)
    {
        var at = spec.IndexOf(" @ ", StringComparison.Ordinal);
        var direct = at > 0 ? spec[(at + 3)..].Trim() : spec;
        if (IsGitSpec(direct) || direct.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || direct.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return new McpLaunch { Kind = LaunchKind.Remote, Spec = spec, Ecosystem = Graph.Ecosystem.PyPI };
        }
        if (IsPathSpec(direct))
        {
            return new McpLaunch { Kind = LaunchKind.LocalPath, Spec = spec, Path = FilePath(direct), Ecosystem = Graph.Ecosystem.PyPI };
        }
        var nameEnd = 0;
        while (nameEnd < spec.Length && (char.IsAsciiLetterOrDigit(spec[nameEnd]) || spec[nameEnd] is '-' or '_' or '.'))
        {
            nameEnd++;
        }
        var name = spec[..nameEnd];
        var rest = spec[nameEnd..];
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            rest = close < 0 ? "" : rest[(close + 1)..];
        }
        rest = rest.Trim();
        string? version = null;
        var pinned = false;
        if (rest.StartsWith("===", StringComparison.Ordinal))
        {
            version = rest[3..].Trim();
            pinned = version.Length > 0;
        }
        else if (rest.StartsWith("==", StringComparison.Ordinal))
        {
            version = rest[2..].Trim();
            pinned = !version.Contains('*', StringComparison.Ordinal) && !version.Contains(',', StringComparison.Ordinal) && VersionSchemes.PyPI.TryParse(version, out _);
        }
        else if (rest.StartsWith('@'))
        {
            // uv's own form: "tool@1.2.3", or "tool@latest" for the newest.
            version = rest[1..].Trim();
            pinned = version != "latest" && VersionSchemes.PyPI.TryParse(version, out _);
        }
        else if (rest.Length > 0)
        {
            version = rest;
        }
        return new McpLaunch { Kind = LaunchKind.Package, Ecosystem = Graph.Ecosystem.PyPI, Name = name, VersionSpec = version, Pinned = pinned, Spec = spec };
    }

    private static McpLaunch DotNet(string runner, List<string> args)
    {
        string? autoConfirm = null;
        string? version = null;
        string? positional = null;
        for (var i = 0; i < args.Count; i++)
        {
            var (option, inline) = SplitOption(args[i]);
            if (option is "-y" or "--yes")
            {
                autoConfirm ??= option;
                continue;
            }
            if (s_dnxValueOptions.Contains(option))
            {
                var value = inline ?? (i + 1 < args.Count ? args[++i] : null);
                if (option == "--version")
                {
                    version ??= value;
                }
                continue;
            }
            if (option.StartsWith('-'))
            {
                continue;
            }
            positional ??= args[i];
        }
        if (positional is null)
        {
            return new McpLaunch { Kind = LaunchKind.Program, Runner = runner, AutoConfirmFlag = autoConfirm };
        }
        if (IsPathSpec(positional))
        {
            return new McpLaunch { Kind = LaunchKind.LocalPath, Runner = runner, Spec = positional, Path = positional, Ecosystem = Graph.Ecosystem.NuGet, AutoConfirmFlag = autoConfirm };
        }
        var at = positional.IndexOf('@', StringComparison.Ordinal);
        var name = at > 0 ? positional[..at] : positional;
        version ??= at > 0 ? positional[(at + 1)..] : null;
        // A bare NuGet version is "this or higher" in a project file, but dnx and dotnet tool exec take it as exact.
        var pinned = version is not null && !version.Contains('*', StringComparison.Ordinal) && !version.StartsWith('[') && !version.StartsWith('(')
            && VersionSchemes.NuGet.TryParse(version, out _);
        return new McpLaunch { Kind = LaunchKind.Package, Runner = runner, Ecosystem = Graph.Ecosystem.NuGet, Name = name, VersionSpec = version, Pinned = pinned, Spec = positional, AutoConfirmFlag = autoConfirm };
    }

    private static McpLaunch Container(string runner, List<string> args)
    {
        var hostAccess = ImmutableArray.CreateBuilder<string>();
        string? image = null;
        for (var i = 0; i < args.Count; i++)
        {
            var (option, inline) = SplitOption(args[i]);
            if (!option.StartsWith('-'))
            {
                image = args[i];
                break;
            }
            if (option == "--privileged" && inline is null or "true")
            {
                hostAccess.Add("--privileged");
                continue;
            }
            if (!s_dockerValueOptions.Contains(option))
            {
                continue;
            }
            var value = inline ?? (i + 1 < args.Count ? args[++i] : null);
            if (value is null)
            {
                continue;
            }
            if (option is "--network" or "--net" && value == "host")
            {
                hostAccess.Add($"{option} host");
            }
            else if (option is "-v" or "--volume" && (value.StartsWith("/:", StringComparison.Ordinal) || value == "/"))
            {
                hostAccess.Add($"{option} {value}");
            }
            else if (option == "--mount" && value.Split(',').Any(part => part.Trim() is "source=/" or "src=/"))
            {
                hostAccess.Add($"--mount {value}");
            }
        }
        if (image is null)
        {
            return new McpLaunch { Kind = LaunchKind.Program, Runner = runner, HostAccess = hostAccess.ToImmutable() };
        }
        var digest = image.IndexOf("@sha256:", StringComparison.OrdinalIgnoreCase);
        var nameEnd = digest >= 0 ? digest : image.Length;
        var lastSlash = image.LastIndexOf('/', nameEnd - 1 < 0 ? 0 : nameEnd - 1);
        var colon = image.IndexOf(':', lastSlash + 1);
        var name = colon >= 0 && colon < nameEnd ? image[..colon] : image[..nameEnd];
        var tag = colon >= 0 && colon < nameEnd ? image[(colon + 1)..nameEnd] : null;
        return new McpLaunch
        {
            Kind = LaunchKind.Container,
            Runner = runner,
            Name = name,
            VersionSpec = digest >= 0 ? image[(digest + 1)..] : tag,
            Pinned = digest >= 0,
            Spec = image,
            HostAccess = hostAccess.ToImmutable(),
        };
    }

    private static McpLaunch Program(string command, string program, List<string> args)
    {
        string? path = null;
        if (s_interpreters.Contains(program))
        {
            // "uv --directory /srv/server run server.py" and "node /srv/server/index.js": the first path argument is what runs.
            for (var i = 0; i < args.Count; i++)
            {
                var (option, inline) = SplitOption(args[i]);
                if (option is "--directory" or "--project" or "-C")
                {
                    path = inline ?? (i + 1 < args.Count ? args[i + 1] : null);
                    break;
                }
                if (!option.StartsWith('-') && LooksLikePath(args[i]))
                {
                    path = args[i];
                    break;
                }
            }
        }
        else if (LooksLikePath(command))
        {
            path = command;
        }
        return new McpLaunch { Kind = path is null ? LaunchKind.Program : LaunchKind.LocalPath, Path = path, Spec = command };
    }

    private static (string Option, string? Inline) SplitOption(string arg)
    {
        if (arg.StartsWith("--", StringComparison.Ordinal))
        {
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            return eq > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
        }
        return (arg, null);
    }

    /// <summary>A path from a <c>file:</c> spec (<c>file:///srv/x</c> and <c>file:../x</c>), or the spec itself.</summary>
    private static string FilePath(string spec) =>
        spec.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? spec[7..]
        : spec.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? spec[5..]
        : spec;

    private static bool IsGitSpec(string spec) =>
        spec.StartsWith("git+", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("git://", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("git@", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("github:", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("gitlab:", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("bitbucket:", StringComparison.OrdinalIgnoreCase)
        || spec.StartsWith("gist:", StringComparison.OrdinalIgnoreCase)
        || spec.EndsWith(".git", StringComparison.OrdinalIgnoreCase);

    // npm reads "owner/repo" (no scope '@', no path prefix) as a GitHub repository.
    private static bool IsNpmGitHubShorthand(string spec)
    {
        if (spec.StartsWith('@') || IsPathSpec(spec) || spec.Contains(':', StringComparison.Ordinal))
        {
            return false;
        }
        var slash = spec.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && slash < spec.Length - 1 && spec.IndexOf('/', slash + 1) < 0;
    }

    private static bool IsPathSpec(string spec) =>
        spec.StartsWith("file:", StringComparison.OrdinalIgnoreCase) || spec.StartsWith('.') || spec.StartsWith('/') || spec.StartsWith('~')
        || spec.StartsWith('\\') || (spec.Length > 2 && char.IsAsciiLetter(spec[0]) && spec[1] == ':' && spec[2] is '\\' or '/');

    private static bool LooksLikePath(string text) =>
        IsPathSpec(text) || text.Contains('/', StringComparison.Ordinal) || text.Contains('\\', StringComparison.Ordinal) || text.StartsWith("${", StringComparison.Ordinal);
}
