using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tollgate.Ecosystems;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Sbom;

namespace Tollgate.Tests.Sbom;

/// <summary>The writers stream a large document without building it whole, and stream the bytes of the text form.</summary>
public sealed class SbomStreamingTests
{
    [Theory]
    [InlineData("cyclonedx", 2.5)]
    [InlineData("spdx", 2.0)]
    public void Write_LargeLockfile_AllocatesLittleMoreThanTheDocumentAndMatchesTheText(string format, double limit)
    {
        // 1,491 packages: a 1.6 MB CycloneDX or 1.9 MB SPDX document. Built whole as objects first, writing it
        // allocated 5.5 (CycloneDX) and 2.7 (SPDX) times its size; streamed one component at a time, 1.9 and 1.4.
        var graph = LargeGraph();
        var options = SbomWriterSchemaTests.Fixed with { SpecVersion = format == "spdx" ? "2.3" : "1.6" };
        void Write(Stream stream)
        {
            if (format == "spdx")
            {
                SpdxWriter.Write(graph, options, stream);
            }
            else
            {
                CycloneDxWriter.Write(graph, options, stream);
            }
        }
        using var document = new MemoryStream();
        Write(document);

        var before = GC.GetAllocatedBytesForCurrentThread();
        Write(Stream.Null);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var text = format == "spdx" ? SpdxWriter.Write(graph, options) : CycloneDxWriter.Write(graph, options);
        Assert.Equal(Encoding.UTF8.GetBytes(text), document.ToArray());
        Assert.True(document.Length > 1_000_000, $"{document.Length} bytes");
        Assert.True(allocated < limit * document.Length, $"{allocated} bytes allocated for a {document.Length}-byte document");
    }

    [Fact]
    public void Write_Reproducible_SerialAndNamespaceAreTheSha256OfTheContentText()
    {
        // The content-derived ids are a promise across versions: the same graph keeps its serial number. This is the
        // text they have always been derived from.
        var graph = SbomInputs.Graph("npm/mcp-filesystem");
        var options = SbomWriterSchemaTests.Fixed;

        using var cdx = JsonDocument.Parse(CycloneDxWriter.Write(graph, options));
        using var spdx = JsonDocument.Parse(SpdxWriter.Write(graph, options with { SpecVersion = "2.3" }));

        Assert.Equal($"urn:uuid:{Expected(graph, "cyclonedx1.6")}", cdx.RootElement.GetProperty("serialNumber").GetString());
        Assert.EndsWith($"/{Expected(graph, "spdx2.3")}", spdx.RootElement.GetProperty("documentNamespace").GetString(), StringComparison.Ordinal);
    }

    private static Guid Expected(DependencyGraph graph, string formatAndVersion)
    {
        var text = formatAndVersion + "\n" + string.Join('\n', graph.Components.Select(c => c.Purl + " " + c.Scopes))
            + "\n" + string.Join('\n', graph.Edges.Select(e => e.From + ">" + e.To))
            + "\n" + string.Join('\n', graph.Roots.Select(r => r.Key + " " + r.Name + " " + r.Version));
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x40);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    private static DependencyGraph LargeGraph()
    {
        var bag = new DiagnosticBag();
        var graph = EcosystemReaders.Discovery().Read([TestData.Path("npm", "large")], bag);
        Assert.False(bag.HasErrors, string.Join('\n', bag.Items));
        return graph;
    }
}
