using Tollgate.Inputs;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Deployment;

/// <summary>Checks of Azure Pipelines YAML: script steps, container images, variables holding secrets; collects the local templates it includes.</summary>
internal static class PipelineAudit
{
    private static readonly string[] s_scriptKeys = ["script", "bash", "pwsh", "powershell"];

    /// <summary>Checks <paramref name="root"/>; local templates it names (<c>template: file.yml</c> without <c>@repo</c>) are added to <paramref name="templates"/>.</summary>
    public static void Check(YamlMappingNode root, DeployFindings findings, List<string> templates)
    {
        Walk(root, "", findings, templates, inSteps: false);
    }

    private static void Walk(YamlNode node, string path, DeployFindings findings, List<string> templates, bool inSteps)
    {
        switch (node)
        {
            case YamlMappingNode map:
                if (map.GetString("template") is { } template && !template.Contains('@', StringComparison.Ordinal) && !template.Contains("${{", StringComparison.Ordinal))
                {
                    templates.Add(template);
                }
                if (inSteps)
                {
                    CheckStep(map, path, findings);
                }
                foreach (var (key, value) in map.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        continue;
                    }
                    var child = path.Length == 0 ? name : $"{path}.{name}";
                    switch (name)
                    {
                        case "container" when value is YamlScalarNode { Value: { } image }:
                            CheckImage(image, LocatedYaml.LineOf(value), child, findings);
                            break;
                        // pool: { name, image, os } names a hosted agent's VM image (1ES pools), not a container.
                        case "image" when value is YamlScalarNode { Value: { } image } && !IsPool(path):
                            CheckImage(image, LocatedYaml.LineOf(value), path, findings);
                            break;
                        case "variables":
                            CheckVariables(value, child, findings);
                            break;
                    }
                    Walk(value, child, findings, templates, inSteps: name == "steps");
                }
                break;
            case YamlSequenceNode list:
                for (var i = 0; i < list.Children.Count; i++)
                {
                    Walk(list.Children[i], $"{path}[{i}]", findings, templates, inSteps);
                }
                break;
        }
    }

    private static void CheckStep(YamlMappingNode step, string path, DeployFindings findings)
    {
        var env = step.GetMap("env");
        var ignoreScripts = env?.Children.Any(p => p.Key is YamlScalarNode { Value: { } k } && k.Equals("npm_config_ignore_scripts", StringComparison.OrdinalIgnoreCase)
            && p.Value is YamlScalarNode { Value: "true" }) == true;
        foreach (var key in s_scriptKeys)
        {
            if (step.Get(key) is YamlScalarNode { Value: { } script } node)
            {
                var offset = node.Style is YamlDotNet.Core.ScalarStyle.Literal or YamlDotNet.Core.ScalarStyle.Folded ? 1 : 0;
                CommandChecks.Check(findings, LocatedYaml.LineOf(node) + offset, path, script, ignoreScripts);
            }
        }
        if (step.GetMap("inputs") is { } inputs)
        {
            foreach (var key in (string[])["script", "inlineScript", "Script"])
            {
                if (inputs.Get(key) is YamlScalarNode { Value: { } script } node)
                {
                    CommandChecks.Check(findings, LocatedYaml.LineOf(node) + 1, path, script, ignoreScripts);
                }
            }
        }
        foreach (var (key, value) in env.Entries())
        {
            if (key is YamlScalarNode { Value: { } name } && value is YamlScalarNode { Value: { } v } && !v.Contains("$(", StringComparison.Ordinal))
            {
                DeployValues.CheckEnv(findings, LocatedYaml.LineOf(key), path, name, v, literal: true);
            }
        }
    }

    private static void CheckVariables(YamlNode variables, string path, DeployFindings findings)
    {
        switch (variables)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    if (key is YamlScalarNode { Value: { } name } && value is YamlScalarNode { Value: { } v } && Mcp.SecretDetector.Find(name, v) is { } secret)
                    {
                        findings.Add(DeployRules.PlaintextSecret, LocatedYaml.LineOf(key), path, $"variable '{name}' holds a {secret.Kind} in plain text", secret.Masked);
                    }
                }
                break;
            case YamlSequenceNode list:
                foreach (var item in list.OfType<YamlMappingNode>())
                {
                    if (item.GetString("name") is { } name && item.GetString("value") is { } v && Mcp.SecretDetector.Find(name, v) is { } secret)
                    {
                        findings.Add(DeployRules.PlaintextSecret, LocatedYaml.LineOf(item), path, $"variable '{name}' holds a {secret.Kind} in plain text", secret.Masked);
                    }
                }
                break;
        }
    }

    private static bool IsPool(string path) => path == "pool" || path.EndsWith(".pool", StringComparison.Ordinal);

    private static void CheckImage(string image, int line, string path, DeployFindings findings)
    {
        if (!DeployValues.IsPinnedOrUnknown(image))
        {
            findings.Add(DeployRules.ImageNotPinned, line, path.Length == 0 ? "pipeline" : path, $"image {image} is not pinned by digest", null);
        }
    }
}
