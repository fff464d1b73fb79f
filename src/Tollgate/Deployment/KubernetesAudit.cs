using Tollgate.Inputs;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Deployment;

/// <summary>One Kubernetes object from a manifest: kind, name, namespace and its mapping (items of <c>List</c> kinds unpacked).</summary>
public sealed record KubernetesObject(string Kind, string Name, string Namespace, YamlMappingNode Node)
{
    /// <summary>The resource path findings name: <c>Deployment/mcp-server</c>.</summary>
    public string Label => $"{Kind}/{Name}";

    /// <summary>Every object of multi-document YAML, with <c>List</c> (and <c>*List</c>) items unpacked.</summary>
    public static IEnumerable<KubernetesObject> From(IEnumerable<YamlDocument> documents)
    {
        foreach (var document in documents)
        {
            if (document.RootNode is YamlMappingNode root)
            {
                foreach (var o in Unpack(root))
                {
                    yield return o;
                }
            }
        }
    }

    private static IEnumerable<KubernetesObject> Unpack(YamlMappingNode node)
    {
        var kind = node.GetString("kind") ?? "";
        if (kind.EndsWith("List", StringComparison.Ordinal) && node.GetList("items") is { } items)
        {
            foreach (var item in items.OfType<YamlMappingNode>().SelectMany(Unpack))
            {
                yield return item;
            }
            yield break;
        }
        var metadata = node.GetMap("metadata");
        yield return new KubernetesObject(kind, metadata?.GetString("name") ?? "(unnamed)", metadata?.GetString("namespace") ?? "default", node);
    }
}

/// <summary>Checks of Kubernetes manifests: pod security, RBAC, service-account tokens, images, env secrets, egress policies.</summary>
internal static class KubernetesAudit
{
    public static void Check(IReadOnlyList<YamlDocument> documents, DeployFindings findings, KubernetesManifests manifests)
    {
        var objects = KubernetesObject.From(documents).ToList();
        foreach (var o in objects)
        {
            switch (o.Kind)
            {
                case "ServiceAccount":
                    if (o.Node.GetBool("automountServiceAccountToken") == false)
                    {
                        manifests.NoToken(o.Namespace, o.Name);
                    }
                    break;
                case "NetworkPolicy":
                    if (IsDefaultDenyEgress(o.Node))
                    {
                        manifests.Denied(o.Namespace);
                    }
                    break;
                case "ClusterRoleBinding" or "RoleBinding":
                    if (o.Node.GetMap("roleRef") is { } roleRef && roleRef.GetString("name") == "cluster-admin")
                    {
                        findings.Add(DeployRules.ClusterAdmin, LocatedYaml.LineOf(roleRef), o.Label, "binds cluster-admin", "roleRef: cluster-admin");
                    }
                    break;
                case "ClusterRole" or "Role":
                    foreach (var rule in o.Node.GetList("rules")?.OfType<YamlMappingNode>() ?? [])
                    {
                        var verbs = Strings(rule.GetList("verbs")).ToList();
                        var resources = Strings(rule.GetList("resources")).ToList();
                        if (verbs.Contains("*") || resources.Contains("*"))
                        {
                            findings.Add(DeployRules.ClusterAdmin, LocatedYaml.LineOf(rule), o.Label, "grants '*' verbs or resources", null);
                        }
                        else if (o.Kind == "ClusterRole" && resources.Contains("secrets") && rule.GetList("resourceNames") is null
                            && Strings(rule.GetList("apiGroups")).Any(g => g is "" or "*") && verbs.Any(v => v is "get" or "list" or "watch"))
                        {
                            findings.Add(DeployRules.ClusterAdmin, LocatedYaml.LineOf(rule), o.Label,
                                $"may {string.Join("/", verbs.Where(v => v is "get" or "list" or "watch"))} secrets in every namespace", null);
                        }
                    }
                    break;
                case "Secret":
                    var values = (o.Node.GetMap("data")?.Children.Count ?? 0) + (o.Node.GetMap("stringData")?.Children.Count ?? 0);
                    if (values > 0)
                    {
                        findings.Add(DeployRules.PlaintextSecret, LocatedYaml.LineOf(o.Node), o.Label, $"a Secret manifest holds {values} value(s) in the repository (base64 is not encryption)", null);
                    }
                    break;
            }
            if (PodSpec(o) is { } spec)
            {
                manifests.Workload(o.Namespace, findings, LocatedYaml.LineOf(o.Node), o.Label);
                CheckPod(o, spec, findings, manifests);
            }
        }
    }

