using System.Text.RegularExpressions;
using Tollgate.Inputs;

namespace Tollgate.Deployment;

/// <summary>The kinds of deployment file the audit reads.</summary>
public enum DeployFileKind
{
    ArmTemplate,
    ArmParameters,
    Bicep,
    AzureYaml,
    Kubernetes,
    Compose,
    Dockerfile,
    GitHubWorkflow,
    AzurePipeline,
}

/// <summary>One file the audit looked at: its kind, and why it was not checked (null when it was).</summary>
/// <param name="Path">The path as shown in reports.</param>
/// <param name="FullPath">The absolute path.</param>
/// <param name="Kind">What the file is.</param>
/// <param name="Skipped">Why the file was not checked (no Bicep CLI, malformed), or null.</param>
public sealed record DeployFile(string Path, string FullPath, DeployFileKind Kind, string? Skipped = null);

/// <summary>Names of the kinds as reports spell them, and how a file is recognised.</summary>
public static partial class DeployFileKinds
{
    /// <summary>The report spelling: <c>arm</c>, <c>arm-parameters</c>, <c>bicep</c>, <c>azure.yaml</c>, <c>kubernetes</c>, <c>compose</c>, <c>dockerfile</c>, <c>github-workflow</c>, <c>azure-pipelines</c>.</summary>
    public static string ToName(this DeployFileKind kind) => kind switch
    {
        DeployFileKind.ArmTemplate => "arm",
        DeployFileKind.ArmParameters => "arm-parameters",
        DeployFileKind.Bicep => "bicep",
        DeployFileKind.AzureYaml => "azure.yaml",
        DeployFileKind.Kubernetes => "kubernetes",
        DeployFileKind.Compose => "compose",
        DeployFileKind.Dockerfile => "dockerfile",
        DeployFileKind.GitHubWorkflow => "github-workflow",
        _ => "azure-pipelines",
    };

