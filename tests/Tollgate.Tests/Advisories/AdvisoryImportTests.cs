using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;
using Xunit.Abstractions;

namespace Tollgate.Tests.Advisories;

public sealed class AdvisoryImportTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Db => _temp.File("advisories.db");

    private AdvisoryImportResult Import(DiagnosticBag diagnostics, params string[] inputs) =>
        AdvisoryImporter.Import(inputs, new AdvisoryImportOptions { DatabasePath = Db }, diagnostics);

    [Fact]
    public void Import_PyPIArchive_MatchesWhatPythonReads()
    {
        var diagnostics = new DiagnosticBag();

        var result = Import(diagnostics, OsvTestData.PyPIArchive());

        output.WriteLine($"{result.Read} records in {result.Elapsed.TotalMilliseconds:0} ms: {result.RecordsPerSecond:0} records/s");
        Assert.True(result.Succeeded, string.Join("\n", diagnostics.Items));
        Assert.Empty(diagnostics.Items);
        Assert.Equal(2661, result.Read);
        Assert.Equal(2661, result.Inserted);

        // pypi-reference.json is what Python's json module reads from the same archive (see the README).
        using var reference = JsonDocument.Parse(File.ReadAllBytes(TestData.Path("osv", "pypi-reference.json")));
        using var store = AdvisoryStore.Open(Db);
        var checkedRecords = 0;
        foreach (var expected in reference.RootElement.EnumerateObject())
        {
            var advisory = Assert.Single(store.FindById(expected.Name));
            Assert.Equal(expected.Name, advisory.Id);
            Assert.True(OsvReader.TryParseTimestamp(expected.Value.GetProperty("modified").GetString()!, out var modified));
            Assert.Equal(modified, advisory.Modified);
            Assert.Equal(expected.Value.GetProperty("withdrawn").GetBoolean(), advisory.IsWithdrawn);
            Assert.Equal(expected.Value.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()!), advisory.Aliases);
            Assert.Equal(expected.Value.GetProperty("severity").EnumerateArray().Select(s => s.GetString()!),
                advisory.Severity.Select(s => $"{OsvNames.Severity(s.Type)} {s.Score}"));
            Assert.Equal(AdvisoryKind.Vulnerability, advisory.Kind);
            var affected = expected.Value.GetProperty("affected").EnumerateArray().ToList();
            Assert.Equal(affected.Count, advisory.Affected.Length);
            for (var i = 0; i < affected.Count; i++)
            {
                var a = advisory.Affected[i];
                Assert.Equal(affected[i].GetProperty("name").GetString(), a.Name);
                Assert.Equal(Component.NormalizePyPIName(a.Name), a.NormalizedName);
                Assert.Equal(affected[i].GetProperty("versionCount").GetInt32(), a.Versions.Length);
                Assert.Equal(affected[i].GetProperty("versionsSha256").GetString(),
                    Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", a.Versions)))));
                var ranges = affected[i].GetProperty("ranges").EnumerateArray().Select(r =>
                    r.GetProperty("type").GetString() + " " + string.Join(",", r.GetProperty("events").EnumerateArray().Select(e => e.GetString())));
                Assert.Equal(ranges, a.Ranges.Select(r => OsvNames.Range(r.Type) + " " + string.Join(",", r.Events.Select(e => OsvNames.Event(e.Kind) + ":" + e.Version))));
            }
            checkedRecords++;
        }
        Assert.Equal(2661, checkedRecords);

        var status = store.Status();
        Assert.Equal(2661, status.Advisories);
        Assert.Equal(10, status.Withdrawn);
        var count = Assert.Single(status.Counts);
        Assert.Equal(new AdvisoryCount(Ecosystem.PyPI, AdvisoryKind.Vulnerability, 2661, 10), count);
    }

    [Fact]
    public void Import_PyPIArchive_FindsByPackageWithPep503Names()
    {
        Assert.True(Import(new DiagnosticBag(), OsvTestData.PyPIArchive()).Succeeded);
        using var store = AdvisoryStore.Open(Db);

        // The records spell the name "Django" or "django"; PEP 503 makes every spelling the same.
        var expected = ReferenceIdsFor("django");
        Assert.NotEmpty(expected);
        Assert.Equal(expected, store.FindByPackage(Ecosystem.PyPI, "Django").Select(a => a.Id).Order(StringComparer.Ordinal));
        Assert.Equal(expected, store.FindByPackage(Ecosystem.PyPI, "DJANGO").Select(a => a.Id).Order(StringComparer.Ordinal));
        Assert.Empty(store.FindByPackage(Ecosystem.Npm, "django"));
    }

    [Fact]
    public void Import_PyPIArchive_FlagsWithdrawnRecords()
    {
        Assert.True(Import(new DiagnosticBag(), OsvTestData.PyPIArchive()).Succeeded);
        using var store = AdvisoryStore.Open(Db);

        var withdrawn = Assert.Single(store.FindById("PYSEC-2019-144"));
        Assert.True(withdrawn.IsWithdrawn);
        Assert.False(Assert.Single(store.FindById("PYSEC-2005-1")).IsWithdrawn);
    }

    [Fact]
    public void Import_GitHubRecords_KeepsKindsAliasesAndSeverities()
    {
        var diagnostics = new DiagnosticBag();
        var result = Import(diagnostics, TestData.Reference("osv", "github"), TestData.Reference("osv", "malicious"));

        Assert.True(result.Succeeded);
        Assert.Empty(diagnostics.Items);
        Assert.Equal(11, result.Inserted);
        using var store = AdvisoryStore.Open(Db);

        var lodash = Assert.Single(store.FindById("CVE-2021-23337"));
        Assert.Equal("GHSA-35jh-r3h4-6jhm", lodash.Id);
        Assert.Equal(AdvisoryKind.Vulnerability, lodash.Kind);
        Assert.Equal(["CVE-2021-23337"], lodash.Aliases.AsEnumerable());
        Assert.Equal("HIGH", lodash.DatabaseSeverity);
        Assert.Equal(["CWE-77", "CWE-94"], lodash.CweIds.AsEnumerable());
        Assert.Equal(["lodash", "lodash-es"], lodash.Affected.Select(a => a.Name));

        var bodyParser = Assert.Single(store.FindByPackage(Ecosystem.Npm, "body-parser"));
        Assert.Equal(
            [new SeverityScore(SeverityType.CvssV3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"), new SeverityScore(SeverityType.CvssV4, "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N")],
            bodyParser.Severity.AsEnumerable());

        var newtonsoft = Assert.Single(store.FindByPackage(Ecosystem.NuGet, "newtonsoft.json"));
        Assert.Equal("GHSA-5crp-9r3c-p9vr", newtonsoft.Id);
        Assert.Equal("LOW", newtonsoft.DatabaseSeverity);
        Assert.Empty(newtonsoft.Aliases);

        // One advisory lists Microsoft.Data.SqlClient in several affected entries: it is returned once.
        var sqlClient = Assert.Single(store.FindByPackage(Ecosystem.NuGet, "Microsoft.Data.SqlClient"));
        Assert.Equal(4, sqlClient.AffectedFor(Ecosystem.NuGet, "microsoft.data.sqlclient").Count());
    }

    [Fact]
    public void Import_GitHubRecords_NormalisesCapitalisedNpmName()
    {
        Assert.True(Import(new DiagnosticBag(), TestData.Reference("osv", "github")).Succeeded);
        using var store = AdvisoryStore.Open(Db);

        // GHSA-8hc4-vh64-cxmj stores the package as "Axios"; both advisories concern the same npm package.
        Assert.Equal(["GHSA-8hc4-vh64-cxmj", "GHSA-wf5p-g6vw-rhxx"], store.FindByPackage(Ecosystem.Npm, "axios").Select(a => a.Id));
        var capitalised = Assert.Single(store.FindById("GHSA-8hc4-vh64-cxmj"));
        Assert.Equal("Axios", capitalised.Affected[0].Name);
        Assert.Equal("axios", capitalised.Affected[0].NormalizedName);
    }

    [Fact]
    public void Import_MaliciousHomoglyphRecords_FoundOnlyByTheirExactNames()
    {
        Assert.True(Import(new DiagnosticBag(), TestData.Reference("osv", "malicious")).Succeeded);
        using var store = AdvisoryStore.Open(Db);

        // "2CaptcһaAPІ": U+04BB CYRILLIC SMALL LETTER SHHA and U+0406 CYRILLIC CAPITAL LETTER BYELORUSSIAN-UKRAINIAN I.
        var name = "2Captc\u04BBaAP\u0406";
        var found = Assert.Single(store.FindByPackage(Ecosystem.NuGet, name));
        Assert.Equal("MAL-2024-3991", found.Id);
        Assert.Equal(AdvisoryKind.Malicious, found.Kind);
        Assert.Equal(["1.10.1"], found.Affected[0].Versions.AsEnumerable());
        Assert.Equal("2captc\u04BBaap\u0456", found.Affected[0].NormalizedName);
        Assert.Single(store.FindByPackage(Ecosystem.NuGet, "2captc\u04BBaap\u0456"));
        // The look-alike it imitates is a different package.
        Assert.Empty(store.FindByPackage(Ecosystem.NuGet, "2CaptchaAPI"));

        var anotar = Assert.Single(store.FindByPackage(Ecosystem.NuGet, "Anotar.S\u0435ril\u043Eg.Fody"));
        Assert.Equal("MAL-2024-4003", anotar.Id);
        Assert.Empty(store.FindByPackage(Ecosystem.NuGet, "Anotar.Serilog.Fody"));
    }

    [Fact]
    public void Import_MalformedRecords_SkippedWithDiagnosticsAndTheRestImported()
    {
        var diagnostics = new DiagnosticBag();

        var result = Import(diagnostics, TestData.Path("osv", "malformed"), TestData.Reference("osv", "github"));

        Assert.True(result.Succeeded);
        Assert.Equal(15, result.Read);
        Assert.Equal(9, result.Inserted);
        Assert.Equal(5, result.Rejected);
        Assert.Equal(1, result.OtherEcosystem);
        Assert.Equal(5, diagnostics.Items.Count);
        Assert.All(diagnostics.Items, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));

        var aliases = Assert.Single(diagnostics.Items, d => d.Location!.File.EndsWith("wrong-type-aliases.json", StringComparison.Ordinal));
        Assert.Equal(DiagnosticIds.UnexpectedShape, aliases.Id);
        Assert.Contains("$.aliases", aliases.Message, StringComparison.Ordinal);
        Assert.Equal(5, aliases.Location!.Line);

        var version = Assert.Single(diagnostics.Items, d => d.Location!.File.EndsWith("wrong-type-version.json", StringComparison.Ordinal));
        Assert.Contains("$.affected[0].versions[1]", version.Message, StringComparison.Ordinal);
        Assert.Equal(7, version.Location!.Line);

        var modified = Assert.Single(diagnostics.Items, d => d.Location!.File.EndsWith("missing-modified.json", StringComparison.Ordinal));
        Assert.Contains("TEST-2099-0003", modified.Message, StringComparison.Ordinal);
        Assert.Contains("$.modified", modified.Message, StringComparison.Ordinal);

        var range = Assert.Single(diagnostics.Items, d => d.Location!.File.EndsWith("unknown-range-type.json", StringComparison.Ordinal));
        Assert.Contains("$.affected[0].ranges[0].type", range.Message, StringComparison.Ordinal);
        Assert.Contains("CALVER", range.Message, StringComparison.Ordinal);

        var truncated = Assert.Single(diagnostics.Items, d => d.Location!.File.EndsWith("truncated.json", StringComparison.Ordinal));
        Assert.Equal(DiagnosticIds.InvalidJson, truncated.Id);

        using var store = AdvisoryStore.Open(Db);
        Assert.Empty(store.FindById("TEST-2099-0001"));
        Assert.Empty(store.FindByPackage(Ecosystem.Npm, "left-pad"));
        Assert.Single(store.FindByPackage(Ecosystem.Npm, "cookie"));
    }

    [Fact]
    public void Import_SameRecordTwice_NewerModifiedWins()
    {
        var original = File.ReadAllText(Path.Combine(TestData.Reference("osv", "github"), "GHSA-pxg6-pf52-xh8x.json"));
        var newer = System.Text.RegularExpressions.Regex.Replace(original, "\"modified\": \"\\d{4}", "\"modified\": \"2030")
            .Replace("\"summary\": \"", "\"summary\": \"NEWER ", StringComparison.Ordinal);
        Directory.CreateDirectory(_temp.File("old"));
        Directory.CreateDirectory(_temp.File("new"));
        File.WriteAllText(_temp.File("old", "GHSA-pxg6-pf52-xh8x.json"), original);
        File.WriteAllText(_temp.File("new", "GHSA-pxg6-pf52-xh8x.json"), newer);

        var first = Import(new DiagnosticBag(), _temp.File("old"));
        var second = Import(new DiagnosticBag(), _temp.File("new"));
        var third = Import(new DiagnosticBag(), _temp.File("old"));

        Assert.Equal(1, first.Inserted);
        Assert.Equal(1, second.Updated);
        Assert.Equal(1, third.Unchanged);
        using var store = AdvisoryStore.Open(Db);
        var stored = Assert.Single(store.FindByPackage(Ecosystem.Npm, "cookie"));
        Assert.StartsWith("NEWER ", stored.Summary, StringComparison.Ordinal);
        Assert.Equal(2030, stored.Modified.Year);
        Assert.Single(store.FindById("CVE-2024-47764"));
    }

    [Fact]
    public void Import_SameVersionTwiceBatchesApart_TheFirstReadWinsAndDiagnosticsKeepInputOrder()
    {
        // Records are parsed in batches on several threads; the writer still sees them in input order. The folder is
        // read in name order: "0000-" first, 1,000 copies of a real record under other ids, "zzzz-" last, several
        // batches apart.
        var original = File.ReadAllText(Path.Combine(TestData.Reference("osv", "github"), "GHSA-pxg6-pf52-xh8x.json"));
        var folder = _temp.File("records");
        Directory.CreateDirectory(folder);
        for (var i = 0; i < 1000; i++)
        {
            var id = $"TEST-2026-{i:D4}";
            File.WriteAllText(Path.Combine(folder, id + ".json"), original.Replace("\"id\": \"GHSA-pxg6-pf52-xh8x\"", $"\"id\": \"{id}\"", StringComparison.Ordinal));
        }
        File.WriteAllText(Path.Combine(folder, "0000-first.json"), original.Replace("\"summary\": \"", "\"summary\": \"FIRST ", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(folder, "zzzz-second.json"), original.Replace("\"summary\": \"", "\"summary\": \"SECOND ", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(folder, "0001-broken.json"), "{\"id\": ");
        File.WriteAllText(Path.Combine(folder, "zzzz-broken.json"), "[]");
        var diagnostics = new DiagnosticBag();

        var result = Import(diagnostics, folder);

        Assert.True(result.Succeeded);
        Assert.True(result.Read > 3 * 256, $"only {result.Read} records: too few to span several batches");
        Assert.Equal(2, result.Rejected);
        using var store = AdvisoryStore.Open(Db);
        Assert.StartsWith("FIRST ", Assert.Single(store.FindById("GHSA-pxg6-pf52-xh8x")).Summary, StringComparison.Ordinal);
        var skipped = diagnostics.Items.Select(d => Path.GetFileName(d.Location?.File ?? "")).Where(f => f.Contains("broken", StringComparison.Ordinal)).ToList();
        Assert.Equal(["0001-broken.json", "zzzz-broken.json"], skipped);
    }

    [Fact]
    public void Import_IntoADatabaseOfSchemaVersion1_UpgradesItAndKeepsItsRecords()
    {
        // Written by the release before schema version 2 (Brotli-compressed records, more columns).
        File.Copy(TestData.Path("osv", "schema-v1.db"), Db);
        Assert.False(AdvisoryStore.TryOpen(Db, out _, out var error));
        Assert.Equal(AdvisoryStoreProblem.WrongVersion, error.Problem);
        var diagnostics = new DiagnosticBag();

        var result = Import(diagnostics, OsvTestData.PyPIArchive());

        Assert.True(result.Succeeded, string.Join("\n", diagnostics.Items));
        Assert.Equal(2661, result.Inserted);
        using var store = AdvisoryStore.Open(Db);
        Assert.Equal(2, store.SchemaVersion);
        // The old file's records read as before, by package, id and alias.
        var minimist = Assert.Single(store.FindByPackage(Ecosystem.Npm, "minimist"));
        Assert.Equal("GHSA-xvch-5gv4-984h", minimist.Id);
        Assert.Equal(minimist.Id, Assert.Single(store.FindById(minimist.Aliases[0])).Id);
        Assert.NotEmpty(store.FindByPackage(Ecosystem.NuGet, "Microsoft.Data.SqlClient"));
        var status = store.Status();
        Assert.Equal(2661 + 11, status.Advisories);
        Assert.Equal(new Dictionary<Ecosystem, int> { [Ecosystem.Npm] = 7, [Ecosystem.PyPI] = 2661, [Ecosystem.NuGet] = 4 }, store.RecordsByEcosystem());
    }

    [Fact]
    public void Import_Replace_StartsFromAnEmptyDatabase()
    {
        Assert.True(Import(new DiagnosticBag(), TestData.Reference("osv", "github")).Succeeded);

        var result = AdvisoryImporter.Import([TestData.Reference("osv", "malicious")], new AdvisoryImportOptions { DatabasePath = Db, Replace = true }, new DiagnosticBag());

        Assert.True(result.Succeeded);
        using var store = AdvisoryStore.Open(Db);
        Assert.Equal(2, store.Status().Advisories);
        Assert.Empty(store.FindByPackage(Ecosystem.Npm, "axios"));
    }

    [Fact]
    public void Import_TruncatedArchive_FailsAndLeavesTheOldDatabase()
    {
        Assert.True(Import(new DiagnosticBag(), TestData.Reference("osv", "github")).Succeeded);
        var before = File.ReadAllBytes(Db);
        var truncated = _temp.File("truncated.zip");
        var bytes = File.ReadAllBytes(OsvTestData.PyPIArchive());
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var diagnostics = new DiagnosticBag();

        var result = Import(diagnostics, truncated);

        Assert.False(result.Succeeded);
        var error = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Contains("not a readable zip archive", error.Message, StringComparison.Ordinal);
        Assert.Equal(truncated, error.Location!.File);
        Assert.Equal(before, File.ReadAllBytes(Db));
        Assert.Equal(["advisories.db", "truncated.zip"], _temp.Files());
    }

    [Fact]
    public void Import_CorruptEntryData_FailsAndLeavesNoTemporaryFile()
    {
        var zip = _temp.File("corrupt.zip");
        File.Copy(OsvTestData.PyPIArchive(), zip);
        // Overwrite compressed bytes in the middle of the archive: headers stay, deflate data or CRCs break.
        using (var stream = File.OpenWrite(zip))
        {
            stream.Position = stream.Length / 3;
            stream.Write(new byte[4096].Select((_, i) => (byte)(i * 7)).ToArray());
        }
        var diagnostics = new DiagnosticBag();

        var result = Import(diagnostics, zip);

        Assert.False(result.Succeeded);
        Assert.Contains(diagnostics.Items, d => d.Severity == DiagnosticSeverity.Error);
        Assert.False(File.Exists(Db));
        Assert.Equal(["corrupt.zip"], _temp.Files());
    }

    [Fact]
    public void Import_Cancelled_LeavesTheOldDatabaseAndNoTemporaryFile()
    {
        Assert.True(Import(new DiagnosticBag(), TestData.Reference("osv", "github")).Succeeded);
        var before = File.ReadAllBytes(Db);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            AdvisoryImporter.Import([OsvTestData.PyPIArchive()], new AdvisoryImportOptions { DatabasePath = Db }, new DiagnosticBag(), cancel.Token));

        Assert.Equal(before, File.ReadAllBytes(Db));
        Assert.Equal(["advisories.db"], _temp.Files());
    }

    [Fact]
    public void Import_ExistingFileIsNotADatabase_FailsWithoutTouchingIt()
    {
        File.WriteAllText(Db, "this is not an SQLite database, but it is somebody's file\n");
        var diagnostics = new DiagnosticBag();

        var result = Import(diagnostics, TestData.Reference("osv", "github"));

        Assert.False(result.Succeeded);
        var error = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticIds.FileUnreadable, error.Id);
        Assert.Contains("not an SQLite database", error.Message, StringComparison.Ordinal);
        Assert.Contains("--replace", error.Hint, StringComparison.Ordinal);
        Assert.StartsWith("this is not", File.ReadAllText(Db), StringComparison.Ordinal);
        Assert.Equal(["advisories.db"], _temp.Files());
    }

    [Fact]
    public void Import_StaleTemporaryFileOfADeadProcess_IsRemoved()
    {
        // A process id above the kernel's limit cannot be running.
        var stale = _temp.File(".advisories.db.99999999.0123456789abcdef.tmp");
        File.WriteAllText(stale, "left behind by a killed import");

        Assert.True(Import(new DiagnosticBag(), TestData.Reference("osv", "malicious")).Succeeded);

        Assert.Equal(["advisories.db"], _temp.Files());
    }

    [Fact]
    public void Import_MissingInput_FailsBeforeWritingAnything()
    {
        var diagnostics = new DiagnosticBag();

        var result = Import(diagnostics, _temp.File("no-such.zip"));

        Assert.False(result.Succeeded);
        Assert.Equal(DiagnosticIds.NoInput, Assert.Single(diagnostics.Items).Id);
        Assert.Empty(_temp.Files());
    }

    private static List<string> ReferenceIdsFor(string normalizedName)
    {
        using var reference = JsonDocument.Parse(File.ReadAllBytes(TestData.Path("osv", "pypi-reference.json")));
        return [.. reference.RootElement.EnumerateObject()
            .Where(r => r.Value.GetProperty("affected").EnumerateArray().Any(a => Component.NormalizePyPIName(a.GetProperty("name").GetString()!) == normalizedName))
            .Select(r => r.Name)
            .Order(StringComparer.Ordinal)];
    }
}
