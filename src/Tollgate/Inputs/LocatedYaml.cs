using Tollgate.Graph;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Inputs;

/// <summary>
/// Loads YAML from files we do not control into YamlDotNet's object model (whose nodes keep their line and column),
/// turning every syntax problem into a diagnostic at the closest known position instead of an exception.
/// </summary>
public static class LocatedYaml
{
    /// <summary>
    /// Every document of <paramref name="text"/>, or null with a TG0003 (syntax), TG0008 (nesting) or TG0009 (alias)
    /// diagnostic. <paramref name="what"/> names the kind of file in hints ("lockfile", "workflow").
    /// </summary>
    public static IReadOnlyList<YamlDocument>? LoadAll(string text, string displayPath, DiagnosticBag diagnostics, int maxNesting, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var stream = new YamlStream();
        var parser = new YamlGuard.CheckingParser(new Parser(new StringReader(text)), maxNesting);
        try
        {
            stream.Load(parser);
        }
        catch (YamlGuard.TooDeepException e)
        {
            diagnostics.Error(DiagnosticIds.TooDeep, $"YAML nested more than {e.Limit} levels deep",
                new SourceLocation(displayPath, (int)e.Start.Line, (int)e.Start.Column), $"no {what} nests this deep: the file is damaged or hostile");
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
                $"write the value out: a {what} needs no alias there");
            return null;
        }
        catch (Exception e) when (e is not YamlException && e.Source == "YamlDotNet")
        {
            // YamlDotNet throws other exceptions than YamlException on some malformed texts: InvalidOperationException
            // on unclosed flow collections, ArgumentException ("unsupported event") on a ': value' without its key.
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
        return [.. stream.Documents];
    }

    private static string Describe(YamlException e)
    {
        // YamlDotNet prefixes its own position "(Line: 3, Col: 1, Idx: ..) - (...): "; ours is in the location.
        var message = e.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return (cut >= 0 && message.StartsWith('(') ? message[(cut + 3)..] : message).TrimEnd('.', ' ');
    }

    /// <summary>The value under <paramref name="key"/> in a mapping, or null.</summary>
    public static YamlNode? Get(this YamlMappingNode map, string key)
    {
        ArgumentNullException.ThrowIfNull(map);
        return map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;
    }

    /// <summary>The mapping under <paramref name="key"/>, or null.</summary>
    public static YamlMappingNode? GetMap(this YamlMappingNode map, string key) => map.Get(key) as YamlMappingNode;

    /// <summary>The sequence under <paramref name="key"/>, or null.</summary>
    public static YamlSequenceNode? GetList(this YamlMappingNode map, string key) => map.Get(key) as YamlSequenceNode;

    /// <summary>The scalar text under <paramref name="key"/>, or null.</summary>
    public static string? GetString(this YamlMappingNode map, string key) => (map.Get(key) as YamlScalarNode)?.Value;

    /// <summary>The boolean under <paramref name="key"/> (<c>true</c> or <c>false</c>), or null when absent or not a boolean.</summary>
    public static bool? GetBool(this YamlMappingNode map, string key) => map.GetString(key) switch
    {
        "true" => true,
        "false" => false,
        _ => null,
    };

    /// <summary>The entries of a mapping in document order; none for null.</summary>
    public static IEnumerable<KeyValuePair<YamlNode, YamlNode>> Entries(this YamlMappingNode? map) =>
        map?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>();

    /// <summary>The 1-based line a node starts on.</summary>
    public static int LineOf(YamlNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return (int)node.Start.Line;
    }
}
