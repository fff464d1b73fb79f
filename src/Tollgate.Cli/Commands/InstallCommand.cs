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
    string? Directory);

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
        var verb = new Command("install", """
            Install dependencies so that their install scripts cannot steal secrets.

            The install runs with every lifecycle script turned off (npm/pnpm/yarn 1 --ignore-scripts, yarn 2+
            YARN_ENABLE_SCRIPTS=false, pip --only-binary :all:). Then only the packages on installScripts.allow in
            tollgate.yaml get their scripts run, with credentials (cloud, CI and registry tokens, keys, passwords)
            removed from the environment. For dotnet restore, packages whose MSBuild files run at build time are
            reported (TG1011). See docs/install.md.

            Examples:
              tollgate install -- npm ci
              tollgate install --dry-run -- pnpm install --frozen-lockfile
              tollgate install --keep-env PRIVATE_MIRROR_TOKEN -- yarn install
              tollgate install -- pip install -r requirements.txt
              tollgate install -- dotnet restore --locked-mode
            """)
        {
            command, policy, dryRun, keepEnv, directory,
        };
        verb.SetAction(result => Run(new InstallOptions(
            result.GetValue(command) ?? [],
            result.GetValue(policy),
            result.GetValue(dryRun),
            result.GetValue(keepEnv) ?? [],
            result.GetValue(directory)), terminal));
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
            terminal.Message("usage: tollgate install [--policy FILE] [--dry-run] [--keep-env NAME] -- npm ci|install, pnpm install, yarn install, pip install, dotnet restore");
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
        };
        terminal.Error.MarkupLineInterpolated($"[grey]policy:[/] {loaded.Path ?? "built-in default (no tollgate.yaml found)"}; installScripts.allow: {Patterns(loaded.Policy.InstallScripts.Allow)}");
        var report = ContainedInstall.Run(request, terminal.OutWriter, terminal.ErrorWriter,
            spec => Line(terminal, $"tollgate: running {spec.Display}{EnvironmentNote(spec)}"));
        return Render(report, commandLine, options.DryRun, terminal);
    }

    private static int Render(InstallReport report, InstallCommandLine commandLine, bool dryRun, Terminal terminal)
    {
        var manager = commandLine.Kind;
        if (dryRun)
        {
            Line(terminal, $"would run: {report.Install.Display}{EnvironmentNote(report.Install)}");
            if (InstallPlan.RunAllowedScripts(manager, [new InstalledPackage("NAME", "VERSION", "", [])]) is { } scripts)
            {
                var template = scripts.Display.Replace("NAME@VERSION", "NAME@VERSION...", StringComparison.Ordinal);
                Line(terminal, $"then, for installed packages with install scripts that installScripts.allow names: {template}{EnvironmentNote(scripts)}");
            }
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
            terminal.Error.MarkupLine("install scripts run (on installScripts.allow, with secrets withheld):");
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
        }
        if (manager is not (PackageManagerKind.Pip or PackageManagerKind.DotnetRestore) && !dryRun && report.Skipped.IsEmpty && report.Allowed.IsEmpty)
        {
            terminal.Message("no installed package declares install scripts.");
        }

        var exit = ExitCodes.Pass;
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
        return parts.Count == 0 ? "" : $" ({string.Join("; ", parts)})";
    }

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
