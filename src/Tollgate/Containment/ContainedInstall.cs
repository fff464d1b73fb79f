using System.Collections.Immutable;
using System.ComponentModel;
using System.Diagnostics;
using Tollgate.Ecosystems.NuGet;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Policy;

namespace Tollgate.Containment;

/// <summary>What to install, under which policy, from which environment.</summary>
public sealed record InstallRequest
{
    public required InstallCommandLine Command { get; init; }

    public required TollgatePolicy Policy { get; init; }

    /// <summary>The project folder the manager runs in.</summary>
    public required string WorkingDirectory { get; init; }

    /// <summary>The environment the install would get without Tollgate (normally this process's).</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public required EnvironmentScrubber Scrubber { get; init; }

    /// <summary>Plan and report only; run nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>
    /// Run allowed scripts without a sandbox (<c>--no-sandbox</c>). Otherwise they run only in one, and are refused
    /// where there is none.
    /// </summary>
    public bool NoSandbox { get; init; }

    /// <summary>The day ignore entries' expiry dates are compared with.</summary>
    public DateOnly Today { get; init; } = DateOnly.FromDateTime(DateTime.UtcNow);
}

/// <summary>How a program run ended: its exit code, or why it could not start.</summary>
public sealed record ProcessOutcome(int ExitCode, string? StartError = null)
{
    public bool Succeeded => StartError is null && ExitCode == 0;
}

/// <summary>Everything a contained install did and decided, for the command line to print.</summary>
public sealed record InstallReport
{
    /// <summary>The install step as run.</summary>
    public required ProcessSpec Install { get; init; }

    /// <summary>How it ended; null in a dry run.</summary>
    public ProcessOutcome? InstallOutcome { get; init; }

    /// <summary>Packages with install scripts that were not run (not on <c>installScripts.allow</c>).</summary>
    public ImmutableArray<InstalledPackage> Skipped { get; init; } = [];

    /// <summary>Packages on the allow list whose install scripts were run.</summary>
    public ImmutableArray<InstalledPackage> Allowed { get; init; } = [];

    /// <summary>The step that runs the allowed scripts (not run when <see cref="RefusedWithoutSandbox"/>); null when there was none.</summary>
    public ProcessSpec? Scripts { get; init; }

    public ProcessOutcome? ScriptsOutcome { get; init; }

    /// <summary>The sandbox allowed scripts ran in (in a dry run: would run in); null when none was used or needed.</summary>
    public ScriptSandbox? Sandbox { get; init; }

    /// <summary>Why allowed scripts had (or would have) no sandbox: none available, or <c>--no-sandbox</c>.</summary>
    public string? NoSandboxReason { get; init; }

    /// <summary>
    /// True when allowed scripts (npm-style install scripts, or pip's source builds) were not run because there was
    /// no sandbox and <c>--no-sandbox</c> was not given.
    /// </summary>
    public bool RefusedWithoutSandbox { get; init; }

    /// <summary>The variables withheld from the scrubbed step (names and reasons only), empty when no step was scrubbed.</summary>
    public ImmutableArray<WithheldVariable> Withheld { get; init; } = [];

    /// <summary>The variables that look like credentials but were passed to the scrubbed step, with the reason; empty when no step was scrubbed.</summary>
    public ImmutableArray<KeptVariable> Kept { get; init; } = [];

    /// <summary>PyPI names pip was allowed to build from source.</summary>
    public ImmutableArray<string> PipSourceBuilds { get; init; } = [];

    /// <summary>Allow-list patterns pip cannot use (globs, versions, npm scopes).</summary>
    public ImmutableArray<PackagePattern> UnusablePipPatterns { get; init; } = [];

    /// <summary>TG1011 findings: NuGet packages with build-time code that are not allowed or ignored.</summary>
    public ImmutableArray<Finding> BuildCode { get; init; } = [];

    /// <summary>NuGet packages with build-time code that the allow list accepts.</summary>
    public ImmutableArray<BuildCodePackage> AllowedBuildCode { get; init; } = [];

    /// <summary>The level of TG1011 under the policy.</summary>
    public RuleLevel BuildCodeLevel { get; init; } = RuleLevel.Warn;

    public ImmutableArray<Diagnostic> Diagnostics { get; init; } = [];
}

