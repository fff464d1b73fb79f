using System.Diagnostics;
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
}
