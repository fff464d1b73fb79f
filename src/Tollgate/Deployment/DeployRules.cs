using System.Collections.Frozen;
using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Risk;

namespace Tollgate.Deployment;

/// <summary>The fixed categories every deployment finding belongs to, so reports group findings the same way everywhere.</summary>
public static class DeployCategory
{
    public const string Identity = "identity";
    public const string Secret = "secret";
    public const string Privilege = "privilege";
    public const string Egress = "egress";
    public const string Runtime = "runtime";
    public const string Pinning = "pinning";
    public const string InstallScripts = "install-scripts";
    public const string CiPermissions = "ci-permissions";

    /// <summary>Every category, in the order reports list them.</summary>
    public static ImmutableArray<string> All { get; } = [Identity, Secret, Privilege, Egress, Runtime, Pinning, InstallScripts, CiPermissions];
}

/// <summary>
/// A check of deployment files (rules TG3xxx). It is a <see cref="RiskRule"/> for its metadata, so the policy, SARIF and
/// Markdown describe it like every other rule; the checks of each file kind report its findings.
/// </summary>
public sealed class DeployRule(string id, string name, string category, string title, RuleLevel defaultLevel, Severity defaultSeverity, string rationale, string fix)
    : RiskRule(id, name, title, defaultLevel, defaultSeverity, rationale, fix)
{
    /// <summary>One of <see cref="DeployCategory.All"/>.</summary>
    public override string? Category => category;

    /// <summary>Deployment rules find nothing in a dependency graph: the file checks report them.</summary>
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context) => [];
}

/// <summary>The deployment rules, by id. docs/deploy-audit.md documents each with a fix.</summary>
public static class DeployRules
{
    public static readonly DeployRule HostWithoutIdentity = new("TG3001", "HostWithoutManagedIdentity", DeployCategory.Identity,
        "MCP host without a managed identity or workload identity", RuleLevel.Warn, Severity.Medium,
        "A server without its own identity reaches Azure with keys or shared secrets kept in its settings; stolen code takes them along, and they work from anywhere until rotated.",
        "Give the host a managed identity (identity: { type: 'SystemAssigned' } or a user-assigned one) and grant it only the roles it needs; on AKS enable workload identity.");

    public static readonly DeployRule KeyBasedAuth = new("TG3002", "KeyBasedAuthentication", DeployCategory.Identity,
        "Authentication with keys or client secrets where an identity would do", RuleLevel.Warn, Severity.Medium,
        "Storage account keys, Cosmos DB keys, listKeys() output and service-principal client secrets are long-lived bearer credentials: a compromised server copies them and uses them from outside.",
        "Turn off local authentication (allowSharedKeyAccess: false, disableLocalAuth: true), remove listKeys() from settings and AZURE_CLIENT_SECRET from the environment, and use the managed identity with a role assignment.");

    public static readonly DeployRule PlaintextSecret = new("TG3010", "PlaintextDeploymentSecret", DeployCategory.Secret,
        "Secret written in plain text in a deployment file", RuleLevel.Fail, Severity.High,
        "A secret in app settings, an environment variable, a parameters file or a Kubernetes Secret manifest is readable by everyone with the repository, its history and every build log; for an MCP server it is usually the key to the API the server fronts.",
        "Move the value to Key Vault (a Key Vault reference, secretRef or secretKeyRef) and rotate it: it is in the history already.");

    public static readonly DeployRule InsecureSecretParameter = new("TG3011", "SecretParameterNotSecure", DeployCategory.Secret,
        "Parameter that holds a secret is not declared secure", RuleLevel.Warn, Severity.Medium,
        "A parameter without @secure() (ARM: securestring) is written into the deployment history and logs in clear text, where anyone with read access to the resource group can read it.",
        "Declare it @secure() param name string (ARM: \"type\": \"securestring\"), or better, read it from Key Vault with getSecret().");

    public static readonly DeployRule SecretInImage = new("TG3012", "SecretInImageBuild", DeployCategory.Secret,
        "Secret passed to a container build through ARG or ENV", RuleLevel.Warn, Severity.High,
        "ARG and ENV values stay in the image's history and configuration: whoever can pull the image, or any process in the container, reads the token.",
        "Use a build secret (RUN --mount=type=secret,id=npm_token) and pass runtime secrets through the orchestrator's secret store.");

    public static readonly DeployRule BroadRole = new("TG3020", "BroadRoleAssignment", DeployCategory.Privilege,
        "Role assignment with Owner, Contributor, User Access Administrator or '*' actions", RuleLevel.Fail, Severity.High,
        "With one of these roles, code running in the server can change or delete every resource in scope, or grant itself more: a compromise of one package becomes a compromise of the subscription.",
        "Assign the narrowest built-in data role the server needs (Storage Blob Data Reader, Key Vault Secrets User…) on the one resource it uses.");

