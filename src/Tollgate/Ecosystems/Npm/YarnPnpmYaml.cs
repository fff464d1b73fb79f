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
    public static YamlMappingNode? Load(string text, string displayPath, DiagnosticBag diagnostics)
    {
        var stream = new YamlStream();
        var parser = new YamlGuard.CheckingParser(new Parser(new StringReader(text)), MaxNesting);
        try
        {
            stream.Load(parser);
        }
        catch (YamlGuard.TooDeepException e)
        {
            diagnostics.Error(DiagnosticIds.TooDeep, $"YAML nested more than {e.Limit} levels deep",
                new SourceLocation(displayPath, (int)e.Start.Line, (int)e.Start.Column), "no lockfile nests this deep: the file is damaged or hostile");
            return null;
        }
        catch (YamlGuard.BrokenEventsException e)
        {
            diagnostics.Error(DiagnosticIds.InvalidYaml, $"invalid YAML: {e.Message}",
                new SourceLocation(displayPath, (int)e.Start.Line, (int)e.Start.Column), "check the YAML syntax near this position (a ': value' without its key?)");
            return null;
        }
        catch (YamlGuard.RefusedAliasException e)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, e.Message,
                new SourceLocation(displayPath, (int)e.Start.Line, (int)e.Start.Column),
                "pnpm and yarn write no anchors or aliases: the file was edited by hand, or is hostile");
            return null;
        }
        catch (Exception e) when (e is not YamlException && e.Source == "YamlDotNet")
        {
            // YamlDotNet throws other exceptions than YamlException on some malformed texts: InvalidOperationException
            // on unclosed flow collections (a '{' whose '}' is missing, followed by a plain key at the start of a
            // line: the brace left open is the mistake), ArgumentException ("unsupported event") on a ': value'
            // without its key under a nested key.
            if (e is InvalidOperationException && parser.InnermostOpenFlow is { } open)
            {
                diagnostics.Error(DiagnosticIds.InvalidYaml, $"invalid YAML: this '{open.Bracket}' is never closed",
                    new SourceLocation(displayPath, (int)open.Start.Line, (int)open.Start.Column),
                    $"add the missing '{(open.Bracket == '{' ? '}' : ']')}', or remove the '{open.Bracket}'");
            }
            else
            {
                var mark = parser.Current?.Start;
                diagnostics.Error(DiagnosticIds.InvalidYaml, "invalid YAML: the text after this point cannot be read",
                    new SourceLocation(displayPath, (int)(mark?.Line ?? 1), (int)(mark?.Column ?? 1)),
                    "look for an unclosed '[', '{' or quote, or a ': value' without its key");
            }
            return null;
        }
        catch (YamlException e)
        {
            // An error at the very end means the document stopped early; YamlDotNet may place it one line past the end.
            var lastLine = text.AsSpan().TrimEnd('\n').Count('\n') + 1;
            var truncated = e.Start.Line >= lastLine || e.End.Index >= text.TrimEnd().Length;
            var errorLine = (int)Math.Min(e.Start.Line, lastLine);
            diagnostics.Error(DiagnosticIds.InvalidYaml, $"invalid YAML: {Describe(e)}",
                new SourceLocation(displayPath, errorLine, (int)e.Start.Column),
                truncated ? "the document ends too early: the file looks truncated" : "check the YAML syntax near this position");
            return null;
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            diagnostics.Error(DiagnosticIds.UnexpectedShape, "expected a YAML mapping at the top of the lockfile",
                new SourceLocation(displayPath, 1, 1), "is the file empty or truncated?");
            return null;
        }
        return root;
    }

    private static string Describe(YamlException e)
    {
        // YamlDotNet prefixes its own position "(Line: 3, Col: 1, Idx: ..) - (...): "; ours is in the location.
        var message = e.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return (cut >= 0 && message.StartsWith('(') ? message[(cut + 3)..] : message).TrimEnd('.', ' ');
    }

    public static SourceLocation LocationOf(YamlNode node, string displayPath) =>
        new(displayPath, (int)node.Start.Line, (int)node.Start.Column);

    public static YamlNode? Get(this YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static YamlMappingNode? GetMap(this YamlMappingNode map, string key) => map.Get(key) as YamlMappingNode;

    public static string? GetString(this YamlMappingNode map, string key) => (map.Get(key) as YamlScalarNode)?.Value;

    public static bool? GetBool(this YamlMappingNode map, string key) => map.GetString(key) switch
    {
        "true" => true,
        "false" => false,
        _ => null,
    };

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
