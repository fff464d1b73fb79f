using System.Collections.Immutable;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems;

/// <summary>The readers of every supported ecosystem, in the order their files are tried.</summary>
public static class EcosystemReaders
{
    public static ImmutableArray<IEcosystemReader> All { get; } =
        [new Npm.NpmReader(), new PyPI.PyPIReader(), new NuGet.NuGetReader()];

    /// <summary>Discovery over every reader; <paramref name="exclude"/> leaves files and folders out of folder scans.</summary>
    public static InputDiscovery Discovery(PathGlobs? exclude = null) => new(All, exclude);
}
