using Tollgate.Graph;

namespace Tollgate.Risk;

/// <summary>TG1007: a package resolved from a registry that is not on the policy's approved list.</summary>
internal sealed class UnapprovedRegistryRule() : RiskRule(
    "TG1007",
    "UnapprovedRegistry",
    "Package resolved from a registry that is not approved",
    RuleLevel.Fail,
    Severity.High,
    "When an organisation routes installs through vetted registries, a package that was resolved elsewhere skipped that vetting. "
    + "It often means a developer's machine had a different registry configured when the lockfile was written.",
    "Point the package manager at an approved registry (.npmrc, nuget.config, pip.conf) and regenerate the lockfile, "
    + "or add the registry to registries.approved in tollgate.yaml if it is trusted.")
{
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context)
    {
        if (context.ApprovedRegistries.IsEmpty)
        {
            yield break;
        }
        foreach (var c in graph.Components)
        {
            // Without a recorded URL and without a known default registry there is nothing to compare.
            if (c.Resolved && c.Origin.Kind == OriginKind.Registry && context.EffectiveRegistry(c) is { } url && !context.IsApproved(url))
            {
                yield return Report(c, context,
                    "was resolved from a registry that is not approved",
                    (c.Origin.Location is null ? "default registry: " : "resolved: ") + RegistryUrl.Display(url));
            }
        }
    }
}

/// <summary>TG1008: a dependency known only from a manifest range, with no lockfile pin.</summary>
internal sealed class UnpinnedRule() : RiskRule(
    "TG1008",
    "Unpinned",
    "Dependency is not pinned by a lockfile",
    RuleLevel.Warn,
    Severity.Low,
    "Without a lockfile every install resolves the range again and takes the newest matching version, so a malicious release "
    + "published minutes ago reaches your build at once, and what was scanned is not what gets installed.",
    "Commit the lockfile (package-lock.json, packages.lock.json with RestorePackagesWithLockFile, poetry.lock, uv.lock) "
    + "and install from it (npm ci, dotnet restore --locked-mode, uv sync --locked).")
{
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context) =>
        graph.Components
            .Where(c => !c.Resolved)
            .Select(c => Report(c, context,
                "is declared as a range with no lockfile pin",
                "declared: " + c.Version));
}

/// <summary>TG1009: an organisation-private name resolved from a public, default or unapproved registry.</summary>
internal sealed class DependencyConfusionRule() : RiskRule(
    "TG1009",
    "DependencyConfusion",
    "Private package name resolved from a public or unapproved registry",
    RuleLevel.Fail,
    Severity.High,
    "Dependency confusion: an attacker publishes a package with your internal name to a public registry, usually with a higher "
    + "version, and installers that consult the public registry pick it up. The package's install script then runs inside your network.",
    "Resolve private names only from your private registry: scope them (npm @acme:registry in .npmrc, NuGet package source mapping, "
    + "pip --index-url without --extra-index-url), regenerate the lockfile, and reserve the names on the public registry.")
{
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context)
    {
        foreach (var c in graph.Components)
        {
            if (context.ConfusionReason(c) is { } why)
            {
                yield return Report(c, context,
                    "has a private name but was resolved from a public or unapproved registry",
                    "resolved from " + why);
            }
        }
    }
}
