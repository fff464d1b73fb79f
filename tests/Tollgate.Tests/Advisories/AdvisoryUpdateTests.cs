using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Advisories;

public sealed class AdvisoryUpdateTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly OsvMirrorServer _server = new();
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public AdvisoryUpdateTests()
    {
        // PyPI gets the PyPA archive; npm and NuGet both get the GitHub + malicious records, as OSV's
        // per-ecosystem archives also share records that affect several ecosystems.
        var shared = _temp.File("github-malicious.zip");
        OsvTestData.WriteGitHubAndMaliciousArchive(shared);
        _server.Serve("PyPI", File.ReadAllBytes(OsvTestData.PyPIArchive()));
        _server.Serve("npm", File.ReadAllBytes(shared));
        _server.Serve("NuGet", File.ReadAllBytes(shared));
        File.Delete(shared);
    }

    public void Dispose()
    {
        _http.Dispose();
        _server.Dispose();
        _temp.Dispose();
    }

    private string Db => _temp.File("home", "advisories.db");

    private AdvisoryUpdateOptions Options() => new()
    {
        DatabasePath = Db,
        BaseUrl = new Uri(_server.BaseUrl),
        RetryDelay = TimeSpan.FromMilliseconds(10),
        Timeout = TimeSpan.FromSeconds(30),
    };

    private AdvisoryUpdateResult Update(DiagnosticBag diagnostics, AdvisoryUpdateOptions? options = null) =>
        new AdvisoryUpdater(_http).UpdateAsync(options ?? Options(), diagnostics).GetAwaiter().GetResult();

    [Fact]
    public void Update_FreshDatabase_DownloadsAndImportsEveryEcosystem()
    {
        var diagnostics = new DiagnosticBag();

        var result = Update(diagnostics);

        Assert.Equal(AdvisoryUpdateOutcome.Updated, result.Outcome);
        Assert.Empty(diagnostics.Items);
        Assert.Equal(2661 + 11 + 11, result.Import!.Read);
        Assert.Equal(2661 + 11, result.Import.Inserted);
        Assert.Equal(11, result.Import.Unchanged);
        using var store = AdvisoryStore.Open(Db);
        var status = store.Status();
        Assert.Equal(
            [
                new AdvisoryCount(Ecosystem.Npm, AdvisoryKind.Vulnerability, 7, 0),
                new AdvisoryCount(Ecosystem.PyPI, AdvisoryKind.Vulnerability, 2661, 10),
                new AdvisoryCount(Ecosystem.NuGet, AdvisoryKind.Vulnerability, 2, 0),
                new AdvisoryCount(Ecosystem.NuGet, AdvisoryKind.Malicious, 2, 0),
            ],
            status.Counts.AsEnumerable());
        Assert.Equal(_server.BaseUrl.TrimEnd('/'), status.Source);
        var npm = new Uri(_server.BaseUrl + "npm/all.zip");
        Assert.Equal(OsvMirrorServer.ETagOf(File.ReadAllBytes(OsvTestData.PyPIArchive())), store.Meta(AdvisoryMetaKeys.ETag(new Uri(_server.BaseUrl + "PyPI/all.zip"))));
        Assert.Equal("Mon, 01 Jan 2024 00:00:00 GMT", store.Meta(AdvisoryMetaKeys.LastModified(npm)));
        Assert.Equal(["advisories.db"], Directory.GetFiles(Path.GetDirectoryName(Db)!).Select(Path.GetFileName));
    }

    [Fact]
    public void Update_SecondTime_GetsNotModifiedAndChangesNothing()
    {
        Assert.Equal(AdvisoryUpdateOutcome.Updated, Update(new DiagnosticBag()).Outcome);
        var before = File.ReadAllBytes(Db);
        var written = File.GetLastWriteTimeUtc(Db);
        _server.Log.Clear();

        var result = Update(new DiagnosticBag());

        Assert.Equal(AdvisoryUpdateOutcome.UpToDate, result.Outcome);
        Assert.All(result.Downloads, d => Assert.True(d.NotModified));
        Assert.Equal(["GET /osv/npm/all.zip 304", "GET /osv/PyPI/all.zip 304", "GET /osv/NuGet/all.zip 304"], _server.Log);
        Assert.Equal(before, File.ReadAllBytes(Db));
        Assert.Equal(written, File.GetLastWriteTimeUtc(Db));
        Assert.Equal(["advisories.db"], Directory.GetFiles(Path.GetDirectoryName(Db)!).Select(Path.GetFileName));
    }

    [Fact]
    public void Update_DatabaseOfAnOlderSchema_DownloadsEveryArchiveAndUpgradesIt()
    {
        // A database written by the release before schema version 2, which remembers the archives' validators: without
        // them being ignored, every archive would answer 304 and the database would stay unreadable to this release.
        Directory.CreateDirectory(Path.GetDirectoryName(Db)!);
        File.Copy(TestData.Path("osv", "schema-v1.db"), Db);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Db};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO meta (key, value) VALUES ($key, $value)";
            command.Parameters.AddWithValue("$key", AdvisoryMetaKeys.ETag(new Uri(_server.BaseUrl + "PyPI/all.zip")));
            command.Parameters.AddWithValue("$value", OsvMirrorServer.ETagOf(File.ReadAllBytes(OsvTestData.PyPIArchive())));
            command.ExecuteNonQuery();
        }
        Assert.False(AdvisoryStore.TryOpen(Db, out _, out var error));
        Assert.Equal(AdvisoryStoreProblem.WrongVersion, error.Problem);
        var diagnostics = new DiagnosticBag();

        var result = Update(diagnostics);

        Assert.Equal(AdvisoryUpdateOutcome.Updated, result.Outcome);
        Assert.Empty(diagnostics.Items);
        Assert.All(result.Downloads, d => Assert.False(d.NotModified));
        using var store = AdvisoryStore.Open(Db);
        Assert.Equal(2, store.SchemaVersion);
        Assert.Single(store.FindByPackage(Ecosystem.Npm, "minimist"));
        Assert.Equal(2661, store.RecordsByEcosystem()[Ecosystem.PyPI]);
    }

    [Fact]
    public void Update_ServerErrorThenSuccess_Retries()
    {
        _server.FailNext("PyPI", 500);
        var diagnostics = new DiagnosticBag();

        var result = Update(diagnostics, Options() with { Ecosystems = [Ecosystem.PyPI] });

        Assert.Equal(AdvisoryUpdateOutcome.Updated, result.Outcome);
        Assert.Equal(2, Assert.Single(result.Downloads).Attempts);
        Assert.Equal(["GET /osv/PyPI/all.zip 500", "GET /osv/PyPI/all.zip 200"], _server.Log);
        Assert.Equal(2661, result.Import!.Inserted);
    }

    [Fact]
    public void Update_ServerErrorEveryTime_FailsAfterThreeTriesAndChangesNothing()
    {
        Assert.Equal(AdvisoryUpdateOutcome.Updated, Update(new DiagnosticBag(), Options() with { Ecosystems = [Ecosystem.NuGet] }).Outcome);
        var before = File.ReadAllBytes(Db);
        _server.Serve("NuGet", File.ReadAllBytes(OsvTestData.PyPIArchive()));
        _server.FailNext("NuGet", 503, 502, 500);
        _server.Log.Clear();
        var diagnostics = new DiagnosticBag();

        var result = Update(diagnostics, Options() with { Ecosystems = [Ecosystem.NuGet] });

        Assert.Equal(AdvisoryUpdateOutcome.Failed, result.Outcome);
        Assert.Equal(3, _server.Log.Count);
        var error = Assert.Single(diagnostics.Items);
        Assert.Contains("after 3 tries", error.Message, StringComparison.Ordinal);
        Assert.Contains("500", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Db));
    }

    [Fact]
    public void Update_TruncatedArchive_LeavesTheOldDatabaseIntact()
    {
        Assert.Equal(AdvisoryUpdateOutcome.Updated, Update(new DiagnosticBag(), Options() with { Ecosystems = [Ecosystem.Npm] }).Outcome);
        var before = File.ReadAllBytes(Db);
        var archive = File.ReadAllBytes(OsvTestData.PyPIArchive());
        _server.Serve("PyPI", archive[..(archive.Length * 2 / 3)]);
        var diagnostics = new DiagnosticBag();

        var result = Update(diagnostics, Options() with { Ecosystems = [Ecosystem.Npm, Ecosystem.PyPI] });

        Assert.Equal(AdvisoryUpdateOutcome.Failed, result.Outcome);
        Assert.Contains(diagnostics.Items, d => d.Severity == DiagnosticSeverity.Error && d.Message.Contains("not a readable zip archive", StringComparison.Ordinal));
        Assert.Equal(before, File.ReadAllBytes(Db));
        Assert.Equal(["advisories.db"], Directory.GetFiles(Path.GetDirectoryName(Db)!).Select(Path.GetFileName));
        using var store = AdvisoryStore.Open(Db);
        Assert.Equal(2, store.FindByPackage(Ecosystem.Npm, "axios").Count);
    }

    [Fact]
    public void Update_MissingArchive_FailsWithSourceHint()
    {
        var diagnostics = new DiagnosticBag();

        var result = Update(diagnostics, Options() with { BaseUrl = new Uri(_server.BaseUrl + "nothing-here/") });

        Assert.Equal(AdvisoryUpdateOutcome.Failed, result.Outcome);
        var error = Assert.Single(diagnostics.Items);
        Assert.Contains("404", error.Message, StringComparison.Ordinal);
        Assert.Contains("TOLLGATE_OSV_SOURCE", error.Hint, StringComparison.Ordinal);
        Assert.False(File.Exists(Db));
    }

    [Fact]
    public void DbUpdate_Cli_ImportsThenReportsUpToDate()
    {
        var first = CliRunner.Run("db", "update", "--source", _server.BaseUrl, "--db", Db, "--ecosystem", "npm", "--ecosystem", "NuGet");
        var second = CliRunner.Run("db", "update", "--source", _server.BaseUrl, "--db", Db, "--ecosystem", "npm", "--ecosystem", "NuGet");
        var status = CliRunner.Run("db", "status", "--db", Db);

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("npm: downloading " + _server.BaseUrl + "npm/all.zip", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("11 new, 0 updated, 11 unchanged", first.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("npm: up to date", second.Stderr, StringComparison.Ordinal);
        Assert.Contains("is up to date.", second.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("malicious", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("source:   " + _server.BaseUrl.TrimEnd('/'), status.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void DbUpdate_UnknownEcosystem_ExitsTwo()
    {
        var result = CliRunner.Run("db", "update", "--source", _server.BaseUrl, "--db", Db, "--ecosystem", "Maven");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown ecosystem 'Maven'", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(_server.Log);
    }

    [Fact]
    public void TryResolve_Source_PrefersOptionThenEnvironmentThenDefault()
    {
        Assert.True(AdvisorySource.TryResolve("https://mirror.example/osv", out var explicitUrl, out _, _ => "https://env.example"));
        Assert.Equal("https://mirror.example/osv/npm/all.zip", AdvisorySource.ArchiveUrl(explicitUrl!, Ecosystem.Npm).AbsoluteUri);
        Assert.True(AdvisorySource.TryResolve(null, out var fromEnvironment, out _, _ => "https://env.example/"));
        Assert.Equal("https://env.example/PyPI/all.zip", AdvisorySource.ArchiveUrl(fromEnvironment!, Ecosystem.PyPI).AbsoluteUri);
        Assert.True(AdvisorySource.TryResolve(null, out var fallback, out _, _ => null));
        Assert.Equal(AdvisorySource.DefaultBaseUrl + "/NuGet/all.zip", AdvisorySource.ArchiveUrl(fallback!, Ecosystem.NuGet).AbsoluteUri);
        Assert.False(AdvisorySource.TryResolve("ftp://x", out _, out var error, _ => null));
        Assert.Contains("not an http(s) URL", error, StringComparison.Ordinal);
    }
}
