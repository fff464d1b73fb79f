using System.Text.RegularExpressions;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Deployment;

/// <summary>One resource of an ARM template: its type, its name as written, its JSON and the template scope it is deployed at.</summary>
/// <param name="Type">The resource type, child types joined to their parent's.</param>
/// <param name="Name">The name as written (often an expression).</param>
/// <param name="Node">The resource's JSON.</param>
/// <param name="Scope">resourceGroup, subscription, managementGroup or tenant.</param>
/// <param name="Template">The template that declares it, whose parameters its expressions name.</param>
public sealed record ArmResource(string Type, string Name, JsonNode Node, string Scope, JsonNode? Template = null)
{
    /// <summary>The resource path findings name: <c>Microsoft.App/containerApps 'mcp'</c>.</summary>
    public string Label => $"{Type} '{Name}'";

    public JsonNode? Properties => Node["properties"];

    public bool Is(string type) => Type.Equals(type, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Where a finding about an ARM resource is shown: the JSON node's own line for a template, or the line of the resource's
/// declaration in the Bicep file it was compiled from (the compiled JSON is never shown to users).
/// </summary>
public sealed partial class ArmLines
{
    private readonly string? _bicep;
    private readonly Dictionary<string, List<int>> _resourceLines = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, int> _taken = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<JsonNode, int> _assigned = [];

    private ArmLines(string? bicep)
    {
        _bicep = bicep;
        if (bicep is null)
        {
            return;
        }
        var lines = bicep.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var match = BicepResource().Match(lines[i]);
            if (match.Success && !lines[i].Contains(" existing", StringComparison.Ordinal))
            {
                var type = match.Groups["type"].Value;
                if (!_resourceLines.TryGetValue(type, out var list))
                {
                    _resourceLines[type] = list = [];
                }
                list.Add(i + 1);
            }
        }
    }

    public static ArmLines ForTemplate() => new(null);

    public static ArmLines ForBicep(string bicepText) => new(bicepText);

    /// <summary>The line to show for <paramref name="node"/> inside <paramref name="resource"/>.</summary>
    public int Of(ArmResource resource, JsonNode? node)
    {
        if (_bicep is null)
        {
            return (node ?? resource.Node).Line;
        }
        if (_assigned.TryGetValue(resource.Node, out var known))
        {
            return known;
        }
        var line = 1;
        var type = resource.Type;
        var lastSegment = type[(type.LastIndexOf('/') + 1)..];
        foreach (var candidate in (string[])[type, lastSegment])
        {
            if (_resourceLines.TryGetValue(candidate, out var list))
            {
                var taken = _taken.GetValueOrDefault(candidate);
                line = list[Math.Min(taken, list.Count - 1)];
                _taken[candidate] = taken + 1;
                break;
            }
        }
        _assigned[resource.Node] = line;
        return line;
    }

    /// <summary>The line of a template parameter: its JSON node, or its <c>param</c> declaration in Bicep.</summary>
    public int OfParameter(string name, JsonNode node)
    {
        if (_bicep is null)
        {
            return node.Line;
        }
        var match = Regex.Match(_bicep, $@"^\s*param\s+{Regex.Escape(name)}\b", RegexOptions.Multiline, TimeSpan.FromSeconds(1));
        return match.Success ? _bicep.AsSpan(0, match.Index).Count('\n') + 1 + (match.Value.StartsWith('\n') ? 1 : 0) : 1;
    }

    [GeneratedRegex(@"^\s*resource\s+\w+\s+'(?<type>[^'@]+)@")]
    private static partial Regex BicepResource();
}

/// <summary>Checks of ARM templates (and Bicep compiled to them): identities, keys, secrets, role assignments, egress, images.</summary>
internal static partial class ArmAudit
{
    private static readonly (string Id, string Name)[] s_broadRoles =
    [
        ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner"),
        ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor"),
        ("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator"),
        ("f58310d9-a9f6-439a-9e8d-f62e7b41a168", "Role Based Access Control Administrator"),
    ];

    private static readonly string[] s_hostTypes =
    [
        "Microsoft.App/containerApps", "Microsoft.App/jobs", "Microsoft.Web/sites", "Microsoft.ContainerInstance/containerGroups",
        "Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachineScaleSets",
    ];

