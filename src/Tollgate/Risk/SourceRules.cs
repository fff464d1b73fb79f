using Tollgate.Graph;

namespace Tollgate.Risk;

/// <summary>TG1002: a dependency installed straight from a git repository.</summary>
internal sealed class GitSourceRule() : RiskRule(
    "TG1002",
    "GitSource",
    "Dependency installed from a git repository",
    RuleLevel.Warn,
    Severity.Medium,
    "A git dependency bypasses the registry: no immutable published artifact, no registry malware scanning, no advisory coverage "
    + "(advisories name registry versions), and git dependencies run their prepare scripts at install time. "
    + "Whoever controls the repository or the ref controls the code.",
    "Depend on a published registry version instead. If the fork is needed, publish it to your own approved registry, "
    + "or at least pin a full commit hash and review it.")
{
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context) =>
        graph.Components
            .Where(c => c.Origin.Kind == OriginKind.Git)
            .Select(c => Report(c, context,
                "is installed from a git repository, not a registry",
                c.Origin.Location is { } location ? "source: " + RegistryUrl.Display(location) : null));
}

/// <summary>TG1003: a dependency downloaded from a tarball or archive URL.</summary>
internal sealed class UrlSourceRule() : RiskRule(
    "TG1003",
    "UrlSource",
    "Dependency downloaded from a URL",
    RuleLevel.Warn,
    Severity.Medium,
    "A tarball or archive URL is outside the registry and its protections: the content behind the URL can change, "
    + "advisories do not cover it, and over plain HTTP anyone on the network path can replace it.",
    "Depend on a published registry version instead, or mirror the archive into your approved registry. "
    + "Never use plain http:// URLs.")
{
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context)
    {
        foreach (var c in graph.Components.Where(c => c.Origin.Kind == OriginKind.Url))
        {
            var location = c.Origin.Location;
            var plainHttp = location is not null && location.StartsWith("http:", StringComparison.OrdinalIgnoreCase);
            yield return Report(c, context,
                plainHttp ? "is downloaded from a URL over plain HTTP" : "is downloaded from a URL, not a registry",
                location is null ? null : "source: " + RegistryUrl.Display(location),
                plainHttp ? Severity.High : null);
        }
    }
}

/// <summary>TG1004: a dependency taken from a local path outside the project's workspaces.</summary>
internal sealed class FileSourceRule() : RiskRule(
    "TG1004",
    "LocalFileSource",
    "Dependency taken from a local path outside the workspace",
    RuleLevel.Warn,
    Severity.Low,
    "A file: or link: dependency outside the repository's workspaces is whatever happens to be at that path on the machine "
    + "that installs: builds are not reproducible, and CI installs something no reviewer has seen.",
    "Move the package into the repository as a workspace package, or publish it to your approved registry and depend on a version.")
{
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context) =>
        graph.Components
            .Where(c => c.Origin.Kind == OriginKind.File)
            .Select(c => Report(c, context,
                "is taken from a local path outside the workspace",
                c.Origin.Location is { } location ? "path: " + location : null));
}
