using Tollgate.Graph;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>A distribution file name split per the wheel and source distribution specifications.</summary>
/// <param name="Project">The project name as the file spells it.</param>
/// <param name="Version">The version text as the file spells it.</param>
/// <param name="IsWheel">True for a .whl (installed without running the project's code); false for an sdist.</param>
public sealed record PyPIDistribution(string Project, string Version, bool IsWheel)
{
    /// <summary>Splits <c>name-version(-build)?-py-abi-platform.whl</c>, <c>name-version.tar.gz</c> or <c>name-version.zip</c>.</summary>
    public static PyPIDistribution? Parse(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        if (fileName.EndsWith(".whl", StringComparison.OrdinalIgnoreCase))
        {
            var parts = fileName[..^4].Split('-');
            return parts.Length is 5 or 6 && parts[0].Length > 0 && parts[1].Length > 0 ? new PyPIDistribution(parts[0], parts[1], true) : null;
        }
        string stem;
        if (fileName.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase))
        {
            stem = fileName[..^7];
        }
        else if (fileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            stem = fileName[..^4];
        }
        else
        {
            return null;
        }
        var dash = stem.LastIndexOf('-');
        return dash > 0 && dash < stem.Length - 1 ? new PyPIDistribution(stem[..dash], stem[(dash + 1)..], false) : null;
    }

    /// <summary>True when the file belongs to <paramref name="project"/> (compared after PEP 503 normalisation).</summary>
    public bool BelongsTo(string project) => Component.NormalizePyPIName(Project) == Component.NormalizePyPIName(project);
}