    public static readonly DeployRule WideScope = new("TG3021", "RoleAssignmentAtWideScope", DeployCategory.Privilege,
        "Role assignment at subscription or management-group scope", RuleLevel.Warn, Severity.Medium,
        "A role granted at subscription or management-group scope reaches every resource group under it, including ones unrelated to the server.",
        "Deploy the role assignment with scope: the resource the server uses (scope: storageAccount in Bicep).");

    public static readonly DeployRule PrivilegedContainer = new("TG3022", "PrivilegedContainer", DeployCategory.Privilege,
        "Privileged container or privilege escalation allowed", RuleLevel.Fail, Severity.High,
        "A privileged container, or one whose processes may gain privileges (setuid binaries), turns code execution in the server into root on the node.",
        "Set securityContext: { privileged: false, allowPrivilegeEscalation: false }; in compose remove privileged: true and add security_opt: [no-new-privileges:true].");

    public static readonly DeployRule HostNamespaces = new("TG3023", "HostNamespaceShared", DeployCategory.Privilege,
        "Container shares the host's network, PID or IPC namespace", RuleLevel.Fail, Severity.High,
        "With the host network the server bypasses network policies and reaches node-local services (the cloud metadata endpoint, kubelet); with the host PID namespace it sees and signals every process.",
        "Remove hostNetwork/hostPID/hostIPC (compose: network_mode: host, pid: host; docker run: --network host, --pid host).");

    public static readonly DeployRule AddedCapabilities = new("TG3024", "AddedCapabilities", DeployCategory.Privilege,
        "Container given extra Linux capabilities", RuleLevel.Warn, Severity.Medium,
        "Capabilities such as NET_ADMIN or SYS_ADMIN give a compromised server ways out of its container and around network controls.",
        "Drop every capability (capabilities: { drop: [ALL] }) and add back only NET_BIND_SERVICE if the server binds a low port.");

    public static readonly DeployRule DockerSocket = new("TG3025", "DockerSocketMounted", DeployCategory.Privilege,
        "Docker or containerd socket mounted into a container", RuleLevel.Fail, Severity.Critical,
        "Whoever can write to the container runtime's socket can start a privileged container with the host's root file system: it is root on the host.",
        "Remove the socket mount; if the server must start containers, give it a narrowly scoped API instead.");

    public static readonly DeployRule ServiceAccountToken = new("TG3026", "ServiceAccountTokenMounted", DeployCategory.Privilege,
        "Kubernetes service-account token mounted without need", RuleLevel.Warn, Severity.Medium,
        "The token mounted by default lets code in the pod call the Kubernetes API with the service account's rights; an MCP server rarely needs it.",
        "Set automountServiceAccountToken: false on the pod (or its service account); a server that calls the Kubernetes API mounts a projected, short-lived serviceAccountToken volume instead.");

    public static readonly DeployRule ClusterAdmin = new("TG3027", "ClusterWideRbac", DeployCategory.Privilege,
        "cluster-admin binding, RBAC rule granting '*', or a ClusterRole that reads every Secret", RuleLevel.Fail, Severity.High,
        "A binding to cluster-admin, or a role with '*' verbs or resources, gives whoever holds the service account the whole cluster; a ClusterRole that may get, list or watch secrets hands over every credential stored in the cluster.",
        "Bind a Role with the specific verbs and resources the workload needs, in its own namespace; leave secrets out, or name the few it needs with resourceNames.");

    public static readonly DeployRule ContainerAppsEgress = new("TG3030", "ContainerAppsEgressUnrestricted", DeployCategory.Egress,
        "Container Apps environment without VNet egress through a firewall or NAT", RuleLevel.Warn, Severity.Medium,
        "Without a VNet whose route table sends outbound traffic through a firewall (or a NAT gateway with rules), a compromised server can send credentials and data to any host on the internet.",
        "Deploy the environment into a subnet (vnetConfiguration.infrastructureSubnetId) with a route table whose 0.0.0.0/0 route goes to Azure Firewall (nextHopType: VirtualAppliance), and allow only the hosts the server needs.");

    public static readonly DeployRule AppServiceEgress = new("TG3031", "AppServiceEgressUnrestricted", DeployCategory.Egress,
        "App Service or Functions site without VNet integration routing all traffic", RuleLevel.Warn, Severity.Medium,
        "Without VNet integration and route-all, outbound traffic leaves straight to the internet, past any firewall rules: nothing stops exfiltration.",
        "Set virtualNetworkSubnetId and vnetRouteAllEnabled: true (outboundVnetRouting.allTraffic: true), and filter egress in the VNet.");

