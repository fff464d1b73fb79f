using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Inputs;

/// <summary>The files that describe one project, grouped by the ecosystem that understands them.</summary>
/// <param name="Ecosystem">The ecosystem whose reader groups and reads the files.</param>
/// <param name="Directory">The project's folder.</param>
/// <param name="Files">Full paths of the files that describe the project, most authoritative first.</param>
public sealed record ProjectInput(Ecosystem Ecosystem, string Directory, ImmutableArray<string> Files);

/// <summary>
/// One ecosystem's knowledge of its input files: which file names it understands, how they group into
/// projects (a lockfile with its manifest), and how a project becomes a <see cref="ProjectGraph"/>.
/// </summary>
public interface IEcosystemReader
{
    Ecosystem Ecosystem { get; }

    /// <summary>
    /// Whether a file with this name is an input of this ecosystem. <paramref name="named"/> is true when the
    /// user named the file on the command line, where looser names (e.g. <c>old-package-lock.json</c>) are accepted.
    /// </summary>
    bool IsInput(string fileName, bool named);

    /// <summary>
    /// Whether a file the user named, whose name no reader recognises (<c>old.lock</c>, <c>broken.yaml</c>), is an
    /// input of this ecosystem judging by its first lines. Only asked after <see cref="IsInput"/> said no everywhere.
    /// </summary>
    bool IsInputByContent(string path) => false;

    /// <summary>
    /// Groups the files this ecosystem claimed into projects. A lockfile and its manifest in one folder are one
    /// project; a file named on the command line is always read.
    /// </summary>
    IEnumerable<ProjectInput> Group(IReadOnlyList<string> files);

    /// <summary>Reads one project. Problems go to <paramref name="diagnostics"/>; null when nothing could be read.</summary>
    IReadOnlyList<ProjectGraph> Read(ProjectInput project, DiagnosticBag diagnostics);
}
