using System.Collections.Immutable;
using System.ComponentModel;
using System.Diagnostics;
using Tollgate.Policy;

namespace Tollgate.Containment;

/// <summary>What the sandbox shows install scripts of the machine's file system, and whether they get a network.</summary>
public sealed record SandboxLayout
{
    /// <summary>The project folder (its real path): the one folder of the machine's scripts may write to.</summary>
    public required string Project { get; init; }

    /// <summary>
    /// Folders replaced by empty, throw-away ones (home folders, per-user runtime folders with agent sockets, mounted
    /// secrets), outermost first.
    /// </summary>
    public ImmutableArray<string> Hidden { get; init; } = [];

    /// <summary>Folders inside hidden ones shown again, read-only: tools on PATH installed under a home folder.</summary>
    public ImmutableArray<string> ReadOnly { get; init; } = [];

    /// <summary>True when scripts share the machine's network; otherwise they get a network of their own with only a loopback.</summary>
    public bool Network { get; init; }

    /// <summary>
    /// True when every capability must be dropped: bwrap started by root keeps root's capabilities, with which a
    /// script could unmount the sandbox's /proc or the empty home folder and see the machine's again.
    /// </summary>
    public bool DropCapabilities { get; init; }

    /// <summary>The folders that may hide credentials, when present: home folders, agent sockets, mounted secrets.</summary>
    private static readonly string[] s_sensitiveFolders = ["/root", "/run/user", "/run/secrets", "/var/run/secrets"];

    /// <summary>The layout for scripts run in <paramref name="project"/> with <paramref name="environment"/> (HOME and PATH are read).</summary>
    public static SandboxLayout For(string project, IReadOnlyDictionary<string, string> environment, InstallScriptNetwork network, bool runningAsRoot)
    {
        var projectPath = RealPath(project);
        var candidates = new List<string>();
        if (environment.TryGetValue("HOME", out var home) && Path.IsPathFullyQualified(home))
        {
            candidates.Add(home);
        }
        candidates.AddRange(s_sensitiveFolders);
        var hidden = Outermost(candidates.Where(Directory.Exists).Select(RealPath).Where(p => p != "/"));

        var readOnly = new List<string>();
        var path = environment.TryGetValue("PATH", out var list) ? list : "";
        foreach (var entry in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Path.IsPathFullyQualified(entry) || !Directory.Exists(entry))
            {
                continue;
            }
            var real = RealPath(entry);
            // /tmp too: the sandbox's /tmp is empty, and CI jobs unpack tools there.
            if (IsUnder(real, projectPath) || hidden.Append(RealPath("/tmp")).FirstOrDefault(h => real != h && IsUnder(real, h)) is not { } owner)
            {
                continue;
            }
            readOnly.Add(ToolFolder(real, owner));
        }
        return new SandboxLayout
        {
            Project = projectPath,
            Hidden = hidden,
            ReadOnly = Outermost(readOnly),
            Network = network == InstallScriptNetwork.Allow,
            DropCapabilities = runningAsRoot,
        };
    }

    /// <summary>
    /// The folder to show for a PATH entry under a hidden folder: for <c>PREFIX/bin</c> beside <c>PREFIX/lib</c> the
    /// whole prefix (nvm's <c>~/.nvm/versions/node/v20/bin</c> runs npm from <c>lib/</c>), except when the prefix is
    /// the hidden folder itself or a dot-folder right under it (<c>~/.local</c>, <c>~/.cargo</c>), which hold
    /// settings and credentials besides tools; otherwise the entry alone.
    /// </summary>
    private static string ToolFolder(string entry, string owner)
    {
        if (Path.GetFileName(entry) != "bin" || Path.GetDirectoryName(entry) is not { } prefix || prefix == owner
            || !Directory.Exists(Path.Combine(prefix, "lib")))
        {
            return entry;
        }
        return Path.GetDirectoryName(prefix) == owner && Path.GetFileName(prefix).StartsWith('.') ? entry : prefix;
    }

    /// <summary>A warning when the layout cannot hide what it should: the project folder is a home folder.</summary>
    public string? Warning => Hidden.FirstOrDefault(h => h == Project) is { } exposed
        ? $"the project folder {exposed} is a folder the sandbox should hide (a home folder): install scripts can read and change everything in it"
        : null;

    /// <summary>True when <paramref name="path"/> is <paramref name="folder"/> or lies inside it.</summary>
    internal static bool IsUnder(string path, string folder) =>
        path == folder || path.StartsWith(folder.EndsWith('/') ? folder : folder + "/", StringComparison.Ordinal);

    /// <summary>The distinct folders, sorted, without those inside another one of them.</summary>
    private static ImmutableArray<string> Outermost(IEnumerable<string> folders)
    {
        var result = new List<string>();
        foreach (var folder in folders.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (!result.Any(outer => IsUnder(folder, outer)))
            {
                result.Add(folder);
            }
        }
        return [.. result];
    }

    /// <summary>The path with every link in it followed, as the kernel sees it (bwrap mounts on real paths).</summary>
    internal static string RealPath(string path) => Resolve(path, 0);

    private static string Resolve(string path, int depth)
    {
        var full = Path.GetFullPath(path);
        if (full.Length > 1)
        {
            full = Path.TrimEndingDirectorySeparator(full);
        }
        var parent = Path.GetDirectoryName(full);
        if (parent is null || depth > 256)
        {
            return full;
        }
        var here = Path.Combine(Resolve(parent, depth + 1), Path.GetFileName(full));
        string? target;
        try
        {
            target = new FileInfo(here).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            target = null;
        }
        return target is null ? here : Resolve(Path.GetFullPath(target, Path.GetDirectoryName(here)!), depth + 1);
    }
}

