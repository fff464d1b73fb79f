using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.Npm;

/// <summary>Reads pnpm-lock.yaml files (not yet supported: nothing is read).</summary>
public static class PnpmLockReader
{
    /// <summary>Reads a pnpm-lock.yaml; null when nothing could be read.</summary>
    public static ProjectGraph? Read(string lockfilePath, PackageJson? manifest, DiagnosticBag diagnostics) => null;
}
