using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Risk;

namespace Tollgate.Tests.Risk;

/// <summary>Builds small dependency graphs by hand: one project root that depends directly on the given components.</summary>
internal static class GraphBuilder
{
    public const string LockFile = "package-lock.json";

    public static Component Package(
        string name,
        string version,
        Ecosystem ecosystem = Ecosystem.Npm,
        Origin? origin = null,
        string? integrity = "sha512-AAAA",
        bool? installScript = null,
        bool resolved = true,
        bool direct = true,
        string file = LockFile,
        int line = 0) => new()
        {
            Ecosystem = ecosystem,
            Name = name,
            Version = version,
            Purl = PackageUrl.For(ecosystem, name, resolved ? version : null),
            Resolved = resolved,
            Direct = direct,
            Origin = origin ?? Origin.Registry(),
            Integrity = IntegrityHash.ParseSri(integrity),
            HasInstallScript = installScript,
            Locations = [new SourceLocation(file, line)],
        };

    /// <summary>A graph whose root (the lockfile's project) depends on every component.</summary>
    public static DependencyGraph GraphOf(params Component[] components)
    {
        var root = new ProjectRoot(ProjectRoot.KeyFor(LockFile), Ecosystem.Npm, "app", "1.0.0", LockFile, [LockFile]);
        return new DependencyGraph(components, components.Select(c => new DependencyEdge(root.Key, c.Key)), [root]);
    }

    public static ImmutableArray<Finding> Evaluate(DependencyGraph graph, RiskContext? context = null) =>
        RiskRules.Evaluate(graph, context ?? RiskContext.Empty);
}
