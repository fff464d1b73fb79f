using System.Text;
using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Inputs;

/// <summary>
/// An unclosed '{' in a YAML lockfile is a syntax error at that brace. On some texts the YAML scanner throws an
/// InvalidOperationException instead of its syntax error, which was an internal error (exit 3).
/// </summary>
public sealed class YamlScannerErrorTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("npm/pnpm9-basic/pnpm-lock.yaml", "pnpm-lock.yaml", "resolution: {integrity:")]
    [InlineData("npm/pnpm8-basic/pnpm-lock.yaml", "pnpm-lock.yaml", "resolution: {integrity:")]
    [InlineData("npm/yarn-berry-basic/yarn.lock", "yarn.lock", "resolution: ")]
    public void Deps_UnclosedFlowMappingInRealLockfile_ExitsTwoAtTheBrace(string source, string copyAs, string anchor)
    {
        // The first '{' after the anchor loses its '}' (yarn's lockfile has none: one is put in after the anchor).
        var text = File.ReadAllText(TestData.Path(source));
        var start = text.IndexOf(anchor, StringComparison.Ordinal);
        var brace = text.IndexOf('{', start);
        if (brace < 0 || brace > text.IndexOf('\n', start))
        {
            brace = start + anchor.Length;
            text = text[..brace] + "{" + text[brace..];
        }
        else
        {
            var close = text.IndexOf('}', brace);
            text = text[..close] + text[(close + 1)..];
        }
        var line = text.AsSpan(0, brace).Count('\n') + 1;
        var column = brace - (text.LastIndexOf('\n', brace) + 1) + 1;
        var path = _temp.File(copyAs);
        File.WriteAllText(path, text, new UTF8Encoding(false));

        var result = CliRunner.Run("deps", path);

        DamagedInput.AssertLocatedError(result, path, "TG0003", line, column);
    }

    [Theory]
    [InlineData("pnpm-lock.yaml", "lockfileVersion: '9.0'\nimporters: {\n.: {}\n", 2, 12)]
    [InlineData("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages: {\n  a@1.0.0: {resolution: {integrity: x}}\n\nsnapshots:\n  a@1.0.0: {}\n", 2, 11)]
    [InlineData("yarn.lock", "__metadata:\n  version: 8\n\"a@npm:^1\": {\nresolution: \"a@npm:1.0.0\"\n", 3, 13)]
    public void Deps_UnclosedFlowMapping_ExitsTwoAtTheBrace(string fileName, string content, int line, int column)
    {
        var path = _temp.File(fileName);
        File.WriteAllText(path, content);

        var result = CliRunner.Run("deps", path);

        DamagedInput.AssertLocatedError(result, path, "TG0003", line, column);
    }
}
