// Hand-written: the hardened variant of ../risky/main.bicep; it must give no finding.
param location string = resourceGroup().location
@secure()
param githubToken string
param subnetId string
param firewallIp string

resource routes 'Microsoft.Network/routeTables@2024-01-01' = {
  name: 'mcp-egress'
  location: location
  properties: {
    routes: [
      { name: 'default', properties: { addressPrefix: '0.0.0.0/0', nextHopType: 'VirtualAppliance', nextHopIpAddress: firewallIp } }
    ]
  }
}

resource env 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'mcp-env'
  location: location
  properties: {
    vnetConfiguration: { infrastructureSubnetId: subnetId, internal: true }
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'mcpstate${uniqueString(resourceGroup().id)}'
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    allowSharedKeyAccess: false
    publicNetworkAccess: 'Disabled'
  }
}

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'mcp'
  location: location
  identity: { type: 'SystemAssigned' }
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
          image: 'ghcr.io/example/mcp-server:1.4.2@sha256:0000000000000000000000000000000000000000000000000000000000000001'
          env: [
            { name: 'GITHUB_TOKEN', secretRef: 'github-token' }
            { name: 'STORAGE_ACCOUNT', value: storage.name }
          ]
        }
      ]
    }
  }
}

resource blobReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, app.id, 'blob-reader')
  scope: storage
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1')
  }
}
