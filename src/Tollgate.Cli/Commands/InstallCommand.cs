using System.Collections;
using System.CommandLine;
using Spectre.Console;
using Tollgate.Containment;
using Tollgate.Graph;
using Tollgate.Policy;

namespace Tollgate.Cli.Commands;

internal sealed record InstallOptions(
    IReadOnlyList<string> Command,
    string? Policy,
    bool DryRun,
    IReadOnlyList<string> KeepEnv,
    string? Directory,
    bool NoSandbox = false);

/// <summary><c>tollgate install -- COMMAND</c>: a package install whose dependencies' scripts cannot read secrets.</summary>
internal static class InstallCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Argument<string[]>("COMMAND")
        {
            Description = "The install command, after '--': npm ci|install, pnpm install, yarn [install], pip install, dotnet restore.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var policy = new Option<string?>("--policy")
        {
            Description = "The policy file (default: tollgate.yaml in the project folder or the nearest folder above it).",
            HelpName = "FILE",
        };
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Print what would run and which variables would be withheld; run nothing.",
        };
        var keepEnv = new Option<string[]>("--keep-env")
        {
            Description = "Pass this variable to install scripts even if it looks like a secret (repeatable; also TOLLGATE_KEEP_ENV=A,B).",
            HelpName = "NAME",
            AllowMultipleArgumentsPerToken = false,
        };
        var directory = new Option<string?>("--directory", "-C")
        {
            Description = "The project folder to install in (default: the current folder).",
            HelpName = "DIR",
        };
        var noSandbox = new Option<bool>("--no-sandbox")
        {
            Description = "Run allowed install scripts even where there is no sandbox (no bwrap, macOS, Windows, pip source builds): "
                + "their environment is still scrubbed, but they can read secrets from other processes, the home folder and the network.",
        };
        var verb = new Command("install", """
            Install dependencies so that their install scripts cannot steal secrets.

            The install runs with every lifecycle script turned off (npm/pnpm/yarn 1 --ignore-scripts, yarn 2+
            YARN_ENABLE_SCRIPTS=false, pip --only-binary :all:). Then only the packages on installScripts.allow in
            tollgate.yaml get their scripts run, with credentials (cloud, CI and registry tokens, keys, passwords)
            removed from the environment, in a sandbox (bubblewrap, Linux): no other process visible, an empty home
            folder, the file system read-only except the project, and no network unless installScripts.network is
            allow. Without a sandbox, allowed scripts are refused (exit 2) unless --no-sandbox is given. For dotnet
            restore, packages whose MSBuild files run at build time are reported (TG1011). See docs/install.md.

            Examples:
              tollgate install -- npm ci
              tollgate install --dry-run -- pnpm install --frozen-lockfile
              tollgate install --keep-env PRIVATE_MIRROR_TOKEN -- yarn install
              tollgate install -- pip install -r requirements.txt
              tollgate install -- dotnet restore --locked-mode
            """)
        {
            command, policy, dryRun, keepEnv, directory, noSandbox,
        };
        verb.SetAction(result => Run(new InstallOptions(
            result.GetValue(command) ?? [],
            result.GetValue(policy),
            result.GetValue(dryRun),
            result.GetValue(keepEnv) ?? [],
            result.GetValue(directory),
            result.GetValue(noSandbox)), terminal));
        return verb;
    }

    public static int Run(InstallOptions options, Terminal terminal) =>
        Run(options, terminal, CurrentEnvironment());

    internal static int Run(InstallOptions options, Terminal terminal, IReadOnlyDictionary<string, string> environment)
    {
        var directory = Path.GetFullPath(options.Directory ?? ".");
        if (!System.IO.Directory.Exists(directory))
        {
            terminal.Fail($"the project folder {directory} does not exist");
            return ExitCodes.InputError;
        }
        if (!InstallCommandLine.TryParse(options.Command, directory, out var commandLine, out var error))
        {
            terminal.Fail(error);
            terminal.Message("usage: tollgate install [--policy FILE] [--dry-run] [--keep-env NAME] [--no-sandbox] -- npm ci|install, pnpm install, yarn install, pip install, dotnet restore");
            return ExitCodes.InputError;
        }
        if (commandLine.Arguments.Any(a => EnvironmentScrubber.Redact(a) != a))
        {
            // Command lines end up in CI logs and process listings; Tollgate hides the value when it prints one.
            terminal.Warning("the install command holds a credential (shown as ***): put it in the environment or the package manager's configuration instead");
        }
        var loaded = PolicyLoader.Load(options.Policy, directory);
        terminal.Diagnostics(loaded.Diagnostics);
        if (loaded.Policy is null)
        {
            terminal.Fail($"the policy {loaded.Path} has errors (see above); nothing was installed.");
            return ExitCodes.InputError;
        }
        var keep = EnvironmentScrubber.KeepList(options.KeepEnv, environment);
        var request = new InstallRequest
        {
            Command = commandLine,
            Policy = loaded.Policy,
            WorkingDirectory = directory,
            Environment = environment,
            Scrubber = new EnvironmentScrubber(keep),
            DryRun = options.DryRun,
            NoSandbox = options.NoSandbox,
        };
        terminal.Error.MarkupLineInterpolated($"[grey]policy:[/] {loaded.Path ?? "built-in default (no tollgate.yaml found)"}; installScripts.allow: {Patterns(loaded.Policy.InstallScripts.Allow)}");
        var report = ContainedInstall.Run(request, terminal.OutWriter, terminal.ErrorWriter, spec => Starting(terminal, spec));
        return Render(report, commandLine, options.DryRun, terminal);
    }

    private static void Starting(Terminal terminal, ProcessSpec spec)
    {
        Line(terminal, $"tollgate: running {spec.Display}{EnvironmentNote(spec)}");
        if (spec.Sandbox is { } sandbox)
        {
            Line(terminal, $"tollgate: sandbox: {sandbox.Display}");
            if (sandbox.Layout.Warning is { } warning)
            {
                terminal.Warning(warning);
            }
        }
    }

    private static int Render(InstallReport report, InstallCommandLine commandLine, bool dryRun, Terminal terminal)
    {
        var manager = commandLine.Kind;
        if (dryRun)
        {
            Line(terminal, $"would run: {report.Install.Display}{EnvironmentNote(report.Install)}");
            if (InstallPlan.RunAllowedScripts(manager, [new InstalledPackage("NAME", "VERSION", "", [])]) is { } template)
            {
                var scripts = template with { Sandbox = report.Sandbox };
                var display = scripts.Display.Replace("NAME@VERSION", "NAME@VERSION...", StringComparison.Ordinal);
                Line(terminal, $"then, for installed packages with install scripts that installScripts.allow names: {display}{EnvironmentNote(scripts)}");
            }
            if (report.RefusedWithoutSandbox)
            {
                terminal.Warning($"no sandbox for install scripts: {report.NoSandboxReason}; a run would refuse to run allowed scripts (exit 2) unless --no-sandbox is given");
            }
        }
        else if (report.RefusedWithoutSandbox && report.InstallOutcome is null)
        {
            // pip: the allowed builds happen inside the install, so refusing them means not installing.
            terminal.Fail($"nothing was installed: pip would build {string.Join(", ", report.PipSourceBuilds)} from source (on installScripts.allow), and there is no sandbox: {report.NoSandboxReason}.");
            terminal.Message($"  {UnsandboxedRisk} Remove those names from installScripts.allow, or re-run with --no-sandbox to build them unsandboxed.");
            return ExitCodes.InputError;
        }
        foreach (var pattern in report.UnusablePipPatterns)
        {
            terminal.Warning($"installScripts.allow entry '{pattern.Text}' cannot be given to pip (only plain names can); it does not allow a source build");
        }
        if (!report.PipSourceBuilds.IsEmpty)
        {
            terminal.Message($"pip may build these from source (their build code runs inside the install, with the scrubbed environment): {string.Join(", ", report.PipSourceBuilds)}");
        }
        if (report.InstallOutcome is { Succeeded: false } failed)
        {
            terminal.Fail(failed.StartError ?? $"{commandLine.Program} exited with code {failed.ExitCode}; the install did not complete.");
            return ExitCodes.PolicyFailed;
        }

        if (!report.Skipped.IsEmpty)
        {
            terminal.Error.MarkupLine("[yellow]install scripts NOT run[/] (not on installScripts.allow):");
            foreach (var package in report.Skipped)
            {
                Line(terminal, Describe(package));
            }
            terminal.Message("  if one of these is needed (native build, binary download), review it and add it to installScripts.allow.");
        }
        if (!report.Allowed.IsEmpty)
        {
            terminal.Error.MarkupLine(report.RefusedWithoutSandbox
                ? "[yellow]install scripts NOT run[/] (on installScripts.allow, but there is no sandbox to run them in):"
                : report.Sandbox is null
                    ? "install scripts run (on installScripts.allow, with secrets withheld, [yellow]without a sandbox[/]):"
                    : "install scripts run (on installScripts.allow, with secrets withheld, in a sandbox):");
            foreach (var package in report.Allowed)
            {
                Line(terminal, Describe(package));
            }
        }
        if (report.Scripts is not null || report.Install.Scrubbed || dryRun)
        {
            var names = report.Withheld.IsEmpty ? "none" : string.Join(", ", report.Withheld.Select(w => w.Name));
            Line(terminal, $"{(dryRun ? "would withhold" : "withheld")} from install scripts: {names}");
            foreach (var variable in report.Withheld)
            {
                Line(terminal, $"  {variable.Name}: {variable.Reason}");
            }
            if (!report.Kept.IsEmpty)
            {
                // So that a keep-list entry, or a name Tollgate judged harmless, is seen and can be questioned.
                Line(terminal, $"{(dryRun ? "would keep" : "kept")} although credential-like: {string.Join(", ", report.Kept.Select(k => k.Name))}");
                foreach (var variable in report.Kept)
                {
                    Line(terminal, $"  {variable.Name}: {variable.Reason}");
                }
            }
        }
        if (manager is not (PackageManagerKind.Pip or PackageManagerKind.DotnetRestore) && !dryRun && report.Skipped.IsEmpty && report.Allowed.IsEmpty)
        {
            terminal.Message("no installed package declares install scripts.");
        }

        var exit = ExitCodes.Pass;
        if (!dryRun && report.RefusedWithoutSandbox)
        {
            terminal.Fail($"install scripts NOT run: no sandbox: {report.NoSandboxReason}.");
            terminal.Message($"  {UnsandboxedRisk} Install bubblewrap (bwrap) so they run in a sandbox, or re-run with --no-sandbox to run them unsandboxed.");
            exit = ExitCodes.InputError;
        }
        else if (!dryRun && report.NoSandboxReason is not null)
        {
            terminal.Warning($"--no-sandbox: the allowed install scripts ran without a sandbox. {UnsandboxedRisk}");
        }
        if (report.ScriptsOutcome is { Succeeded: false } scriptsFailed)
        {
            terminal.Fail(scriptsFailed.StartError ?? $"the allowed install scripts failed ({report.Scripts!.Arguments[0]} exited with code {scriptsFailed.ExitCode}).");
            exit = ExitCodes.PolicyFailed;
        }
        foreach (var package in report.AllowedBuildCode)
        {
            Line(terminal, $"allowed build-time code: {package.Component.Name}@{package.Component.Version} ({string.Join(", ", package.Files)})");
        }
        foreach (var finding in report.BuildCode)
        {
            Line(terminal, $"{report.BuildCodeLevel.ToName()} {finding.Id}: {finding.Component.Name}@{finding.Component.Version} {finding.Summary}: {finding.Evidence}");
        }
        if (!report.BuildCode.IsEmpty)
        {
            terminal.Message("  review these packages' MSBuild files; accept them with installScripts.allow in tollgate.yaml.");
            if (report.BuildCodeLevel == RuleLevel.Fail)
            {
                exit = ExitCodes.PolicyFailed;
            }
        }
        terminal.Diagnostics(report.Diagnostics);
        return exit;
    }

    private static string Describe(InstalledPackage package)
    {
        var declared = package.DeclaredName is null ? "" : $" (its package.json says it is {package.DeclaredName})";
        return $"  {package.Name}@{package.Version}  {string.Join("; ", package.Scripts)}  ({package.Directory}){declared}";
    }

    /// <summary>A list line written as is: package scripts and file lists are long, and must not be wrapped or read as markup.</summary>
    private static void Line(Terminal terminal, string text)
    {
        terminal.ErrorWriter.WriteLine(text);
        terminal.ErrorWriter.Flush();
    }

    private static string EnvironmentNote(ProcessSpec spec)
    {
        var set = spec.SetEnvironment.Select(p => $"{p.Key}={p.Value}").ToList();
        var parts = new List<string>();
        if (set.Count > 0)
        {
            parts.Add("with " + string.Join(" ", set));
        }
        if (spec.Scrubbed)
        {
            parts.Add("secrets withheld");
        }
        if (spec.Sandbox is { } sandbox)
        {
            parts.Add(sandbox.Description);
        }
        return parts.Count == 0 ? "" : $" ({string.Join("; ", parts)})";
    }

    private const string UnsandboxedRisk =
        "Without a sandbox, install scripts run with secrets withheld from their own environment only: they can still read them "
        + "from other processes' environments (/proc/PID/environ of Tollgate and the shell or CI runner that started it), "
        + "read your home folder (~/.npmrc, ~/.ssh, cloud credentials) and use the network.";

    private static string Patterns(IEnumerable<PackagePattern> patterns)
    {
        var list = patterns.Select(p => p.Text).ToList();
        return list.Count == 0 ? "empty" : string.Join(", ", list);
    }

    private static Dictionary<string, string> CurrentEnvironment()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string name && entry.Value is string value)
            {
                result[name] = value;
            }
        }
        return result;
    }
}