/// <summary>
/// A sandbox for install scripts: bubblewrap (<c>bwrap</c>) with its own PID namespace and /proc (no other process's
/// environment is readable), an empty home folder, the file system read-only except the project folder and an empty
/// /tmp, and no network unless <c>installScripts.network: allow</c>. See docs/install.md.
/// </summary>
/// <param name="Program">The bwrap program (full path).</param>
/// <param name="Options">Its options, up to but not including the <c>--</c> before the command.</param>
/// <param name="Layout">What the options show the scripts.</param>
public sealed record ScriptSandbox(string Program, ImmutableArray<string> Options, SandboxLayout Layout)
{
    /// <summary>The sandbox in a few words, for the line that says what runs.</summary>
    public string Description =>
        $"sandboxed: {(Layout.Network ? "network allowed" : "no network")}, no other process visible, empty home folder, "
        + $"read-only except {Layout.Project} and an empty /tmp";

    /// <summary>The full bubblewrap command line, up to the command it runs.</summary>
    public string Display => string.Join(' ', [Program, .. Options.Select(Quote), "--"]);

    /// <summary>The bubblewrap options that build <paramref name="layout"/>.</summary>
    public static ImmutableArray<string> BubblewrapOptions(SandboxLayout layout)
    {
        // A PID namespace with its own /proc: the only processes a script sees are its own, all started from bwrap,
        // which itself starts with the scrubbed environment; Tollgate's and its parents' environments are out of reach.
        // --new-session: no controlling terminal, so a script cannot push keystrokes into the user's shell (TIOCSTI).
        var options = new List<string> { "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc" };
        if (!layout.Network)
        {
            options.Add("--unshare-net");
        }
        if (layout.DropCapabilities)
        {
            options.AddRange(["--cap-drop", "ALL"]);
        }
        options.AddRange(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]);
        // Mounts apply in order: hide first, then show the project again (it may lie in a hidden folder or /tmp),
        // then hide again what lies inside the project.
        foreach (var folder in layout.Hidden.Where(h => !SandboxLayout.IsUnder(h, layout.Project)))
        {
            options.AddRange(["--tmpfs", folder]);
        }
        options.AddRange(["--tmpfs", "/tmp"]);
        foreach (var folder in layout.ReadOnly)
        {
            options.AddRange(["--ro-bind", folder, folder]);
        }
        options.AddRange(["--bind", layout.Project, layout.Project]);
        foreach (var folder in layout.Hidden.Where(h => h != layout.Project && SandboxLayout.IsUnder(h, layout.Project)))
        {
            options.AddRange(["--tmpfs", folder]);
        }
        // TMPDIR may name a folder outside the sandbox's writable ones.
        options.AddRange(["--setenv", "TMPDIR", "/tmp", "--chdir", layout.Project]);
        return [.. options];
    }

    /// <summary>
    /// Looks for a working sandbox: bwrap on the environment's PATH that passes a self-test (running <c>true</c> with
    /// the very options the scripts will get). <paramref name="environment"/> must be the scrubbed one: it is what
    /// the self-test runs with.
    /// </summary>
    public static SandboxProbe Find(InstallScriptNetwork network, string project, IReadOnlyDictionary<string, string> environment)
    {
        if (!OperatingSystem.IsLinux())
        {
            var system = OperatingSystem.IsWindows() ? "Windows" : OperatingSystem.IsMacOS() ? "macOS" : "this operating system";
            return SandboxProbe.None($"Tollgate has no sandbox for install scripts on {system} (its sandbox is bubblewrap, on Linux)");
        }
        var bwrap = FindOnPath("bwrap", environment);
        if (bwrap is null)
        {
            return SandboxProbe.None("bubblewrap (bwrap) is not on PATH; install it (Debian and Ubuntu: the bubblewrap package)");
        }
        var layout = SandboxLayout.For(project, environment, network, RunningAsRoot());
        var sandbox = new ScriptSandbox(bwrap, BubblewrapOptions(layout), layout);
        return sandbox.SelfTest(environment) is { } problem
            ? SandboxProbe.None($"{bwrap} failed its self-test: {problem}")
            : new SandboxProbe(sandbox, null);
    }

    /// <summary>Runs <c>true</c> in the sandbox; null when that worked, else what went wrong.</summary>
    private string? SelfTest(IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(Program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Layout.Project,
        };
        foreach (var argument in Options.Append("--").Append("true"))
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        try
        {
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                return "it did not finish within 30 seconds";
            }
            if (process.ExitCode == 0)
            {
                return null;
            }
            var message = stderr.Result.Trim().Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim();
            var problem = $"exit code {process.ExitCode}{(message is null ? "" : ": " + message)}";
            // The usual cause, and one the message does not name: bwrap needs user namespaces, which the machine may
            // turn off (kernel.unprivileged_userns_clone) or, on Ubuntu 24.04 and later, restrict with AppArmor.
            return message is not null && (message.Contains("uid map", StringComparison.OrdinalIgnoreCase)
                || message.Contains("namespace", StringComparison.OrdinalIgnoreCase))
                ? problem + " (unprivileged user namespaces are turned off or restricted on this machine)"
                : problem;
        }
        catch (Win32Exception e)
        {
            return "it could not start: " + e.Message;
        }
    }

    /// <summary>True when Tollgate's effective user is root (read from /proc, where the sandbox exists at all).</summary>
    private static bool RunningAsRoot()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            var fields = line?.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            return fields is { Length: > 2 } && fields[2] == "0";
        }
        catch (IOException)
        {
            // Cannot tell: dropping capabilities is what root needs and what everyone else already gets.
            return true;
        }
    }

    private static string? FindOnPath(string program, IReadOnlyDictionary<string, string> environment)
    {
        var path = environment.TryGetValue("PATH", out var list) ? list : "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Where(Path.IsPathFullyQualified)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists);
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? argument : $"'{argument}'";
}

/// <summary>A sandbox for install scripts, or why there is none.</summary>
/// <param name="Sandbox">The working sandbox; null when there is none.</param>
/// <param name="Problem">Why there is no sandbox; null when there is one.</param>
public sealed record SandboxProbe(ScriptSandbox? Sandbox, string? Problem)
{
    public static SandboxProbe None(string problem) => new(null, problem);
}
