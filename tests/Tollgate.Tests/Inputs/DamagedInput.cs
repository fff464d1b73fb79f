using System.Text;
using System.Text.RegularExpressions;
using Tollgate.Inputs;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Inputs;

/// <summary>Building damaged copies of real inputs, and checking that the CLI refuses them as it should.</summary>
internal static class DamagedInput
{
    /// <summary>
    /// The bytes of <paramref name="original"/> with <paramref name="inserted"/> put in at the first occurrence of
    /// <paramref name="anchor"/> plus <paramref name="offsetInAnchor"/>; also the 1-based line and byte column of the insertion.
    /// </summary>
    public static (byte[] Bytes, int Line, int Column) Insert(byte[] original, string anchor, int offsetInAnchor, byte[] inserted)
    {
        var at = original.AsSpan().IndexOf(Encoding.UTF8.GetBytes(anchor));
        Assert.True(at >= 0, $"anchor '{anchor}' not found");
        at += offsetInAnchor;
        var before = original.AsSpan(0, at);
        var line = before.Count((byte)'\n') + 1;
        var column = at - (before.LastIndexOf((byte)'\n') + 1) + 1;
        return ([.. before, .. inserted, .. original.AsSpan(at)], line, column);
    }

    /// <summary>
    /// Asserts that the run refused the input (exit 2, not 3) with an error of <paramref name="id"/> located in
    /// <paramref name="path"/>: at <paramref name="line"/> and <paramref name="column"/> when given, at some line and column otherwise.
    /// </summary>
    public static void AssertLocatedError(CliRunner.Result result, string path, string id, int? line = null, int? column = null)
    {
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        var where = Regex.Escape(InputFile.DisplayPath(path)) + ":" + (line?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? @"\d+")
            + ":" + (column?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? @"\d+");
        Assert.Matches(new Regex(where + ": error " + id + ": ", RegexOptions.CultureInvariant), result.Stderr);
    }
}
