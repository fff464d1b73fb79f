// Tollgate's package feed on Azure Container Apps, several instances sharing verified tarballs in one Blob container
// and their state (audit log, private packages) in one PostgreSQL flexible server.
// The feed's managed identity has one role, Storage Blob Data Contributor, on that container only; the storage account
// accepts no account keys and no public traffic; the PostgreSQL server accepts Microsoft Entra sign-in only (no
// passwords) on a private subnet, administered by an Entra group, and the feed signs in as its managed identity; the
// Container Apps environment sits in a VNet whose outbound traffic leaves through a NAT gateway (so it can be allowed
// or audited in one place). See docs/feed.md, "Several instances".
// Check it with: tollgate deploy audit examples/feed-azure

@description('Where everything is deployed.')
param location string = resourceGroup().location

@description('The feed image, pinned by digest (e.g. myregistry.azurecr.io/tollgate@sha256:...).')
param image string

@description('The npm registry the feed takes public packages from (your Azure Artifacts upstream feed, for example).')
param npmUpstream string

@description('Object id of the Microsoft Entra group that administers the PostgreSQL server (it creates the feed\'s role once).')
param postgresAdminGroupId string

@description('Display name of that group.')
param postgresAdminGroupName string

@description('How many feed instances run behind the environment\'s load balancer.')
@minValue(1)
param replicas int = 2

var storageName = 'tgfeed${uniqueString(resourceGroup().id)}'
var containerName = 'tollgate-tarballs'
// Storage Blob Data Contributor: read, write and delete blobs; nothing else.
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'tollgate-feed'
  location: location
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  sku: { name: 'Standard_ZRS' }
  kind: 'StorageV2'
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    publicNetworkAccess: 'Disabled'
    minimumTlsVersion: 'TLS1_2'
    networkAcls: { defaultAction: 'Deny', bypass: 'None' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tarballs 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: { publicAccess: 'None' }
}

// The role on the container alone, not on the account, the resource group or the subscription.
resource tarballWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: tarballs
  name: guid(tarballs.id, identity.id, blobDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource natIp 'Microsoft.Network/publicIPAddresses@2023-11-01' = {
  name: 'tollgate-feed-egress'
  location: location
  sku: { name: 'Standard' }
  properties: { publicIPAllocationMethod: 'Static' }
}

resource nat 'Microsoft.Network/natGateways@2023-11-01' = {
  name: 'tollgate-feed-nat'
  location: location
  sku: { name: 'Standard' }
  properties: { publicIpAddresses: [ { id: natIp.id } ] }
}

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' = {
  name: 'tollgate-feed'
  location: location
  properties: {
    addressSpace: { addressPrefixes: [ '10.40.0.0/16' ] }
    subnets: [
      {
        name: 'apps'
        properties: {
          addressPrefix: '10.40.0.0/23'
          natGateway: { id: nat.id }
          delegations: [ { name: 'apps', properties: { serviceName: 'Microsoft.App/environments' } } ]
          serviceEndpoints: [ { service: 'Microsoft.Storage' } ]
        }
      }
      {
        name: 'postgres'
        properties: {
          addressPrefix: '10.40.2.0/24'
          delegations: [ { name: 'postgres', properties: { serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers' } } ]
        }
      }
    ]
  }
}

resource postgresDns 'Microsoft.Network/privateDnsZones@2020-06-01' = {
  name: 'tollgate-feed.private.postgres.database.azure.com'
  location: 'global'
}

resource postgresDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = {
  parent: postgresDns
  name: 'tollgate-feed'
  location: 'global'
  properties: { virtualNetwork: { id: vnet.id }, registrationEnabled: false }
}

// Entra sign-in only: no administrator password exists, and no traffic from outside the VNet.
resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: 'tgfeed-${uniqueString(resourceGroup().id)}'
  location: location
  sku: { name: 'Standard_B1ms', tier: 'Burstable' }
  properties: {
    version: '16'
    storage: { storageSizeGB: 32 }
    authConfig: { activeDirectoryAuth: 'Enabled', passwordAuth: 'Disabled', tenantId: subscription().tenantId }
    network: {
      delegatedSubnetResourceId: vnet.properties.subnets[1].id
      privateDnsZoneArmResourceId: postgresDns.id
      publicNetworkAccess: 'Disabled'
    }
  }
  dependsOn: [ postgresDnsLink ]
}

resource postgresAdmin 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: postgres
  name: postgresAdminGroupId
  properties: { principalType: 'Group', principalName: postgresAdminGroupName, tenantId: subscription().tenantId }
}

resource stateDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: postgres
  name: 'tollgate'
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'tollgate-feed'
  location: location
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: vnet.properties.subnets[0].id
      internal: true
    }
    workloadProfiles: [ { name: 'Consumption', workloadProfileType: 'Consumption' } ]
  }
}

resource feed 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'tollgate-feed'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      ingress: { external: false, targetPort: 4873, transport: 'http' }
    }
    template: {
      // The feed does not start without an advisory database: each replica fetches one first (through the NAT
      // gateway) into a volume of its own. `tollgate db update` beside a running feed takes effect at once.
      initContainers: [
        {
          name: 'advisories'
          image: image
          args: [ 'db', 'update', '--db', '/data/advisories.db' ]
          volumeMounts: [ { volumeName: 'data', mountPath: '/data' } ]
          resources: { cpu: json('0.5'), memory: '1Gi' }
        }
      ]
      volumes: [ { name: 'data', storageType: 'EmptyDir' } ]
      containers: [
        {
          name: 'feed'
          image: image
          args: [
            'feed', 'serve', '--listen', 'http://0.0.0.0:4873', '--upstream', npmUpstream, '--db', '/data/advisories.db'
            '--storage', '/data/feed', '--shared-artifacts', '${storage.properties.primaryEndpoints.blob}${containerName}'
            '--forwarded-headers'
          ]
          volumeMounts: [ { volumeName: 'data', mountPath: '/data' } ]
          env: [
            // DefaultAzureCredential picks the user-assigned identity by its client id.
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
            // No password: the feed signs in to the server as its managed identity (a role of the same name).
            {
              name: 'TOLLGATE_FEED_STATE'
              value: 'Host=${postgres.properties.fullyQualifiedDomainName};Database=${stateDatabase.name};Username=${identity.name};Ssl Mode=Require'
            }
          ]
          resources: { cpu: json('1.0'), memory: '2Gi' }
        }
      ]
      scale: { minReplicas: replicas, maxReplicas: replicas }
    }
  }
}

output feedUrl string = 'https://${feed.properties.configuration.ingress.fqdn}/'