    public static readonly DeployRule KubernetesEgress = new("TG3032", "NoDefaultDenyEgress", DeployCategory.Egress,
        "Namespace or cluster without a default-deny egress NetworkPolicy", RuleLevel.Warn, Severity.Medium,
        "Kubernetes allows all egress by default: a compromised server pod can reach the internet, the metadata endpoint and every other service in the cluster.",
        "Add a NetworkPolicy with podSelector: {} and policyTypes: [Egress] per namespace, then allow only what the server needs; on AKS set networkProfile.networkPolicy.");

    public static readonly DeployRule PublicDataPlane = new("TG3033", "PublicNetworkAccess", DeployCategory.Egress,
        "Key Vault, Storage or Cosmos DB open to public networks", RuleLevel.Warn, Severity.Medium,
        "A data store reachable from the internet accepts stolen credentials from anywhere; closed to public networks, a leaked token is useless outside the VNet.",
        "Set publicNetworkAccess: 'Disabled' (or networkAcls.defaultAction: 'Deny') and reach the store through a private endpoint.");

    public static readonly DeployRule OpenOutbound = new("TG3034", "OpenOutboundNsgRule", DeployCategory.Egress,
        "Network security group allows outbound traffic to any address", RuleLevel.Warn, Severity.Medium,
        "An outbound Allow rule to '*', 0.0.0.0/0 or Internet undoes egress filtering for everything in the subnet.",
        "Allow outbound traffic only to the service tags or addresses the server needs (AzureKeyVault, Storage, the API's address).");

    public static readonly DeployRule RunsAsRoot = new("TG3040", "ContainerRunsAsRoot", DeployCategory.Runtime,
        "Container runs as root", RuleLevel.Warn, Severity.Medium,
        "A server running as root can modify its own code and tools in the container and exploit kernel and runtime flaws with full privileges.",
        "Add USER with a non-root user to the Dockerfile (USER node, USER 1000) and set runAsNonRoot: true in the pod's securityContext.");

    public static readonly DeployRule WritableRoot = new("TG3041", "WritableRootFilesystem", DeployCategory.Runtime,
        "Container root filesystem is writable", RuleLevel.Warn, Severity.Low,
        "A writable root filesystem lets a compromise rewrite the server's code or drop tools that survive until the container is replaced.",
        "Set readOnlyRootFilesystem: true (compose: read_only: true) and mount an emptyDir or tmpfs where the server needs to write.");

    public static readonly DeployRule NoLimits = new("TG3042", "NoResourceLimits", DeployCategory.Runtime,
        "Container without CPU and memory limits", RuleLevel.Warn, Severity.Low,
        "Without limits a compromised or looping server can starve the node (crypto-mining is the usual payload).",
        "Set resources.limits.cpu and resources.limits.memory (compose: deploy.resources.limits).");

    public static readonly DeployRule ImageNotPinned = new("TG3050", "ImageNotPinnedByDigest", DeployCategory.Pinning,
        "Container image or base image not pinned by digest", RuleLevel.Warn, Severity.Medium,
        "A tag can be moved to other content at any time: the next build or restart runs an image nobody reviewed.",
        "Pin the digest: image: name:tag@sha256:… (FROM name:tag@sha256:…), and update it deliberately (Dependabot or Renovate do).");

    public static readonly DeployRule ActionNotPinned = new("TG3051", "ActionNotPinnedBySha", DeployCategory.Pinning,
        "GitHub Action not pinned to a full commit SHA", RuleLevel.Warn, Severity.Medium,
        "Tags and branches of an action can be moved by whoever controls its repository (tj-actions/changed-files, March 2025): the workflow then runs their code with its secrets.",
        "Pin every third-party action to a full 40-character commit SHA, with the version in a comment: uses: actions/checkout@<sha> # v4.2.2.");

    public static readonly DeployRule UnpinnedPackageRun = new("TG3052", "UnpinnedPackageRun", DeployCategory.Pinning,
        "Package run or installed without an exact version", RuleLevel.Warn, Severity.Medium,
        "npx -y pkg, uvx pkg and pip install pkg fetch the newest release at build or start time: a hijacked release runs inside the image or the CI job without review.",
        "Pin the exact version (npx -y pkg@1.2.3, uvx pkg==1.2.3, pip install pkg==1.2.3 with --require-hashes), or install from a lockfile.");