    /// <summary>The pod spec of a workload object (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob), or null.</summary>
    internal static YamlMappingNode? PodSpec(KubernetesObject o) => o.Kind switch
    {
        "Pod" => o.Node.GetMap("spec"),
        "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" or "Job" or "ReplicationController" => o.Node.GetMap("spec")?.GetMap("template")?.GetMap("spec"),
        "CronJob" => o.Node.GetMap("spec")?.GetMap("jobTemplate")?.GetMap("spec")?.GetMap("template")?.GetMap("spec"),
        _ => null,
    };

    private static void CheckPod(KubernetesObject o, YamlMappingNode spec, DeployFindings findings, KubernetesManifests manifests)
    {
        var line = LocatedYaml.LineOf(spec);
        foreach (var key in (string[])["hostNetwork", "hostPID", "hostIPC"])
        {
            if (spec.GetBool(key) == true)
            {
                findings.Add(DeployRules.HostNamespaces, LocatedYaml.LineOf(spec.Get(key)!), o.Label, $"{key}: true shares the host's namespace", null);
            }
        }
        var account = spec.GetString("serviceAccountName") ?? spec.GetString("serviceAccount") ?? "default";
        if (spec.GetBool("automountServiceAccountToken") != false)
        {
            // The service account may turn the mount off in another manifest: judged once all are read.
            manifests.TokenMounted(o.Namespace, account, findings, line, o.Label);
        }
        foreach (var volume in spec.GetList("volumes")?.OfType<YamlMappingNode>() ?? [])
        {
            if (volume.GetMap("hostPath")?.GetString("path") is { } path && CommandChecks.IsRuntimeSocket(path))
            {
                findings.Add(DeployRules.DockerSocket, LocatedYaml.LineOf(volume), o.Label, $"mounts the container runtime's socket from the host ({path})", null);
            }
        }
        var podSecurity = spec.GetMap("securityContext");
        var podNonRoot = podSecurity?.GetBool("runAsNonRoot");
        var podUser = podSecurity?.GetString("runAsUser");
        foreach (var (listName, isInit) in (ReadOnlySpan<(string, bool)>)[("initContainers", true), ("containers", false)])
        {
            foreach (var container in spec.GetList(listName)?.OfType<YamlMappingNode>() ?? [])
            {
                var name = container.GetString("name") ?? "(unnamed)";
                var resource = $"{o.Label} {(isInit ? "init container" : "container")} '{name}'";
                var at = LocatedYaml.LineOf(container);
                CheckContainer(container, resource, at, findings, podNonRoot, podUser);
            }
        }
    }

    private static void CheckContainer(YamlMappingNode container, string resource, int line, DeployFindings findings, bool? podNonRoot, string? podUser)
    {
        if (container.GetString("image") is { } image && !DeployValues.IsPinnedOrUnknown(image))
        {
            findings.Add(DeployRules.ImageNotPinned, LocatedYaml.LineOf(container.Get("image")!), resource, $"image {image} is not pinned by digest", null);
        }
        var security = container.GetMap("securityContext");
        if (security?.GetBool("privileged") == true)
        {
            findings.Add(DeployRules.PrivilegedContainer, LocatedYaml.LineOf(security), resource, "privileged: true", null);
        }
        if (security?.GetBool("allowPrivilegeEscalation") != false)
        {
            findings.Add(DeployRules.PrivilegedContainer, security is null ? line : LocatedYaml.LineOf(security), resource,
                "allowPrivilegeEscalation is not false: processes may gain privileges", null, Graph.Severity.Medium);
        }
        if (security?.GetMap("capabilities")?.GetList("add") is { Children.Count: > 0 } added)
        {
            var names = Strings(added).Where(c => !c.Equals("NET_BIND_SERVICE", StringComparison.OrdinalIgnoreCase)).ToList();
            if (names.Count > 0)
            {
                findings.Add(DeployRules.AddedCapabilities, LocatedYaml.LineOf(added), resource, $"adds capabilities {string.Join(", ", names)}", null);
            }
        }
        var nonRoot = security?.GetBool("runAsNonRoot") ?? podNonRoot;
        var user = security?.GetString("runAsUser") ?? podUser;
        if (user == "0" || (nonRoot != true && (user is null || user == "0")))
        {
            findings.Add(DeployRules.RunsAsRoot, security is null ? line : LocatedYaml.LineOf(security), resource,
                user == "0" ? "runAsUser: 0 runs the container as root" : "runAsNonRoot is not true and no non-root runAsUser is set", null);
        }
        if (security?.GetBool("readOnlyRootFilesystem") != true)
        {
            findings.Add(DeployRules.WritableRoot, security is null ? line : LocatedYaml.LineOf(security), resource, "readOnlyRootFilesystem is not true", null);
        }
        var limits = container.GetMap("resources")?.GetMap("limits");
        if (limits?.Get("cpu") is null || limits.Get("memory") is null)
        {
            findings.Add(DeployRules.NoLimits, limits is null ? line : LocatedYaml.LineOf(limits), resource,
                limits is null ? "no resources.limits" : "resources.limits lacks " + (limits.Get("cpu") is null ? "cpu" : "memory"), null);
        }
        foreach (var env in container.GetList("env")?.OfType<YamlMappingNode>() ?? [])
        {
            var name = env.GetString("name") ?? "";
            var value = env.GetString("value");
            DeployValues.CheckEnv(findings, LocatedYaml.LineOf(env), resource, name, value, literal: value is not null);
        }
        // Probe headers are literal values in the manifest: a token there is as readable as one in env.
        foreach (var probe in (string[])["livenessProbe", "readinessProbe", "startupProbe"])
        {
            foreach (var header in container.GetMap(probe)?.GetMap("httpGet")?.GetList("httpHeaders")?.OfType<YamlMappingNode>() ?? [])
            {
                if (header.GetString("name") is { } headerName && header.GetString("value") is { } headerValue
                    && Mcp.SecretDetector.Find(headerName, headerValue) is { } secret)
                {
                    findings.Add(DeployRules.PlaintextSecret, LocatedYaml.LineOf(header), resource, $"{probe} header '{headerName}' holds a {secret.Kind} in plain text", secret.Masked);
                }
            }
        }
        var argv = Strings(container.GetList("command")).Concat(Strings(container.GetList("args"))).ToList();
        if (argv.Count > 0)
        {
            CommandChecks.Check(findings, LocatedYaml.LineOf(container.Get("command") ?? container.Get("args")!), resource, argv, ignoreScripts: false);
        }
    }

