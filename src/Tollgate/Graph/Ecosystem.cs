namespace Tollgate.Graph;

/// <summary>A package ecosystem, spelled as OSV spells it.</summary>
public enum Ecosystem
{
    Npm,
    PyPI,
    NuGet,

    /// <summary>
    /// Not a package ecosystem: what an MCP client configuration launches that no registry names (a container
    /// image, a remote server, a local program). Components of it are never matched against advisories.
    /// </summary>
    Generic,
}

/// <summary>Names of ecosystems as they appear on the wire (OSV, purl, JSON output).</summary>
public static class EcosystemNames
{
    /// <summary>The ecosystems that have a registry, a version scheme and advisories (every one but <see cref="Ecosystem.Generic"/>).</summary>
    public static IReadOnlyList<Ecosystem> Registries { get; } = [Ecosystem.Npm, Ecosystem.PyPI, Ecosystem.NuGet];

    /// <summary>The OSV spelling: <c>npm</c>, <c>PyPI</c>, <c>NuGet</c>.</summary>
    public static string ToOsvName(this Ecosystem ecosystem) => ecosystem switch
    {
        Ecosystem.Npm => "npm",
        Ecosystem.PyPI => "PyPI",
        Ecosystem.NuGet => "NuGet",
        Ecosystem.Generic => "generic",
        _ => throw new ArgumentOutOfRangeException(nameof(ecosystem)),
    };

    /// <summary>The package-url type: <c>npm</c>, <c>pypi</c>, <c>nuget</c>.</summary>
    public static string ToPurlType(this Ecosystem ecosystem) => ecosystem switch
    {
        Ecosystem.Npm => "npm",
        Ecosystem.PyPI => "pypi",
        Ecosystem.NuGet => "nuget",
        Ecosystem.Generic => "generic",
        _ => throw new ArgumentOutOfRangeException(nameof(ecosystem)),
    };

    /// <summary>Parses an OSV ecosystem name or purl type, ignoring case.</summary>
    public static bool TryParse(string? text, out Ecosystem ecosystem)
    {
        switch (text?.ToUpperInvariant())
        {
            case "NPM": ecosystem = Ecosystem.Npm; return true;
            case "PYPI": ecosystem = Ecosystem.PyPI; return true;
            case "NUGET": ecosystem = Ecosystem.NuGet; return true;
            default: ecosystem = default; return false;
        }
    }
}
