using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>
/// Reads packages.config, the pre-PackageReference format: a flat list of exact pins, every one a direct
/// dependency (transitive packages are listed too, with no edges between them). <c>developmentDependency="true"</c>
/// marks build-time packages.
/// </summary>
internal static class PackagesConfigReader
{
    public static bool Read(string path, NuGetGraphBuilder builder, DiagnosticBag diagnostics)
    {
        var shown = InputFile.DisplayPath(path);
        var document = MsBuildXml.Load(path, diagnostics);
        if (document?.Root is null)
        {
            return false;
        }
        if (document.Root.Name.LocalName != "packages")
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, $"expected a <packages> element, found <{document.Root.Name.LocalName}>",
                MsBuildXml.Location(document.Root, shown));
            return false;
        }
        foreach (var package in document.Root.Named("package"))
        {
            var location = MsBuildXml.Location(package, shown);
            var id = package.Attribute("id")?.Value.Trim();
            var version = package.Attribute("version")?.Value.Trim();
            if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(version))
            {
                diagnostics.Warning(DiagnosticIds.InvalidEntry, "a <package> needs both id and version attributes; skipped", location);
                continue;
            }
            var dev = string.Equals(package.Attribute("developmentDependency")?.Value.Trim(), "true", StringComparison.OrdinalIgnoreCase);
            var key = builder.Add(NuGetGraphBuilder.Package(id, version, location));
            builder.AddDirect(key, dev);
        }
        return true;
    }
}
