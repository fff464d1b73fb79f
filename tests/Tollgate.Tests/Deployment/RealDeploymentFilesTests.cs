using Tollgate.Deployment;
using Tollgate.Inputs;

namespace Tollgate.Tests.Deployment;

/// <summary>
/// Deployment files of real MCP servers (testdata/deploy/real, sources in its README), each with the findings reviewed by
/// hand against the file; their hand-hardened copies must give none (DeployAuditTests.HardenedVariants_GiveNoFinding).
/// </summary>
public sealed class RealDeploymentFilesTests
{
    private static string Real(params string[] path) => TestData.Path(["deploy", "real", .. path]);

    [Fact]
    public void MongoDbMcpServer_DockerfileBicepParametersAndWorkflows_FindingsReviewedByHand()
    {
        Assert.Equal(
        [
            "TG3030 main.bicep:80 Microsoft.App/managedEnvironments '[format('mcp-env-{0}', uniqueString(resourceGroup().id, parameters('containerAppName')))]'",
            "TG3050 Dockerfile:1 FROM node:25-alpine",
            "TG3050 main.bicep:143 Microsoft.App/containerApps '[parameters('containerAppName')]'",
            "TG3051 code-health-fork.yml:27 jobs.run-tests.steps[0]",
            "TG3051 code-health-fork.yml:29 jobs.run-tests.steps[1]",
            "TG3051 code-health-fork.yml:32 jobs.run-tests.steps[2]",
            "TG3051 code-health-fork.yml:37 jobs.run-tests.steps[3]",
            "TG3051 code-health-fork.yml:38 jobs.run-tests.steps[4]",
            "TG3051 code-health-fork.yml:54 jobs.run-atlas-local-tests.steps[0]",
            "TG3051 code-health-fork.yml:55 jobs.run-atlas-local-tests.steps[1]",
            "TG3051 code-health-fork.yml:56 jobs.run-atlas-local-tests.steps[2]",
            "TG3051 code-health-fork.yml:57 jobs.run-atlas-local-tests.steps[3]",
            "TG3051 docker-publish.yml:27 jobs.build-push.steps[0]",
            "TG3052 Dockerfile:4 FROM node:25-alpine RUN",
            "TG3061 Dockerfile:4 FROM node:25-alpine RUN",
            "TG3061 code-health-fork.yml:43 jobs.run-tests.steps[5]",
            "TG3061 code-health-fork.yml:62 jobs.run-atlas-local-tests.steps[4]",
            "TG3073 docker-publish.yml:73 jobs.build-push.steps[3]",
        ], DeployAuditTests.FindingsOf([Real("mongodb-mcp-server")], DeployAuditTests.Bicep()));
    }

    [Fact]
    public void McpGateway_KubernetesAndCompose_FindingsReviewedByHand()
    {
        Assert.Equal(
        [
            "TG3010 deployment.yaml:76 Deployment/mcp-gateway container 'gateway'",
            "TG3010 deployment.yaml:85 Deployment/mcp-gateway container 'gateway'",
            "TG3022 compose.yaml:5 services.gateway",
            "TG3025 docker-compose.yaml:11 services.gateway",
            "TG3026 deployment.yaml:18 Deployment/mcp-gateway",
            "TG3032 deployment.yaml:1 Deployment/mcp-gateway",
            "TG3040 deployment.yaml:34 Deployment/mcp-gateway init container 'copy-bridge'",
            "TG3041 compose.yaml:3 services.gateway",
            "TG3041 deployment.yaml:106 Deployment/mcp-gateway container 'mcp-duckduckgo'",
            "TG3041 deployment.yaml:128 Deployment/mcp-gateway container 'mcp-fetch'",
            "TG3041 deployment.yaml:34 Deployment/mcp-gateway init container 'copy-bridge'",
            "TG3041 deployment.yaml:66 Deployment/mcp-gateway container 'gateway'",
            "TG3041 docker-compose.yaml:2 services.gateway",
            "TG3042 compose.yaml:3 services.gateway",
            "TG3042 deployment.yaml:19 Deployment/mcp-gateway init container 'copy-bridge'",
            "TG3042 docker-compose.yaml:2 services.gateway",
            "TG3050 compose.yaml:4 services.gateway",
            "TG3050 deployment.yaml:20 Deployment/mcp-gateway init container 'copy-bridge'",
            "TG3050 deployment.yaml:42 Deployment/mcp-gateway container 'gateway'",
            "TG3050 docker-compose.yaml:3 services.gateway",
        ], DeployAuditTests.FindingsOf([Real("mcp-gateway")]));
    }

