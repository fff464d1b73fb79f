using Tollgate.Inputs;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Deployment;

/// <summary>Checks of docker-compose files: images, privileges, host namespaces, the Docker socket, environment secrets, limits, commands.</summary>
internal static class ComposeAudit
{
    public static void Check(YamlMappingNode root, DeployFindings findings)
    {
        foreach (var (key, value) in root.GetMap("services").Entries())
        {
            if (key is not YamlScalarNode { Value: { } name } || value is not YamlMappingNode service)
            {
                continue;
            }
            var resource = $"services.{name}";
            var line = LocatedYaml.LineOf(key);
            if (service.GetString("image") is { } image && !DeployValues.IsPinnedOrUnknown(image))
            {
                findings.Add(DeployRules.ImageNotPinned, LocatedYaml.LineOf(service.Get("image")!), resource, $"image {image} is not pinned by digest", null);
            }
            if (service.GetBool("privileged") == true)
            {
                findings.Add(DeployRules.PrivilegedContainer, LocatedYaml.LineOf(service.Get("privileged")!), resource, "privileged: true", null);
            }
            foreach (var (option, host) in (ReadOnlySpan<(string, string)>)[("network_mode", "host"), ("pid", "host"), ("ipc", "host")])
            {
                if (service.GetString(option) == host)
                {
                    findings.Add(DeployRules.HostNamespaces, LocatedYaml.LineOf(service.Get(option)!), resource, $"{option}: host shares the host's namespace", null);
                }
            }
            if (service.GetList("cap_add") is { Children.Count: > 0 } caps)
            {
                var names = KubernetesAudit.Strings(caps).Where(c => !c.Equals("NET_BIND_SERVICE", StringComparison.OrdinalIgnoreCase)).ToList();
                if (names.Count > 0)
                {
                    findings.Add(DeployRules.AddedCapabilities, LocatedYaml.LineOf(caps), resource, $"adds capabilities {string.Join(", ", names)}", null);
                }
            }
            foreach (var volume in service.GetList("volumes")?.Children ?? [])
            {
                var text = volume is YamlScalarNode s ? s.Value : (volume as YamlMappingNode)?.GetString("source");
                if (text is not null && CommandChecks.IsRuntimeSocket(text))
                {
                    findings.Add(DeployRules.DockerSocket, LocatedYaml.LineOf(volume), resource, "mounts the container runtime's socket", text);
                }
            }
            if (service.GetString("user") is "root" or "0" or "0:0" or "root:root")
            {
                findings.Add(DeployRules.RunsAsRoot, LocatedYaml.LineOf(service.Get("user")!), resource, "user: root", null);
            }
            if (service.GetBool("read_only") != true)
            {
                findings.Add(DeployRules.WritableRoot, line, resource, "read_only is not true", null);
            }
            var limits = service.GetMap("deploy")?.GetMap("resources")?.GetMap("limits");
            if (limits is null && service.Get("mem_limit") is null)
            {
                findings.Add(DeployRules.NoLimits, line, resource, "no deploy.resources.limits or mem_limit", null);
            }
            CheckEnvironment(service.Get("environment"), resource, findings);
            foreach (var option in (string[])["command", "entrypoint"])
            {
                switch (service.Get(option))
                {
                    case YamlScalarNode { Value: { } script } node:
                        CommandChecks.Check(findings, LocatedYaml.LineOf(node), resource, script, ignoreScripts: false);
                        break;
                    case YamlSequenceNode list:
                        CommandChecks.Check(findings, LocatedYaml.LineOf(list), resource, [.. KubernetesAudit.Strings(list)], ignoreScripts: false);
                        break;
                }
            }
        }
    }

    /// <summary>Compose <c>environment</c> as a list of NAME=value or a mapping; <c>${VAR}</c> values come from outside the file.</summary>
    internal static void CheckEnvironment(YamlNode? environment, string resource, DeployFindings findings)
    {
        switch (environment)
        {
            case YamlSequenceNode list:
                foreach (var item in list.OfType<YamlScalarNode>())
                {
                    var text = item.Value ?? "";
                    var eq = text.IndexOf('=', StringComparison.Ordinal);
                    if (eq > 0)
                    {
                        DeployValues.CheckEnv(findings, LocatedYaml.LineOf(item), resource, text[..eq], text[(eq + 1)..], literal: true);
                    }
                }
                break;
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    if (key is YamlScalarNode { Value: { } name })
                    {
                        DeployValues.CheckEnv(findings, LocatedYaml.LineOf(key), resource, name, (value as YamlScalarNode)?.Value, literal: true);
                    }
                }
                break;
        }
    }
}
