using System.Collections.Immutable;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems;

/// <summary>The readers of every supported ecosystem, in the order their files are tried.</summary>
public static class EcosystemReaders
{
    public static ImmutableArray<IEcosystemReader> All { get; } =
        [new Npm.NpmReader(), new PyPI.PyPIReader(), new NuGet.NuGetReader()];

    public static InputDiscovery Discovery() => new(All);
}