    /// <summary>Checks a template; a cyclic dependsOn is an error diagnostic (the template cannot deploy) and the rest is still checked.</summary>
    public static void Check(JsonNode template, DeployFindings findings, ArmLines lines, DiagnosticBag diagnostics, bool compiledFromBicep)
    {
        var scope = Scope(template.GetString("$schema"));
        CheckParameters(template, findings, lines);
        var resources = new List<ArmResource>();
        Collect(template, scope, resources, diagnostics, findings.File, compiledFromBicep);
        var hasEgressControl = resources.Any(r => r.Is("Microsoft.Network/azureFirewalls") || r.Is("Microsoft.Network/natGateways")
            || (r.Is("Microsoft.Network/routeTables") && Strings(r.Node).Any(s => s.Equals("VirtualAppliance", StringComparison.OrdinalIgnoreCase))));
        foreach (var resource in resources)
        {
            CheckResource(resource, findings, lines, hasEgressControl);
        }
    }

    private static string Scope(string? schema) =>
        schema is null ? "resourceGroup"
        : schema.Contains("subscriptionDeploymentTemplate", StringComparison.OrdinalIgnoreCase) ? "subscription"
        : schema.Contains("managementGroupDeploymentTemplate", StringComparison.OrdinalIgnoreCase) ? "managementGroup"
        : schema.Contains("tenantDeploymentTemplate", StringComparison.OrdinalIgnoreCase) ? "tenant"
        : "resourceGroup";

    /// <summary>Every resource of a template: top-level, nested children (types joined), and those of nested deployments' inline templates.</summary>
    private static void Collect(JsonNode template, string scope, List<ArmResource> into, DiagnosticBag diagnostics, string file, bool compiledFromBicep)
    {
        var level = new List<ArmResource>();
        var symbols = new Dictionary<string, ArmResource>(StringComparer.Ordinal);
        void Add(JsonNode node, string? parentType, string? symbol)
        {
            if (!node.IsObject)
            {
                return;
            }
            // languageVersion 2.0 lists resources it only refers to ("existing": true); they are not deployed here.
            if (node.GetBool("existing") == true)
            {
                return;
            }
            var type = node.GetString("type") ?? "(no type)";
            if (parentType is not null && !type.Contains('/', StringComparison.Ordinal))
            {
                type = parentType + "/" + type;
            }
            var resource = new ArmResource(type, node.GetString("name") ?? symbol ?? "(unnamed)", node, scope, template);
            level.Add(resource);
            if (symbol is not null)
            {
                symbols[symbol] = resource;
            }
            foreach (var child in Items(node["resources"]))
            {
                Add(child.Node, type, child.Symbol);
            }
        }
        foreach (var item in Items(template["resources"]))
        {
            Add(item.Node, null, item.Symbol);
        }
        CheckCycles(level, symbols, diagnostics, file, compiledFromBicep);
        foreach (var resource in level)
        {
            into.Add(resource);
            if (resource.Is("Microsoft.Resources/deployments") && resource.Properties?["template"] is { IsObject: true } nested)
            {
                // A module compiled from Bicep is checked in its own .bicep file.
                if (compiledFromBicep && nested["metadata"]?["_generator"] is not null)
                {
                    continue;
                }
                var nestedScope = resource.Node["resourceGroup"] is not null ? "resourceGroup"
                    : resource.Node["subscriptionId"] is not null || scope == "managementGroup" ? Scope(nested.GetString("$schema")) : Scope(nested.GetString("$schema") ?? "");
                Collect(nested, nestedScope, into, diagnostics, file, compiledFromBicep);
            }
        }
    }

    private static IEnumerable<(JsonNode Node, string? Symbol)> Items(JsonNode? resources) => resources switch
    {
        { IsArray: true } => resources.Items.Select(n => (n, (string?)null)),
        // languageVersion 2.0: resources keyed by symbolic name.
        { IsObject: true } => resources.Properties.Select(p => (p.Value, (string?)p.Key)),
        _ => [],
    };

