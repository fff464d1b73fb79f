using Tollgate.Graph;

namespace Tollgate.Inputs;

/// <summary>Names read from inputs, checked before they become components (whose purl needs a name).</summary>
public static class PackageNames
{
    /// <summary>
    /// True when <paramref name="name"/> names a package of <paramref name="ecosystem"/>; otherwise a warning that the
    /// entry at <paramref name="at"/> is skipped: an empty name, a PyPI name of punctuation only ("."), an npm scope
    /// without a name ("@scope/").
    /// </summary>
    public static bool Check(Ecosystem ecosystem, string name, SourceLocation at, DiagnosticBag diagnostics)
    {
        if (PackageUrl.IsValidName(ecosystem, name))
        {
            return true;
        }
        diagnostics.Warning(DiagnosticIds.InvalidEntry,
            name.Length == 0 ? "an entry without a package name; skipped" : $"'{InputPath.Printable(name)}' is no package name; the entry is skipped",
            at, "the file is damaged or was edited by hand: regenerate it");
        return false;
    }
}
