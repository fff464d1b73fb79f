using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;
using Xunit.Abstractions;

namespace Tollgate.Tests.Advisories;

public sealed class AdvisoryImportTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Import_PyPIArchive_ImportsEveryRecord()
    {
        var zip = OsvTestData.PyPIArchive();
        var db = _temp.File("advisories.db");
        var diagnostics = new DiagnosticBag();

        var result = AdvisoryImporter.Import([zip], new AdvisoryImportOptions { DatabasePath = db }, diagnostics);

        output.WriteLine($"{result.Read} records in {result.Elapsed.TotalMilliseconds:0} ms: {result.RecordsPerSecond:0} records/s");
        Assert.True(result.Succeeded, string.Join("\n", diagnostics.Items));
        Assert.Empty(diagnostics.Items);
        Assert.Equal(2661, result.Read);
        Assert.Equal(2661, result.Inserted);
    }
}
