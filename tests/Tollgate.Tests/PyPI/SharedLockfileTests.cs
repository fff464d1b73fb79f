using System.Text.Json;
using System.Text.RegularExpressions;
using Tollgate.Graph;

namespace Tollgate.Tests.PyPI;

/// <summary>
/// Real lockfiles from public projects (testdata/reference/lockfiles/python). Expected counts come from simple, independent
/// readings of the files (line patterns, System.Text.Json), not from the readers under test.
/// </summary>
public sealed partial class SharedLockfileTests
{
    private static string Shared(params string[] parts) => TestData.Reference(["lockfiles", "python", .. parts]);

    private static string[] Lines(string path) => File.ReadAllLines(path);

    /// <summary>The names under each [[package]] header: the first `name = "..."` line after it.</summary>
    private static List<string> PackageNames(string path)
    {
        var names = new List<string>();
        var lines = Lines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i] == "[[package]]" && NameLine().Match(lines[i + 1]) is { Success: true } m)
            {
                names.Add(m.Groups[1].Value);
            }
        }
        return names;
    }

    [GeneratedRegex("^name = \"([^\"]+)\"$")]
    private static partial Regex NameLine();

    [Fact]
    public void UvLock_McpServerFetch_CountsEdgesAndDirect()
    {
        var lockFile = Shared("uv-mcp-server-fetch", "uv.lock");
        var names = PackageNames(lockFile);

        var (graph, diagnostics) = PyPITestRead.Read(Path.GetDirectoryName(lockFile)!);

        diagnostics.NoErrors();
        Assert.Equal(58, names.Count);
        var root = Assert.Single(graph.Roots);
        Assert.Equal("mcp-server-fetch", root.Name); // the package at source { editable = "." }
        Assert.Equal(names.Count - 1, graph.Components.Length);
        // [package] mcp-server-fetch: 7 dependencies and 4 in the dev group.
        Assert.Equal(["httpx", "markdownify", "mcp", "protego", "pydantic", "pyright", "pytest", "pytest-asyncio", "readabilipy", "requests", "ruff"],
            graph.ChildrenOf(root.Key).Select(k => graph.Find(k)!.Name).Order(StringComparer.Ordinal));
        Assert.Equal(DependencyScopes.Dev, graph.One("pytest-asyncio").Scopes);
        Assert.True(graph.One("mcp").Direct);
        Assert.Equal(["exceptiongroup@1.2.2", "idna@3.18", "sniffio@1.3.1", "typing-extensions@4.15.0"], graph.ChildLabels(graph.One("anyio").Key));
        var anyio = graph.One("anyio");
        Assert.Equal("4.6.2.post1", anyio.Version);
        Assert.Equal(2, anyio.Integrity.Length); // the sdist and one wheel
        Assert.Equal(Origin.Registry("https://pypi.invalid/simple"), anyio.Origin);
    }

    [Fact]
    public void UvLock_McpServerGit_Counts()
    {
        var lockFile = Shared("uv-mcp-server-git", "uv.lock");

        var (graph, diagnostics) = PyPITestRead.Read(lockFile);

        diagnostics.NoErrors();
        Assert.Equal(PackageNames(lockFile).Count - 1, graph.Components.Length);
        Assert.Equal("mcp-server-git", graph.Roots.Single().Name);
    }

    [Fact]
    public void UvLock_PythonSdkWorkspace_OneRootPerMember()
    {
        var lockFile = Shared("uv-mcp-python-sdk", "uv.lock");
        var lines = Lines(lockFile);
        var membersStart = Array.IndexOf(lines, "members = [");
        var members = lines.Skip(membersStart + 1).TakeWhile(l => l != "]").Count();

        var (graph, diagnostics) = PyPITestRead.Read(Path.GetDirectoryName(lockFile)!);

        diagnostics.NoErrors();
        Assert.Equal(131, PackageNames(lockFile).Count);
        Assert.Equal(17, members);
        Assert.Equal(members, graph.Roots.Length);
        Assert.Equal("mcp", graph.Roots[0].Name);
        Assert.EndsWith("pyproject.toml", graph.Roots[0].Files[1], StringComparison.Ordinal);
        // Every non-member package appears; members appear only where another member depends on them.
        Assert.Equal(131 - members, graph.Components.Count(c => c.Origin.Kind != OriginKind.Workspace));
        Assert.Equal(new Origin(OriginKind.Workspace, "src/mcp-types"), graph.One("mcp-types").Origin);
        var strict = graph.One("strict-no-cover");
        Assert.Equal(OriginKind.Git, strict.Origin.Kind);
        Assert.EndsWith("strict-no-cover#7fc59da2c4dff919db2095a0f0e47101b657131d", strict.Origin.Location, StringComparison.Ordinal);
        // pyjwt[crypto]: the extra's dependency hangs from pyjwt.
        Assert.Contains(graph.ChildrenOf(graph.One("pyjwt").Key), k => graph.Find(k)!.Name == "cryptography");
        // "mcp[cli]" in mcp's own dev group makes the cli extra's packages direct dev dependencies of mcp.
        Assert.Contains(graph.ChildrenOf(graph.Roots[0].Key), k => graph.Find(k)!.Name == "typer");
        Assert.Equal(DependencyScopes.Prod, graph.One("starlette").Scopes & DependencyScopes.Prod);
    }

    [Fact]
    public void UvLock_AwslabsKeyspaces_ExtraAskedForInsideAnExtraIsFollowed()
    {
        var lockFile = Shared("uv-awslabs-keyspaces", "uv.lock");
        var names = PackageNames(lockFile);

        var (graph, diagnostics) = PyPITestRead.Read(Path.GetDirectoryName(lockFile)!);

        diagnostics.NoErrors();
        Assert.Equal(118, names.Count);
        Assert.Equal("awslabs-amazon-keyspaces-mcp-server", graph.Roots.Single().Name);
        // Every locked package but the project itself; keyring, aiofile and the rest were missing when only
        // [package].dependencies were searched for extras.
        Assert.Equal(names.Count - 1, graph.Components.Length);
        // fastmcp -> fastmcp-slim[client,server], whose extras' lists ask for py-key-value-aio[filetree,keyring,memory].
        Assert.Contains("keyring@25.7.0", graph.ChildLabels(graph.One("py-key-value-aio").Key));
        var keyring = graph.One("keyring");
        Assert.Equal(DependencyScopes.Prod, keyring.Scopes);
        Assert.Equal(["fastmcp@3.4.3", "fastmcp-slim@3.4.3", "py-key-value-aio@0.4.5", "keyring@25.7.0"],
            graph.ShortestPathTo(keyring.Key).Skip(1).Select(graph.Label));
        Assert.Equal(["3.11.1", "3.9.0"], graph.FindByName("aiofile").Select(c => c.Version).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void UvLock_LogfireMcp_ExtraInADevGroupIsFollowed()
    {
        var lockFile = Shared("uv-logfire-mcp", "uv.lock");
        var names = PackageNames(lockFile);

        var (graph, diagnostics) = PyPITestRead.Read(Path.GetDirectoryName(lockFile)!);

        diagnostics.NoErrors();
        Assert.Equal(76, names.Count);
        Assert.Equal("logfire-mcp", graph.Roots.Single().Name);
        Assert.Equal(names.Count - 1, graph.Components.Length);
        // [package.dev-dependencies] dev = [ { name = "inline-snapshot", extra = ["black"] }, ... ]
        Assert.Contains("black@25.1.0", graph.ChildLabels(graph.One("inline-snapshot").Key));
        Assert.Equal(DependencyScopes.Dev, graph.One("black").Scopes);
        Assert.Equal(DependencyScopes.Dev, graph.One("pathspec").Scopes);
        // mcp[cli] in [package].dependencies was followed before: typer is a production package.
        Assert.Equal(DependencyScopes.Prod, graph.One("typer").Scopes & DependencyScopes.Prod);
    }

    [Fact]
    public void PoetryLock_Poetry_CountsScopesAndGitSource()
    {
        var lockFile = Shared("poetry-poetry", "poetry.lock");

        var (graph, diagnostics) = PyPITestRead.Read(Path.GetDirectoryName(lockFile)!);

        diagnostics.NoErrors();
        Assert.Equal(78, PackageNames(lockFile).Count);
        Assert.Equal(78, graph.Components.Length);
        Assert.Equal("poetry@2.5.0.dev0", graph.Roots.Single().DisplayName);
        // 23 [project].dependencies + 1 dev + 10 test + 2 typing + 1 github-actions, dulwich counted twice.
        Assert.Equal(35, graph.Components.Count(c => c.Direct));
        var core = graph.One("poetry-core");
        Assert.Equal("2.4.1", core.Version);
        Assert.Equal(OriginKind.Git, core.Origin.Kind);
        Assert.True(core.Direct);
        Assert.Equal(DependencyScopes.Dev, graph.One("pytest-github-actions-annotate-failures").Scopes);
        var cachecontrol = graph.One("cachecontrol");
        Assert.Equal("0.14.4", cachecontrol.Version);
        Assert.Contains(graph.ChildrenOf(cachecontrol.Key), k => graph.Find(k)!.Name == "filelock");
        Assert.Equal(2, graph.One("anyio").Integrity.Length);
    }

    [Fact]
    public void PipfileLock_Pipenv_CountsAndDirectFromPipfile()
    {
        var lockFile = Shared("pipfile-pipenv", "Pipfile.lock");
        using var json = JsonDocument.Parse(File.ReadAllText(lockFile));
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        foreach (var section in new[] { "default", "develop" })
        {
            foreach (var entry in json.RootElement.GetProperty(section).EnumerateObject())
            {
                distinct.Add(entry.Name + "@" + entry.Value.GetProperty("version").GetString());
            }
        }
        var pipfile = Lines(Path.Combine(Path.GetDirectoryName(lockFile)!, "Pipfile"));
        var declared = pipfile.SkipWhile(l => l != "[dev-packages]").Skip(1).TakeWhile(l => l.Length > 0).Count()
            + pipfile.SkipWhile(l => l != "[packages]").Skip(1).TakeWhile(l => l.Length > 0).Count();

        var (graph, diagnostics) = PyPITestRead.Read(Path.GetDirectoryName(lockFile)!);

        diagnostics.NoErrors();
        Assert.Equal(105, distinct.Count);
        Assert.Equal(distinct.Count, graph.Components.Length);
        Assert.Equal(27, declared);
        Assert.Equal(declared, graph.Components.Count(c => c.Direct));
        // Four packages are locked at different versions for default and develop; exceptiongroup is declared
        // in [dev-packages] only, so only its develop version is direct.
        Assert.False(graph.One("exceptiongroup", "1.3.1").Direct);
        Assert.True(graph.One("exceptiongroup", "1.1.0").Direct);
        Assert.Equal(DependencyScopes.Prod, graph.One("exceptiongroup", "1.3.1").Scopes);
        Assert.Equal(DependencyScopes.Dev, graph.One("exceptiongroup", "1.1.0").Scopes);
        Assert.True(graph.One("pytz").Direct);
        Assert.Equal(DependencyScopes.Prod, graph.One("pytz").Scopes);
    }

    [Fact]
    public void Requirements_SigstoreCompiled_EdgesFromViaComments()
    {
        var file = Shared("requirements-hashes-sigstore", "requirements.txt");
        var lines = Lines(file);
        var pins = lines.Count(l => PinLine().IsMatch(l));
        var hashes = lines.Count(l => l.TrimStart().StartsWith("--hash=sha256:", StringComparison.Ordinal));

        var (graph, diagnostics) = PyPITestRead.Read(file);

        diagnostics.NoErrors();
        Assert.Equal(32, pins);
        Assert.Equal(pins, graph.Components.Length);
        Assert.Equal(hashes, graph.Components.Sum(c => c.Integrity.Length));
        // "# via -r install/requirements.in": the only direct requirement.
        var sigstore = Assert.Single(graph.Components, c => c.Direct);
        Assert.Equal(("sigstore", "4.5.0"), (sigstore.Name, sigstore.Version));
        Assert.Equal(["annotated-types@0.8.0", "email-validator@2.3.0", "pydantic-core@2.46.4", "typing-extensions@4.16.0", "typing-inspection@0.4.2"],
            graph.ChildLabels(graph.One("pydantic").Key));
        Assert.Equal(7, graph.Edges.Count(e => e.To == graph.One("typing-extensions").Key));
        var path = graph.ShortestPathTo(graph.One("pycparser").Key);
        Assert.Equal(["sigstore@4.5.0", "cryptography@50.0.0", "cffi@2.1.0", "pycparser@3.0"], path.Skip(1).Select(graph.Label));
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*==")]
    private static partial Regex PinLine();
}
