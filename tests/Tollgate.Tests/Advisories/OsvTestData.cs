using System.IO.Compression;

namespace Tollgate.Tests.Advisories;

/// <summary>The real OSV records of testdata/reference, and archives built from them.</summary>
internal static class OsvTestData
{
    /// <summary>The PyPA advisory database as an OSV all.zip (2661 records).</summary>
    public static string PyPIArchive() => TestData.Reference("osv", "pypi-all.zip");

    /// <summary>The GitHub and malicious-package records (npm and NuGet).</summary>
    public static IReadOnlyList<string> GitHubAndMaliciousFiles()
    {
        var github = TestData.Reference("osv", "github");
        var malicious = TestData.Reference("osv", "malicious");
        return [.. Directory.GetFiles(github, "*.json").Concat(Directory.GetFiles(malicious, "*.json")).Order(StringComparer.Ordinal)];
    }

    /// <summary>Builds an all.zip-shaped archive (records at the root) from the GitHub and malicious records.</summary>
    public static void WriteGitHubAndMaliciousArchive(string zipPath)
    {
        using var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create);
        foreach (var file in GitHubAndMaliciousFiles())
        {
            zip.CreateEntryFromFile(file, Path.GetFileName(file), CompressionLevel.Optimal);
        }
    }
}

/// <summary>A temporary folder removed after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tollgate-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Every file in the folder (recursively), relative, sorted.</summary>
    public IReadOnlyList<string> Files() =>
        [.. Directory.GetFiles(Path, "*", SearchOption.AllDirectories).Select(f => System.IO.Path.GetRelativePath(Path, f)).Order(StringComparer.Ordinal)];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
