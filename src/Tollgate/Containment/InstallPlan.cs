using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Policy;

namespace Tollgate.Containment;

/// <summary>
/// One program to run: its command line, the variables to set on top of the environment it gets, and whether that
/// environment is scrubbed of secrets first.
/// </summary>
/// <param name="Arguments">The command line, program first.</param>
/// <param name="SetEnvironment">Variables set (after scrubbing, when <paramref name="Scrubbed"/>).</param>
/// <param name="Scrubbed">True when the program runs with <see cref="EnvironmentScrubber"/>'s environment.</param>
public sealed record ProcessSpec(
    ImmutableArray<string> Arguments,
    ImmutableSortedDictionary<string, string> SetEnvironment,
    bool Scrubbed)
{
    /// <summary>The sandbox the program runs in; null when it runs directly.</summary>
    public ScriptSandbox? Sandbox { get; init; }

    /// <summary>The command line as started: <see cref="Arguments"/>, inside the sandbox's command line when there is one.</summary>
    public ImmutableArray<string> CommandLine =>
        Sandbox is null ? Arguments : [Sandbox.Program, .. Sandbox.Options, "--", .. Arguments];

    /// <summary>The command line for people to read (without the sandbox's), with credentials in it hidden.</summary>
    public string Display => string.Join(' ', Arguments.Select(a => Quote(EnvironmentScrubber.Redact(a))));

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? argument : $"'{argument}'";
}

/// <summary>
/// How a contained install runs for one package manager: the install with every lifecycle script turned off, then,
/// for the packages on <c>installScripts.allow</c> only, their scripts in a scrubbed environment.
/// </summary>
public static class InstallPlan
{
    /// <summary>Variables that turn scripts off for npm-compatible managers, in addition to the command-line flag.</summary>
    private static readonly ImmutableSortedDictionary<string, string> s_npmScriptsOff =
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("npm_config_ignore_scripts", "true")]);

    /// <summary>
    /// The install step. The install keeps its own environment (registry downloads may need the registry token an
    /// <c>.npmrc</c> or <c>nuget.config</c> reads from it), except for pip when it is allowed to build named source
    /// distributions: pip runs their build code inside the install, so then the whole pip run is scrubbed.
    /// </summary>
    /// <param name="command">The user's install command.</param>
    /// <param name="pipSourceBuilds">PyPI names allowed to build from source (see <see cref="PipSourceBuildNames"/>).</param>
    public static ProcessSpec Install(InstallCommandLine command, IReadOnlyCollection<string> pipSourceBuilds)
    {
        var args = command.Arguments;
        return command.Kind switch
        {
            // The flag goes last: npm, pnpm and yarn classic let a later flag override an earlier '--ignore-scripts=false'.
            PackageManagerKind.Npm or PackageManagerKind.Pnpm =>
                new ProcessSpec([.. BeforeDoubleDash(args), "--ignore-scripts", .. AfterDoubleDash(args)], s_npmScriptsOff, Scrubbed: false),
            PackageManagerKind.YarnClassic =>
                new ProcessSpec([.. BeforeDoubleDash(args), "--ignore-scripts", .. AfterDoubleDash(args)], s_npmScriptsOff, Scrubbed: false),
            // Yarn 2+ has no --ignore-scripts; its enableScripts setting is read from the environment.
            PackageManagerKind.YarnBerry =>
                new ProcessSpec(args, ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("YARN_ENABLE_SCRIPTS", "false")]), Scrubbed: false),
            PackageManagerKind.Pip => PipInstall(args, pipSourceBuilds),
            // NuGet runs no package code during restore; what packages bring to the build is reported afterwards.
            _ => new ProcessSpec(args, ImmutableSortedDictionary<string, string>.Empty, Scrubbed: false),
        };
    }

    private static ProcessSpec PipInstall(ImmutableArray<string> args, IReadOnlyCollection<string> sourceBuilds)
    {
        // Wheels are unpacked, never executed; a source distribution runs its build backend (setup.py) to install.
        var install = args.IndexOf("install");
        var options = new List<string> { "--only-binary", ":all:" };
        foreach (var name in sourceBuilds.Order(StringComparer.Ordinal))
        {
            // pip has no "either format" state once :all: is binary-only: a name in --no-binary is built from source.
            options.AddRange(["--no-binary", name]);
        }
        return new ProcessSpec([.. args.Take(install + 1), .. options, .. args.Skip(install + 1)],
            ImmutableSortedDictionary<string, string>.Empty, Scrubbed: sourceBuilds.Count > 0);
    }

    /// <summary>
    /// The PyPI names on the allow list that pip may build from source: plain names (pip cannot take globs or
    /// version ranges here) of patterns that apply to PyPI. The rest are returned as <paramref name="unusable"/>.
    /// </summary>
    public static ImmutableArray<string> PipSourceBuildNames(InstallScriptPolicy policy, out ImmutableArray<PackagePattern> unusable)
    {
        var names = ImmutableArray.CreateBuilder<string>();
        var skipped = ImmutableArray.CreateBuilder<PackagePattern>();
        foreach (var pattern in policy.Allow)
        {
            if (pattern.Ecosystem is { } only && only != Ecosystem.PyPI)
            {
                continue;
            }
            if (pattern.Name.Contains('*', StringComparison.Ordinal) || pattern.Name.StartsWith('@') || pattern.Version is not null)
            {
                skipped.Add(pattern);
                continue;
            }
            names.Add(Component.NormalizePyPIName(pattern.Name));
        }
        unusable = skipped.ToImmutable();
        return [.. names.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The step that runs the allowed packages' install scripts, in a scrubbed environment; null when there is none
    /// (no allowed package has scripts, or the manager has no such step).
    /// </summary>
    public static ProcessSpec? RunAllowedScripts(PackageManagerKind kind, IReadOnlyCollection<InstalledPackage> allowed)
    {
        if (allowed.Count == 0)
        {
            return null;
        }
        var specs = allowed.Select(p => $"{p.Name}@{p.Version}").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var names = allowed.Select(p => p.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var npm = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";
        var scriptsOn = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("npm_config_ignore_scripts", "false")]);
        return kind switch
        {
            // npm rebuild runs preinstall, install and postinstall of the named packages; name@version picks one copy.
            // Yarn 1 has no rebuild command, and npm rebuild works on the node_modules tree it writes.
            PackageManagerKind.Npm or PackageManagerKind.YarnClassic =>
                new ProcessSpec([npm, "rebuild", .. specs, "--ignore-scripts=false"], scriptsOn, Scrubbed: true),
            PackageManagerKind.Pnpm =>
                new ProcessSpec(["pnpm", "rebuild", .. names], scriptsOn, Scrubbed: true),
            PackageManagerKind.YarnBerry =>
                new ProcessSpec(["yarn", "rebuild", .. names],
                    ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("YARN_ENABLE_SCRIPTS", "true")]), Scrubbed: true),
            _ => null,
        };
    }

    private static IEnumerable<string> BeforeDoubleDash(ImmutableArray<string> args) => args.TakeWhile(a => a != "--");

    private static IEnumerable<string> AfterDoubleDash(ImmutableArray<string> args) => args.SkipWhile(a => a != "--");
}