    private static void CheckCycles(List<ArmResource> level, Dictionary<string, ArmResource> symbols, DiagnosticBag diagnostics, string file, bool compiledFromBicep)
    {
        var edges = new Dictionary<ArmResource, List<(ArmResource Target, JsonNode At)>>();
        foreach (var resource in level)
        {
            var list = new List<(ArmResource, JsonNode)>();
            foreach (var dependency in resource.Node["dependsOn"]?.Items ?? [])
            {
                if (dependency.Text is { } text && Resolve(text, level, symbols) is { } target)
                {
                    list.Add((target, dependency));
                }
            }
            edges[resource] = list;
        }
        var state = new Dictionary<ArmResource, int>();
        var stack = new List<ArmResource>();
        bool Visit(ArmResource r)
        {
            state[r] = 1;
            stack.Add(r);
            foreach (var (target, at) in edges[r])
            {
                if (state.GetValueOrDefault(target) == 1)
                {
                    var cycle = stack.Skip(stack.IndexOf(target)).Select(x => x.Label).Append(target.Label);
                    diagnostics.Error(DiagnosticIds.IncludeCycle, $"cyclic dependsOn: {string.Join(" -> ", cycle)}",
                        new SourceLocation(file, compiledFromBicep ? 1 : at.Line, compiledFromBicep ? 0 : at.Column),
                        "the template cannot be deployed: remove one of the dependencies");
                    return true;
                }
                if (state.GetValueOrDefault(target) == 0 && Visit(target))
                {
                    return true;
                }
            }
            stack.RemoveAt(stack.Count - 1);
            state[r] = 2;
            return false;
        }
        foreach (var resource in level)
        {
            if (state.GetValueOrDefault(resource) == 0 && Visit(resource))
            {
                return;
            }
        }
    }

    /// <summary>The resource a dependsOn entry names: a symbolic name, <c>resourceId('type', name…)</c>, or a plain name.</summary>
    private static ArmResource? Resolve(string dependency, List<ArmResource> level, Dictionary<string, ArmResource> symbols)
    {
        if (symbols.TryGetValue(dependency, out var symbol))
        {
            return symbol;
        }
        var match = ResourceIdCall().Match(dependency);
        if (match.Success)
        {
            var type = match.Groups["type"].Value;
            var names = match.Groups["names"].Value.Trim();
            return level.FirstOrDefault(r => r.Is(type) && (NameExpression(r.Name) == names || r.Name == names.Trim('\'')))
                ?? (level.Count(r => r.Is(type)) == 1 ? level.First(r => r.Is(type)) : null);
        }
        return level.FirstOrDefault(r => r.Name == dependency);
    }

    private static string NameExpression(string name) => name.StartsWith('[') && name.EndsWith(']') ? name[1..^1] : $"'{name}'";

    private static void CheckParameters(JsonNode template, DeployFindings findings, ArmLines lines)
    {
        foreach (var (name, parameter) in template["parameters"]?.Properties ?? [])
        {
            var type = parameter.GetString("type") ?? "";
            var secure = type.StartsWith("secure", StringComparison.OrdinalIgnoreCase);
            // A parameter limited to a list of allowed values (authMode: 'NOAUTH' or 'MicrosoftMIBasedAuth') is a choice, not a secret.
            var choice = parameter["allowedValues"] is { IsArray: true };
            if (!secure && !choice && type is "string" or "String" && Mcp.SecretDetector.IsSecretName(name) && !IsNotASecretName(name))
            {
                findings.Add(DeployRules.InsecureSecretParameter, lines.OfParameter(name, parameter), $"parameter '{name}'",
                    $"parameter '{name}' looks like a secret but is not @secure(): its value is kept in the deployment history", null);
            }
            if (parameter["defaultValue"] is { IsString: true, Text: { } value } && !value.StartsWith('[') && Mcp.SecretDetector.Find(name, value) is { } secret)
            {
                findings.Add(DeployRules.PlaintextSecret, lines.OfParameter(name, parameter), $"parameter '{name}'",
                    $"parameter '{name}' has a {secret.Kind} as its default value", secret.Masked);
            }
        }
    }

    /// <summary>Names that contain a secret word but hold a reference to one: key vault names, secret names, key URIs.</summary>
    private static bool IsNotASecretName(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower.EndsWith("name", StringComparison.Ordinal) || lower.EndsWith("uri", StringComparison.Ordinal) || lower.EndsWith("url", StringComparison.Ordinal)
            || lower.EndsWith("id", StringComparison.Ordinal) || lower.Contains("keyvault", StringComparison.Ordinal) || lower.EndsWith("type", StringComparison.Ordinal)
            || lower.EndsWith("enabled", StringComparison.Ordinal) || lower.EndsWith("expiration", StringComparison.Ordinal);
    }

