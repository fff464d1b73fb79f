using System.Collections.Immutable;
using System.Text;
using System.Xml.Linq;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>A PackageReference (or GlobalPackageReference) after central versions and properties were applied.</summary>
/// <param name="Id">The package id as written.</param>
/// <param name="Version">The version or range that applies, or null when none could be found.</param>
/// <param name="Dev">True for <c>PrivateAssets="all"</c> and global package references: used at build time, not shipped.</param>
/// <param name="Location">The PackageReference element.</param>
/// <param name="Conditional">True when the item or its ItemGroup has a Condition, which is not evaluated.</param>
internal sealed record PackageDeclaration(string Id, string? Version, bool Dev, SourceLocation Location, bool Conditional = false);

/// <summary>A ProjectReference: the referenced project file's full path and the element that names it.</summary>
internal sealed record ProjectReferenceDeclaration(string FullPath, SourceLocation Location)
{
    public string Name => Path.GetFileNameWithoutExtension(FullPath);
}

/// <summary>
/// What a project file (*.csproj, *.fsproj, *.vbproj) declares, read the way MSBuild would for the parts NuGet
/// uses: the nearest Directory.Build.props and Directory.Packages.props above it are imported, simple
/// <c>$(Property)</c> references are expanded, and central package management supplies versions.
/// Conditions are not evaluated: conditional items count (a union over target frameworks), conditional
/// properties do not.
/// </summary>
internal sealed record MsBuildProject(
    string Path,
    string Name,
    string? Version,
    bool CentralPackageManagement,
    ImmutableArray<PackageDeclaration> Packages,
    ImmutableArray<ProjectReferenceDeclaration> ProjectReferences,
    ImmutableArray<string> Files)
{
    private const int MaxExpansionDepth = 16;

    /// <summary>
    /// Longest property value kept: properties that repeat each other (<c>&lt;B&gt;$(A)$(A)&lt;/B&gt;</c>, and so on)
    /// double at each step, and forty of them filled the memory. Real values are a few hundred characters.
    /// </summary>
    internal const int MaxPropertyLength = 65_536;

    /// <summary>Reads a project file and the props files it imports implicitly; null when the project file is unreadable.</summary>
    public static MsBuildProject? Load(string path, DiagnosticBag diagnostics)
    {
        var project = MsBuildXml.Load(path, diagnostics);
        if (project?.Root is null)
        {
            return null;
        }
        var directory = System.IO.Path.GetDirectoryName(path)!;
        var name = System.IO.Path.GetFileNameWithoutExtension(path);

        // MSBuild imports the nearest of each (Directory.Build.props first, then the central versions), then the project.
        var sources = new List<(string Path, XDocument Document)>();
        foreach (var implicitImport in new[] { "Directory.Build.props", "Directory.Packages.props" })
        {
            var found = FindAbove(directory, implicitImport);
            if (found is not null && MsBuildXml.Load(found, diagnostics) is { Root: not null } document)
            {
                sources.Add((found, document));
            }
        }
        sources.Add((path, project));

        var properties = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["MSBuildProjectName"] = name,
            ["MSBuildProjectDirectory"] = directory,
            ["MSBuildProjectFile"] = System.IO.Path.GetFileName(path),
            ["MSBuildProjectFullPath"] = System.IO.Path.GetFullPath(path),
            ["MSBuildProjectExtension"] = System.IO.Path.GetExtension(path),
        };
        var conditional = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (file, document) in sources)
        {
            SetThisFile(properties, file);
            foreach (var group in document.Root!.Named("PropertyGroup"))
            {
                foreach (var property in group.Elements())
                {
                    if (HasCondition(group) || HasCondition(property))
                    {
                        conditional.Add(property.Name.LocalName);
                        continue;
                    }
                    // Properties are evaluated in order, so a reference sees the value defined so far.
                    var value = Expand(property.Value.Trim(), properties, out _);
                    if (value.Length > MaxPropertyLength)
                    {
                        properties.Remove(property.Name.LocalName);
                        diagnostics.Error(DiagnosticIds.UnexpectedShape,
                            $"property '{property.Name.LocalName}' expands to more than {MaxPropertyLength:N0} characters; it is left undefined",
                            MsBuildXml.Location(property, InputFile.DisplayPath(file)),
                            "properties that repeat each other grow exponentially: no project needs such a value");
                        continue;
                    }
                    properties[property.Name.LocalName] = value;
                }
            }
        }

        var central = IsTrue(properties.GetValueOrDefault("ManagePackageVersionsCentrally"));
        var centralVersions = new Dictionary<string, (string Value, XObject Node, string File)>(StringComparer.OrdinalIgnoreCase);
        var packages = new List<(string Id, XElement Item, string File, bool Global)>();
        var projectReferences = ImmutableArray.CreateBuilder<ProjectReferenceDeclaration>();
        foreach (var (file, document) in sources)
        {
            var shown = InputFile.DisplayPath(file);
            SetThisFile(properties, file);
            foreach (var item in document.Root!.Named("ItemGroup").SelectMany(g => g.Elements()))
            {
                var include = item.Attribute("Include")?.Value;
                if (string.IsNullOrWhiteSpace(include))
                {
                    // Update="..." only changes metadata of items included elsewhere.
                    continue;
                }
                foreach (var one in include.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    switch (item.Name.LocalName)
                    {
                        case "PackageReference":
                            packages.Add((one, item, file, false));
                            break;
                        case "GlobalPackageReference":
                            packages.Add((one, item, file, true));
                            break;
                        case "PackageVersion" when MsBuildXml.Metadata(item, "Version") is { Value: { } v, Node: { } node }:
                            centralVersions[one] = (v, node, shown);
                            break;
                        case "ProjectReference":
                            var relative = Expand(one, properties, out var undefined).Replace('\\', '/');
                            if (undefined is not null)
                            {
                                diagnostics.Warning(DiagnosticIds.MissingReference,
                                    $"the referenced project '{one}' uses $({undefined}), which is not defined unconditionally in the project, "
                                    + "Directory.Build.props or Directory.Packages.props; the reference is left out",
                                    MsBuildXml.Location(item, shown),
                                    conditional.Contains(undefined) ? "it is defined only under a Condition, which is not evaluated" : "the referenced project is still read when it is scanned itself");
                                break;
                            }
                            if (relative.AsSpan().IndexOfAny('*', '?') >= 0)
                            {
                                // MSBuild expands wildcards against the file system; one that matches nothing adds nothing.
                                foreach (var match in ProjectGlob.Match(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(file))!, relative, MsBuildXml.Location(item, shown), diagnostics)
                                    .Where(m => !string.Equals(m, System.IO.Path.GetFullPath(path), StringComparison.Ordinal)))
                                {
                                    projectReferences.Add(new ProjectReferenceDeclaration(match, MsBuildXml.Location(item, shown)));
                                }
                                break;
                            }
                            if (InputPath.Resolve(System.IO.Path.GetDirectoryName(file)!, relative, MsBuildXml.Location(item, shown), diagnostics) is not { } referenced)
                            {
                                break;
                            }
                            var reference = new ProjectReferenceDeclaration(referenced, MsBuildXml.Location(item, shown));
                            if (!File.Exists(reference.FullPath))
                            {
                                diagnostics.Warning(DiagnosticIds.MissingReference, $"the referenced project '{one}' does not exist",
                                    reference.Location, "a restore of this project fails until the path is fixed");
                            }
                            projectReferences.Add(reference);
                            break;
                        default:
                            break;
                    }
                }
            }
        }

        var declarations = ImmutableArray.CreateBuilder<PackageDeclaration>();
        foreach (var (id, item, file, global) in packages)
        {
            var shown = InputFile.DisplayPath(file);
            var location = MsBuildXml.Location(item, shown);
            var (version, versionNode) = MsBuildXml.Metadata(item, "Version");
            var (versionOverride, overrideNode) = MsBuildXml.Metadata(item, "VersionOverride");
            var (privateAssets, _) = MsBuildXml.Metadata(item, "PrivateAssets");
            string? written = null;
            XObject? writtenAt = null;
            var writtenIn = shown;
            if (central && !global && !string.IsNullOrEmpty(versionOverride))
            {
                (written, writtenAt) = (versionOverride, overrideNode);
            }
            else if (central && !global && string.IsNullOrEmpty(version) && centralVersions.TryGetValue(id, out var pinned))
            {
                (written, writtenAt, writtenIn) = (pinned.Value, pinned.Node, pinned.File);
            }
            else if (!string.IsNullOrEmpty(version))
            {
                (written, writtenAt) = (version, versionNode);
            }

            string? resolved = null;
            if (written is null)
            {
                diagnostics.Warning(DiagnosticIds.Unresolved,
                    central ? $"no version for '{id}': no PackageVersion in Directory.Packages.props and no VersionOverride"
                            : $"no version for '{id}'",
                    location, central ? "add <PackageVersion Include=\"" + id + "\" Version=\"...\" /> to Directory.Packages.props" : "add a Version attribute");
            }
            else
            {
                resolved = Expand(written, properties, out var missing);
                if (missing is not null)
                {
                    diagnostics.Warning(DiagnosticIds.Unresolved,
                        $"the version of '{id}' uses $({missing}), which is not defined unconditionally in the project, "
                        + "Directory.Build.props or Directory.Packages.props",
                        writtenAt is null ? location : MsBuildXml.Location(writtenAt, writtenIn),
                        conditional.Contains(missing) ? "it is defined only under a Condition, which is not evaluated" : "restore the project to get the version NuGet chose");
                    resolved = null;
                }
            }
            var dev = global || (privateAssets ?? "").Split(';', StringSplitOptions.TrimEntries)
                .Any(p => string.Equals(p, "all", StringComparison.OrdinalIgnoreCase));
            declarations.Add(new PackageDeclaration(id, resolved, dev, location,
                HasCondition(item) || (item.Parent is { } group && HasCondition(group))));
        }

        var projectVersion = properties.GetValueOrDefault("Version") ?? properties.GetValueOrDefault("VersionPrefix");
        return new MsBuildProject(
            path,
            name,
            string.IsNullOrEmpty(projectVersion) || projectVersion.Contains("$(", StringComparison.Ordinal) ? null : projectVersion,
            central,
            declarations.ToImmutable(),
            projectReferences.ToImmutable(),
            [.. sources.Select(s => InputFile.DisplayPath(s.Path))]);
    }

    /// <summary>
    /// The version a referenced project would have as a package (NuGet records project references with it);
    /// the SDK's default when the project sets none.
    /// </summary>
    public static string VersionOf(string projectPath)
    {
        if (!File.Exists(projectPath))
        {
            return "1.0.0";
        }
        // Problems in a referenced project are reported when that project itself is read.
        return Load(projectPath, new DiagnosticBag())?.Version ?? "1.0.0";
    }

    /// <summary>The nearest file called <paramref name="fileName"/> in <paramref name="directory"/> or a folder above.</summary>
    public static string? FindAbove(string directory, string fileName)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The reserved properties that name the file being evaluated (an imported props file, or the project).</summary>
    private static void SetThisFile(Dictionary<string, string> properties, string file)
    {
        var full = System.IO.Path.GetFullPath(file);
        properties["MSBuildThisFileFullPath"] = full;
        properties["MSBuildThisFileDirectory"] = System.IO.Path.GetDirectoryName(full) + System.IO.Path.DirectorySeparatorChar;
        properties["MSBuildThisFile"] = System.IO.Path.GetFileName(full);
        properties["MSBuildThisFileName"] = System.IO.Path.GetFileNameWithoutExtension(full);
        properties["MSBuildThisFileExtension"] = System.IO.Path.GetExtension(full);
    }

    private static bool HasCondition(XElement element) => element.Attribute("Condition") is not null;

    private static bool IsTrue(string? value) => string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Replaces <c>$(Name)</c> with known property values; <paramref name="missing"/> names the first unknown one.
    /// Stops once the text is longer than <see cref="MaxPropertyLength"/>, returning that much.
    /// </summary>
    internal static string Expand(string text, IReadOnlyDictionary<string, string> properties, out string? missing)
    {
        missing = null;
        var current = text;
        for (var depth = 0; depth < MaxExpansionDepth && current.Contains("$(", StringComparison.Ordinal); depth++)
        {
            var sb = new StringBuilder(current.Length);
            var i = 0;
            while (i < current.Length)
            {
                var start = current.IndexOf("$(", i, StringComparison.Ordinal);
                var end = start < 0 ? -1 : current.IndexOf(')', start);
                if (start < 0 || end < 0)
                {
                    sb.Append(current, i, current.Length - i);
                    break;
                }
                sb.Append(current, i, start - i);
                var name = current[(start + 2)..end].Trim();
                if (properties.TryGetValue(name, out var value))
                {
                    sb.Append(value);
                    if (sb.Length > MaxPropertyLength)
                    {
                        return sb.ToString();
                    }
                }
                else
                {
                    // Property functions ($([System.String]::...)) and undefined properties are left for the caller to report.
                    missing ??= name;
                    sb.Append(current, start, end - start + 1);
                }
                i = end + 1;
            }
            var next = sb.ToString();
            if (next == current || missing is not null)
            {
                return next;
            }
            current = next;
        }
        return current;
    }
}
