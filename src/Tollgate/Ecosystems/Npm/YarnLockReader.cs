using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>
/// Reads yarn.lock in both of its formats: the classic v1 text format (yarn 1) and the YAML format of yarn 2 and
/// later ("berry", recognised by its <c>__metadata</c> entry).
/// </summary>
public static class YarnLockReader
{
    /// <summary>Reads a yarn.lock; null (with diagnostics) when nothing could be read. Never throws on bad input.</summary>
    /// <param name="lockfilePath">The yarn.lock file.</param>
    /// <param name="manifest">The package.json beside it: the classic format has no root entry, so direct
    /// dependencies come from here; berry uses it to tell development dependencies apart.</param>
    /// <param name="diagnostics">Where problems go.</param>
    public static ProjectGraph? Read(string lockfilePath, PackageJson? manifest, DiagnosticBag diagnostics)
    {
        var text = InputFile.ReadText(lockfilePath, diagnostics);
        if (text is null || InputFile.RefuseNul(text, InputFile.DisplayPath(lockfilePath), diagnostics))
        {
            return null;
        }
        return IsBerry(text)
            ? YarnBerryLockReader.Read(lockfilePath, text, manifest, diagnostics)
            : YarnClassicLockReader.Read(lockfilePath, text, manifest, diagnostics);
    }

    /// <summary>Berry lockfiles are YAML with a <c>__metadata</c> entry; classic ones never have it.</summary>
    internal static bool IsBerry(string text)
    {
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            var trimmed = line.TrimEnd();
            if (trimmed.IsEmpty || trimmed[0] == '#')
            {
                continue;
            }
            if (trimmed.StartsWith("__metadata:") || trimmed.StartsWith("\"__metadata\":"))
            {
                return true;
            }
        }
        return false;
    }
}