    private static void CheckResource(ArmResource r, DeployFindings findings, ArmLines lines, bool hasEgressControl)
    {
        var p = r.Properties;
        if (s_hostTypes.Any(r.Is))
        {
            var identity = r.Node["identity"];
            var type = identity?.GetString("type");
            // An identity given by an expression (a conditional on a parameter) cannot be judged from the template.
            var expression = identity is { IsString: true, Text: { } text } && text.StartsWith('[');
            if (!expression && (identity is null || type is null || type.Equals("None", StringComparison.OrdinalIgnoreCase)))
            {
                findings.Add(DeployRules.HostWithoutIdentity, lines.Of(r, r.Node), r.Label, "has no managed identity", null);
            }
        }
        if (r.Is("Microsoft.ContainerService/managedClusters"))
        {
            if (p?["securityProfile"]?["workloadIdentity"]?.GetBool("enabled") != true)
            {
                findings.Add(DeployRules.HostWithoutIdentity, lines.Of(r, p), r.Label, "workload identity is not enabled (securityProfile.workloadIdentity.enabled)", null);
            }
            var policy = p?["networkProfile"]?.GetString("networkPolicy");
            if (policy is null or "none")
            {
                findings.Add(DeployRules.KubernetesEgress, lines.Of(r, p), r.Label, "no network policy engine (networkProfile.networkPolicy): egress policies cannot be enforced", null);
            }
        }
        CheckListKeys(r, findings, lines);
        CheckEnvironment(r, findings, lines);
        CheckImages(r, findings, lines);
        if (r.Is("Microsoft.Storage/storageAccounts"))
        {
            if (p?.GetBool("allowSharedKeyAccess") != false)
            {
                findings.Add(DeployRules.KeyBasedAuth, lines.Of(r, p), r.Label, "allowSharedKeyAccess is not false: account keys work", null);
            }
            CheckPublic(r, findings, lines);
        }
        if (r.Is("Microsoft.DocumentDB/databaseAccounts"))
        {
            if (p?.GetBool("disableLocalAuth") != true)
            {
                findings.Add(DeployRules.KeyBasedAuth, lines.Of(r, p), r.Label, "disableLocalAuth is not true: Cosmos DB keys work", null);
            }
            CheckPublic(r, findings, lines);
        }
        if (r.Is("Microsoft.CognitiveServices/accounts") && p?.GetBool("disableLocalAuth") != true)
        {
            findings.Add(DeployRules.KeyBasedAuth, lines.Of(r, p), r.Label, "disableLocalAuth is not true: API keys work", null);
        }
        if (r.Is("Microsoft.KeyVault/vaults"))
        {
            CheckPublic(r, findings, lines);
        }
        if (r.Is("Microsoft.Authorization/roleAssignments"))
        {
            var role = p?.GetString("roleDefinitionId") ?? "";
            foreach (var (id, name) in s_broadRoles)
            {
                if (role.Contains(id, StringComparison.OrdinalIgnoreCase))
                {
                    findings.Add(DeployRules.BroadRole, lines.Of(r, p?["roleDefinitionId"]), r.Label, $"assigns {name}", role);
                }
            }
            var scopeText = r.Node.GetString("scope") ?? "";
            if (r.Scope is "subscription" or "managementGroup" or "tenant" || scopeText.Contains("subscription().id", StringComparison.OrdinalIgnoreCase))
            {
                findings.Add(DeployRules.WideScope, lines.Of(r, r.Node), r.Label, $"assigns a role at {(r.Scope == "resourceGroup" ? "subscription" : r.Scope)} scope", null);
            }
        }
        if (r.Is("Microsoft.Authorization/roleDefinitions"))
        {
            foreach (var permission in p?["permissions"]?.Items ?? [])
            {
                if ((permission["actions"]?.Items ?? []).Concat(permission["dataActions"]?.Items ?? []).Any(a => a.Text == "*"))
                {
                    findings.Add(DeployRules.BroadRole, lines.Of(r, permission), r.Label, "defines a role with '*' actions", null);
                }
            }
        }
        if (r.Is("Microsoft.App/managedEnvironments"))
        {
            if (p?["vnetConfiguration"]?.GetString("infrastructureSubnetId") is null)
            {
                findings.Add(DeployRules.ContainerAppsEgress, lines.Of(r, r.Node), r.Label, "the environment is not in a VNet: outbound traffic is unrestricted", null);
            }
            else if (!hasEgressControl)
            {
                findings.Add(DeployRules.ContainerAppsEgress, lines.Of(r, p?["vnetConfiguration"]), r.Label,
                    "the environment is in a VNet, but no route table to a firewall or NAT gateway is deployed with it", null, Severity.Low);
            }
        }
        if (r.Is("Microsoft.Web/sites"))
        {
            var subnet = p?.GetString("virtualNetworkSubnetId");
            var routeAll = p?.GetBool("vnetRouteAllEnabled") == true || p?["siteConfig"]?.GetBool("vnetRouteAllEnabled") == true
                || p?["outboundVnetRouting"]?.GetBool("allTraffic") == true;
            if (subnet is null || !routeAll)
            {
                findings.Add(DeployRules.AppServiceEgress, lines.Of(r, r.Node), r.Label,
                    subnet is null ? "no VNet integration (virtualNetworkSubnetId)" : "VNet integration without route-all (vnetRouteAllEnabled)", null);
            }
        }
        if (r.Is("Microsoft.Network/networkSecurityGroups"))
        {
            foreach (var rule in p?["securityRules"]?.Items ?? [])
            {
                CheckNsgRule(r, rule.GetString("name") ?? "(unnamed)", rule["properties"], findings, lines);
            }
        }
        if (r.Is("Microsoft.Network/networkSecurityGroups/securityRules"))
        {
            CheckNsgRule(r, r.Name, p, findings, lines);
        }
    }

