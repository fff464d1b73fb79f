using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Deployment;

/// <summary>Settings of a deployment audit.</summary>
public sealed record DeployAuditOptions
{
    /// <summary>The Bicep CLI given with <c>--bicep</c>; null to look for one on PATH.</summary>
    public string? BicepPath { get; init; }

    /// <summary>Files and folders a folder search leaves out (<c>--exclude</c>).</summary>
    public PathGlobs? Exclude { get; init; }

    /// <summary>Where docs/deploy-audit.md is published; findings link to its sections. Null: no links.</summary>
    public string? RulesDocumentationUri { get; init; }

    /// <summary>True when a folder without deployment files is an error (the audit verb); false for <c>scan</c>, which checks what it finds.</summary>
    public bool RequireFiles { get; init; } = true;
}

/// <summary>The outcome of a deployment audit: the files (with why any was skipped), the findings, the input problems, and why it is incomplete.</summary>
public sealed record DeployAuditResult(
    ImmutableArray<DeployFile> Files,
    ImmutableArray<Finding> Findings,
    ImmutableArray<Diagnostic> Diagnostics,
    ImmutableArray<string> Incomplete);

/// <summary>
/// Audits deployment files (rules TG3xxx): finds them, reads each kind with line numbers, runs its checks. A file that
/// cannot be read or compiled is reported with file and line and the others are still checked; a Bicep file that could
/// not be compiled for want of the Bicep CLI makes the audit incomplete, never a pass.
/// </summary>
public static class DeployAudit
{
    private const int MaxNesting = 200;

    public static DeployAuditResult Run(IEnumerable<string> paths, DeployAuditOptions options, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var queue = new Queue<(string FullPath, DeployFileKind Kind)>(DeployDiscovery.Find(paths, options.Exclude, diagnostics, options.RequireFiles));
        var seen = queue.Select(f => f.FullPath).ToHashSet(StringComparer.Ordinal);
        var files = ImmutableArray.CreateBuilder<DeployFile>();
        var sinks = new List<DeployFindings>();
        var kubernetes = new KubernetesManifests();
        string? bicep = null;
        var bicepLooked = false;
        var noBicep = new List<string>();
        while (queue.Count > 0)
        {
            var (full, kind) = queue.Dequeue();
            var shown = InputFile.DisplayPath(full);
            var sink = new DeployFindings(shown, options.RulesDocumentationUri);
            var before = diagnostics.Items.Count;
            string? skipped = null;
            void Follow(string path, DeployFileKind followKind)
            {
                if (File.Exists(path) && seen.Add(path))
                {
                    queue.Enqueue((path, followKind));
                }
            }
            switch (kind)
            {
                case DeployFileKind.Dockerfile:
                    if (InputFile.ReadText(full, diagnostics) is { } dockerfile)
                    {
                        DockerfileAudit.Check(dockerfile, sink);
                    }
                    break;
                case DeployFileKind.ArmTemplate:
                    if (LocatedJson.ParseFile(full, diagnostics) is { } template)
                    {
                        ArmAudit.Check(template, sink, ArmLines.ForTemplate(), diagnostics, compiledFromBicep: false);
                    }
                    break;
                case DeployFileKind.ArmParameters:
                    if (LocatedJson.ParseFile(full, diagnostics) is { } parameters)
                    {
                        ArmAudit.CheckParametersFile(parameters, sink);
                    }
                    break;
                case DeployFileKind.Bicep:
                {
                    if (!bicepLooked)
                    {
                        bicep = BicepCompiler.Locate(options.BicepPath);
                        bicepLooked = true;
                    }
                    if (InputFile.ReadText(full, diagnostics) is not { } source)
                    {
                        break;
                    }
                    foreach (var module in BicepCompiler.LocalModules(source, full))
                    {
                        Follow(module, DeployFileKind.Bicep);
                    }
                    if (bicep is null)
                    {
                        skipped = options.BicepPath is null ? "no Bicep CLI: install it (az bicep install) or pass --bicep PATH" : $"the Bicep CLI {options.BicepPath} {Missing(options.BicepPath)}";
                        noBicep.Add(shown);
                        break;
                    }
                    if (BicepCompiler.Compile(bicep, full, shown, diagnostics) is { } compiled
                        && LocatedJson.Parse(compiled, shown + " (compiled)", diagnostics) is { } fromBicep)
                    {
                        ArmAudit.Check(fromBicep, sink, ArmLines.ForBicep(source), diagnostics, compiledFromBicep: true);
                    }
                    break;
                }
                default:
                    if (ReadYaml(full, shown, kind, diagnostics) is { } documents)
                    {
                        CheckYaml(kind, documents, sink, kubernetes, full, Follow);
                    }
                    break;
            }
            var errors = diagnostics.Items.Skip(before).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (skipped is null && errors.Count > 0)
            {
                var first = errors[0];
                skipped = $"{(first.Location is { Line: > 0 } l ? $"line {l.Line}: " : "")}{first.Message}";
            }
            files.Add(new DeployFile(shown, full, kind, skipped));
            sinks.Add(sink);
        }
        // Namespaces without a default-deny egress policy, and pods whose service account mounts its token, are known
        // only once every manifest is read.
        kubernetes.Report();
        var findings = sinks.SelectMany(s => s.Items).ToList();
        var incomplete = new List<string>();
        if (noBicep.Count > 0)
        {
            incomplete.Add($"{noBicep.Count} Bicep file(s) not checked, no Bicep CLI to compile them ({string.Join(", ", noBicep.Take(5))}{(noBicep.Count > 5 ? ", …" : "")}): "
                + (options.BicepPath is null ? "put bicep on PATH (az bicep install) or pass --bicep PATH" : $"--bicep {options.BicepPath} {Missing(options.BicepPath)}"));
        }
        return new DeployAuditResult(files.ToImmutable(),
            [.. findings.OrderBy(f => f.Component.Locations[0].File, StringComparer.Ordinal).ThenBy(f => f.Component.Locations[0].Line).ThenBy(f => f.Id, StringComparer.Ordinal)],
            [.. diagnostics.Items], [.. incomplete]);
    }

