#!/usr/bin/env python3
"""Writes a repository of N mixed deployment files (default 2,000) made from the test data's real and hand-written
inputs, varied by name so each is a separate file: Dockerfiles, compose files, Kubernetes manifests, GitHub workflows,
Azure Pipelines, ARM templates and parameters files. Bicep is left out: compiling it is the Bicep CLI's time, not ours."""
import os, sys
root, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000
here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, '..', '..', 'tests', 'Tollgate.Tests', 'testdata', 'deploy')
dockerfile = open(os.path.join(data, 'real', 'fetch-dockerfile', 'Dockerfile')).read()
workflow = open(os.path.join(data, 'real', 'servers-workflow', '.github', 'workflows', 'typescript.yml')).read()
examples = os.path.join(here, '..', '..', 'examples', 'mcp-deploy')
compose = open(os.path.join(examples, 'compose.yaml')).read()
k8s = open(os.path.join(examples, 'k8s', 'deployment.yaml')).read()
pipeline = "trigger: [main]\npool: { vmImage: ubuntu-latest }\nsteps:\n  - script: npm install && npx -y some-mcp-server\n  - bash: pip install mcp-server-fetch\n"
arm = '''{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": { "apiKey": { "type": "string" } },
  "resources": [
    { "type": "Microsoft.App/containerApps", "apiVersion": "2024-03-01", "name": "mcp-%d",
      "properties": { "template": { "containers": [ { "name": "app", "image": "ghcr.io/example/mcp:%d",
        "env": [ { "name": "API_KEY", "value": "[parameters('apiKey')]" } ] } ] } } },
    { "type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": "st%d", "properties": {} }
  ]
}
'''
params = '{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "parameters": { "apiKey": { "value": "placeholder" } } }\n'
kinds = [
    lambda i: (f'svc{i}/Dockerfile', dockerfile),
    lambda i: (f'svc{i}/compose.yaml', compose),
    lambda i: (f'k8s/app{i}.yaml', k8s.replace('mcp-server', f'mcp-server-{i}')),
    lambda i: (f'.github/workflows/ci{i}.yml', workflow),
    lambda i: (f'pipelines/azure-pipelines-{i}.yml', pipeline),
    lambda i: (f'infra/app{i}.json', arm % (i, i, i)),
    lambda i: (f'infra/app{i}.parameters.json', params),
]
for i in range(count):
    path, text = kinds[i % len(kinds)](i)
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w') as f:
        f.write(text)
print(f'{count} files in {root}')
