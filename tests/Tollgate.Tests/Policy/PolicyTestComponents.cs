using Tollgate.Graph;

namespace Tollgate.Tests.Policy;

/// <summary>Components for policy tests, built the way readers build them.</summary>
internal static class PolicyTestComponents
{
    public static Component Make(Ecosystem ecosystem, string name, string version, bool resolved = true) => new()
    {
        Ecosystem = ecosystem,
        Name = ecosystem == Ecosystem.PyPI ? Component.NormalizePyPIName(name) : name,
        Version = version,
        Purl = PackageUrl.For(ecosystem, name, version),
        Resolved = resolved,
    };

    public static Component NpmPackage(string name, string version) => Make(Ecosystem.Npm, name, version);

    public static Component PyPIPackage(string name, string version) => Make(Ecosystem.PyPI, name, version);

    public static Component NuGetPackage(string name, string version) => Make(Ecosystem.NuGet, name, version);
}
