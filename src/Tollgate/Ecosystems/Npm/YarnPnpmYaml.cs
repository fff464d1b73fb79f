using Tollgate.Graph;
using Tollgate.Inputs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Ecosystems.Npm;

/// <summary>Loads the YAML lockfiles of pnpm and yarn (berry) with line numbers, turning syntax errors into diagnostics.</summary>
internal static class YarnPnpmYaml
{
    /// <summary>Deeper nesting than this is refused while parsing: lockfiles nest a few levels, and the object model recurses.</summary>
    private const int MaxNesting = 200;

    /// <summary>Parses <paramref name="text"/>; null (with a TG0003/TG0008/TG0009 diagnostic) when it is not a YAML mapping.</summary>
    public static YamlMappingNode? Load(string text, string displayPath, DiagnosticBag diagnostics) =>
        LoadDocuments(text, displayPath, diagnostics) is { } documents ? documents[0] : null;

    /// <summary>
    /// Parses every document of <paramref name="text"/> (pnpm 11 and later can write two); null (with a diagnostic) when
    /// there is none or one is not a YAML mapping.
    /// </summary>
    public static IReadOnlyList<YamlMappingNode>? LoadDocuments(string text, string displayPath, DiagnosticBag diagnostics)
    {
        if (LocatedYaml.LoadAll(text, displayPath, diagnostics, MaxNesting, "lockfile") is not { } documents)
        {
            return null;
        }
        if (documents.Count == 0)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "expected a YAML mapping at the top of the lockfile",
                new SourceLocation(displayPath, 1, 1), "is the file empty or truncated?");
            return null;
        }
        var roots = new List<YamlMappingNode>(documents.Count);
        foreach (var document in documents)
        {
            if (document.RootNode is not YamlMappingNode root)
            {
                diagnostics.Error(DiagnosticIds.UnexpectedShape, "expected a YAML mapping at the top of the lockfile",
                    roots.Count == 0 ? new SourceLocation(displayPath, 1, 1) : LocationOf(document.RootNode, displayPath),
                    "is the file empty or truncated?");
                return null;
            }
            roots.Add(root);
        }
        return roots;
    }

    public static SourceLocation LocationOf(YamlNode node, string displayPath) =>
        new(displayPath, (int)node.Start.Line, (int)node.Start.Column);

    /// <summary>The entries of a mapping of scalar keys to scalar values (e.g. dependencies), skipping anything else.</summary>
    public static IEnumerable<(string Key, string Value, YamlNode Node)> ScalarPairs(this YamlMappingNode? map)
    {
        if (map is null)
        {
            yield break;
        }
        foreach (var (key, value) in map.Children)
        {
            if (key is YamlScalarNode { Value: { } k } && value is YamlScalarNode { Value: { } v })
            {
                yield return (k, v, key);
            }
        }
    }
}
