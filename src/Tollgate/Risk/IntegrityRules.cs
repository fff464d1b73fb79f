using System.Collections.Frozen;
using Tollgate.Graph;

namespace Tollgate.Risk;

/// <summary>TG1005: a registry package in a lockfile that records hashes, without a hash.</summary>
internal sealed class MissingIntegrityRule() : RiskRule(
    "TG1005",
    "MissingIntegrity",
    "Locked package has no integrity hash",
    RuleLevel.Warn,
    Severity.Medium,
    "The integrity hash is what makes a lockfile a pin: without it the installer accepts whatever bytes the registry "
    + "(or a mirror, proxy or attacker in between) serves for that version. A lockfile format that records hashes but lacks "
    + "one for a package has been edited by hand or produced by a tool that skipped verification.",
    "Regenerate the lockfile with the package manager (npm install, dotnet restore --force-evaluate, poetry lock, uv lock) "
    + "so every entry gets its hash, and review the diff.")
{
    /// <summary>Lockfile names whose format records a hash for every registry package.</summary>
    private static readonly FrozenSet<string> s_formatsWithHashes = FrozenSet.ToFrozenSet(
        [
            "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock",
            "packages.lock.json", "project.assets.json",
            "poetry.lock", "uv.lock", "Pipfile.lock", "pdm.lock",
        ],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>True when the file is a lockfile whose format normally records integrity hashes.</summary>
    public static bool RecordsIntegrity(string file) => s_formatsWithHashes.Contains(Path.GetFileName(file));

    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context)
    {
        foreach (var c in graph.Components)
        {
            if (c.Resolved && c.Origin.Kind == OriginKind.Registry && c.Integrity.IsEmpty
                && c.Locations.FirstOrDefault(l => RecordsIntegrity(l.File)) is { } where)
            {
                yield return Report(c, context,
                    "has no integrity hash in the lockfile",
                    $"{Path.GetFileName(where.File)} records a hash for registry packages, but not for this one");
            }
        }
    }
}

/// <summary>TG1006: every integrity hash of a package uses a broken algorithm (SHA-1, MD5).</summary>
internal sealed class WeakIntegrityRule() : RiskRule(
    "TG1006",
    "WeakIntegrity",
    "Integrity hash uses only SHA-1",
    RuleLevel.Warn,
    Severity.Low,
    "SHA-1 (and MD5) collisions can be produced, so a hash of that kind no longer proves that the installed bytes are the "
    + "published ones. Old npm lockfiles carry sha1 entries for packages published before SHA-512 was recorded.",
    "Regenerate the lockfile entry with a current package manager so it records a SHA-512 (npm) or SHA-256 (PyPI) hash: "
    + "for npm, remove the package from package-lock.json and run npm install.")
{
    private static bool IsWeak(IntegrityHash hash) => hash.Algorithm is "sha1" or "md5";

    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context)
    {
        foreach (var c in graph.Components)
        {
            if (!c.Integrity.IsEmpty && c.Integrity.All(IsWeak))
            {
                yield return Report(c, context,
                    "is verified only by a " + string.Join(" and ", c.Integrity.Select(h => h.Algorithm.ToUpperInvariant()).Distinct()) + " hash",
                    "integrity: " + string.Join(' ', c.Integrity.Select(h => h.Algorithm).Distinct()));
            }
        }
    }
}
