using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>Reads PyPI lockfiles and manifests into project graphs.</summary>
public sealed class PyPIReader : IEcosystemReader
{
    public Ecosystem Ecosystem => Ecosystem.PyPI;

    public bool IsInput(string fileName, bool named) => false;

    public IEnumerable<ProjectInput> Group(IReadOnlyList<string> files) => [];

    public IReadOnlyList<ProjectGraph> Read(ProjectInput project, DiagnosticBag diagnostics) => [];
}
