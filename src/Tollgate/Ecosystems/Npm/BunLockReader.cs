using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>Reads bun.lock files (not yet supported: nothing is read).</summary>
public static class BunLockReader
{
    /// <summary>Reads a bun.lock; null when nothing could be read.</summary>
    public static ProjectGraph? Read(string lockfilePath, PackageJson? manifest, DiagnosticBag diagnostics) => null;
}
