using System.Text.RegularExpressions;
using Tollgate.Inputs;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Deployment;

/// <summary>Checks of GitHub Actions workflows: token permissions, privileged triggers, Azure credentials, action pinning, secrets to third parties, run steps.</summary>
internal static partial class WorkflowAudit
{
    public static void Check(YamlMappingNode root, DeployFindings findings)
    {
        var triggers = Triggers(root.Get("on")).ToHashSet(StringComparer.Ordinal);
        var privileged = triggers.Contains("pull_request_target") || triggers.Contains("workflow_run");
        var permissions = root.Get("permissions");
        // Without a top-level block the token is still limited when every job sets its own permissions (as zizmor judges it).
        var jobs = root.GetMap("jobs").Entries().Select(p => p.Value).OfType<YamlMappingNode>().ToList();
        if (permissions is null && (jobs.Count == 0 || jobs.Any(j => j.Get("permissions") is null)))
        {
            findings.Add(DeployRules.WorkflowPermissions, 1, "workflow", "no top-level permissions, and not every job sets its own: the token gets the repository's default rights", null);
        }
        else if (permissions is YamlScalarNode { Value: "write-all" })
        {
            findings.Add(DeployRules.WorkflowPermissions, LocatedYaml.LineOf(permissions), "workflow", "permissions: write-all", null);
        }
        var workflowIgnoreScripts = IgnoresScripts(root.GetMap("env"));
        CheckEnvSecrets(root.GetMap("env"), "env", findings);
        foreach (var (key, value) in root.GetMap("jobs").Entries())
        {
            if (key is not YamlScalarNode { Value: { } jobId } || value is not YamlMappingNode job)
            {
                continue;
            }
            var jobPath = $"jobs.{jobId}";
            if (job.Get("permissions") is YamlScalarNode { Value: "write-all" } jobPermissions)
            {
                findings.Add(DeployRules.WorkflowPermissions, LocatedYaml.LineOf(jobPermissions), jobPath, "permissions: write-all", null);
            }
            if (job.GetString("uses") is { } reusable)
            {
                CheckUses(reusable, LocatedYaml.LineOf(job.Get("uses")!), jobPath, job, findings);
            }
            CheckImage(job.Get("container"), $"{jobPath}.container", findings);
            foreach (var (serviceKey, service) in job.GetMap("services").Entries())
            {
                CheckImage(service, $"{jobPath}.services.{(serviceKey as YamlScalarNode)?.Value}", findings);
            }
            CheckEnvSecrets(job.GetMap("env"), $"{jobPath}.env", findings);
            var ignoreScripts = workflowIgnoreScripts || IgnoresScripts(job.GetMap("env"));
            var checkedOutHead = false;
            var steps = job.GetList("steps")?.Children ?? [];
            for (var i = 0; i < steps.Count; i++)
            {
                if (steps[i] is not YamlMappingNode step)
                {
                    continue;
                }
                var path = $"{jobPath}.steps[{i}]";
                var line = LocatedYaml.LineOf(step);
                CheckEnvSecrets(step.GetMap("env"), path, findings);
                if (step.GetString("uses") is { } uses)
                {
                    CheckUses(uses, LocatedYaml.LineOf(step.Get("uses")!), path, step, findings);
                    if (privileged && uses.StartsWith("actions/checkout@", StringComparison.OrdinalIgnoreCase)
                        && step.GetMap("with")?.GetString("ref") is { } checkoutRef && UntrustedRef().IsMatch(checkoutRef))
                    {
                        checkedOutHead = true;
                        findings.Add(DeployRules.UntrustedCheckout, line, path,
                            $"checks out the pull request's code ({checkoutRef.Trim()}) under {(triggers.Contains("pull_request_target") ? "pull_request_target" : "workflow_run")}", null);
                    }
                }
                if (step.GetString("run") is { } run)
                {
                    var stepIgnore = ignoreScripts || IgnoresScripts(step.GetMap("env"));
                    CommandChecks.Check(findings, LocatedYaml.LineOf(step.Get("run")!) + (step.Get("run") is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Literal or YamlDotNet.Core.ScalarStyle.Folded } ? 1 : 0),
                        path, run, stepIgnore);
                    if (checkedOutHead)
                    {
                        findings.Add(DeployRules.UntrustedCheckout, line, path, "runs commands after checking out the pull request's code with the base repository's secrets", Shorten(run));
                    }
                    if (run.Contains("az login", StringComparison.Ordinal) && (run.Contains("--password", StringComparison.Ordinal) || run.Contains(" -p ", StringComparison.Ordinal)))
                    {
                        findings.Add(DeployRules.LongLivedAzureCredentials, line, path, "az login with a service principal's password", null);
                    }
                }
            }
        }
    }

    private static void CheckUses(string uses, int line, string path, YamlMappingNode step, DeployFindings findings)
    {
        var reference = uses.Trim();
        if (reference.StartsWith("./", StringComparison.Ordinal))
        {
            return;
        }
        if (reference.StartsWith("docker://", StringComparison.Ordinal))
        {
            if (!DeployValues.IsPinnedOrUnknown(reference[9..]))
            {
                findings.Add(DeployRules.ImageNotPinned, line, path, $"runs image {reference[9..]} not pinned by digest", null);
            }
            return;
        }
        var at = reference.LastIndexOf('@');
        var action = at > 0 ? reference[..at] : reference;
        var version = at > 0 ? reference[(at + 1)..] : "";
        if (!FullSha().IsMatch(version))
        {
            findings.Add(DeployRules.ActionNotPinned, line, path, $"uses {action}@{version} (a tag or branch, not a commit SHA)", null);
        }
        var owner = action.Split('/')[0].ToLowerInvariant();
        var with = step.GetMap("with");
        if (action.Equals("azure/login", StringComparison.OrdinalIgnoreCase) && with is not null
            && (with.Get("creds") is not null || with.Get("client-secret") is not null))
        {
            findings.Add(DeployRules.LongLivedAzureCredentials, LocatedYaml.LineOf(with), path,
                "azure/login with a stored credential (creds or client-secret) instead of OIDC federation", null);
        }
        else if (owner is not ("actions" or "github"))
        {
            var passed = (with.Entries()).Concat(step.GetMap("env").Entries())
                .Where(p => p.Value is YamlScalarNode { Value: { } v } && SecretReference().IsMatch(v))
                .Select(p => (p.Key as YamlScalarNode)?.Value ?? "").ToList();
            if (passed.Count > 0)
            {
                findings.Add(DeployRules.SecretsToThirdParty, line, path, $"passes secrets to the third-party action {action} ({string.Join(", ", passed)})", null);
            }
        }
    }

    private static void CheckImage(YamlNode? node, string path, DeployFindings findings)
    {
        var image = node switch
        {
            YamlScalarNode s => s.Value,
            YamlMappingNode m => m.GetString("image"),
            _ => null,
        };
        if (image is not null && node is not null && !DeployValues.IsPinnedOrUnknown(image))
        {
            findings.Add(DeployRules.ImageNotPinned, LocatedYaml.LineOf(node), path, $"image {image} is not pinned by digest", null);
        }
        // The registry password of a job container or service, written into the workflow instead of read from secrets.
        if (node is YamlMappingNode map && map.GetMap("credentials")?.Get("password") is YamlScalarNode { Value: { Length: > 0 } password } at
            && !password.Contains("${{", StringComparison.Ordinal))
        {
            findings.Add(DeployRules.PlaintextSecret, LocatedYaml.LineOf(at), path, "the registry password of the container is written in plain text", Mcp.SecretDetector.Mask(password));
        }
    }

    private static void CheckEnvSecrets(YamlMappingNode? env, string path, DeployFindings findings)
    {
        foreach (var (key, value) in env.Entries())
        {
            if (key is not YamlScalarNode { Value: { } name } || value is not YamlScalarNode { Value: { } v })
            {
                continue;
            }
            if (DeployValues.IsClientSecretName(name) && SecretReference().IsMatch(v))
            {
                findings.Add(DeployRules.LongLivedAzureCredentials, LocatedYaml.LineOf(key), path, $"{name} from a stored secret instead of OIDC federation", null);
            }
            else if (!v.Contains("${{", StringComparison.Ordinal) && Mcp.SecretDetector.Find(name, v) is { } secret)
            {
                findings.Add(DeployRules.PlaintextSecret, LocatedYaml.LineOf(key), path, $"'{name}' holds a {secret.Kind} in plain text", secret.Masked);
            }
        }
    }

    private static bool IgnoresScripts(YamlMappingNode? env) =>
        env?.Children.Any(p => p.Key is YamlScalarNode { Value: { } k } && k.Equals("npm_config_ignore_scripts", StringComparison.OrdinalIgnoreCase)
            && p.Value is YamlScalarNode { Value: "true" }) == true;

    private static IEnumerable<string> Triggers(YamlNode? on) => on switch
    {
        YamlScalarNode s when s.Value is { } v => [v],
        YamlSequenceNode list => KubernetesAudit.Strings(list),
        YamlMappingNode map => map.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? ""),
        _ => [],
    };

    private static string Shorten(string text) => text.Length <= 120 ? text.Trim() : text.Trim()[..117] + "...";

    [GeneratedRegex(@"^[0-9a-f]{40}$")]
    private static partial Regex FullSha();

    [GeneratedRegex(@"\$\{\{\s*secrets\.")]
    private static partial Regex SecretReference();

    [GeneratedRegex(@"github\.event\.(pull_request\.head|workflow_run\.head)|github\.head_ref|refs/pull/|pull_request\.merge")]
    private static partial Regex UntrustedRef();
}
