namespace Tollgate.Tests;

/// <summary>Paths to test inputs: this project's testdata/ (copied beside the test assembly) and the shared data folder.</summary>
internal static class TestData
{
    /// <summary>A file or folder under testdata/.</summary>
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([AppContext.BaseDirectory, "testdata", .. parts]);

    /// <summary>The repository root (the folder holding Tollgate.slnx).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Tollgate.slnx")))
            {
                dir = dir.Parent;
            }
            return dir?.FullName ?? throw new InvalidOperationException("Tollgate.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>A file or folder under the shared reference data (../shared/data beside the repository), or null when absent.</summary>
    public static string? Shared(params string[] parts)
    {
        var path = System.IO.Path.Combine([RepositoryRoot, "..", "shared", "data", .. parts]);
        return File.Exists(path) || Directory.Exists(path) ? System.IO.Path.GetFullPath(path) : null;
    }
}