/// <summary>
/// Runs a package manager's install so that no dependency's install script sees a secret: the install runs with
/// scripts off, and afterwards only the scripts of packages on <c>installScripts.allow</c> run, in an environment
/// scrubbed of credentials and inside a sandbox (<see cref="ScriptSandbox"/>) that keeps other processes'
/// environments, the home folder and, unless allowed, the network out of their reach. See docs/install.md.
/// </summary>
public static class ContainedInstall
{
    /// <summary>Runs (or, in a dry run, plans) the install. <paramref name="starting"/> is told before each program starts.</summary>
    public static InstallReport Run(InstallRequest request, TextWriter output, TextWriter error, Action<ProcessSpec>? starting = null)
    {
        var policy = request.Policy;
        var kind = request.Command.Kind;
        var diagnostics = new DiagnosticBag();
        var pipNames = ImmutableArray<string>.Empty;
        var unusable = ImmutableArray<PackagePattern>.Empty;
        if (kind == PackageManagerKind.Pip)
        {
            pipNames = InstallPlan.PipSourceBuildNames(policy.InstallScripts, out unusable);
        }
        var install = InstallPlan.Install(request.Command, pipNames);
        var scrubbed = request.Scrubber.Scrub(request.Environment);
        var report = new InstallReport
        {
            Install = install,
            PipSourceBuilds = pipNames,
            UnusablePipPatterns = unusable,
            Withheld = install.Scrubbed ? scrubbed.Withheld : [],
            Kept = install.Scrubbed ? scrubbed.Kept : [],
            BuildCodeLevel = policy.Rules.TryGetValue(NuGetBuildCodeScanner.RuleId, out var level) ? level : RuleLevel.Warn,
        };
        if (request.DryRun)
        {
            // What a run would withhold from scripts, so the keep list can be checked before anything runs, and
            // whether they would have a sandbox, so a missing one shows before the CI job that needs it.
            report = report with { Withheld = scrubbed.Withheld, Kept = scrubbed.Kept };
            if (install.Scrubbed)
            {
                return WithoutSandbox(report, request, PipNoSandbox);
            }
            if (InstallPlan.RunAllowedScripts(kind, [new InstalledPackage("NAME", "VERSION", "", [])]) is null)
            {
                return report;
            }
            var planned = request.NoSandbox ? null : ScriptSandbox.Find(policy.InstallScripts.Network, request.WorkingDirectory, scrubbed.Variables);
            return planned?.Sandbox is { } found ? report with { Sandbox = found } : WithoutSandbox(report, request, planned?.Problem);
        }
        if (install.Scrubbed && !request.NoSandbox)
        {
            // pip runs allowed build code inside the install itself, which needs the network and the user's pip
            // configuration (index credentials under the home folder): there is no step of its own to sandbox.
            return WithoutSandbox(report, request, PipNoSandbox);
        }

        starting?.Invoke(install);
        var outcome = Execute(install, request, scrubbed, output, error);
        report = report with { InstallOutcome = outcome };
        if (!outcome.Succeeded)
        {
            return report;
        }

        if (kind == PackageManagerKind.DotnetRestore)
        {
            return WithBuildCode(report, request, diagnostics);
        }
        if (kind == PackageManagerKind.Pip)
        {
            report = install.Scrubbed ? WithoutSandbox(report, request, PipNoSandbox) : report;
            return report with { Diagnostics = [.. diagnostics.Items] };
        }

        var withScripts = InstallScriptScanner.Scan(request.WorkingDirectory, diagnostics);
        var allowed = withScripts.Where(p => policy.MayRunInstallScripts(p.ToComponent())).ToImmutableArray();
        var skipped = withScripts.Where(p => !allowed.Contains(p)).ToImmutableArray();
        report = report with { Allowed = allowed, Skipped = skipped, Diagnostics = [.. diagnostics.Items] };
        var scripts = InstallPlan.RunAllowedScripts(kind, allowed);
        if (scripts is null)
        {
            return report;
        }
        report = report with { Scripts = scripts, Withheld = scrubbed.Withheld, Kept = scrubbed.Kept };
        if (!request.NoSandbox)
        {
            // Found with the scrubbed environment: bwrap is started with it, and its own process is visible inside.
            var probe = ScriptSandbox.Find(policy.InstallScripts.Network, request.WorkingDirectory, scrubbed.Variables);
            if (probe.Sandbox is null)
            {
                return WithoutSandbox(report, request, probe.Problem);
            }
            scripts = scripts with { Sandbox = probe.Sandbox };
            report = report with { Scripts = scripts, Sandbox = probe.Sandbox };
        }
        else
        {
            report = WithoutSandbox(report, request, null);
        }
        starting?.Invoke(scripts);
        var scriptsOutcome = Execute(scripts, request, scrubbed, output, error);
        return report with { ScriptsOutcome = scriptsOutcome };
    }

    private const string PipNoSandbox =
        "pip builds allowed source distributions inside the install itself, which needs the network and your pip configuration, so Tollgate cannot sandbox it";

    /// <summary>The report for allowed scripts without a sandbox: refused, unless <c>--no-sandbox</c> was given.</summary>
    private static InstallReport WithoutSandbox(InstallReport report, InstallRequest request, string? problem) =>
        request.NoSandbox
            ? report with { NoSandboxReason = "--no-sandbox was given" }
            : report with { NoSandboxReason = problem, RefusedWithoutSandbox = true };

