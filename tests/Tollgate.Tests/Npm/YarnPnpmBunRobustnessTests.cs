using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Npm;

/// <summary>Damaged input never throws: it gives diagnostics, and whatever could be read.</summary>
public sealed class YarnPnpmBunRobustnessTests
{
    private static ProjectGraph? ReadAny(string path, DiagnosticBag bag) => Path.GetExtension(path) switch
    {
        ".yaml" => PnpmLockReader.Read(path, null, bag),
        ".lock" when Path.GetFileName(path).StartsWith("bun", StringComparison.Ordinal) => BunLockReader.Read(path, null, bag),
        _ => YarnLockReader.Read(path, null, bag),
    };

    [Theory]
    [InlineData("yarn-classic-basic/yarn.lock")]
    [InlineData("yarn-berry-workspace/yarn.lock")]
    [InlineData("pnpm9-workspace/pnpm-lock.yaml")]
    [InlineData("pnpm8-basic/pnpm-lock.yaml")]
    [InlineData("pnpm7-basic/pnpm-lock.yaml")]
    [InlineData("bun-basic/bun.lock")]
    public void Read_RealLockfileCutAnywhere_NeverThrows(string fixture)
    {
        var text = File.ReadAllText(TestData.Path("npm", fixture));
        var dir = Directory.CreateTempSubdirectory("tollgate-cut-");
        try
        {
            var path = Path.Combine(dir.FullName, Path.GetFileName(fixture));
            for (var cut = 0; cut < text.Length; cut += text.Length / 40)
            {
                File.WriteAllText(path, text[..cut]);
                var bag = new DiagnosticBag();
                var project = ReadAny(path, bag);
                // Something is reported, or the part read so far stands on its own (a cut between two entries).
                Assert.True(bag.Items.Count > 0 || project is not null, $"cut at {cut}");
                Assert.All(bag.Items, d => Assert.NotNull(d.Location));
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {}\n  a@1.0.0: {}\n")]
    [InlineData("pnpm-lock.yaml", "lockfileVersion: '9.0'\nimporters: &x\n  .:\n    dependencies: *x\n")]
    [InlineData("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  ? [a, b]\n  : {}\nsnapshots: [1, 2]\n")]
    [InlineData("pnpm-lock.yaml", "lockfileVersion: [9]\n")]
    [InlineData("pnpm-lock.yaml", "- just\n- a list\n")]
    [InlineData("pnpm-lock.yaml", "")]
    [InlineData("pnpm-lock.yaml", "lockfileVersion: '6.0'\ndependencies:\n  a: 1.0.0\npackages:\n  /a@1.0.0:\n    dependencies: [oops]\n")]
    [InlineData("yarn.lock", "__metadata:\n  version: 8\n\"a@npm:^1\":\n  resolution: 42\n")]
    [InlineData("yarn.lock", "__metadata:\n  version: 8\n\"a@npm:^1\": [1]\n\"@\":\n  resolution: \"@\"\n")]
    [InlineData("yarn.lock", "\"unterminated:\n  version \"1\n    deeply \"nested\"\n")]
    [InlineData("yarn.lock", "a@^1, , b@^2:\n  version \"1.0.0\"\n")]
    [InlineData("bun.lock", "{\"lockfileVersion\": 1, \"workspaces\": [], \"packages\": {}}")]
    [InlineData("bun.lock", "{\"lockfileVersion\": 1, \"packages\": {\"a\": [\"@\"], \"b\": [42], \"c/d\": [\"d@1.0.0\", \"\", {\"dependencies\": 7}]}}")]
    public void Read_OddShapes_GiveDiagnosticsNotExceptions(string fileName, string content)
    {
        var dir = Directory.CreateTempSubdirectory("tollgate-odd-");
        try
        {
            var path = Path.Combine(dir.FullName, fileName);
            File.WriteAllText(path, content);
            var bag = new DiagnosticBag();
            var project = ReadAny(path, bag);
            Assert.True(bag.Items.Count > 0 || project is not null);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