    /// <summary>A NetworkPolicy selecting every pod with Egress in its policy types and no rule that allows everything.</summary>
    private static bool IsDefaultDenyEgress(YamlMappingNode policy)
    {
        var spec = policy.GetMap("spec");
        if (spec is null || spec.GetMap("podSelector") is not { } selector || selector.Children.Count != 0)
        {
            return false;
        }
        if (!Strings(spec.GetList("policyTypes")).Contains("Egress"))
        {
            return false;
        }
        var rules = spec.GetList("egress")?.OfType<YamlMappingNode>() ?? [];
        return !rules.Any(r => r.Get("to") is null || r.GetList("to") is { Children.Count: 0 });
    }

    internal static IEnumerable<string> Strings(YamlSequenceNode? list) =>
        list?.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "") ?? [];
}

/// <summary>
/// What one manifest says about another, across every manifest of an audit: which namespaces have workloads and which a
/// default-deny egress policy, and which service accounts turn the token mount off, so a policy or a ServiceAccount in
/// one file covers workloads in another. Reported once every manifest is read.
/// </summary>
public sealed class KubernetesManifests
{
    private readonly HashSet<string> _denied = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DeployFindings Findings, int Line, string Resource)> _first = new(StringComparer.Ordinal);
    private readonly HashSet<string> _noToken = new(StringComparer.Ordinal);
    private readonly List<(string Account, DeployFindings Findings, int Line, string Resource)> _tokenMounts = [];

    internal void Denied(string ns) => _denied.Add(ns);

    internal void Workload(string ns, DeployFindings findings, int line, string resource) => _first.TryAdd(ns, (findings, line, resource));

    internal void NoToken(string ns, string account) => _noToken.Add(ns + "/" + account);

    internal void TokenMounted(string ns, string account, DeployFindings findings, int line, string resource) =>
        _tokenMounts.Add((ns + "/" + account, findings, line, resource));

    /// <summary>Reports every namespace with workloads but no default-deny egress policy, and every pod whose service account token is mounted.</summary>
    internal void Report()
    {
        foreach (var (ns, (findings, line, resource)) in _first)
        {
            if (!_denied.Contains(ns))
            {
                findings.Add(DeployRules.KubernetesEgress, line, resource, $"namespace '{ns}' has no default-deny egress NetworkPolicy in these manifests", null);
            }
        }
        foreach (var (account, findings, line, resource) in _tokenMounts)
        {
            if (!_noToken.Contains(account))
            {
                findings.Add(DeployRules.ServiceAccountToken, line, resource,
                    $"mounts the token of service account '{account[(account.IndexOf('/', StringComparison.Ordinal) + 1)..]}' (automountServiceAccountToken is not false)", null);
            }
        }
    }
}
