using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Inputs;

/// <summary>
/// A NUL character is in no file name, no package name and no text lockfile. In a path a lockfile names it made the
/// runtime throw ("Null character in path", exit 3); in a yarn.lock it was read silently. Each is now a located error.
/// </summary>
public sealed class NulByteTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Copies a real test data folder into the temporary folder; returns the copy.</summary>
    private string CopyFolder(string source)
    {
        var from = TestData.Path(source);
        var to = _temp.File(Path.GetFileName(source));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return to;
    }

    /// <summary>Replaces the first <paramref name="find"/> in a file; returns the 1-based line and column where it was.</summary>
    private static (int Line, int Column) Replace(string path, string find, string replacement)
    {
        var text = File.ReadAllText(path);
        var at = text.IndexOf(find, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{find}' not found in {path}");
        File.WriteAllText(path, text[..at] + replacement + text[(at + find.Length)..]);
        return (text.AsSpan(0, at).Count('\n') + 1, at - (text.LastIndexOf('\n', Math.Max(at - 1, 0)) + 1) + 1);
    }

    [Fact]
    public void Deps_NulInRequirementsIncludePath_ExitsTwoAtTheNul()
    {
        var folder = CopyFolder("pypi/requirements");
        var file = Path.Combine(folder, "requirements.txt");
        var (line, column) = Replace(file, "-r requirements-base.txt", "-r requirements\0-base.txt");

        var result = CliRunner.Run("deps", file);

        DamagedInput.AssertLocatedError(result, file, "TG0010", line, column + "-r requirements".Length);
    }

    [Fact]
    public void Deps_FolderWithNulInRequirementsIncludePath_ExitsTwo()
    {
        // Grouping a folder's requirements files reads their -r lines before any file is read as a project.
        var folder = CopyFolder("pypi/requirements");
        var file = Path.Combine(folder, "requirements.txt");
        var (line, _) = Replace(file, "-r requirements-base.txt", "-r requirements\0-base.txt");

        var result = CliRunner.Run("deps", folder);

        DamagedInput.AssertLocatedError(result, file, "TG0010", line);
    }

    [Fact]
    public void Deps_NulByteInYarnClassicLock_ExitsTwoAtTheNul()
    {
        var folder = CopyFolder("npm/yarn-classic-basic");
        var file = Path.Combine(folder, "yarn.lock");
        var (line, column) = Replace(file, "version \"2.1.9\"", "version \"2.1\0.9\"");

        var result = CliRunner.Run("deps", file);

        DamagedInput.AssertLocatedError(result, file, "TG0010", line, column + "version \"2.1".Length);
    }

    [Theory]
    // Each path a lockfile names, with a NUL character written as the format's escape.
    [InlineData("npm/pnpm9-workspace", "pnpm-lock.yaml", "version: link:../shared", "version: \"link:../sha\\0red\"")]
    [InlineData("npm/bun-basic", "bun.lock", "\"local-lib@file:local-lib\"", "\"local-lib@file:local\\u0000-lib\"")]
    [InlineData("npm/yarn-berry-workspace", "yarn.lock", "resolution: \"@acme/mcp-server@workspace:packages/server\"", "resolution: \"@acme/mcp-server@workspace:packages/ser\\0ver\"")]
    [InlineData("npm/workspaces-v1", "package-lock.json", "\"version\": \"file:vendor/local-dep\"", "\"version\": \"file:vendor/local\\u0000-dep\"")]
    [InlineData("nuget/cpm-multi/src/App", "obj/project.assets.json", "\"msbuildProject\": \"../Lib/Lib.csproj\"", "\"msbuildProject\": \"../Lib/Li\\u0000b.csproj\"")]
    public void Deps_NulInPathWrittenInLockfile_ExitsTwoWithLocation(string source, string lockfile, string find, string replacement)
    {
        var folder = CopyFolder(source);
        var file = Path.Combine(folder, lockfile);
        Replace(file, find, replacement);

        var result = CliRunner.Run("deps", file);

        DamagedInput.AssertLocatedError(result, file, "TG0010");
        Assert.Contains("NUL", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_FolderWithNulInUvLockSource_ExitsTwo()
    {
        // Grouping reads uv.lock's workspace members with a pattern before the TOML parser sees the file.
        var folder = CopyFolder("reference/lockfiles/python/uv-mcp-server-git");
        var file = Path.Combine(folder, "uv.lock");
        Replace(file, "source = { editable = \".\" }", "source = { editable = \"sub\0dir\" }");

        var result = CliRunner.Run("deps", folder);

        DamagedInput.AssertLocatedError(result, file, "TG0004");
    }
}
