using System.Diagnostics;
using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Tests.PyPI;

namespace Tollgate.Tests.Fuzz;

/// <summary>The essence of each distinct problem <see cref="ReaderFuzzTests"/> found, as a focused regression test.</summary>
public sealed class FuzzFoundTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("tollgate-fuzz-found-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public void RequirementsFile_LinesOfThousandsOfSpaces_ReadInLinearTime()
    {
        // Comment stripping tried a pattern at every start in a run of spaces: 250 lines of 4,000 spaces took 14 s.
        var path = Path.Combine(_temp.FullName, "requirements.txt");
        File.WriteAllText(path, "idna==3.7 # pinned\n" + string.Concat(Enumerable.Repeat(new string(' ', 4_000) + "click==8.1.7\n", 250)));

        var clock = Stopwatch.StartNew();
        var (graph, diagnostics) = PyPITestRead.Read(path);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
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
}
