using System.Text.Json;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Advisories;

public sealed class DbCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Db => _temp.File("advisories.db");

    [Fact]
    public void DbStatus_NoDatabase_ExitsTwoWithAdvice()
    {
        var result = CliRunner.Run("db", "status", "--db", Db);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"error: no advisory database at {Db}: run `tollgate db update`, or `tollgate db import FILE` for offline use", result.Stderr.Replace("\n", "", StringComparison.Ordinal));
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public void DbStatus_UnreadableFile_ExitsTwoWithoutStackTrace()
    {
        File.WriteAllBytes(Db, [0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0]);

        var result = CliRunner.Run("db", "status", "--db", Db);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"cannot read the advisory database {Db}: the file is not an SQLite database", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("hint: delete the file", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void DbImport_ThenStatusJson_ReportsCountsPerEcosystemAndKind()
    {
        var import = CliRunner.Run("db", "import", TestData.Reference("osv", "github"), TestData.Reference("osv", "malicious"), "--db", Db);
        var status = CliRunner.Run("db", "status", "--db", Db, "--format", "json");

        Assert.True(import.ExitCode == 0, import.Stderr);
        Assert.Contains("read 11 records", import.Stderr, StringComparison.Ordinal);
        Assert.Contains("11 new, 0 updated, 0 unchanged, 0 of other ecosystems, 0 skipped as malformed", import.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, status.ExitCode);
        using var json = JsonDocument.Parse(status.Stdout);
        var root = json.RootElement;
        Assert.Equal(Db, root.GetProperty("path").GetString());
        Assert.Equal(11, root.GetProperty("advisories").GetInt32());
        Assert.Equal(
            ["npm vulnerability 7", "NuGet vulnerability 2", "NuGet malicious 2"],
            root.GetProperty("counts").EnumerateArray().Select(c => $"{c.GetProperty("ecosystem").GetString()} {c.GetProperty("kind").GetString()} {c.GetProperty("advisories").GetInt32()}"));
        Assert.Equal("2026-03-19T12:23:24Z", root.GetProperty("newestModified").GetString());
        Assert.True(root.GetProperty("ageSeconds").GetInt64() < 3600);
        Assert.Contains(TestData.Reference("osv", "github"), root.GetProperty("source").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DbImport_CorruptArchive_ExitsTwoAndKeepsTheDatabase()
    {
        Assert.Equal(0, CliRunner.Run("db", "import", TestData.Reference("osv", "malicious"), "--db", Db).ExitCode);
        var before = File.ReadAllBytes(Db);
        var corrupt = _temp.File("all.zip");
        File.WriteAllText(corrupt, "PK not really a zip");

        var result = CliRunner.Run("db", "import", corrupt, "--db", Db);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("not a readable zip archive", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"the advisory database {Db} is unchanged", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Db));
    }

    [Fact]
    public void DbImport_OnlyMalformedRecords_ExitsTwoSaysWhyAndWritesNothing()
    {
        var result = CliRunner.Run("db", "import", TestData.Path("osv", "malformed"), "--db", Db);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("warning TG0009", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("$.aliases", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("6 record(s) read, 5 malformed, 1 of other ecosystems", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Db));
    }

    [Fact]
    public void DbImport_MalformedAmongValidRecords_ImportsTheValidOnesAndCountsTheSkipped()
    {
        var result = CliRunner.Run("db", "import", TestData.Path("osv", "malformed"), TestData.Reference("osv", "github"), "--db", Db);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("warning TG0009", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("9 new, 0 updated, 0 unchanged, 1 of other ecosystems, 5 skipped as malformed", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"name\": \"app\", \"lockfileVersion\": 3, \"packages\": {}}")]
    public void DbImport_ReplaceWithAFileThatIsNotOsv_ExitsTwoAndKeepsTheDatabase(string content)
    {
        Assert.Equal(0, CliRunner.Run("db", "import", TestData.Reference("osv", "github"), "--db", Db).ExitCode);
        var before = File.ReadAllBytes(Db);
        var notOsv = Path.Combine(Path.GetDirectoryName(Db)!, "package-lock.json");
        File.WriteAllText(notOsv, content);

        var result = CliRunner.Run("db", "import", "--replace", notOsv, "--db", Db);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no valid OSV record", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("is unchanged", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Db));
        using var status = JsonDocument.Parse(CliRunner.Run("db", "status", "--db", Db, "--format", "json").Stdout);
        Assert.Equal(9, status.RootElement.GetProperty("advisories").GetInt32());
    }

    [Fact]
    public void DbImport_NoPath_IsAUsageError()
    {
        var result = CliRunner.Run("db", "import", "--db", Db);

        Assert.Equal(2, result.ExitCode);
        Assert.False(File.Exists(Db));
    }

    [Fact]
    public void Age_Durations_ReadNaturally()
    {
        var now = new DateTimeOffset(2026, 1, 10, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal("just now", Tollgate.Cli.Commands.DbCommand.Age(now.AddSeconds(-20), now));
        Assert.Equal("5 min ago", Tollgate.Cli.Commands.DbCommand.Age(now.AddMinutes(-5), now));
        Assert.Equal("30 h ago", Tollgate.Cli.Commands.DbCommand.Age(now.AddHours(-30), now));
        Assert.Equal("9 days ago", Tollgate.Cli.Commands.DbCommand.Age(now.AddDays(-9), now));
        Assert.Equal("age unknown", Tollgate.Cli.Commands.DbCommand.Age(null, now));
    }
}
