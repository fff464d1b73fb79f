using System.CommandLine;
using Spectre.Console;
using System.Collections.Immutable;
using Tollgate.Advisories;
using Tollgate.ClientConfig;
using Tollgate.Ecosystems;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Mcp;
using Tollgate.Policy;
using Tollgate.Reports;
using Tollgate.Risk;
using Tollgate.Sbom;
using Tollgate.Vex;

namespace Tollgate.Cli.Commands;

internal sealed record ScanOptions(
    IReadOnlyList<string> Paths,
    string? Sbom,
    string? Policy,
    string? FailOn,
    string Format,
    string? Output,
    string? Database,
    IReadOnlyList<string> Advisories,
    bool NoAdvisories,
    IReadOnlyList<string>? Exclude = null,
    bool RegistryMetadata = false,
    IReadOnlyList<string>? Registries = null,
    bool Offline = false,
    string? CacheFolder = null,
    IReadOnlyList<string>? Vex = null,
    ScanChecks? Checks = null);

/// <summary><c>tollgate scan</c>: the CI gate. Graph → advisories and risk signals → policy → report and exit code.</summary>
internal static class ScanCommand
{
    public static Command Create(Terminal terminal)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Lockfiles, manifests or folders to scan (folders are searched recursively). Default: the current folder.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var sbom = new Option<string?>("--sbom") { Description = "Scan a CycloneDX or SPDX JSON SBOM instead of lockfiles.", HelpName = "FILE" };
        var policy = new Option<string?>("--policy") { Description = "The policy file. Default: tollgate.yaml found by walking up from PATH.", HelpName = "FILE" };
        var failOn = new Option<string?>("--fail-on") { Description = "Override the policy's failOn: none, low, medium, high or critical.", HelpName = "SEVERITY" };
        failOn.AcceptOnlyFromAmong("none", "low", "medium", "high", "critical");
        var format = new Option<string>("--format", "-f")
        {
            Description = "Output format: table, json, sarif, markdown, or openvex (a VEX skeleton of the vulnerability findings to fill in).",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "json", "sarif", "markdown", "openvex");
        var vex = new Option<string[]>("--vex")
        {
            Description = "An OpenVEX or CycloneDX VEX document: its not_affected and fixed statements suppress the vulnerabilities they match. "
                + "Repeat for several. Default: *.openvex.json and *.vex.json beside the policy file.",
            HelpName = "FILE",
        };
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file instead of stdout (written whole or not at all).", HelpName = "FILE" };
        var db = new Option<string?>("--db") { Description = "The advisory database. Default: $TOLLGATE_HOME/advisories.db.", HelpName = "FILE" };
        var advisories = new Option<string[]>("--advisories")
        {
            Description = "Match against these OSV files instead of the database: an all.zip archive, a folder of OSV JSON or a single file (loaded into a temporary database for this run). Repeat for several.",
            HelpName = "PATH",
        };
        var noAdvisories = new Option<bool>("--no-advisories") { Description = "Check risk signals and the policy only, without an advisory database (reports say advisories were not checked)." };
        var exclude = DepsCommand.ExcludeOption();
        var checks = new Option<string[]>("--checks")
        {
            Description = "Which checks run over PATH, comma-separated: deps (lockfiles, manifests, SBOMs), mcp (MCP client configurations, TG2xxx), deploy (deployment files, TG3xxx), clients (npm/yarn/pip/uv/NuGet client configuration, TG5xxx), updates (Dependabot/Renovate configuration, TG41xx). Default: all; each runs when it finds its inputs.",
            HelpName = "LIST",
            AllowMultipleArgumentsPerToken = false,
        };
        var metadata = new Option<bool>("--registry-metadata")
        {
            Description = "Also ask each ecosystem's registry (as the package managers are configured, cached under $TOLLGATE_HOME) for release dates and publisher facts: versions younger than minimumReleaseAge and compromise signals become findings (TG4001-TG4007).",
        };
        var registry = new Option<string[]>("--registry") { Description = "With --registry-metadata: the registry of one ecosystem, as ECOSYSTEM=URL (npm, pypi, nuget).", HelpName = "ECOSYSTEM=URL" };
        var offline = new Option<bool>("--offline") { Description = "With --registry-metadata: use only the metadata cache." };
        var command = new Command("scan", """
            Find vulnerable, known-malicious and risky dependencies, judge them with the policy, and gate CI.

            Exit codes: 0 pass, 1 policy failed (findings at or above the threshold), 2 usage or input error or an
            incomplete scan, 3 internal error. A scan that could not check something (an input it could not read, no
            advisory records for an ecosystem it scanned) never passes: its verdict is "incomplete" and it exits 2.
            Scans never use the network: advisories come from the local database (`tollgate db update` downloads it,
            `tollgate db import FILE` loads it offline) or from --advisories.

            Examples:
              tollgate scan examples/mcp-server-npm --advisories examples/advisories
              tollgate scan . --format sarif -o tollgate.sarif
              tollgate scan --sbom sbom.cdx.json --fail-on critical
              tollgate scan . --format markdown > comment.md
              tollgate scan . --vex vex/tollgate.openvex.json
              tollgate scan . --format openvex -o draft.openvex.json
            """)
        {
            paths, sbom, policy, failOn, format, output, db, advisories, noAdvisories, exclude, metadata, registry, offline, vex, checks,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(noAdvisories) && r.GetValue(advisories) is { Length: > 0 })
            {
                r.AddError("--advisories and --no-advisories contradict each other: give one of them");
            }
            if (r.GetValue(noAdvisories) && r.GetValue(db) is not null)
            {
                r.AddError("--db and --no-advisories contradict each other: give one of them");
            }
            if (r.GetValue(db) is not null && r.GetValue(advisories) is { Length: > 0 })
            {
                r.AddError("--db and --advisories both name the advisories to use: give one of them");
            }
            if (r.GetValue(sbom) is not null && r.GetValue(paths) is { Length: > 0 } given)
            {
                r.AddError($"--sbom scans the SBOM only, so PATH ({string.Join(", ", given)}) would be ignored: give PATH or --sbom, not both");
            }
            if (r.GetValue(checks) is { Length: > 0 } chosen && ScanChecks.Parse(chosen) is { Error: { } checksError })
            {
                r.AddError(checksError);
            }
            if (r.GetValue(sbom) is not null && r.GetValue(exclude) is { Length: > 0 })
            {
                r.AddError("--exclude applies to folder scans, not to --sbom");
            }
            if (!r.GetValue(metadata) && (r.GetValue(registry) is { Length: > 0 } || r.GetValue(offline)))
            {
                r.AddError("--registry and --offline apply to --registry-metadata: give --registry-metadata too");
            }
            foreach (var entry in r.GetValue(registry) ?? [])
            {
                if (!RegistrySources.TryParseOverride(entry, out _, out _, out var problem))
                {
                    r.AddError(problem!);
                }
            }
        });
        command.SetAction(r => Run(new ScanOptions(
            r.GetValue(paths) is { Length: > 0 } p ? p : ["."],
            r.GetValue(sbom),
            r.GetValue(policy),
            r.GetValue(failOn),
            r.GetValue(format) ?? "table",
            r.GetValue(output),
            r.GetValue(db),
            r.GetValue(advisories) ?? [],
            r.GetValue(noAdvisories),
            r.GetValue(exclude) ?? [],
            r.GetValue(metadata),
            r.GetValue(registry) ?? [],
            r.GetValue(offline),
            Vex: r.GetValue(vex) ?? [],
            Checks: ScanChecks.Parse(r.GetValue(checks) ?? [])), terminal, TimeProvider.System));
        return command;
    }

    public static int Run(ScanOptions options, Terminal terminal, TimeProvider time)
    {
        using var progress = ScanProgress.For(terminal);
        terminal.Live = progress;
        try
        {
            return Run(options, terminal, time, progress);
        }
        finally
        {
            terminal.Live = null;
        }
    }

    private static int Run(ScanOptions options, Terminal terminal, TimeProvider time, ScanProgress progress)
    {
        var diagnostics = new DiagnosticBag();
        var checks = options.Checks ?? ScanChecks.All;
        progress.Stage($"finding and reading dependency files under {string.Join(", ", options.Sbom is null ? options.Paths : [options.Sbom])}");
        var graph = checks.Deps || options.Sbom is not null
            ? DepsCommand.ReadGraph(options.Paths, options.Sbom, diagnostics, new PathGlobs(options.Exclude ?? []))
            : new DependencyGraph([], [], []);

        var scanPath = options.Sbom ?? options.Paths[0];
        var loaded = PolicyLoader.Load(options.Policy, scanPath, ScanChecks.RuleIds);
        terminal.Diagnostics(loaded.Diagnostics);
        if (loaded.HasErrors || loaded.Policy is null)
        {
            terminal.Fail($"the policy {loaded.Path ?? options.Policy} has errors (see above); nothing was scanned.");
            return ExitCodes.InputError;
        }
        var policy = loaded.Policy;
        if (options.FailOn is not null && SeverityNames.TryParse(options.FailOn, out var failOn))
        {
            policy = policy with { FailOn = failOn };
        }
        if (loaded.Path is not null)
        {
            terminal.Progress("policy", InputFile.DisplayPath(loaded.Path));
        }
        var vexFiles = options.Vex is { Count: > 0 } given ? given : VexFiles.BesidePolicy(loaded.Path);
        VexStatements? vex = null;
        if (vexFiles.Count > 0)
        {
            var vexDiagnostics = new DiagnosticBag();
            vex = VexStatements.ReadFiles(vexFiles, vexDiagnostics);
            terminal.Diagnostics(vexDiagnostics.Items);
            if (vex is null)
            {
                // A VEX document that cannot be read would hide nothing, but the findings it was written to explain
                // would fail the build with no word why: refuse, like an unreadable policy.
                terminal.Fail("a VEX document has errors (see above); nothing was scanned.");
                return ExitCodes.InputError;
            }
            terminal.Progress("vex", $"{vex.All.Length} statement(s) from {string.Join(", ", vex.Documents)}");
        }

        string? temporary = null;
        AdvisoryStore? store = null;
        try
        {
            progress.Stage("opening the advisory database");
            if (!options.NoAdvisories && !OpenAdvisories(options, terminal, time, policy, out store, out temporary))
            {
                return ExitCodes.InputError;
            }
            var mappedSources = PrivateNuGetSources(ref graph, policy, scanPath);
            var settings = new ScanSettings(store, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime), ToolInfo.Version, Directory.GetCurrentDirectory())
            {
                MappedSources = mappedSources,
                AdvisorySource = options.Advisories.Count > 0 ? string.Join(", ", options.Advisories) : store?.Path,
                DefaultRegistries = DefaultRegistries(graph, policy, scanPath),
                Vex = vex,
            };
            progress.Stage($"{graph.Components.Length:N0} package(s) from {graph.Files.Count()} file(s); checking them");
            var (metadataFindings, metadataProblems) = options.RegistryMetadata
                ? RegistryMetadata(graph, policy, options, scanPath, terminal, time)
                : ([], []);
            progress.Stage("checking deployment files");
            var deploy = checks.Deploy ? DeployFindings(options, terminal) : null;
            progress.Stage("checking MCP client configurations");
            var mcp = checks.Mcp ? McpFindings(options, terminal, store, policy) : null;
            progress.Stage("checking package manager configurations");
            var clients = checks.Clients ? ClientFindings(options, terminal) : null;
            progress.Stage("checking update-bot configurations");
            var updates = checks.Updates ? UpdateBotFindings(options, terminal) : null;
            var otherFiles = new List<string>();
            otherFiles.AddRange(deploy?.Files.Select(f => f.Path) ?? []);
            otherFiles.AddRange(mcp?.Files ?? []);
            otherFiles.AddRange(clients?.Files ?? []);
            otherFiles.AddRange(updates?.Files ?? []);
            if (otherFiles.Count > 0 && graph.Roots.IsEmpty)
            {
                // Other checks found their inputs: a folder without lockfiles is not "nothing to check".
                graph = new DependencyGraph(graph.Components, graph.Edges, graph.Roots, graph.Diagnostics.Where(d => d.Id != DiagnosticIds.NoInput));
            }
            progress.Stage($"matching {graph.Components.Length:N0} package(s) against {(store is null ? "no" : "the")} advisory database and the policy");
            var result = Scanner.Scan(graph, policy, settings,
                [.. metadataFindings, .. updates?.Findings ?? [], .. deploy?.Findings ?? [], .. mcp?.Findings ?? [], .. clients?.Findings ?? []]);
            if (otherFiles.Count > 0 || !checks.Deps)
            {
                var incomplete = result.Report.Incomplete.Where(r => !(graph.Roots.IsEmpty && otherFiles.Count > 0 && r.StartsWith("nothing was checked", StringComparison.Ordinal)))
                    .Concat(deploy is null ? [] : ScanNames.InputProblems(deploy.Diagnostics, anythingRead: true, "deployment file")).Concat(deploy?.Incomplete ?? [])
                    .Concat(mcp?.Incomplete ?? []).Concat(clients?.Incomplete ?? []).ToList();
                if (otherFiles.Count == 0 && graph.Roots.IsEmpty && !incomplete.Any(r => r.StartsWith("nothing was checked", StringComparison.Ordinal)))
                {
                    incomplete.Add($"nothing was checked: no input for the selected checks ({checks}) was found under {string.Join(", ", options.Paths)}");
                }
                result = result with
                {
                    Report = result.Report with
                    {
                        Outcome = ScanNames.Decide(result.Verdict.Outcome, incomplete, result.Report.Advisories),
                        Incomplete = [.. incomplete],
                        Diagnostics = [.. result.Report.Diagnostics, .. deploy?.Diagnostics ?? [], .. mcp?.Diagnostics ?? []],
                        ScannedFiles = [.. result.Report.ScannedFiles, .. otherFiles.Select(InputFile.DisplayPath).Distinct()],
                    },
                };
            }
            if (metadataProblems.Length > 0)
            {
                result = result with { Report = result.Report with { Outcome = ScanOutcome.Incomplete, Incomplete = [.. result.Report.Incomplete, .. metadataProblems] } };
            }
            progress.Dispose();
            Render(result.Report, options, terminal, time);
            terminal.Diagnostics([.. diagnostics.Items, .. result.Report.Diagnostics.Where(d => d.Id == DiagnosticIds.InstallScriptsUnknown)]);
            foreach (var expired in result.Verdict.ExpiredIgnores)
            {
                terminal.Warning($"ignore entry {expired.Entry.Id} expired on {expired.Entry.Expires:yyyy-MM-dd} and no longer applies ({expired.Findings.Length} finding(s))");
            }
            return Finish(result.Report, terminal);
        }
        finally
        {
            store?.Dispose();
            if (temporary is not null)
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }

    /// <summary>The deployment audit (TG3xxx) of the scanned paths, unless --checks leaves it out or an SBOM is scanned; null when it did not run.</summary>
    private static Tollgate.Deployment.DeployAuditResult? DeployFindings(ScanOptions options, Terminal terminal)
    {
        if (options.Sbom is not null)
        {
            return null;
        }
        var result = Tollgate.Deployment.DeployAudit.Run(options.Paths.Where(p => File.Exists(p) ? Tollgate.Deployment.DeployFileKinds.Classify(Path.GetFullPath(p), named: true) is not null : Directory.Exists(p)),
            new Tollgate.Deployment.DeployAuditOptions { Exclude = new PathGlobs(options.Exclude ?? []), RequireFiles = false }, new DiagnosticBag());
        if (!result.Files.IsEmpty)
        {
            terminal.Progress("deployment", $"{result.Files.Length} file(s), {result.Findings.Length} finding(s)");
        }
        return result;
    }

    /// <summary>What one of scan's extra checks read and found, and what it could not check.</summary>
    private sealed record CheckFindings(IReadOnlyList<string> Files, IReadOnlyList<Finding> Findings, IReadOnlyList<string> Incomplete, IReadOnlyList<Diagnostic> Diagnostics);

    /// <summary>The update-bot lint findings (TG4101-TG4106) of each scanned folder that holds a Dependabot or Renovate configuration.</summary>
    private static CheckFindings? UpdateBotFindings(ScanOptions options, Terminal terminal)
    {
        if (options.Sbom is not null)
        {
            return null;
        }
        var findings = new List<Finding>();
        var files = new List<string>();
        foreach (var folder in options.Paths.Where(Directory.Exists).Distinct())
        {
            var lint = Updates.UpdateBotLint.Run(folder);
            if (!lint.Files.IsEmpty)
            {
                terminal.Progress("update bots", string.Join(", ", lint.Files));
                terminal.Diagnostics(lint.Diagnostics);
                findings.AddRange(lint.Findings);
                files.AddRange(lint.Files.Select(f => Path.IsPathRooted(f) ? f : Path.Combine(folder, f)));
            }
        }
        return new CheckFindings(files, findings, [], []);
    }

    /// <summary>
    /// The MCP client configuration audit (TG2xxx, and advisories of the server packages they pin) of the project
    /// configurations at the top of each scanned folder (.mcp.json, .vscode/mcp.json, .cursor/mcp.json, …); per-user
    /// configurations are left to <c>tollgate mcp audit --discover</c>.
    /// </summary>
    private static CheckFindings? McpFindings(ScanOptions options, Terminal terminal, AdvisoryStore? store, TollgatePolicy policy)
    {
        if (options.Sbom is not null)
        {
            return null;
        }
        var environment = McpDiscoveryEnvironment.Current();
        var files = options.Paths.Where(Directory.Exists).Distinct()
            .SelectMany(folder => McpDiscovery.Candidates(environment with { WorkingFolder = Path.GetFullPath(folder) })
                .Where(l => !l.PerUser && File.Exists(l.Path)).Select(l => l.Path))
            .DistinctBy(Path.GetFullPath).ToList();
        if (files.Count == 0)
        {
            return new CheckFindings([], [], [], []);
        }
        var diagnostics = new DiagnosticBag();
        var result = McpAudit.Run(files, new McpAuditOptions { WorkingFolder = Directory.GetCurrentDirectory(), UserHome = environment.Home }, diagnostics, store);
        terminal.Progress("mcp", $"{result.Files.Length} configuration file(s), {result.Servers.Length} server(s), {result.Findings.Length} finding(s)");
        var incomplete = ScanNames.InputProblems(result.Diagnostics, !result.Files.IsEmpty, "MCP client configuration").ToList();
        var packages = result.Graph.Components.Where(c => c.Ecosystem != Ecosystem.Generic && c.Resolved).ToList();
        if (store is not null && packages.Count > 0)
        {
            incomplete.AddRange(Scanner.CoverageProblems(Scanner.Coverage(packages, store, store.Path), policy)
                .Select(p => "MCP server packages: " + p));
        }
        return new CheckFindings(files, result.Findings, incomplete, result.Diagnostics);
    }

    /// <summary>
    /// The package-manager client configuration checks (TG5xxx) of the project files at the top of each scanned folder
    /// (.npmrc, .yarnrc.yml, pip.conf, uv.toml, nuget.config …). The user's own files and environment are left to
    /// <c>tollgate feed check-client</c>, so a scan judges the repository, not the machine it runs on.
    /// </summary>
    private static CheckFindings? ClientFindings(ScanOptions options, Terminal terminal)
    {
        if (options.Sbom is not null)
        {
            return null;
        }
        var files = new List<string>();
        var findings = new List<Finding>();
        var incomplete = new List<string>();
        foreach (var folder in options.Paths.Where(Directory.Exists).Distinct())
        {
            var result = ClientConfigAudit.Run(folder, feed: null, environment: _ => null);
            if (result.Files.IsEmpty)
            {
                continue;
            }
            files.AddRange(result.Files);
            findings.AddRange(ClientConfigRules.ToFindings(result));
            incomplete.AddRange(result.Problems);
        }
        if (files.Count > 0)
        {
            terminal.Progress("clients", $"{files.Count} client configuration file(s), {findings.Count} finding(s)");
        }
        return new CheckFindings(files, findings, incomplete, []);
    }

    /// <summary>Findings from registry metadata (release age, compromise signals), and what could not be checked.</summary>
    private static (ImmutableArray<Finding>, ImmutableArray<string>) RegistryMetadata(DependencyGraph graph, TollgatePolicy policy, ScanOptions options, string scanPath, Terminal terminal, TimeProvider time)
    {
        var overrides = new Dictionary<Ecosystem, Uri>();
        foreach (var entry in options.Registries ?? [])
        {
            if (RegistrySources.TryParseOverride(entry, out var ecosystem, out var url, out _))
            {
                overrides[ecosystem] = url!;
            }
        }
        var folder = Directory.Exists(scanPath) ? scanPath : Path.GetDirectoryName(Path.GetFullPath(scanPath))!;
        var problems = new List<string>();
        using var http = new RegistryHttp(new RegistryHttpOptions { CacheFolder = options.CacheFolder ?? RegistryHttpOptions.DefaultCacheFolder(), Offline = options.Offline, Time = time });
        var sources = RegistrySources.Configure(graph.Components.Where(c => c.Origin.Kind == OriginKind.Registry && c.Ecosystem != Ecosystem.Generic).Select(c => c.Ecosystem), folder, overrides, http, problems);
        var (findings, missing) = RegistryFactFindings.FindAsync(graph, sources, policy, time.GetUtcNow()).GetAwaiter().GetResult();
        var (requests, bytes, hits) = http.Statistics;
        terminal.Progress("registries", $"{requests} request(s), {bytes / 1024} KiB, {hits} from the cache");
        return (findings, [.. problems, .. missing]);
    }

    /// <summary>The exit code of a report, after saying on stderr why an incomplete scan is incomplete.</summary>
    internal static int Finish(ScanReport report, Terminal terminal, string noun = "scan")
    {
        if (report.Advisories is { } coverage && report.Incomplete.IsEmpty)
        {
            foreach (var missing in coverage.Missing)
            {
                terminal.Warning($"no {missing.Ecosystem.ToOsvName()} advisories: {missing.Packages} package(s) were not checked for vulnerabilities or malware (missingAdvisories: warn)");
            }
        }
        if (report.Outcome != ScanOutcome.Incomplete)
        {
            return report.Outcome == ScanOutcome.Fail ? ExitCodes.PolicyFailed : ExitCodes.Pass;
        }
        foreach (var reason in report.Incomplete)
        {
            terminal.Fail(reason);
        }
        terminal.Fail($"the {noun} is incomplete: what could not be checked is listed above, and the result is not a pass.");
        return ExitCodes.InputError;
    }

    /// <summary>
    /// Each ecosystem's default registry from the package manager's own configuration, read only when the policy names
    /// private packages and the graph has some (TG1009 and advisory matching of private names need it).
    /// </summary>
    private static ImmutableDictionary<Ecosystem, string> DefaultRegistries(DependencyGraph graph, TollgatePolicy policy, string scanPath)
    {
        var result = ImmutableDictionary<Ecosystem, string>.Empty;
        if (policy.Private.IsEmpty || !graph.Components.Any(c => c.Ecosystem == Ecosystem.Npm && c.Origin.Location is not null && policy.IsPrivate(c)))
        {
            return result;
        }
        var folder = Directory.Exists(scanPath) ? scanPath : Path.GetDirectoryName(Path.GetFullPath(scanPath));
        return NpmRegistryConfig.Read(workingDirectory: folder) is { } npm ? result.Add(Ecosystem.Npm, npm.AbsoluteUri) : result;
    }

    /// <summary>
    /// For NuGet packages with names the policy declares private: the source each was restored from (the global packages
    /// folder's .nupkg.metadata) recorded on the component, and the sources nuget.config's packageSourceMapping allows for
    /// each id (read from the scanned folder up, as dotnet restore does). TG1009 needs both; nothing is read otherwise.
    /// </summary>
    private static Func<Component, IReadOnlyList<string>?>? PrivateNuGetSources(ref DependencyGraph graph, TollgatePolicy policy, string scanPath)
    {
        if (policy.Private.IsEmpty)
        {
            return null;
        }
        bool IsPrivateNuGet(Component c) => c.Ecosystem == Ecosystem.NuGet && c.Resolved && c.Origin.Kind == OriginKind.Registry && policy.IsPrivate(c);
        if (!graph.Components.Any(IsPrivateNuGet))
        {
            return null;
        }
        var folders = Tollgate.Ecosystems.NuGet.NuGetPackageSources.PackageFolders(graph);
        var components = graph.Components.Select(c => IsPrivateNuGet(c) && c.Origin.Location is null
            && Tollgate.Ecosystems.NuGet.NuGetPackageSources.SourceOf(c, folders) is { } source
                ? c with { Origin = Origin.Registry(source) }
                : c);
        graph = new DependencyGraph(components, graph.Edges, graph.Roots, graph.Diagnostics);
        var folder = Directory.Exists(scanPath) ? scanPath : Path.GetDirectoryName(Path.GetFullPath(scanPath));
        var config = Tollgate.Ecosystems.NuGet.NuGetSourceConfig.Read(folder);
        return c =>
        {
            if (c.Ecosystem != Ecosystem.NuGet)
            {
                return null;
            }
            var sources = config.MappedLocations(c.Name);
            return sources.Count == 0 ? null : sources;
        };
    }

    internal static bool OpenAdvisories(ScanOptions options, Terminal terminal, TimeProvider time, TollgatePolicy policy, out AdvisoryStore? store, out string? temporary)
    {
        store = null;
        temporary = null;
        string path;
        if (options.Advisories.Count > 0)
        {
            try
            {
                temporary = Directory.CreateTempSubdirectory("tollgate-scan-").FullName;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // --advisories loads the records into a database in the temporary folder; without one nothing is checked.
                terminal.Fail($"cannot make a temporary folder in {Path.GetTempPath()} for the advisories given with --advisories: {e.Message}");
                terminal.Message("hint: set TMPDIR to a folder this user can write, or import the advisories once with `tollgate db import` and scan with --db.");
                return false;
            }
            path = Path.Combine(temporary, "advisories.db");
            var bag = new DiagnosticBag();
            var imported = AdvisoryImporter.Import(options.Advisories, new AdvisoryImportOptions { DatabasePath = path, Source = string.Join(", ", options.Advisories) }, bag);
            terminal.Diagnostics(bag.Items);
            if (!imported.Succeeded)
            {
                terminal.Fail("the advisories given with --advisories could not be loaded (see above).");
                return false;
            }
            terminal.Progress("advisories", $"{imported.Read} record(s) from {string.Join(", ", options.Advisories)}");
        }
        else
        {
            path = TollgateHome.DatabasePath(options.Database);
        }
        if (!AdvisoryStore.TryOpen(path, out store, out var error))
        {
            terminal.Fail(error.Message);
            terminal.Message($"hint: {error.Hint}; or scan with --advisories FILE (OSV all.zip or JSON), or --no-advisories for risk signals only.");
            return false;
        }
        if (temporary is null && PolicyEvaluator.DatabaseAgeWarning(policy, store.ImportedAt(), time.GetUtcNow()) is { } stale)
        {
            terminal.Warning(stale);
        }
        return true;
    }

    private static void Render(ScanReport report, ScanOptions options, Terminal terminal, TimeProvider time)
    {
        switch (options.Format)
        {
            case "openvex":
                var timestamp = SbomOptions.FromEnvironment(SbomFormat.CycloneDx, null, ToolInfo.Version, "", time).Timestamp;
                if (OpenVexWriter.Write(report, timestamp) is { } document)
                {
                    DepsCommand.Emit(document, options.Output, terminal);
                }
                else
                {
                    terminal.Warning("no vulnerability findings, so there is nothing to state: no OpenVEX document was written (one needs at least one statement)");
                }
                return;
            case "json":
                DepsCommand.Emit(ScanJson.Write(report), options.Output, terminal);
                return;
            case "sarif":
                DepsCommand.Emit(SarifWriter.Write(report), options.Output, terminal);
                return;
            case "markdown":
                DepsCommand.Emit(MarkdownReport.Write(report), options.Output, terminal);
                return;
        }
        if (options.Output is not null)
        {
            var writer = new StringWriter();
            RenderTable(report, new Terminal(writer, terminal.ErrorWriter));
            DepsCommand.Emit(writer.ToString().TrimEnd(), options.Output, terminal);
            return;
        }
        RenderTable(report, terminal);
    }

    /// <summary>
    /// Findings grouped by package, most severe first, with fixes and the shortest "why" path, then the advisory
    /// coverage and a summary line. On a narrow console the table becomes a list, so ids and names stay whole.
    /// </summary>
    internal static void RenderTable(ScanReport report, Terminal terminal)
    {
        var table = new TerminalTable(["Package", "Severity", "Id", "Summary", "Fixed in", "Why (shortest path)"], "Summary", "Why (shortest path)");
        foreach (var group in report.Ordered.GroupBy(f => f.Finding.Component.Key, StringComparer.Ordinal))
        {
            var first = true;
            foreach (var f in group)
            {
                var c = f.Finding.Component;
                table.AddRow(
                    first ? Markup.Escape($"{c.Name}@{c.Version}") + $" [grey]{c.Ecosystem.ToOsvName()}[/]" : "",
                    SeverityMarkup(f),
                    Markup.Escape(f.Finding.Id),
                    Markup.Escape(Truncate(f.Finding.Summary, 70)) + IgnoredMarkup(f),
                    Markup.Escape(string.Join(", ", f.Finding.FixedIn)),
                    first ? Markup.Escape(f.Paths.Length > 0 ? string.Join(" > ", f.Paths[0]) : "") : "");
                first = false;
            }
        }
        table.Write(terminal.Out);
        RenderCoverage(report, terminal);
        var s = report.Summary;
        var verdict = report.Outcome switch
        {
            ScanOutcome.Incomplete => "[red bold]INCOMPLETE[/]",
            ScanOutcome.Fail => "[red bold]FAIL[/]",
            ScanOutcome.Warn => "[yellow]WARN[/]",
            _ => "[green]PASS[/]",
        };
        var packages = report.Graph?.Components.Length ?? 0;
        var line = $"{verdict}: {s.Total} finding(s) in {packages} package(s): {s.Failing} failing (failOn {report.FailOn.ToName()}), {s.Warnings} warning(s), {s.Suppressed} suppressed" + (s.SuppressedByVex > 0 ? $" ({s.SuppressedByVex} by VEX)" : "");
        if (report.Outcome == ScanOutcome.Incomplete)
        {
            line += $"; not a pass: {Markup.Escape(string.Join("; ", report.Incomplete))}";
        }
        terminal.Out.MarkupLine(line);
    }

    /// <summary>The advisory coverage line: records per scanned ecosystem, or that advisories were not checked.</summary>
    internal static void RenderCoverage(ScanReport report, Terminal terminal)
    {
        if (report.Advisories is { } coverage)
        {
            var parts = coverage.Ecosystems.Select(e => e.Records == 0
                ? $"[red]{e.Ecosystem.ToOsvName()}: no records, {e.Packages} package(s) not checked[/]"
                : Markup.Escape($"{e.Ecosystem.ToOsvName()}: {e.Records} records for {e.Packages} package(s)")).ToList();
            terminal.Out.MarkupLine($"[grey]advisories:[/] {(parts.Count == 0 ? "no registry packages to match" : string.Join("; ", parts))}");
        }
        else
        {
            terminal.Out.MarkupLine("[grey]advisories:[/] [yellow]not checked (--no-advisories)[/]");
        }
    }

    private static string SeverityMarkup(ReportedFinding f)
    {
        var severity = f.Finding.Kind == FindingKind.Malicious ? "malicious" : f.Finding.Severity == Severity.None ? "unknown" : f.Finding.Severity.ToName();
        var colour = f.Suppression is not null ? "grey" : f.Finding.Kind == FindingKind.Malicious || f.Finding.Severity >= Severity.Critical ? "red bold"
            : f.Finding.Severity == Severity.High ? "red" : f.Finding.Severity == Severity.Medium ? "yellow" : "blue";
        var level = f.Suppression is { Source: SuppressionSource.Vex } ? " (VEX)" : f.Suppression is not null ? " (ignored)" : f.Level == FindingLevel.Fail ? " FAIL" : "";
        return $"[{colour}]{Markup.Escape(severity + level)}[/]";
    }

    /// <summary>For an ignored finding: the ignore's reason, owner and expiry, as docs/policy.md promises.</summary>
    private static string IgnoredMarkup(ReportedFinding f)
    {
        return f.Suppression is { } s ? $"\n[grey]{Markup.Escape(s.Describe())}[/]" : "";
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}