    /// <summary>
    /// The kind of <paramref name="fullPath"/>, from its name and folder, and for JSON and YAML files without a telling name
    /// from their first kilobytes; null when it is no deployment file. <paramref name="named"/> is true for files given
    /// directly, which are read by content whatever their folder.
    /// </summary>
    public static DeployFileKind? Classify(string fullPath, bool named)
    {
        var name = Path.GetFileName(fullPath);
        var lower = name.ToLowerInvariant();
        var folder = Path.GetFileName(Path.GetDirectoryName(fullPath) ?? "").ToLowerInvariant();
        var parent = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(fullPath) ?? "") ?? "").ToLowerInvariant();
        var yaml = lower.EndsWith(".yml", StringComparison.Ordinal) || lower.EndsWith(".yaml", StringComparison.Ordinal);
        if (lower is "dockerfile" or "containerfile" || lower.StartsWith("dockerfile.", StringComparison.Ordinal)
            || lower.StartsWith("containerfile.", StringComparison.Ordinal) || lower.EndsWith(".dockerfile", StringComparison.Ordinal))
        {
            return DeployFileKind.Dockerfile;
        }
        if (lower.EndsWith(".bicep", StringComparison.Ordinal))
        {
            return DeployFileKind.Bicep;
        }
        if (lower is "azure.yaml" or "azure.yml")
        {
            return DeployFileKind.AzureYaml;
        }
        if (yaml && (lower.StartsWith("docker-compose", StringComparison.Ordinal) || lower.StartsWith("compose.", StringComparison.Ordinal)
            || lower.StartsWith("compose-", StringComparison.Ordinal)))
        {
            return DeployFileKind.Compose;
        }
        if (yaml && folder == "workflows" && parent == ".github")
        {
            return DeployFileKind.GitHubWorkflow;
        }
        if (yaml && lower.StartsWith("azure-pipelines", StringComparison.Ordinal))
        {
            return DeployFileKind.AzurePipeline;
        }
        if (lower.EndsWith(".json", StringComparison.Ordinal))
        {
            var head = Head(fullPath);
            return head.Contains("deploymentParameters.json", StringComparison.OrdinalIgnoreCase) ? DeployFileKind.ArmParameters
                : head.Contains("deploymentTemplate.json", StringComparison.OrdinalIgnoreCase) ? DeployFileKind.ArmTemplate
                : null;
        }
        if (yaml)
        {
            var head = Head(fullPath);
            if (folder is ".azure-pipelines" or ".pipelines" || (named && PipelineKey().IsMatch(head) && !KubernetesKind().IsMatch(head)))
            {
                return PipelineKey().IsMatch(head) ? DeployFileKind.AzurePipeline : null;
            }
            if (named && folder == "workflows" && head.Contains("jobs:", StringComparison.Ordinal))
            {
                return DeployFileKind.GitHubWorkflow;
            }
            return KubernetesKind().IsMatch(head) && KubernetesApiVersion().IsMatch(head) ? DeployFileKind.Kubernetes : null;
        }
        return null;
    }

    /// <summary>The first 4 KB of a file as text (empty when it cannot be read): enough to recognise its kind.</summary>
    private static string Head(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var buffer = new byte[4096];
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return System.Text.Encoding.UTF8.GetString(buffer, 0, read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    [GeneratedRegex(@"^(kind|  kind|- kind):\s*\S", RegexOptions.Multiline)]
    private static partial Regex KubernetesKind();

    [GeneratedRegex(@"^(apiVersion|  apiVersion|- apiVersion):\s*\S", RegexOptions.Multiline)]
    private static partial Regex KubernetesApiVersion();

    [GeneratedRegex(@"^(steps|jobs|stages|extends|trigger|pr|pool):", RegexOptions.Multiline)]
    private static partial Regex PipelineKey();
}

/// <summary>Finds deployment files under the paths a user gave.</summary>
public static class DeployDiscovery
{
    /// <summary>Hidden folders that hold deployment files; other hidden folders are skipped as tool state.</summary>
    private static readonly HashSet<string> s_hiddenFolders = new(StringComparer.OrdinalIgnoreCase) { ".github", ".azure-pipelines", ".pipelines" };

    /// <summary>
    /// Deployment files under <paramref name="paths"/> (folders searched recursively, minus <paramref name="exclude"/>),
    /// in a stable order; a file named directly is classified by content when its name does not tell.
    /// </summary>
    public static List<(string FullPath, DeployFileKind Kind)> Find(IEnumerable<string> paths, PathGlobs? exclude, DiagnosticBag diagnostics, bool reportEmpty = true)
    {
        var found = new List<(string, DeployFileKind)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            if (File.Exists(path))
            {
                var full = Path.GetFullPath(path);
                if (DeployFileKinds.Classify(full, named: true) is { } kind)
                {
                    if (seen.Add(full))
                    {
                        found.Add((full, kind));
                    }
                }
                else
                {
                    diagnostics.Error(Graph.DiagnosticIds.NoInput, "not a deployment file this audit reads", new Graph.SourceLocation(InputFile.DisplayPath(path)),
                        "supported: ARM templates and parameters (*.json), *.bicep, azure.yaml, Kubernetes manifests, docker-compose/compose files, "
                        + "Dockerfile/Containerfile, .github/workflows/*.yml, azure-pipelines*.yml and pipelines under .azure-pipelines/ or .pipelines/");
                }
            }
            else if (Directory.Exists(path))
            {
                var before = found.Count;
                foreach (var file in InputDiscovery.Walk(Path.GetFullPath(path), exclude, s_hiddenFolders,
                    InputDiscovery.UnreadableFolderReporter(diagnostics, exclude is { IsEmpty: false })))
                {
                    if (DeployFileKinds.Classify(file, named: false) is { } kind && seen.Add(file))
                    {
                        found.Add((file, kind));
                    }
                }
                if (found.Count == before && reportEmpty)
                {
                    diagnostics.Error(Graph.DiagnosticIds.NoInput, "no deployment file found in this folder", new Graph.SourceLocation(InputFile.DisplayPath(path)),
                        "point at a repository or infra folder, or name the files directly");
                }
            }
            else
            {
                diagnostics.Error(Graph.DiagnosticIds.NoInput, "no such file or folder", new Graph.SourceLocation(path));
            }
        }
        return found;
    }
}
