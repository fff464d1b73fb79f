// Hand-written: does not compile (the value after 'location:' is missing).
resource s 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'x'
  location:
}
