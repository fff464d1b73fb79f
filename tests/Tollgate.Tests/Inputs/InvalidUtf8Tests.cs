using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Inputs;

/// <summary>
/// Bytes that are not UTF-8 inside a JSON string are a syntax error of the file, reported where the bytes are: they
/// were an internal error ("Cannot transcode invalid UTF-8") in every JSON lockfile.
/// </summary>
public sealed class InvalidUtf8Tests : IDisposable
{
    private static readonly byte[] NotUtf8 = [0xFF, 0xFE];
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>A real file copied under <paramref name="copyAs"/>, with bytes that are not UTF-8 inserted at the anchor.</summary>
    private (string Path, int Line, int Column) Damaged(string source, string copyAs, string anchor, int offsetInAnchor)
    {
        var (bytes, line, column) = DamagedInput.Insert(File.ReadAllBytes(TestData.Path(source)), anchor, offsetInAnchor, NotUtf8);
        var path = _temp.File(copyAs);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return (path, line, column);
    }

    [Theory]
    // In a value, after the opening quote.
    [InlineData("npm/lockfile-v2/package-lock.json", "package-lock.json", "\"version\": \"", 12)]
    [InlineData("npm/bun-basic/bun.lock", "bun.lock", "\"name\": \"", 9)]
    [InlineData("npm/lockfile-v2/package.json", "package.json", "\"name\":\"", 8)]
    [InlineData("nuget/mcp-server/packages.lock.json", "packages.lock.json", "\"resolved\": \"", 13)]
    [InlineData("nuget/mcp-server/obj/project.assets.json", "obj/project.assets.json", "\"type\": \"", 9)]
    [InlineData("nuget/deps-json/McpServer.deps.json", "McpServer.deps.json", "\"signature\": \"", 14)]
    [InlineData("pypi/pipfile-git/Pipfile.lock", "Pipfile.lock", "\"version\": \"", 12)]
    // In a property name.
    [InlineData("npm/lockfile-v2/package-lock.json", "package-lock.json", "\"dependencies\": {", 1)]
    [InlineData("nuget/mcp-server/packages.lock.json", "packages.lock.json", "\"resolved\": \"", 1)]
    [InlineData("pypi/pipfile-git/Pipfile.lock", "Pipfile.lock", "\"version\": \"", 5)]
    public void Deps_InvalidUtf8InJsonString_ExitsTwoAtTheBadBytes(string source, string copyAs, string anchor, int offsetInAnchor)
    {
        var (path, line, column) = Damaged(source, copyAs, anchor, offsetInAnchor);

        var result = CliRunner.Run("deps", path);

        DamagedInput.AssertLocatedError(result, path, "TG0002", line, column);
        Assert.Contains("UTF-8", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_LoneSurrogateEscapeInJsonString_ExitsTwo()
    {
        // An escaped string takes another decoding path: "\ud800" alone is no character either.
        var (bytes, line, _) = DamagedInput.Insert(File.ReadAllBytes(TestData.Path("npm/lockfile-v2/package-lock.json")),
            "\"version\": \"", 12, "\\ud800"u8.ToArray());
        var path = _temp.File("package-lock.json");
        File.WriteAllBytes(path, bytes);

        var result = CliRunner.Run("deps", path);

        DamagedInput.AssertLocatedError(result, path, "TG0002", line);
    }

    [Theory]
    [InlineData("sbom/spec-examples/valid-bom-1.6.json", "bom.cdx.json", "\"purl\": \"", 9)]
    [InlineData("reference/sbom/sbom-tool-sample.spdx-2.2.json", "sbom.spdx.json", "\"versionInfo\": \"", 16)]
    public void DepsSbom_InvalidUtf8InJsonString_ExitsTwoSayingUtf8(string source, string copyAs, string anchor, int offsetInAnchor)
    {
        var (path, line, _) = Damaged(source, copyAs, anchor, offsetInAnchor);

        var result = CliRunner.Run("deps", "--sbom", path);

        DamagedInput.AssertLocatedError(result, path, "TG0002", line);
        Assert.Contains("UTF-8", result.Stderr, StringComparison.Ordinal);
    }
}
