using System.IO.Compression;
using System.Xml;
using System.Xml.Linq;
using NuGet.Versioning;

namespace Tollgate.Server.Feeds.NuGet;

/// <summary>
/// What the feed reads from a <c>.nupkg</c> before it stores or serves it: the id and version its <c>.nuspec</c>
/// declares, the <c>.nuspec</c> itself, and the files that run code when the package is installed or built.
/// </summary>
/// <param name="Id">The package id as the .nuspec writes it.</param>
/// <param name="Version">The version the .nuspec declares.</param>
/// <param name="Nuspec">The .nuspec's bytes.</param>
/// <param name="InstallCode">What code the package runs at install or build time, in words; null when none.</param>
internal sealed record NuGetPackageFile(string Id, NuGetVersion Version, byte[] Nuspec, string? InstallCode)
{
    /// <summary>The largest .nuspec read; real ones are a few KiB.</summary>
    private const long MaxNuspecBytes = 1024 * 1024;

    /// <summary>Reads a package file; null with the reason when it is not a package the feed can vouch for.</summary>
    public static (NuGetPackageFile? Package, string? Problem) Read(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            return Read(zip);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or XmlException or UnauthorizedAccessException)
        {
            return (null, $"it is not a readable .nupkg (zip) file: {e.Message}");
        }
    }

    /// <summary>Reads a package from memory (a push).</summary>
    public static (NuGetPackageFile? Package, string? Problem) Read(byte[] bytes)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
            return Read(zip);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or XmlException)
        {
            return (null, $"it is not a readable .nupkg (zip) file: {e.Message}");
        }
    }

    private static (NuGetPackageFile?, string?) Read(ZipArchive zip)
    {
        var nuspecs = zip.Entries.Where(e => !e.FullName.Contains('/', StringComparison.Ordinal) && e.FullName.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase)).ToList();
        if (nuspecs.Count != 1)
        {
            return (null, $"it has {nuspecs.Count} .nuspec files at its root; a package has exactly one");
        }
        if (nuspecs[0].Length > MaxNuspecBytes)
        {
            return (null, $"its .nuspec is larger than {MaxNuspecBytes} bytes");
        }
        byte[] nuspec;
        using (var stream = nuspecs[0].Open())
        using (var buffer = new MemoryStream())
        {
            stream.CopyTo(buffer);
            nuspec = buffer.ToArray();
        }
        var document = XDocument.Load(new MemoryStream(nuspec), LoadOptions.None);
        var metadata = document.Root?.Elements().FirstOrDefault(e => e.Name.LocalName == "metadata");
        var id = metadata?.Elements().FirstOrDefault(e => e.Name.LocalName == "id")?.Value.Trim();
        var versionText = metadata?.Elements().FirstOrDefault(e => e.Name.LocalName == "version")?.Value.Trim();
        if (string.IsNullOrEmpty(id) || !NuGetFeed.IsValidId(id) || !NuGetVersion.TryParse(versionText, out var version))
        {
            return (null, "its .nuspec does not declare a valid <id> and <version>");
        }
        return (new NuGetPackageFile(id, version, nuspec, InstallCodeOf(zip.Entries.Select(e => e.FullName))), null);
    }

    /// <summary>
    /// The files that run code without the user calling it: PowerShell scripts the Visual Studio package manager runs
    /// (<c>tools/init.ps1</c>, <c>tools/install.ps1</c>) and MSBuild files imported into every project that references
    /// the package (<c>build/</c>, <c>buildTransitive/</c>, <c>buildMultiTargeting/</c> <c>.props</c> and <c>.targets</c>).
    /// </summary>
    internal static string? InstallCodeOf(IEnumerable<string> entries)
    {
        var found = new List<string>();
        foreach (var entry in entries)
        {
            var name = entry.Replace('\\', '/');
            var file = name[(name.LastIndexOf('/') + 1)..];
            if (name.StartsWith("tools/", StringComparison.OrdinalIgnoreCase) && file.ToLowerInvariant() is "init.ps1" or "install.ps1")
            {
                found.Add(name);
            }
            else if ((name.StartsWith("build/", StringComparison.OrdinalIgnoreCase) || name.StartsWith("buildTransitive/", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("buildMultiTargeting/", StringComparison.OrdinalIgnoreCase))
                && (file.EndsWith(".targets", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".props", StringComparison.OrdinalIgnoreCase)))
            {
                found.Add(name);
            }
        }
        if (found.Count == 0)
        {
            return null;
        }
        found.Sort(StringComparer.Ordinal);
        var listed = string.Join(", ", found.Take(3)) + (found.Count > 3 ? $" and {found.Count - 3} more" : "");
        return $"contains {listed}, which run code when the package is installed or a project referencing it is built";
    }
}
