using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Inputs;

/// <summary>
/// YAML anchors and aliases that make loading unbounded are refused before the document is built: a mapping key is
/// hashed whole, so a key of aliases of aliases took exponential time (a hang), and a key holding itself overflowed
/// the stack, killing the process. pnpm and yarn write neither.
/// </summary>
public sealed class YamlAliasTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Ten aliases of the level below at each of twelve levels: 10^12 nodes when hashed.</summary>
    private static string Laughs(string header, string use)
    {
        var lines = new List<string> { header, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (var i = 1; i < 12; i++)
        {
            lines.Add($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");
        }
        lines.Add(use);
        return string.Join("\n", lines) + "\n";
    }

    public static TheoryData<string, string, int> Hostile() => new()
    {
        { "pnpm-lock.yaml", Laughs("lockfileVersion: '9.0'", "packages:\n  ? *a11\n  : {}"), 15 },
        { "pnpm-lock.yaml", Laughs("lockfileVersion: '9.0'", "packages:\n  ? [b, *a11]\n  : {}"), 15 },
        { "yarn.lock", Laughs("__metadata:\n  version: 8", "? *a11\n: {resolution: \"a@npm:1.0.0\"}"), 15 },
        { "pnpm-lock.yaml", "lockfileVersion: '9.0'\nk: &k [*k]\npackages:\n  ? *k\n  : {}\n", 2 },
        { "pnpm-lock.yaml", "lockfileVersion: '9.0'\nimporters: &i\n  .:\n    dependencies: *i\n", 4 },
        { "yarn.lock", "__metadata:\n  version: 8\n\"a@npm:^1\": &e\n  resolution: \"a@npm:1.0.0\"\n  dependencies: {b: *e}\n", 5 },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Deps_AliasInKeyOrInsideItsOwnNode_RefusedQuicklyWhereWritten(string fileName, string content, int line)
    {
        var path = _temp.File(fileName);
        File.WriteAllText(path, content);

        var (result, elapsed) = QuickWork.Time(() => CliRunner.Run("deps", path));

        DamagedInput.AssertLocatedError(result, path, "TG0009", line);
        QuickWork.AssertQuick(elapsed);
    }

    [Fact]
    public void Deps_AliasAsAValueElsewhere_StillRead()
    {
        // An alias of a finished node, outside keys, is bounded by the text: it is read as before.
        var path = _temp.File("pnpm-lock.yaml");
        File.WriteAllText(path, "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies: &d\n      a:\n        specifier: ^1.0.0\n        version: 1.0.0\n"
            + "  packages/x:\n    dependencies: *d\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha512-AAAA}\nsnapshots:\n  a@1.0.0: {}\n");

        var result = CliRunner.Run("deps", path);

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Contains("2 packages", result.Stderr + result.Stdout, StringComparison.Ordinal);
    }
}