    [Fact]
    public void KubectlMcpServer_Manifests_FindingsReviewedByHand()
    {
        Assert.Equal(
        [
            "TG3022 deployment.yaml:66 Deployment/kubectl-mcp-server container 'kubectl-mcp-server'",
            "TG3026 deployment.yaml:22 Deployment/kubectl-mcp-server",
            "TG3027 rbac.yaml:21 ClusterRole/kubectl-mcp-server-reader",
            "TG3032 deployment.yaml:2 Deployment/kubectl-mcp-server",
            "TG3040 deployment.yaml:66 Deployment/kubectl-mcp-server container 'kubectl-mcp-server'",
            "TG3041 deployment.yaml:66 Deployment/kubectl-mcp-server container 'kubectl-mcp-server'",
            "TG3050 deployment.yaml:25 Deployment/kubectl-mcp-server container 'kubectl-mcp-server'",
        ], DeployAuditTests.FindingsOf([Real("kubectl-mcp-server")]));
    }

    [Fact]
    public void AzureMcpServer_BicepAndArm_FindingsReviewedByHand()
    {
        Assert.Equal(
        [
            "TG3001 test-resources.json:104 Microsoft.Compute/virtualMachines '[format('{0}-vm', parameters('baseName'))]'",
            "TG3001 test-resources.json:155 Microsoft.Compute/virtualMachineScaleSets '[format('{0}-vmss', parameters('baseName'))]'",
            "TG3020 test-resources.json:364 Microsoft.Authorization/roleAssignments '[guid(subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c'), parameters('testApplicationOid'), resourceGroup().id)]'",
            "TG3021 aca-storage-subscription-role.bicep:10 Microsoft.Authorization/roleAssignments '[guid(subscription().subscriptionId, parameters('managedIdentityPrincipalId'), parameters('roleDefinitionId'))]'",
            "TG3030 aca-infrastructure.bicep:64 Microsoft.App/managedEnvironments '[parameters('environmentName')]'",
            "TG3030 load-test-resources.bicep:39 Microsoft.App/managedEnvironments '[format('{0}-env', parameters('loadTestName'))]'",
            "TG3050 aca-infrastructure.bicep:71 Microsoft.App/containerApps '[parameters('containerAppName')]'",
        ], DeployAuditTests.FindingsOf([Real("azure-mcp")], DeployAuditTests.Bicep()));
    }

    [Fact]
    public void AzureMcpServer_PipelinePoolImage_IsNotAContainerImage()
    {
        var pipeline = Real("azure-mcp", "eng", "pipelines", "templates", "jobs", "pypi", "release-pypi.yml");
        var result = DeployAudit.Run([pipeline], new DeployAuditOptions(), new DiagnosticBag());
        Assert.Equal([(DeployFileKind.AzurePipeline, (string?)null)], result.Files.Select(f => (f.Kind, f.Skipped)));
        Assert.Empty(result.Findings);
    }

    [Fact]
    public void EdgeCases_ExistingResourcesAndContainerCredentials()
    {
        // "existing": true resources are references, not deployments; a job container's registry password written in the workflow is a secret.
        Assert.Equal(
        [
            "TG3010 container-credentials.yml:12 jobs.test.container",
        ], DeployAuditTests.FindingsOf([TestData.Path("deploy", "edge")]));
    }
}