    private static InstallReport WithBuildCode(InstallReport report, InstallRequest request, DiagnosticBag diagnostics)
    {
        var packagesFolder = request.Environment.TryGetValue("NUGET_PACKAGES", out var folder) && folder.Length > 0 ? folder : null;
        var found = NuGetBuildCodeScanner.FindAssetsFiles(ProjectFolder(request))
            .SelectMany(assets => NuGetBuildCodeScanner.Scan(assets, packagesFolder, diagnostics))
            .GroupBy(p => p.Component.Key, StringComparer.Ordinal)
            .Select(g => g.First())
            .OrderBy(p => p.Component.Name, StringComparer.OrdinalIgnoreCase).ThenBy(p => p.Component.Version, StringComparer.Ordinal)
            .ToList();
        var allowed = found.Where(p => request.Policy.MayRunInstallScripts(p.Component)).ToImmutableArray();
        var findings = found.Where(p => !allowed.Contains(p))
            .Select(NuGetBuildCodeScanner.ToFinding)
            .Where(f => !request.Policy.Ignore.Any(i => !i.IsExpired(request.Today) && i.Matches(f)))
            .ToImmutableArray();
        return report with
        {
            AllowedBuildCode = allowed,
            BuildCode = report.BuildCodeLevel == RuleLevel.Off ? [] : findings,
            Diagnostics = [.. diagnostics.Items],
        };
    }

    /// <summary>dotnet restore options followed by a value, which is not the project argument.</summary>
    private static readonly ImmutableHashSet<string> s_restoreValueOptions = ImmutableHashSet.Create(StringComparer.OrdinalIgnoreCase,
        "-s", "--source", "--packages", "--configfile", "-r", "--runtime", "-v", "--verbosity", "--lock-file-path",
        "-a", "--arch", "--os", "-p", "--property");

    /// <summary>The folder to look for restored projects in: the project or solution's folder when one is named, else the working folder.</summary>
    private static string ProjectFolder(InstallRequest request)
    {
        var arguments = request.Command.Arguments;
        for (var i = 2; i < arguments.Length; i++)
        {
            var argument = arguments[i];
            if (argument.StartsWith('-'))
            {
                if (s_restoreValueOptions.Contains(argument))
                {
                    i++;
                }
                continue;
            }
            var path = Path.GetFullPath(argument, request.WorkingDirectory);
            if (File.Exists(path))
            {
                return Path.GetDirectoryName(path)!;
            }
            if (Directory.Exists(path))
            {
                return path;
            }
        }
        return request.WorkingDirectory;
    }

    /// <summary>The environment a step gets: the scrubbed or the full one, with the step's own variables set on top.</summary>
    internal static IReadOnlyDictionary<string, string> EnvironmentFor(ProcessSpec spec, IReadOnlyDictionary<string, string> environment, ScrubbedEnvironment scrubbed)
    {
        var result = new Dictionary<string, string>(spec.Scrubbed ? scrubbed.Variables : environment, StringComparer.Ordinal);
        foreach (var (name, value) in spec.SetEnvironment)
        {
            // Windows variable names ignore case: drop any spelling of the name before setting ours.
            foreach (var existing in result.Keys.Where(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)).ToList())
            {
                result.Remove(existing);
            }
            result[name] = value;
        }
        return result;
    }

    /// <summary>
    /// On Windows, npm, pnpm and yarn are <c>.cmd</c> shims that process start-up without a shell does not find by bare
    /// name; elsewhere the name is used as given.
    /// </summary>
    internal static string ProgramPath(string program) =>
        OperatingSystem.IsWindows() && Path.GetExtension(program).Length == 0
            && Path.GetFileName(program).ToLowerInvariant() is "npm" or "pnpm" or "yarn"
            ? program + ".cmd"
            : program;

    private static ProcessOutcome Execute(ProcessSpec spec, InstallRequest request, ScrubbedEnvironment scrubbed, TextWriter output, TextWriter error)
    {
        var commandLine = spec.CommandLine;
        var info = new ProcessStartInfo
        {
            FileName = ProgramPath(commandLine[0]),
            WorkingDirectory = request.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in commandLine.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment.Clear();
        foreach (var (name, value) in EnvironmentFor(spec, request.Environment, scrubbed))
        {
            info.Environment[name] = value;
        }
        var gate = new object();
        try
        {
            using var process = new Process { StartInfo = info };
            process.OutputDataReceived += (_, e) => Forward(e.Data, output);
            process.ErrorDataReceived += (_, e) => Forward(e.Data, error);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            process.WaitForExit();
            return new ProcessOutcome(process.ExitCode);
        }
        catch (Win32Exception e)
        {
            return new ProcessOutcome(-1, $"could not start {commandLine[0]}: {e.Message}");
        }

        void Forward(string? line, TextWriter writer)
        {
            if (line is null)
            {
                return;
            }
            lock (gate)
            {
                writer.WriteLine(line);
                writer.Flush();
            }
        }
    }
}
