using System.IO.Compression;
using System.Text.Json;
using Tollgate.Advisories;
using Tollgate.Tests.Advisories;

namespace Tollgate.Tests.Cli;

/// <summary>
/// A gate that could not check must never say pass, in any format: the table's headline, JSON <c>verdict</c>, the
/// Markdown title and SARIF <c>executionSuccessful</c>. Each case here was a pass (or a silent success) before.
/// </summary>
public sealed class FailClosedTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Example => Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm");
    private static string Advisories => Path.Combine(TestData.RepositoryRoot, "examples", "advisories");

    public static TheoryData<string> Formats() => new() { "table", "json", "sarif", "markdown" };

    /// <summary>Asserts that the report in <paramref name="format"/> says incomplete and nowhere says pass.</summary>
    private static void AssertIncomplete(CliRunner.Result result, string format, string because)
    {
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Contains(because, result.Stderr, StringComparison.Ordinal);
        switch (format)
        {
            case "json":
                using (var json = JsonDocument.Parse(result.Stdout))
                {
                    Assert.Equal("incomplete", json.RootElement.GetProperty("verdict").GetString());
                    Assert.Contains(json.RootElement.GetProperty("incomplete").EnumerateArray(), r => r.GetString()!.Contains(because, StringComparison.Ordinal));
                }
                break;
            case "sarif":
                using (var sarif = JsonDocument.Parse(result.Stdout))
                {
                    var run = sarif.RootElement.GetProperty("runs")[0];
                    Assert.False(run.GetProperty("invocations")[0].GetProperty("executionSuccessful").GetBoolean());
                    Assert.Equal("incomplete", run.GetProperty("properties").GetProperty("verdict").GetString());
                    Assert.Contains(run.GetProperty("invocations")[0].GetProperty("toolExecutionNotifications").EnumerateArray(),
                        n => n.GetProperty("message").GetProperty("text").GetString()!.Contains(because, StringComparison.Ordinal));
                }
                break;
            case "markdown":
                Assert.Matches("^## Tollgate (scan|MCP audit): incomplete", result.Stdout);
                Assert.Contains("**Result: INCOMPLETE.**", result.Stdout, StringComparison.Ordinal);
                Assert.Contains(because, result.Stdout, StringComparison.Ordinal);
                break;
            default:
                Assert.Contains("INCOMPLETE: ", result.Stdout, StringComparison.Ordinal);
                Assert.DoesNotContain("PASS", result.Stdout, StringComparison.Ordinal);
                break;
        }
    }

    /// <summary>A database holding one real PyPA record and nothing for npm.</summary>
    private string PyPIOnlyDatabase()
    {
        var folder = _temp.File("pypi-only");
        Directory.CreateDirectory(folder);
        using (var zip = ZipFile.OpenRead(OsvTestData.PyPIArchive()))
        {
            zip.Entries.First(e => e.Name.EndsWith(".json", StringComparison.Ordinal)).ExtractToFile(Path.Combine(folder, "record.json"));
        }
        var db = _temp.File("pypi-only.db");
        var import = CliRunner.Run("db", "import", folder, "--db", db);
        Assert.True(import.ExitCode == 0, import.Stderr);
        return db;
    }

    /// <summary>An advisory database with its schema and no records, as an interrupted first update could leave one.</summary>
    private string EmptyDatabase()
    {
        var db = _temp.File("empty.db");
        using var writer = AdvisoryStoreWriter.Open(db, out var error) ?? throw new InvalidOperationException(error);
        writer.Commit();
        return db;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Scan_DatabaseWithoutRecordsForTheScannedEcosystem_IsIncompleteInEveryFormat(string format)
    {
        var result = CliRunner.Run("scan", Example, "--db", PyPIOnlyDatabase(), "--format", format);

        AssertIncomplete(result, format, "the advisory database has no npm records: 138 npm package(s) were not checked");
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Scan_EmptyDatabase_IsIncompleteInEveryFormat(string format)
    {
        var result = CliRunner.Run("scan", Example, "--db", EmptyDatabase(), "--format", format);

        AssertIncomplete(result, format, "the advisory database has no npm records");
    }

    [Fact]
    public void Scan_CoverageIsShownInEveryFormat()
    {
        var table = CliRunner.Run("scan", Example, "--advisories", Advisories);
        var json = CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "json");
        var markdown = CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "markdown");
        var sarif = CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "sarif");

        // examples/advisories holds 7 npm GHSA records (all affect the example) and NuGet records.
        Assert.Contains("advisories: npm: 7 records for 138 package(s)", table.Stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json.Stdout);
        var npm = Assert.Single(doc.RootElement.GetProperty("advisories").GetProperty("ecosystems").EnumerateArray());
        Assert.Equal(("npm", 138, 7), (npm.GetProperty("ecosystem").GetString(), npm.GetProperty("packages").GetInt32(), npm.GetProperty("records").GetInt32()));
        Assert.Contains("Advisories: npm: 7 records for 138 package(s).", markdown.Stdout, StringComparison.Ordinal);
        using var log = JsonDocument.Parse(sarif.Stdout);
        Assert.Equal(7, log.RootElement.GetProperty("runs")[0].GetProperty("properties").GetProperty("advisories").GetProperty("ecosystems")[0].GetProperty("records").GetInt32());
    }

    [Fact]
    public void Scan_MissingAdvisoriesWarnInPolicy_WarnsInsteadOfIncomplete()
    {
        var project = _temp.File("project");
        Directory.CreateDirectory(project);
        File.Copy(Path.Combine(Example, "package-lock.json"), Path.Combine(project, "package-lock.json"));
        File.Copy(Path.Combine(Example, "package.json"), Path.Combine(project, "package.json"));
        File.WriteAllText(Path.Combine(project, "tollgate.yaml"), "missingAdvisories: warn\nfailOn: none\n");

        var result = CliRunner.Run("scan", project, "--db", PyPIOnlyDatabase(), "--format", "json");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("no npm advisories: 138 package(s) were not checked", result.Stderr, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal("warn", doc.RootElement.GetProperty("verdict").GetString());
    }

    [Fact]
    public void Scan_NoAdvisories_SaysAdvisoriesWereNotChecked()
    {
        var table = CliRunner.Run("scan", Example, "--no-advisories");
        var json = CliRunner.Run("scan", Example, "--no-advisories", "--format", "json");

        Assert.Contains("advisories: not checked (--no-advisories)", table.Stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.False(doc.RootElement.GetProperty("advisories").GetProperty("checked").GetBoolean());
    }

    public static TheoryData<string, string> UnreadableInputs() => new()
    {
        { "missing", "no such file or folder" },
        { "empty-lockfile", "the file is empty; expected a JSON document" },
        { "truncated-lockfile", "invalid JSON" },
        { "empty-object-lockfile", "this is not a lockfile npm wrote" },
        { "empty-yarn-lock", "the file is empty; yarn writes at least the '# yarn lockfile v1' line" },
        { "unreadable-yarn-lock", "expected an entry header ('name@range:'); the lines up to the next entry could not be read" },
        { "yarn-entry-without-version", "entry 'minimist@^1.2.5' has no version, so its package cannot be checked" },
        { "empty-poetry-lock", "poetry.lock has neither [[package]] entries nor a [metadata] table" },
        { "no-supported-file", "no supported lockfile or manifest found in this folder" },
    };

    private string Input(string kind)
    {
        var folder = _temp.File(kind);
        switch (kind)
        {
            case "missing":
                return folder;
            case "empty-lockfile":
                Directory.CreateDirectory(folder);
                File.WriteAllText(Path.Combine(folder, "package-lock.json"), "");
                return Path.Combine(folder, "package-lock.json");
            case "empty-object-lockfile":
                return Write(folder, "package-lock.json", "{}\n");
            case "empty-yarn-lock":
                return Write(folder, "yarn.lock", "\n");
            case "unreadable-yarn-lock":
                return Write(folder, "yarn.lock", "# yarn lockfile v1\n\n\nthis line is no entry header\n  version \"1.2.5\"\n");
            case "yarn-entry-without-version":
                return Write(folder, "yarn.lock", "# yarn lockfile v1\n\n\nminimist@^1.2.5:\n  resolved \"https://registry.example/minimist/-/minimist-1.2.5.tgz\"\n");
            case "empty-poetry-lock":
                return Write(folder, "poetry.lock", "");
            case "truncated-lockfile":
                Directory.CreateDirectory(folder);
                var text = File.ReadAllText(Path.Combine(Example, "package-lock.json"));
                File.WriteAllText(Path.Combine(folder, "package-lock.json"), text[..(text.Length / 2)]);
                return Path.Combine(folder, "package-lock.json");
            default:
                Directory.CreateDirectory(folder);
                File.WriteAllText(Path.Combine(folder, "README.md"), "# nothing to scan\n");
                return folder;
        }
    }

    private static string Write(string folder, string name, string text)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name), text);
        return folder;
    }

    [Theory]
    [InlineData("--sbom", "this is a folder; an SBOM file was expected")]
    [InlineData("--policy", "this is a folder; a file was expected")]
    [InlineData("--vex", "this is a folder; a file was expected")]
    public void Scan_FolderWhereAFileIsExpected_SaysSoAndExitsTwo(string option, string message)
    {
        var folder = _temp.File("a-folder");
        Directory.CreateDirectory(folder);
        string[] args = option == "--sbom" ? ["scan", option, folder] : ["scan", Example, option, folder];

        var result = CliRunner.Run([.. args, "--advisories", Advisories, "--format", "json"]);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Contains($"a-folder: error TG0001: {message}", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("denied", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("file not found", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(UnreadableInputs))]
    public void Scan_InputThatCouldNotBeRead_IsIncompleteInEveryFormat(string kind, string message)
    {
        foreach (var format in new[] { "table", "json", "sarif", "markdown" })
        {
            var result = CliRunner.Run("scan", Input(kind), "--advisories", Advisories, "--format", format);

            AssertIncomplete(result, format, message);
        }
    }

    [Theory]
    [MemberData(nameof(UnreadableInputs))]
    public void McpAudit_And_Deps_InputThatCouldNotBeRead_SayIncomplete(string kind, string message)
    {
        _ = message;
        var deps = CliRunner.Run("deps", Input(kind), "--format", "json");
        Assert.Equal(2, deps.ExitCode);
        using (var doc = JsonDocument.Parse(deps.Stdout))
        {
            Assert.False(doc.RootElement.GetProperty("complete").GetBoolean());
        }
        var sbom = CliRunner.Run("sbom", Input(kind));
        Assert.Equal(2, sbom.ExitCode);
        Assert.Empty(sbom.Stdout);
    }

    [Fact]
    public void McpAudit_FolderWithoutConfiguration_IsIncompleteInJsonAndMarkdown()
    {
        var folder = Input("no-supported-file");

        var json = CliRunner.Run("mcp", "audit", folder, "--no-advisories", "--format", "json");
        var markdown = CliRunner.Run("mcp", "audit", folder, "--no-advisories", "--format", "markdown");

        AssertIncomplete(json, "json", "no MCP client configuration");
        AssertIncomplete(markdown, "markdown", "no MCP client configuration");
    }

    [Fact]
    public void Scan_AdvisoriesAndNoAdvisoriesTogether_IsAUsageErrorBeforeScanning()
    {
        var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--no-advisories");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--advisories and --no-advisories contradict each other", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public void Scan_PathAndSbomTogether_IsAUsageErrorBeforeScanning()
    {
        var sbom = _temp.File("sbom.json");
        Assert.Equal(0, CliRunner.Run("sbom", Example, "-o", sbom).ExitCode);

        var result = CliRunner.Run("scan", Example, "--sbom", sbom, "--advisories", Advisories);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("give PATH or --sbom, not both", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Theory]
    [InlineData(new[] { "scan", "EXAMPLE", "--fial-on", "critical" }, "unknown option '--fial-on' for 'tollgate scan'; did you mean '--fail-on'?")]
    [InlineData(new[] { "scan", "EXAMPLE", "--jsno" }, "unknown option '--jsno' for 'tollgate scan'")]
    [InlineData(new[] { "scan", "EXAMPLE", "--advisory", "ADVISORIES" }, "did you mean '--advisories'?")]
    [InlineData(new[] { "deps", "EXAMPLE", "--exlude", "x" }, "did you mean '--exclude'?")]
    [InlineData(new[] { "inventory", "list", "--stor", "x.db" }, "did you mean '--store'?")]
    public void UnknownOption_IsAUsageErrorNamingTheClosestOptionAndNothingRuns(string[] args, string message)
    {
        var result = CliRunner.Run([.. args.Select(a => a == "EXAMPLE" ? Example : a == "ADVISORIES" ? Advisories : a)]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("no such file or folder", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public void Quiet_LeavesOutProgressButKeepsTheResult()
    {
        var loud = CliRunner.Run("scan", Example, "--advisories", Advisories);
        var quiet = CliRunner.Run("scan", Example, "--advisories", Advisories, "--quiet");

        Assert.Equal(1, quiet.ExitCode);
        Assert.Contains("advisories 11 record(s)", loud.Stderr, StringComparison.Ordinal);
        Assert.Empty(quiet.Stderr);
        Assert.Equal(loud.Stdout, quiet.Stdout);
    }

    [Fact]
    public void Scan_PrivateNameResolvedFromTheDefaultRegistry_FailsWithTG1009AndIsStillMatchedAgainstAdvisories()
    {
        // The example's lockfile records where npm resolved minimist; the project's .npmrc names that registry as the
        // default (read with `npm config get registry` in the project, as npm itself would).
        var project = _temp.File("confusion");
        Directory.CreateDirectory(project);
        var lockfile = File.ReadAllText(Path.Combine(Example, "package-lock.json"));
        File.WriteAllText(Path.Combine(project, "package-lock.json"), lockfile);
        File.Copy(Path.Combine(Example, "package.json"), Path.Combine(project, "package.json"));
        using (var doc = JsonDocument.Parse(lockfile))
        {
            var resolved = doc.RootElement.GetProperty("packages").GetProperty("node_modules/minimist").GetProperty("resolved").GetString()!;
            File.WriteAllText(Path.Combine(project, ".npmrc"), "registry=" + resolved[..(resolved.IndexOf("/minimist/", StringComparison.Ordinal) + 1)] + "\n");
        }
        File.WriteAllText(Path.Combine(project, "tollgate.yaml"), "private: [ \"minimist\" ]\n");

        var result = CliRunner.Run("scan", project, "--advisories", Advisories, "--format", "json");

        Assert.Equal(1, result.ExitCode);
        using var report = JsonDocument.Parse(result.Stdout);
        var minimist = report.RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("package").GetProperty("name").GetString() == "minimist")
            .ToDictionary(f => f.GetProperty("id").GetString()!, f => f.GetProperty("level").GetString());
        Assert.Equal("fail", minimist["TG1009"]);
        Assert.Equal("fail", minimist["GHSA-xvch-5gv4-984h"]);
        Assert.DoesNotContain(report.RootElement.GetProperty("notMatched").EnumerateArray(), n => n.GetProperty("purl").GetString()!.Contains("minimist", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("list")]
    [InlineData("show")]
    [InlineData("affected")]
    [InlineData("rescan")]
    public void Inventory_QueryOnAMissingStore_ExitsTwoAndCreatesNothing(string verb)
    {
        var store = _temp.File("typo", "inventory.db");
        string[] args = verb switch
        {
            "show" => ["inventory", "show", "weather-mcp", "--store", store],
            "affected" => ["inventory", "affected", "pkg:npm/axios@1.5.1", "--store", store],
            "rescan" => ["inventory", "rescan", "--store", store, "--db", PyPIOnlyDatabase()],
            _ => ["inventory", "list", "--store", store],
        };

        var result = CliRunner.Run(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no inventory store at", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("0 deployment(s)", result.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.File("typo")));
    }

    [Theory]
    [InlineData("list")]
    [InlineData("show")]
    [InlineData("affected")]
    [InlineData("hits")]
    [InlineData("add")]
    public void Inventory_StoreThatIsNoDatabase_ExitsTwoNamingTheFile(string verb)
    {
        var store = _temp.File("damaged", "inventory.db");
        Directory.CreateDirectory(Path.GetDirectoryName(store)!);
        File.WriteAllText(store, "this file is not an SQLite database, and is long enough to be read as one\n");
        string[] args = verb switch
        {
            "show" => ["inventory", "show", "weather-mcp", "--store", store],
            "affected" => ["inventory", "affected", "pkg:npm/axios@1.5.1", "--store", store],
            "hits" => ["inventory", "hits", "--store", store],
            "add" => ["inventory", "add", Path.Combine(Example, "package-lock.json"), "--deployment", "weather-mcp", "--store", store],
            _ => ["inventory", "list", "--store", store],
        };

        var result = CliRunner.Run(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"inventory store {store}: ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_NamingAFolder_IsAnInputErrorNotAnInternalError()
    {
        var result = CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "json", "-o", _temp.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is a folder; name a file to write", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("bug", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_InAFolderThatDoesNotExist_IsAnInputErrorAndCreatesNothing()
    {
        var missing = _temp.File("no", "such", "dir");

        var result = CliRunner.Run("deps", Example, "--format", "json", "-o", Path.Combine(missing, "graph.json"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("does not exist", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.File("no")));
    }
}

/// <summary>Tables at 80 columns: ids, names and versions are never broken in the middle.</summary>
public sealed class NarrowTerminalTests
{
    private static string Example => Path.Combine(TestData.RepositoryRoot, "examples", "mcp-server-npm");
    private static string Advisories => Path.Combine(TestData.RepositoryRoot, "examples", "advisories");

    private static (int Exit, string Stdout) Run(int width, params string[] args)
    {
        var stdout = new StringWriter();
        var exit = Tollgate.Cli.TollgateCli.Run(args, new Tollgate.Cli.Terminal(stdout, new StringWriter(), width));
        return (exit, stdout.ToString());
    }

    [Theory]
    [InlineData("scan")]
    [InlineData("deps")]
    public void Table_At80Columns_KeepsEveryIdAndPackageWholeOnOneLine(string command)
    {
        var (exit, text) = command == "scan"
            ? Run(80, "scan", Example, "--advisories", Advisories)
            : Run(80, "deps", Example);

        Assert.True(exit is 0 or 1);
        var lines = text.Split('\n');
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= 80 || !l.Contains('│'), $"a table line wider than 80 columns: {l}"));
        // Every token the report names appears whole on one line: the advisory ids, or every package name.
        using var json = JsonDocument.Parse(command == "scan"
            ? CliRunner.Run("scan", Example, "--advisories", Advisories, "--format", "json").Stdout
            : CliRunner.Run("deps", Example, "--format", "json").Stdout);
        var tokens = command == "scan"
            ? json.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("id").GetString()!).ToList()
            : json.RootElement.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
        Assert.True(tokens.Count >= 7);
        Assert.All(tokens, t => Assert.Contains(lines, l => l.Contains(t, StringComparison.Ordinal)));
    }

    [Fact]
    public void Scan_IgnoredFinding_ShowsReasonOwnerAndExpiryInTheTable()
    {
        using var temp = new Tollgate.Tests.Advisories.TempFolder();
        File.Copy(Path.Combine(Example, "package-lock.json"), temp.File("package-lock.json"));
        File.Copy(Path.Combine(Example, "package.json"), temp.File("package.json"));
        File.WriteAllText(temp.File("tollgate.yaml"), """
            ignore:
              - id: GHSA-xvch-5gv4-984h
                reason: "minimist only parses our own fixed argv"
                owner: team-mcp
                expires: 2099-12-31
            """);

        foreach (var width in new[] { 80, 200 })
        {
            var (_, text) = Run(width, "scan", temp.Path, "--advisories", Advisories);

            var flat = string.Join(" ", text.Split('\n').Select(l => l.Trim('│', ' ')));
            Assert.Contains("ignored: minimist only parses our own fixed argv, owner team-mcp, until 2099-12-31", System.Text.RegularExpressions.Regex.Replace(flat, @"[│\s]+", " "), StringComparison.Ordinal);
        }
    }
}
