namespace Tollgate.Tests;

/// <summary>Paths to test inputs: this project's testdata/ (copied beside the test assembly).</summary>
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

    /// <summary>
    /// A file or folder under testdata/reference/: third-party reference data (official schemas, other tools' SBOMs,
    /// real OSV records, real Python lockfiles), each with its source and licence in that folder's README.
    /// </summary>
    public static string Reference(params string[] parts)
    {
        var path = Path(["reference", .. parts]);
        return File.Exists(path) || Directory.Exists(path)
            ? path
            : throw new FileNotFoundException("test data missing: testdata/reference/" + string.Join('/', parts), path);
    }
}
