using Tollgate.Graph;
using Tollgate.Policy;

namespace Tollgate.Tests.Policy;

public sealed class PolicyFileSearchTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tollgate-policy-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Folder(params string[] parts)
    {
        var path = Path.Combine([_root, .. parts]);
        Directory.CreateDirectory(path);
        return path;
    }

    private static string Write(string folder, string name, string text = "failOn: critical\n")
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Find_FileInAParentFolder_FoundFromSubfolderAndFile()
    {
        var repo = Folder("repo");
        Folder("repo", ".git");
        var expected = Write(repo, "tollgate.yaml");
        var app = Folder("repo", "services", "app");
        var lockfile = Write(app, "package-lock.json", "{}");

        Assert.Equal(expected, PolicyLoader.Find(app));
        Assert.Equal(expected, PolicyLoader.Find(lockfile));
    }

    [Fact]
    public void Find_NearestFolderWins()
    {
        var repo = Folder("repo");
        Write(repo, "tollgate.yaml");
        var app = Folder("repo", "app");
        var nearer = Write(app, ".tollgate.yaml");

        Assert.Equal(nearer, PolicyLoader.Find(app));
    }

    [Fact]
    public void Find_StopsAtRepositoryRoot()
    {
        Write(_root, "tollgate.yaml");
        Folder("repo", ".git");
        var app = Folder("repo", "app");

        Assert.Null(PolicyLoader.Find(app));
    }

    [Fact]
    public void Find_GitWorktreeFile_AlsoMarksTheRoot()
    {
        Write(_root, "tollgate.yaml");
        var repo = Folder("repo");
        Write(repo, ".git", "gitdir: /elsewhere\n");

        Assert.Null(PolicyLoader.Find(repo));
    }

    [Fact]
    public void Load_TwoFilesInOneFolder_UsesFirstAndWarns()
    {
        var repo = Folder("repo");
        Folder("repo", ".git");
        Write(repo, "tollgate.yml", "failOn: low\n");
        Write(repo, "tollgate.yaml", "failOn: medium\n");

        var result = PolicyLoader.Load(null, repo);

        Assert.Equal(Severity.Medium, result.Policy!.FailOn);
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("tollgate.yml is not read", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NoFile_DefaultPolicy()
    {
        var repo = Folder("repo");
        Folder("repo", ".git");

        var result = PolicyLoader.Load(null, repo);

        Assert.Same(TollgatePolicy.Default, result.Policy);
        Assert.Null(result.Path);
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Load_ExplicitPath_WinsOverSearch()
    {
        var repo = Folder("repo");
        Folder("repo", ".git");
        Write(repo, "tollgate.yaml", "failOn: low\n");
        var other = Write(Folder("elsewhere"), "strict.yaml", "failOn: critical\n");

        var result = PolicyLoader.Load(other, repo);

        Assert.Equal(Severity.Critical, result.Policy!.FailOn);
    }
}
