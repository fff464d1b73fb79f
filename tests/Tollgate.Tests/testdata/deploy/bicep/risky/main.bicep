// Hand-written: a Container App for an MCP server with the mistakes the deployment rules look for.
param location string = resourceGroup().location
param githubToken string
param principalId string

resource env 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'mcp-env'
  location: location
  properties: {}
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'mcpstate${uniqueString(resourceGroup().id)}'
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {}
}

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'mcp'
  location: location
  properties: {
    managedEnvironmentId: env.id
    configuration: {
      secrets: [
        { name: 'github-token', value: githubToken }
      ]
    }
    template: {
      containers: [
        {
          name: 'app'
          image: 'ghcr.io/example/mcp-server:latest'
          env: [
            { name: 'GITHUB_TOKEN', secretRef: 'github-token' }
            { name: 'STORAGE_KEY', value: storage.listKeys().keys[0].value }
            { name: 'OPENAI_API_KEY', value: 'sk-proj-FAKEfakeFAKEfake0123456789abcdef' }
          ]
        }
      ]
    }
  }
}

resource contributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, 'contributor')
  properties: {
    principalId: principalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')
  }
}
