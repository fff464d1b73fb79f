using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Vex;

/// <summary>
/// The VEX statements a scan applies, from one or more documents, and the question a scan asks of them: which
/// statement is in force for this finding? Matching follows OpenVEX (go-vex's rules): the vulnerability by name or
/// alias; the package by purl, where a statement's purl may be more general than the package's (no version matches
/// every version; its qualifiers must all be present). A statement's subcomponents match as well as its products,
/// because a scan looks at the dependencies of the product the statement is about. When several statements match,
/// the latest (by statement timestamp, else document timestamp; later in the given order on a tie) is in force.
/// </summary>
public sealed class VexStatements
{
    private readonly ImmutableArray<VexStatement> _statements;
    private readonly ILookup<string, int> _byId;

    public VexStatements(IEnumerable<VexStatement> statements)
    {
        _statements = [.. statements];
        _byId = _statements
            .SelectMany((s, i) => s.AllIds.Select(id => (Id: id.ToUpperInvariant(), Index: i)))
            .Distinct()
            .ToLookup(x => x.Id, x => x.Index, StringComparer.Ordinal);
    }

    public static VexStatements Empty { get; } = new([]);

    public ImmutableArray<VexStatement> All => _statements;

    /// <summary>The documents the statements came from, in the order read.</summary>
    public ImmutableArray<string> Documents { get; init; } = [];

    /// <summary>Reads every file; null (with error diagnostics) when any of them cannot be used: VEX fails closed.</summary>
    public static VexStatements? ReadFiles(IEnumerable<string> paths, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var all = new List<VexStatement>();
        var documents = new List<string>();
        var ok = true;
        foreach (var path in paths)
        {
            if (VexReader.ReadFile(path, diagnostics) is { } statements)
            {
                all.AddRange(statements);
                documents.Add(InputFile.DisplayPath(path));
            }
            else
            {
                ok = false;
            }
        }
        return ok ? new VexStatements(all) { Documents = [.. documents] } : null;
    }

    /// <summary>The statement in force for <paramref name="finding"/>, or null when none matches.</summary>
    public VexStatement? For(Finding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        VexStatement? best = null;
        var candidates = finding.AllIds.SelectMany(id => _byId[id.ToUpperInvariant()]).Distinct().Order();
        foreach (var index in candidates)
        {
            var statement = _statements[index];
            if (!statement.Products.Any(p => Matches(p, finding.Component)))
            {
                continue;
            }
            // Candidates come in document order, so ">=" lets the later of two equally dated statements win.
            if (best is null || (statement.Timestamp ?? DateTimeOffset.MinValue) >= (best.Timestamp ?? DateTimeOffset.MinValue))
            {
                best = statement;
            }
        }
        return best;
    }

    private static bool Matches(VexProduct product, Component component)
    {
        if (product.HasRanges && (product.Versions.IsDefaultOrEmpty))
        {
            return false;
        }
        if (!product.Versions.IsDefaultOrEmpty && !product.Versions.Contains(component.Version, VersionComparer(component.Ecosystem)))
        {
            return false;
        }
        return product.Purls.Any(p => PurlMatches(p, component)) || product.Subcomponents.Any(p => PurlMatches(p, component));
    }

    /// <summary>
    /// Whether <paramref name="general"/> names <paramref name="component"/>: same type, namespace and name (by the
    /// ecosystem's name rules), the same version unless the general purl has none, and every qualifier it has.
    /// </summary>
    public static bool PurlMatches(PackageUrl general, Component component)
    {
        ArgumentNullException.ThrowIfNull(general);
        ArgumentNullException.ThrowIfNull(component);
        var specific = component.Purl;
        if (!string.Equals(general.Type, specific.Type, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var names = general.Type.ToLowerInvariant() switch
        {
            "pypi" => (Func<string?, string?, bool>)((a, b) => a is null == b is null && (a is null || Component.NormalizePyPIName(a) == Component.NormalizePyPIName(b!))),
            "nuget" => (a, b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase),
            _ => (a, b) => string.Equals(a, b, StringComparison.Ordinal),
        };
        if (!names(general.Namespace, specific.Namespace) || !names(general.Name, specific.Name))
        {
            return false;
        }
        if (general.Version is not null && !VersionComparer(component.Ecosystem).Equals(general.Version, specific.Version ?? component.Version))
        {
            return false;
        }
        foreach (var (key, value) in general.Qualifiers)
        {
            if (!specific.Qualifiers.TryGetValue(key, out var theirs) || theirs != value)
            {
                return false;
            }
        }
        return true;
    }

    private static StringComparer VersionComparer(Ecosystem ecosystem) =>
        ecosystem == Ecosystem.NuGet ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
}

/// <summary>Where VEX documents are found without <c>--vex</c>: beside the policy file.</summary>
public static class VexFiles
{
    /// <summary>File name endings of VEX documents read from the policy file's folder.</summary>
    public static ImmutableArray<string> Suffixes { get; } = [".openvex.json", ".vex.json"];

    /// <summary>The VEX documents in the folder of <paramref name="policyPath"/> (<c>*.openvex.json</c>, <c>*.vex.json</c>), in ordinal name order.</summary>
    public static IReadOnlyList<string> BesidePolicy(string? policyPath)
    {
        if (policyPath is null || Path.GetDirectoryName(Path.GetFullPath(policyPath)) is not { } folder || !Directory.Exists(folder))
        {
            return [];
        }
        return [.. Directory.EnumerateFiles(folder)
            .Where(f => Suffixes.Any(s => Path.GetFileName(f).EndsWith(s, StringComparison.OrdinalIgnoreCase)))
            .Order(StringComparer.Ordinal)];
    }
}