    public static readonly DeployRule NpmInstall = new("TG3060", "NpmInstallInsteadOfCi", DeployCategory.InstallScripts,
        "npm install used where npm ci would enforce the lockfile", RuleLevel.Warn, Severity.Medium,
        "npm install may resolve newer versions than the lockfile records and rewrite it; npm ci installs exactly what was reviewed, or fails.",
        "Use npm ci --ignore-scripts (pnpm install --frozen-lockfile, yarn install --immutable).");

    public static readonly DeployRule InstallScriptsRun = new("TG3061", "InstallScriptsEnabled", DeployCategory.InstallScripts,
        "Package install runs dependencies' install scripts", RuleLevel.Warn, Severity.Medium,
        "Install scripts run with the build's environment: in CI that means its tokens, in an image build its build secrets. Most supply-chain worms spread through them.",
        "Add --ignore-scripts (or ENV npm_config_ignore_scripts=true), and run the few scripts you need explicitly, or use tollgate install.");

    public static readonly DeployRule PipWithoutHashes = new("TG3062", "PipInstallWithoutHashes", DeployCategory.InstallScripts,
        "pip install without --require-hashes or --only-binary", RuleLevel.Warn, Severity.Medium,
        "pip builds source distributions by running their setup code; without hashes it installs whatever the index serves under that version.",
        "Install from a hashed lockfile: pip install --require-hashes -r requirements.txt (and --only-binary :all: where possible).");

    public static readonly DeployRule WorkflowPermissions = new("TG3070", "WorkflowPermissionsUnset", DeployCategory.CiPermissions,
        "Workflow without a permissions block (at the top or on every job), or with write-all", RuleLevel.Warn, Severity.Medium,
        "Without permissions: the GITHUB_TOKEN gets the repository's default rights, often write to contents and packages: a compromised step can push code or publish a release.",
        "Add permissions: { contents: read } at the top and grant more per job only where a job needs it.");

    public static readonly DeployRule UntrustedCheckout = new("TG3071", "PrivilegedTriggerRunsPullRequestCode", DeployCategory.CiPermissions,
        "pull_request_target or workflow_run checks out and runs the pull request's code", RuleLevel.Fail, Severity.Critical,
        "These triggers run with the base repository's secrets and a writable token; checking out the pull request's head and building it lets any outside contributor run code with them.",
        "Use pull_request for building untrusted code; if pull_request_target is needed, never check out the head ref, or split into an unprivileged build and a privileged step that only reads artifacts.");

    public static readonly DeployRule LongLivedAzureCredentials = new("TG3072", "LongLivedAzureCredentials", DeployCategory.CiPermissions,
        "Long-lived Azure credentials in CI where OIDC federation would do", RuleLevel.Warn, Severity.High,
        "AZURE_CREDENTIALS JSON and client secrets are copied by any step that can read secrets and keep working outside CI; a federated token is short-lived and bound to this repository and branch.",
        "Use OIDC: permissions: { id-token: write } and azure/login with client-id, tenant-id and subscription-id (no secret), with a federated credential on the identity.");

    public static readonly DeployRule SecretsToThirdParty = new("TG3073", "SecretsToThirdPartyAction", DeployCategory.CiPermissions,
        "Secret passed to a third-party action", RuleLevel.Warn, Severity.Medium,
        "An action from outside the organisation receives the secret in its inputs or environment: a moved tag or a compromised maintainer exfiltrates it.",
        "Pin the action by SHA and review it, pass the narrowest token, or replace the action with a run step you control.");

    /// <summary>The rules in id order.</summary>
    public static ImmutableArray<DeployRule> All { get; } =
    [
        HostWithoutIdentity, KeyBasedAuth, PlaintextSecret, InsecureSecretParameter, SecretInImage, BroadRole, WideScope,
        PrivilegedContainer, HostNamespaces, AddedCapabilities, DockerSocket, ServiceAccountToken, ClusterAdmin,
        ContainerAppsEgress, AppServiceEgress, KubernetesEgress, PublicDataPlane, OpenOutbound, RunsAsRoot, WritableRoot, NoLimits,
        ImageNotPinned, ActionNotPinned, UnpinnedPackageRun, NpmInstall, InstallScriptsRun, PipWithoutHashes,
        WorkflowPermissions, UntrustedCheckout, LongLivedAzureCredentials, SecretsToThirdParty,
    ];

    private static readonly FrozenDictionary<string, DeployRule> s_byId = All.ToFrozenDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);

    /// <summary>The rule with this id (any case), or null.</summary>
    public static DeployRule? Find(string id) => s_byId.GetValueOrDefault(id);
}
