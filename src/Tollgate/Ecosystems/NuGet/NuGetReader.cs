using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>Reads NuGet lockfiles and manifests into project graphs.</summary>
public sealed class NuGetReader : IEcosystemReader
{
    public Ecosystem Ecosystem => Ecosystem.NuGet;

    public bool IsInput(string fileName, bool named) => false;

    public IEnumerable<ProjectInput> Group(IReadOnlyList<string> files) => [];

    public IReadOnlyList<ProjectGraph> Read(ProjectInput project, DiagnosticBag diagnostics) => [];
}
