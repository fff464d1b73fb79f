using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>Reads Npm lockfiles and manifests into project graphs.</summary>
public sealed class NpmReader : IEcosystemReader
{
    public Ecosystem Ecosystem => Ecosystem.Npm;

    public bool IsInput(string fileName, bool named) => false;

    public IEnumerable<ProjectInput> Group(IReadOnlyList<string> files) => [];

    public IReadOnlyList<ProjectGraph> Read(ProjectInput project, DiagnosticBag diagnostics) => [];
}
