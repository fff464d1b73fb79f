using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>Reads yarn.lock files (not yet supported: nothing is read).</summary>
public static class YarnLockReader
{
    /// <summary>Reads a yarn.lock; null when nothing could be read.</summary>
    public static ProjectGraph? Read(string lockfilePath, PackageJson? manifest, DiagnosticBag diagnostics) => null;
}