    private static void CheckNsgRule(ArmResource r, string name, JsonNode? rule, DeployFindings findings, ArmLines lines)
    {
        if (rule is null || !string.Equals(rule.GetString("direction"), "Outbound", StringComparison.OrdinalIgnoreCase)
            || !string.Equals(rule.GetString("access"), "Allow", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        var destinations = (rule["destinationAddressPrefixes"]?.Items ?? []).Select(i => i.Text ?? "").Append(rule.GetString("destinationAddressPrefix") ?? "");
        if (destinations.Any(d => d is "*" or "0.0.0.0/0" or "Internet" or "internet"))
        {
            findings.Add(DeployRules.OpenOutbound, lines.Of(r, rule), r.Label, $"outbound rule '{name}' allows any destination", null);
        }
    }

    private static void CheckPublic(ArmResource r, DeployFindings findings, ArmLines lines)
    {
        var p = r.Properties;
        var access = p?.GetString("publicNetworkAccess");
        var deny = string.Equals(p?["networkAcls"]?.GetString("defaultAction"), "Deny", StringComparison.OrdinalIgnoreCase)
            || (r.Is("Microsoft.DocumentDB/databaseAccounts") && p?.GetBool("isVirtualNetworkFilterEnabled") == true);
        if (!string.Equals(access, "Disabled", StringComparison.OrdinalIgnoreCase) && !deny)
        {
            findings.Add(DeployRules.PublicDataPlane, lines.Of(r, p), r.Label, "publicNetworkAccess is not Disabled and the network rules do not deny by default", null);
        }
    }

    private static void CheckListKeys(ArmResource r, DeployFindings findings, ArmLines lines)
    {
        // A Container Apps environment keeps its Log Analytics shared key to itself: the apps in it never see it.
        var platformOnly = r.Is("Microsoft.App/managedEnvironments") && r.Properties?["appLogsConfiguration"] is { } logs
            ? StringNodes(logs).ToHashSet() : [];
        foreach (var node in StringNodes(r.Node).Where(n => !platformOnly.Contains(n)))
        {
            if (node.Text!.Contains("listKeys(", StringComparison.OrdinalIgnoreCase) || node.Text.Contains("listConnectionStrings(", StringComparison.OrdinalIgnoreCase))
            {
                findings.Add(DeployRules.KeyBasedAuth, lines.Of(r, node), r.Label, "uses listKeys() output: the server authenticates with an account key", Shorten(node.Text));
                return;
            }
        }
    }

    /// <summary>App settings, container env and secrets of the hosts: plaintext secrets and client secrets.</summary>
    private static void CheckEnvironment(ArmResource r, DeployFindings findings, ArmLines lines)
    {
        var p = r.Properties;
        var pairs = new List<(string Name, JsonNode? Value, JsonNode At, string Where)>();
        foreach (var setting in p?["siteConfig"]?["appSettings"]?.Items ?? [])
        {
            pairs.Add((setting.GetString("name") ?? "", setting["value"], setting, "app setting"));
        }
        if (r.Is("Microsoft.Web/sites/config") && (r.Name.EndsWith("appsettings", StringComparison.OrdinalIgnoreCase) || r.Name.EndsWith("appsettings'", StringComparison.OrdinalIgnoreCase)))
        {
            foreach (var (name, value) in p?.Properties ?? [])
            {
                pairs.Add((name, value, value, "app setting"));
            }
        }
        foreach (var container in Containers(r))
        {
            foreach (var env in (container["env"]?.Items ?? []).Concat(container["properties"]?["environmentVariables"]?.Items ?? []))
            {
                pairs.Add((env.GetString("name") ?? "", env["value"], env, $"container '{container.GetString("name")}' env"));
            }
        }
        foreach (var secret in p?["configuration"]?["secrets"]?.Items ?? [])
        {
            pairs.Add((secret.GetString("name") ?? "", secret["value"], secret, "secret"));
        }
        foreach (var (name, value, at, _) in pairs)
        {
            var text = value?.Text;
            if (text is not null && (text.Contains("listKeys(", StringComparison.OrdinalIgnoreCase) || text.Contains("listConnectionStrings(", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }
            var literal = text is not null && !text.StartsWith('[') && !text.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase);
            DeployValues.CheckEnv(findings, lines.Of(r, at), r.Label, name, text, literal);
        }
    }

    private static IEnumerable<JsonNode> Containers(ArmResource r)
    {
        var p = r.Properties;
        return (p?["template"]?["containers"]?.Items ?? []).Concat(p?["template"]?["initContainers"]?.Items ?? [])
            .Concat(p?["containers"]?.Items ?? []).Concat(p?["initContainers"]?.Items ?? []);
    }

    private static void CheckImages(ArmResource r, DeployFindings findings, ArmLines lines)
    {
        foreach (var container in Containers(r))
        {
            var image = container.GetString("image") ?? container["properties"]?.GetString("image");
            // An image taken from a parameter is judged by the parameter's default: what a deployment gets unless told otherwise.
            var parameter = image is null ? null : ParameterReference().Match(image) is { Success: true } m ? m.Groups["name"].Value : null;
            var fromDefault = parameter is null ? null : r.Template?["parameters"]?[parameter]?["defaultValue"] is { IsString: true, Text: { } d } ? d : null;
            if (fromDefault is not null && !DeployValues.IsPinnedOrUnknown(fromDefault))
            {
                findings.Add(DeployRules.ImageNotPinned, lines.Of(r, container), r.Label,
                    $"container '{container.GetString("name")}' image {fromDefault} (the default of parameter '{parameter}') is not pinned by digest", null);
            }
            else if (image is not null && !DeployValues.IsPinnedOrUnknown(image))
            {
                findings.Add(DeployRules.ImageNotPinned, lines.Of(r, container), r.Label, $"container '{container.GetString("name")}' image {image} is not pinned by digest", null);
            }
        }
        if (r.Properties?["siteConfig"]?.GetString("linuxFxVersion") is { } fx && fx.StartsWith("DOCKER|", StringComparison.OrdinalIgnoreCase)
            && !DeployValues.IsPinnedOrUnknown(fx[7..]))
        {
            findings.Add(DeployRules.ImageNotPinned, lines.Of(r, r.Properties["siteConfig"]), r.Label, $"image {fx[7..]} is not pinned by digest", null);
        }
    }

    /// <summary>Checks an ARM parameters file: literal values that are secrets.</summary>
    public static void CheckParametersFile(JsonNode root, DeployFindings findings)
    {
        foreach (var (name, parameter) in root["parameters"]?.Properties ?? [])
        {
            if (parameter["value"] is { IsString: true, Text: { } value } && Mcp.SecretDetector.Find(name, value) is { } secret)
            {
                findings.Add(DeployRules.PlaintextSecret, parameter.Line, $"parameter '{name}'", $"parameter '{name}' holds a {secret.Kind} in plain text", secret.Masked);
            }
        }
    }

    private static IEnumerable<JsonNode> StringNodes(JsonNode node)
    {
        var stack = new Stack<JsonNode>();
        stack.Push(node);
        while (stack.Count > 0)
        {
            var current = stack.Pop();
            if (current.IsString && current.Text is not null)
            {
                yield return current;
            }
            foreach (var (_, child) in current.Properties)
            {
                stack.Push(child);
            }
            foreach (var child in current.Items)
            {
                stack.Push(child);
            }
        }
    }

    private static IEnumerable<string> Strings(JsonNode node) => StringNodes(node).Select(n => n.Text!);

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..117] + "...";

    [GeneratedRegex(@"resourceId\(\s*'(?<type>[^']+)'\s*,\s*(?<names>.+)\)\]?$")]
    private static partial Regex ResourceIdCall();

    [GeneratedRegex(@"^\[parameters\('(?<name>[^']+)'\)\]$")]
    private static partial Regex ParameterReference();
}
