namespace Tollgate.Tests.Reports;

/// <summary>
/// Compares text with a committed file under testdata/reports/. With TOLLGATE_UPDATE_SNAPSHOTS=1 the committed
/// file is rewritten instead (review the diff before committing it).
/// </summary>
internal static class Snapshot
{
    public static void Match(string name, string actual)
    {
        var committed = Path.Combine(TestData.RepositoryRoot, "tests", "Tollgate.Tests", "testdata", "reports", name);
        if (Environment.GetEnvironmentVariable("TOLLGATE_UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(committed, actual);
            return;
        }
        var expected = File.ReadAllText(TestData.Path("reports", name));
        if (expected != actual)
        {
            // Beside the test assembly, not in the run's temporary folder, which is removed when the run ends.
            var received = Path.Combine(AppContext.BaseDirectory, "received-" + name);
            File.WriteAllText(received, actual);
            Assert.Fail($"{name} differs from the snapshot; the output is in {received}. Diff it against testdata/reports/{name}.");
        }
    }
}