    /// <summary>Why --bicep names no program: a folder is not "missing", and saying so sends the user looking for the wrong thing.</summary>
    private static string Missing(string path) =>
        Directory.Exists(path) ? "is a folder; name the bicep program itself (for example ~/.azure/bin/bicep)" : "does not exist";

    private static IReadOnlyList<YamlDocument>? ReadYaml(string full, string shown, DeployFileKind kind, DiagnosticBag diagnostics)
    {
        if (InputFile.ReadText(full, diagnostics) is not { } text)
        {
            return null;
        }
        var what = kind switch
        {
            DeployFileKind.GitHubWorkflow => "workflow",
            DeployFileKind.AzurePipeline => "pipeline",
            DeployFileKind.Compose => "compose file",
            DeployFileKind.AzureYaml => "azure.yaml",
            _ => "manifest",
        };
        var documents = LocatedYaml.LoadAll(text, shown, diagnostics, MaxNesting, what);
        if (documents is null)
        {
            return null;
        }
        if (kind != DeployFileKind.Kubernetes && (documents.Count == 0 || documents[0].RootNode is not YamlMappingNode))
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, $"expected a YAML mapping at the top of the {what}", new SourceLocation(shown, 1, 1), "is the file empty or truncated?");
            return null;
        }
        return documents;
    }

    private static void CheckYaml(DeployFileKind kind, IReadOnlyList<YamlDocument> documents, DeployFindings sink, KubernetesManifests kubernetes,
        string full, Action<string, DeployFileKind> follow)
    {
        var folder = Path.GetDirectoryName(full) ?? ".";
        switch (kind)
        {
            case DeployFileKind.Kubernetes:
                KubernetesAudit.Check(documents, sink, kubernetes);
                break;
            case DeployFileKind.Compose:
                ComposeAudit.Check((YamlMappingNode)documents[0].RootNode, sink);
                break;
            case DeployFileKind.GitHubWorkflow:
                WorkflowAudit.Check((YamlMappingNode)documents[0].RootNode, sink);
                break;
            case DeployFileKind.AzurePipeline:
                var templates = new List<string>();
                PipelineAudit.Check((YamlMappingNode)documents[0].RootNode, sink, templates);
                foreach (var template in templates)
                {
                    var path = Path.GetFullPath(Path.Combine(template.StartsWith('/') ? RepositoryRoot(folder) : folder, template.TrimStart('/')));
                    follow(path, DeployFileKind.AzurePipeline);
                }
                break;
            case DeployFileKind.AzureYaml:
                // azd: the infra folder (infra.path, default ./infra) holds main.bicep or ARM templates; each service may name a Dockerfile.
                var root = (YamlMappingNode)documents[0].RootNode;
                var infra = Path.GetFullPath(Path.Combine(folder, root.GetMap("infra")?.GetString("path") ?? "infra"));
                if (Directory.Exists(infra))
                {
                    foreach (var file in InputDiscovery.Walk(infra))
                    {
                        if (DeployFileKinds.Classify(file, named: false) is { } infraKind)
                        {
                            follow(file, infraKind);
                        }
                    }
                }
                foreach (var (_, service) in root.GetMap("services").Entries())
                {
                    if (service is YamlMappingNode s && s.GetString("project") is { } project)
                    {
                        var projectFolder = Path.GetFullPath(Path.Combine(folder, project));
                        var dockerfile = s.GetMap("docker")?.GetString("path") is { } named ? Path.Combine(projectFolder, named) : Path.Combine(projectFolder, "Dockerfile");
                        follow(Path.GetFullPath(dockerfile), DeployFileKind.Dockerfile);
                    }
                }
                break;
        }
    }

    /// <summary>The folder holding .git above <paramref name="folder"/>, for pipeline templates named from the repository root.</summary>
    private static string RepositoryRoot(string folder)
    {
        for (var dir = new DirectoryInfo(folder); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, ".git")))
            {
                return dir.FullName;
            }
        }
        return folder;
    }
}
