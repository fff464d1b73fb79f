using Tollgate.Ecosystems;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Policy;
using Tollgate.Tests.Inputs;
using Tollgate.Tests.PyPI;

namespace Tollgate.Tests.Fuzz;

/// <summary>The essence of each distinct problem <see cref="ReaderFuzzTests"/> found, as a focused regression test.</summary>
public sealed class FuzzFoundTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("tollgate-fuzz-found-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Theory]
    // Comment stripping tried a pattern at every start in a run of spaces: 250 lines of 4,000 spaces took 14 s.
    [InlineData("{0}click==8.1.7")]
    // The name @ url check had two runs of spaces that could share the same spaces: 10 s.
    [InlineData("click{0}==8.1.7")]
    public void RequirementsFile_LinesOfThousandsOfSpaces_ReadInLinearTime(string line)
    {
        var path = Path.Combine(_temp.FullName, "requirements.txt");
        var spaces = new string(' ', 4_000);
        File.WriteAllText(path, "idna==3.7 # pinned\n" + string.Concat(Enumerable.Repeat(string.Format(System.Globalization.CultureInfo.InvariantCulture, line, spaces) + "\n", 250)));

        var ((graph, diagnostics), elapsed) = QuickWork.Time(() => PyPITestRead.Read(path));

        QuickWork.AssertQuick(elapsed);
        diagnostics.NoErrors();
        Assert.Equal("3.7", graph.One("idna").Version);
        Assert.Equal("8.1.7", graph.One("click").Version);
    }

    [Theory]
    [InlineData("- ")]
    [InlineData("? ")]
    [InlineData("{a: ")]
    public async Task PnpmLock_CompactBlockNesting_TooDeepNotStackOverflow(string open)
    {
        // "- - - a" nests a sequence per indicator on one line; the nesting check counted indentation and brackets
        // only, and YamlDotNet's recursive loader overflowed the stack (the fuzz test's process died).
        var path = Path.Combine(_temp.FullName, "pnpm-lock.yaml");
        File.WriteAllText(path, "lockfileVersion: '9.0'\npackages:\n  " + string.Concat(Enumerable.Repeat(open, 100_000)) + "a\n");
        var bag = new DiagnosticBag();

        // On a thread pool thread, whose stack is smaller than the main thread's.
        var project = await Task.Run(() => PnpmLockReader.Read(path, null, bag));

        Assert.Null(project);
        var d = Assert.Single(bag.Items);
        Assert.Equal(DiagnosticIds.TooDeep, d.Id);
        Assert.Equal(3, d.Location!.Line);
    }

    [Fact]
    public async Task PnpmLock_IndentedOneColumnPerLevel_TooDeep()
    {
        // Indentation counted two columns a level, so one column a level passed the check at twice the depth.
        var path = Path.Combine(_temp.FullName, "pnpm-lock.yaml");
        File.WriteAllText(path, "lockfileVersion: '9.0'\n" + string.Concat(Enumerable.Range(0, 300).Select(i => new string(' ', i) + "a:\n")));
        var bag = new DiagnosticBag();

        var project = await Task.Run(() => PnpmLockReader.Read(path, null, bag));

        Assert.Null(project);
        Assert.Equal(DiagnosticIds.TooDeep, Assert.Single(bag.Items).Id);
    }

    /// <summary>Reads one file through discovery, as 'tollgate deps FILE' does.</summary>
    private (DependencyGraph Graph, IReadOnlyList<Diagnostic> Diagnostics) ReadAs(string relativePath, string content)
    {
        var path = Path.Combine(_temp.FullName, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        var bag = new DiagnosticBag();
        return (EcosystemReaders.Discovery().Read([path], bag), bag.Items);
    }

    [Theory]
    // A package path or key that names no package: PackageUrl threw "The value cannot be an empty string".
    [InlineData("package-lock.json", "{\"lockfileVersion\": 3, \"packages\": {\"\": {}, \"https://\": {\"version\": \"1.0.0\"}}}", 1)]
    [InlineData("package-lock.json", "{\"lockfileVersion\": 1, \"dependencies\": {\"@scope/\": {\"version\": \"1.0.0\"}}}", 1)]
    [InlineData("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  '@scope/@1.0.0': {}\nsnapshots:\n  '@scope/@1.0.0': {}\n", 3)]
    [InlineData("requirements.txt", "# a local folder, named by its pyproject.toml or its folder name\n..\n", 2)]
    [InlineData("pylock.toml", "lock-version = '1.0'\ncreated-by = 'x'\n[[packages]]\nname = '.'\nversion = '1.0'\n", 4)]
    [InlineData("uv.lock", "version = 1\n[[package]]\nname = '-'\nversion = '1.0'\nsource = { registry = 'https://pypi.org/simple' }\n", 3)]
    [InlineData("Pipfile.lock", "{\"_meta\": {\"pipfile-spec\": 6}, \"default\": {\"_\": {\"version\": \"==1.0\"}}, \"develop\": {}}", 1)]
    [InlineData("packages.lock.json", "{\"version\": 1, \"dependencies\": {\"net8.0\": {\"\": {\"type\": \"Direct\", \"resolved\": \"1.0.0\"}}}}", 1)]
    public void Read_EntryWithoutUsablePackageName_SkippedWithWarningNotException(string fileName, string content, int line)
    {
        var (graph, diagnostics) = ReadAs(fileName, content);

        var warning = Assert.Single(diagnostics, d => d.Id == DiagnosticIds.InvalidEntry);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal(line, warning.Location!.Line);
        Assert.Empty(graph.Components);
    }

    [Theory]
    // ': value' without its key under a nested key: YamlDotNet threw ArgumentException ("unsupported event").
    [InlineData("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    : x\n", 4)]
    [InlineData("yarn.lock", "__metadata:\n  version: 8\n\"a@npm:^1\":\n  resolution:\n    : x\n", 5)]
    public void Read_ValueWithoutKeyInYaml_InvalidYamlNotException(string fileName, string content, int line)
    {
        var (_, diagnostics) = ReadAs(fileName, content);

        var error = Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(DiagnosticIds.InvalidYaml, error.Id);
        Assert.Equal(line, error.Location!.Line);
    }

    [Fact]
    public void Policy_ValueWithoutKey_SyntaxErrorNotException()
    {
        var result = PolicyLoader.Parse("failOn: high\nrules:\n  TG1001:\n    : x\n", "tollgate.yaml");

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.PolicySyntax, error.Id);
        Assert.Equal(4, error.Location!.Line);
    }

    [Fact]
    public void YarnBerry_DoubleColonRightAfterNpm_ReadNotException()
    {
        // Found with seed 3: "npm::1.3.0" found the "::" of parameters inside "npm:" itself, and cut a negative length.
        var (graph, diagnostics) = ReadAs("yarn.lock", "__metadata:\n  version: 8\n\"a@npm:^1\":\n  resolution: \"a@npm::1.3.0\"\n");

        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("a", Assert.Single(graph.Components).Name);
    }

    [Fact]
    public async Task YarnBerry_PatchOfPatchWithoutEnd_SkippedNotStackOverflow()
    {
        // A patch locator names the locator it patches; each level was a recursive call.
        var resolution = "a@" + string.Concat(Enumerable.Repeat("patch:a@", 100_000)) + "npm%3A1.0.0";
        var content = "__metadata:\n  version: 8\n\"a@npm:^1\":\n  resolution: \"" + resolution + "\"\n";

        var (graph, diagnostics) = await Task.Run(() => ReadAs("yarn.lock", content));

        Assert.Empty(graph.Components);
        Assert.Equal(3, Assert.Single(diagnostics, d => d.Id == DiagnosticIds.InvalidEntry).Location!.Line);
    }
}
