using System.IO.Compression;
using Microsoft.Data.Sqlite;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Advisories;

public sealed class AdvisoryArchiveTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Db => _temp.File("advisories.db");

    [Fact]
    public void Import_ArchiveBuiltFromRecords_ImportsEntriesAtTheRoot()
    {
        var zip = _temp.File("all.zip");
        OsvTestData.WriteGitHubAndMaliciousArchive(zip);
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([zip], new AdvisoryImportOptions { DatabasePath = Db }, diagnostics);

        Assert.True(result.Succeeded);
        Assert.Empty(diagnostics.Items);
        Assert.Equal(11, result.Inserted);
    }

    [Theory]
    [InlineData("../evil.json")]
    [InlineData("records/../../evil.json")]
    [InlineData("/etc/evil.json")]
    [InlineData("\\evil.json")]
    [InlineData("C:/evil.json")]
    [InlineData("..\\evil.json")]
    public void IsSafeEntryName_PathLeavingTheArchive_IsFalse(string name) =>
        Assert.False(AdvisoryArchive.IsSafeEntryName(name));

    [Theory]
    [InlineData("GHSA-xvch-5gv4-984h.json")]
    [InlineData("PyPI/PYSEC-2005-1.json")]
    [InlineData("a..b.json")]
    public void IsSafeEntryName_PlainName_IsTrue(string name) =>
        Assert.True(AdvisoryArchive.IsSafeEntryName(name));

    [Fact]
    public void Import_EntryWithDotDotPath_SkippedWithDiagnosticOthersImported()
    {
        var zip = _temp.File("all.zip");
        var record = File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "github"), "GHSA-xvch-5gv4-984h.json"));
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            Write(archive, "../GHSA-pxg6-pf52-xh8x.json", File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "github"), "GHSA-pxg6-pf52-xh8x.json")));
            Write(archive, "GHSA-xvch-5gv4-984h.json", record);
        }
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([zip], new AdvisoryImportOptions { DatabasePath = Db }, diagnostics);

        Assert.True(result.Succeeded);
        Assert.Equal(1, result.Inserted);
        var warning = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticIds.InvalidEntry, warning.Id);
        Assert.Equal($"{zip}!../GHSA-pxg6-pf52-xh8x.json", warning.Location!.File);
        using var store = AdvisoryStore.Open(Db);
        Assert.Empty(store.FindByPackage(Ecosystem.Npm, "cookie"));
        Assert.Single(store.FindByPackage(Ecosystem.Npm, "minimist"));
    }

    [Fact]
    public void Import_ZipBombEntry_RejectedWithoutInflatingIt()
    {
        // 200 MiB of zeros, streamed into the archive: deflate turns it into a few hundred kilobytes.
        var zip = _temp.File("bomb.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            var entry = archive.CreateEntry("GHSA-bomb-bomb-bomb.json", CompressionLevel.Fastest);
            using (var stream = entry.Open())
            {
                var zeros = new byte[1 << 20];
                for (var i = 0; i < 200; i++)
                {
                    stream.Write(zeros);
                }
            }
            Write(archive, "MAL-2024-4003.json", File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "malicious"), "MAL-2024-4003.json")));
        }
        Assert.True(new FileInfo(zip).Length < 2 * 1024 * 1024);
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([zip], new AdvisoryImportOptions { DatabasePath = Db }, diagnostics);

        Assert.True(result.Succeeded);
        Assert.Equal(1, result.Inserted);
        var warning = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticIds.FileTooLarge, warning.Id);
        Assert.Contains("GHSA-bomb-bomb-bomb.json", warning.Location!.File, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_EntryExpandingFarBeyondJson_RejectedByRatio()
    {
        var zip = _temp.File("ratio.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            // 4 MiB of spaces: under the per-entry limit, but no OSV record compresses 1000:1.
            var entry = archive.CreateEntry("PYSEC-0000-1.json", CompressionLevel.SmallestSize);
            using (var stream = entry.Open())
            {
                stream.Write(Enumerable.Repeat((byte)' ', 4 << 20).ToArray());
            }
            Write(archive, "GHSA-xvch-5gv4-984h.json", File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "github"), "GHSA-xvch-5gv4-984h.json")));
        }
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([zip], new AdvisoryImportOptions { DatabasePath = Db }, diagnostics);

        Assert.True(result.Succeeded);
        Assert.Equal(1, result.Read);
        Assert.Contains(":1", Assert.Single(diagnostics.Items).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_ArchiveOverTheTotalLimit_FailsAndChangesNothing()
    {
        var zip = _temp.File("all.zip");
        OsvTestData.WriteGitHubAndMaliciousArchive(zip);
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([zip], new AdvisoryImportOptions
        {
            DatabasePath = Db,
            Limits = new ArchiveLimits { MaxTotalBytes = 10_000 },
        }, diagnostics);

        Assert.False(result.Succeeded);
        Assert.Equal(DiagnosticSeverity.Error, Assert.Single(diagnostics.Items).Severity);
        Assert.Equal(["all.zip"], _temp.Files());
    }

    [Fact]
    public void Import_EntryLargerThanTheEntryLimit_SkippedWithDiagnostic()
    {
        var record = File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "github"), "GHSA-xvch-5gv4-984h.json"));
        var small = File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "github"), "GHSA-qwcr-r2fm-qrc7.json"));
        Assert.True(small.Length < record.Length);
        var zip = _temp.File("lying.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            Write(archive, "GHSA-xvch-5gv4-984h.json", record);
            Write(archive, "GHSA-qwcr-r2fm-qrc7.json", small);
        }
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([zip], new AdvisoryImportOptions
        {
            DatabasePath = Db,
            Limits = new ArchiveLimits { MaxEntryBytes = record.Length - 1 },
        }, diagnostics);

        Assert.True(result.Succeeded);
        Assert.Equal(1, result.Read);
        Assert.Equal(DiagnosticIds.FileTooLarge, Assert.Single(diagnostics.Items).Id);
    }

    [Fact]
    public void Import_ArchiveOfMoreThan65535Entries_ReadsItsZip64Directory()
    {
        // Over 65,535 entries the end record cannot hold the count: zip writers add a Zip64 end record, as OSV's npm
        // archive (over 200,000 records) needs.
        var zip = _temp.File("many.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            for (var i = 0; i < 70_000; i++)
            {
                archive.CreateEntry($"notes/{i}.txt", CompressionLevel.NoCompression);
            }
            Write(archive, "GHSA-xvch-5gv4-984h.json", File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "github"), "GHSA-xvch-5gv4-984h.json")));
        }
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([zip], new AdvisoryImportOptions { DatabasePath = Db }, diagnostics);

        Assert.True(result.Succeeded, string.Join("\n", diagnostics.Items));
        Assert.Equal(1, result.Inserted);
        using var store = AdvisoryStore.Open(Db);
        Assert.Single(store.FindByPackage(Ecosystem.Npm, "minimist"));
    }

    [Fact]
    public void Import_StoredRecord_IsTheArchiveEntryByteForByte()
    {
        var zip = _temp.File("all.zip");
        var deflated = File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "github"), "GHSA-xvch-5gv4-984h.json"));
        var stored = File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "malicious"), "MAL-2024-4003.json"));
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            Write(archive, "GHSA-xvch-5gv4-984h.json", deflated);
            var entry = archive.CreateEntry("MAL-2024-4003.json", CompressionLevel.NoCompression);
            using var stream = entry.Open();
            stream.Write(stored);
        }
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([zip], new AdvisoryImportOptions { DatabasePath = Db }, diagnostics);

        Assert.True(result.Succeeded, string.Join("\n", diagnostics.Items));
        Assert.Equal(2, result.Inserted);
        Assert.Equal(deflated, StoredRecord("GHSA-xvch-5gv4-984h"));
        Assert.Equal(stored, StoredRecord("MAL-2024-4003"));
        using var store = AdvisoryStore.Open(Db);
        Assert.Equal("GHSA-xvch-5gv4-984h", Assert.Single(store.FindById("GHSA-xvch-5gv4-984h")).Id);
        Assert.Equal("MAL-2024-4003", Assert.Single(store.FindById("MAL-2024-4003")).Id);
    }

    [Fact]
    public void Import_EntryFailingItsCrc_FailsAndChangesNothing()
    {
        var zip = _temp.File("all.zip");
        var record = File.ReadAllBytes(Path.Combine(TestData.Reference("osv", "github"), "GHSA-xvch-5gv4-984h.json"));
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        {
            var entry = archive.CreateEntry("GHSA-xvch-5gv4-984h.json", CompressionLevel.NoCompression);
            using var stream = entry.Open();
            stream.Write(record);
        }
        // Change one letter of the stored record: still valid JSON, but not what the archive's CRC-32 says.
        var bytes = File.ReadAllBytes(zip);
        var at = bytes.AsSpan().IndexOf("minimist"u8);
        Assert.True(at > 0);
        bytes[at] = (byte)'n';
        File.WriteAllBytes(zip, bytes);
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([zip], new AdvisoryImportOptions { DatabasePath = Db }, diagnostics);

        Assert.False(result.Succeeded);
        var error = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Contains("CRC-32", error.Message, StringComparison.Ordinal);
        Assert.Equal(zip, error.Location!.File);
        Assert.Equal(["all.zip"], _temp.Files());
    }

    /// <summary>The record of an advisory as the database stores it, inflated.</summary>
    private byte[] StoredRecord(string id)
    {
        using var connection = new SqliteConnection($"Data Source={Db};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT raw FROM advisories WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var deflate = new DeflateStream(new MemoryStream((byte[])command.ExecuteScalar()!), CompressionMode.Decompress);
        using var json = new MemoryStream();
        deflate.CopyTo(json);
        return json.ToArray();
    }

    private static void Write(ZipArchive archive, string name, byte[] content)
    {
        var entry = archive.CreateEntry(name, CompressionLevel.Optimal);
        using var stream = entry.Open();
        stream.Write(content);
    }
}