/// <summary>The checks <c>scan --checks</c> names; each runs when it finds its inputs under the scanned paths.</summary>
internal sealed record ScanChecks(bool Deps, bool Mcp, bool Deploy, bool Clients, bool Updates, string? Error = null)
{
    /// <summary>The names, in the order help and errors list them.</summary>
    public static readonly string[] Names = ["deps", "mcp", "deploy", "clients", "updates"];

    /// <summary>Every check: the default.</summary>
    public static readonly ScanChecks All = new(true, true, true, true, true);

    /// <summary>Every rule id a scan can report, for the policy's <c>rules:</c> section.</summary>
    public static IReadOnlyList<string> RuleIds =>
        [.. RiskRules.All.Select(r => r.Id), .. Tollgate.Deployment.DeployRules.All.Select(r => r.Id), .. McpRules.All.Select(r => r.Id),
         .. ClientConfigRules.All.Select(r => r.Id), PolicyFindings.DeniedRuleId];

    /// <summary>Reads comma-separated lists of check names; empty means every check.</summary>
    public static ScanChecks Parse(IEnumerable<string> values)
    {
        var names = values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(n => n.ToLowerInvariant()).ToList();
        if (names.Count == 0)
        {
            return All;
        }
        var unknown = names.Where(n => !Names.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            return All with { Error = $"--checks: unknown check '{unknown[0]}'; the checks are {string.Join(", ", Names)}" };
        }
        return new ScanChecks(names.Contains("deps"), names.Contains("mcp"), names.Contains("deploy"), names.Contains("clients"), names.Contains("updates"));
    }

    public override string ToString() =>
        string.Join(",", Names.Where((_, i) => new[] { Deps, Mcp, Deploy, Clients, Updates }[i]));
}
