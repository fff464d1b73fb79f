using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Tollgate.Graph;

namespace Tollgate.Sbom;

/// <summary>The SBOM formats Tollgate writes and reads.</summary>
public enum SbomFormat
{
    CycloneDx,
    Spdx,
}

/// <summary>What a written SBOM carries beyond the graph: spec version, time, tool and naming.</summary>
/// <param name="SpecVersion">CycloneDX 1.5/1.6/1.7 or SPDX 2.2/2.3.</param>
/// <param name="Timestamp">The creation time written into the document.</param>
/// <param name="Reproducible">True when SOURCE_DATE_EPOCH fixed the time: ids are then derived from the content.</param>
/// <param name="ToolVersion">Tollgate's version, written as the creating tool.</param>
/// <param name="ProjectName">Name for the document when the graph has several roots (or none with a name).</param>
public sealed record SbomOptions(
    string SpecVersion,
    DateTimeOffset Timestamp,
    bool Reproducible,
    string ToolVersion,
    string ProjectName)
{
    public static readonly string[] CycloneDxVersions = ["1.5", "1.6", "1.7"];
    public static readonly string[] SpdxVersions = ["2.2", "2.3"];

    public static string DefaultVersion(SbomFormat format) => format == SbomFormat.CycloneDx ? "1.6" : "2.3";

    /// <summary>Options from the environment: SOURCE_DATE_EPOCH (seconds) fixes the timestamp and makes ids content-derived.</summary>
    public static SbomOptions FromEnvironment(SbomFormat format, string? specVersion, string toolVersion, string projectName, TimeProvider time)
    {
        var epoch = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        var reproducible = long.TryParse(epoch, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var seconds);
        var timestamp = reproducible ? DateTimeOffset.FromUnixTimeSeconds(seconds) : time.GetUtcNow();
        return new SbomOptions(specVersion ?? DefaultVersion(format), new DateTimeOffset(timestamp.UtcDateTime.Ticks - (timestamp.UtcDateTime.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero), reproducible, toolVersion, projectName);
    }
}

/// <summary>Conversions shared by the SBOM writers.</summary>
internal static class SbomHashes
{
    /// <summary>
    /// A declared integrity value as lower-case hex, whether it was written as hex (PyPI) or base64 (npm SRI,
    /// NuGet contentHash). Null when it is neither or the algorithm is not one SBOMs name.
    /// </summary>
    public static (string Algorithm, string Hex)? ToHex(IntegrityHash hash)
    {
        var algorithm = hash.Algorithm.ToLowerInvariant().Replace("-", "", StringComparison.Ordinal);
        var bytes = algorithm switch
        {
            "sha1" => 20,
            "sha256" => 32,
            "sha384" => 48,
            "sha512" => 64,
            "md5" => 16,
            _ => 0,
        };
        if (bytes == 0)
        {
            return null;
        }
        var value = hash.Value;
        if (value.Length == bytes * 2 && value.All(char.IsAsciiHexDigit))
        {
            return (algorithm, value.ToLowerInvariant());
        }
        var buffer = new byte[bytes + 3];
        return Convert.TryFromBase64String(value, buffer, out var written) && written == bytes
            ? (algorithm, Convert.ToHexStringLower(buffer.AsSpan(0, written)))
            : null;
    }

    /// <summary>Every hash SBOMs can name, as lower-case hex, once each, sorted by algorithm and value.</summary>
    public static List<(string Algorithm, string Hex)> Distinct(ImmutableArray<IntegrityHash> hashes)
    {
        var result = new List<(string Algorithm, string Hex)>(hashes.Length);
        foreach (var hash in hashes)
        {
            if (ToHex(hash) is { } hex)
            {
                result.Add(hex);
            }
        }
        if (result.Count > 1)
        {
            result.Sort(static (a, b) => string.CompareOrdinal(a.Algorithm, b.Algorithm) is var byAlgorithm and not 0
                ? byAlgorithm
                : string.CompareOrdinal(a.Hex, b.Hex));
            // Sorted, so equal hashes are neighbours.
            for (var i = result.Count - 1; i > 0; i--)
            {
                if (result[i] == result[i - 1])
                {
                    result.RemoveAt(i);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// A non-registry origin as SPDX <c>sourceInfo</c> text (<c>origin: workspace packages/a</c>); null for registry
    /// packages. SPDX 2 has no property bag, and the origin is part of such a component's identity.
    /// </summary>
    public static string? OriginText(Origin origin) => origin.Kind == OriginKind.Registry
        ? null
        : $"origin: {origin.Kind.ToString().ToLowerInvariant()}" + (origin.Location is null ? "" : " " + origin.Location);

    /// <summary>Reads <see cref="OriginText"/>; null when the text is not in that form.</summary>
    public static Origin? ParseOriginText(string? text)
    {
        if (text is null || !text.StartsWith("origin: ", StringComparison.Ordinal))
        {
            return null;
        }
        var rest = text["origin: ".Length..];
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        var kind = space < 0 ? rest : rest[..space];
        var location = space < 0 ? null : rest[(space + 1)..];
        return kind switch
        {
            "git" => new Origin(OriginKind.Git, location),
            "url" => new Origin(OriginKind.Url, location),
            "file" => new Origin(OriginKind.File, location),
            "workspace" => new Origin(OriginKind.Workspace, location),
            _ => null,
        };
    }

    /// <summary>A stable identifier derived from text: <paramref name="prefix"/> and the first 16 hex digits of its SHA-256.</summary>
    public static string ShortDigest(string prefix, string text)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return prefix + Convert.ToHexStringLower(hash[..8]);
    }

    /// <summary>
    /// A version-4-shaped UUID derived from the graph's content (every component, edge and root, in graph order), so
    /// the same content always gets the same serial number. <paramref name="purls"/> holds each component's purl
    /// text, as the writer has already computed it.
    /// </summary>
    public static Guid DerivedGuid(DependencyGraph graph, string format, string version, IReadOnlyList<string> purls)
    {
        // The SHA-256 of "FORMATVERSION\n" + the components ("PURL SCOPES"), the edges ("FROM>TO") and the roots
        // ("KEY NAME VERSION"), each list joined by newlines and the lists separated by one; hashed piece by piece
        // rather than built as one string.
        using var content = new ContentHash();
        content.Append(format);
        content.Append(version);
        content.Append("\n");
        for (var i = 0; i < graph.Components.Length; i++)
        {
            content.Append(i == 0 ? "" : "\n");
            content.Append(purls[i]);
            content.Append(" ");
            content.Append(ScopesText(graph.Components[i].Scopes));
        }
        content.Append("\n");
        for (var i = 0; i < graph.Edges.Length; i++)
        {
            content.Append(i == 0 ? "" : "\n");
            content.Append(graph.Edges[i].From);
            content.Append(">");
            content.Append(graph.Edges[i].To);
        }
        content.Append("\n");
        for (var i = 0; i < graph.Roots.Length; i++)
        {
            content.Append(i == 0 ? "" : "\n");
            content.Append(graph.Roots[i].Key);
            content.Append(" ");
            content.Append(graph.Roots[i].Name);
            content.Append(" ");
            content.Append(graph.Roots[i].Version);
        }
        var hash = content.Finish();
        hash[6] = (byte)((hash[6] & 0x0F) | 0x40);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    // Scopes as enum text ("Prod, Dev"), the form the derived ids have always hashed; one string per combination.
    private static readonly string[] ScopeTexts = [.. Enumerable.Range(0, 16).Select(i => ((DependencyScopes)i).ToString())];

    private static string ScopesText(DependencyScopes scopes) =>
        (uint)scopes < (uint)ScopeTexts.Length ? ScopeTexts[(int)scopes] : scopes.ToString();

    /// <summary>SHA-256 over text appended piece by piece as UTF-8, fed to the hash in blocks.</summary>
    private sealed class ContentHash : IDisposable
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private byte[] _block = new byte[16 * 1024];
        private int _used;

        public void Append(string? text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return;
            }
            var most = Encoding.UTF8.GetMaxByteCount(text.Length);
            if (_used + most > _block.Length)
            {
                HashBlock();
                if (most > _block.Length)
                {
                    _block = new byte[most];
                }
            }
            _used += Encoding.UTF8.GetBytes(text, _block.AsSpan(_used));
        }

        public byte[] Finish()
        {
            HashBlock();
            return _hash.GetHashAndReset();
        }

        public void Dispose() => _hash.Dispose();

        private void HashBlock()
        {
            _hash.AppendData(_block, 0, _used);
            _used = 0;
        }
    }
}
