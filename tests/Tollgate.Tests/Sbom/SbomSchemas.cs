using System.Collections.Concurrent;
using NJsonSchema;
using NJsonSchema.References;

namespace Tollgate.Tests.Sbom;

/// <summary>
/// The official CycloneDX and SPDX JSON schemas of testdata/reference, loaded once each. The CycloneDX
/// schemas name their companions (spdx, jsf, cryptography-defs) by relative file name under an http <c>$id</c>;
/// every reference is served from the local folder so validation never reaches the network.
/// </summary>
internal static class SbomSchemas
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<JsonSchema>>> Cache = new(StringComparer.Ordinal);

    public static string Folder => TestData.Reference("schemas");

    /// <summary>The schema for a CycloneDX (1.5–1.7) or SPDX (2.2, 2.3) version.</summary>
    public static Task<JsonSchema> ForAsync(string format, string version)
    {
        var file = format == "cyclonedx" ? $"bom-{version}.SNAPSHOT.schema.json" : $"spdx-{version}.schema.json";
        return Cache.GetOrAdd(file, f => new Lazy<Task<JsonSchema>>(() => LoadAsync(Path.Combine(Folder, f)))).Value;
    }

    /// <summary>Validation errors as text (path and kind), empty when the document is valid.</summary>
    public static async Task<IReadOnlyList<string>> ValidateAsync(string format, string version, string json)
    {
        var schema = await ForAsync(format, version);
        return [.. schema.Validate(json).Select(e => e.ToString())];
    }

    private static Task<JsonSchema> LoadAsync(string path) =>
        JsonSchema.FromFileAsync(path, schema => new LocalResolver(new JsonSchemaAppender(schema, new DefaultTypeNameGenerator())));

    private sealed class LocalResolver(JsonSchemaAppender appender) : JsonReferenceResolver(appender)
    {
        public override Task<IJsonReference> ResolveFileReferenceAsync(string filePath, CancellationToken cancellationToken = default) =>
            base.ResolveFileReferenceAsync(Local(filePath), cancellationToken);

        public override Task<IJsonReference> ResolveUrlReferenceAsync(string url, CancellationToken cancellationToken = default) =>
            base.ResolveFileReferenceAsync(Local(url), cancellationToken);

        private static string Local(string reference)
        {
            var name = reference.Split('#')[0];
            name = name[(name.LastIndexOfAny(['/', '\\']) + 1)..];
            var local = Path.Combine(Folder, name);
            return File.Exists(local) ? local : throw new InvalidOperationException($"schema reference {reference} is not in the local schemas folder");
        }
    }
}
