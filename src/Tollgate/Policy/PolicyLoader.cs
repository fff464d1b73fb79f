using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Policy;

/// <summary>The outcome of loading a policy: the policy (null when the file has errors), every problem found, and the file.</summary>
/// <param name="Policy">The policy to enforce; null when any error was reported.</param>
/// <param name="Diagnostics">Every problem found, errors and warnings, in file order.</param>
/// <param name="Path">The file read, as shown to users; null when no file was found and the default applies.</param>
public sealed record PolicyLoadResult(TollgatePolicy? Policy, ImmutableArray<Diagnostic> Diagnostics, string? Path)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
}

/// <summary>
/// Finds and reads <c>tollgate.yaml</c>. Every problem in the file is reported at once, each with its line, column,
/// what was expected and a hint; a policy with errors is not used.
/// </summary>
public static class PolicyLoader
{
    /// <summary>The file names looked for in each folder, in order of preference.</summary>
    public static ImmutableArray<string> FileNames { get; } = ["tollgate.yaml", "tollgate.yml", ".tollgate.yaml", ".tollgate.yml"];

    /// <summary>
    /// The policy file for a scanned path: the first of <see cref="FileNames"/> in the path's folder or the nearest folder
    /// above it. The search stops after the folder that holds <c>.git</c> (the repository root). Null when there is none.
    /// </summary>
    public static string? Find(string scanPath) => FindAll(scanPath).FirstOrDefault();

    /// <summary>
    /// Loads the policy for a scan: <paramref name="explicitPath"/> when given (it must exist), otherwise the file
    /// <see cref="Find"/> locates from <paramref name="scanPath"/>, otherwise <see cref="TollgatePolicy.Default"/>.
    /// </summary>
    /// <param name="explicitPath">The path given with <c>--policy</c>, or null.</param>
    /// <param name="scanPath">The file or folder being scanned.</param>
    /// <param name="knownRuleIds">The rule ids this release knows; ids outside it get a warning. Null skips the check.</param>
    public static PolicyLoadResult Load(string? explicitPath, string scanPath, IReadOnlyCollection<string>? knownRuleIds = null)
    {
        if (explicitPath is not null)
        {
            return LoadFile(explicitPath, knownRuleIds);
        }
        var found = FindAll(scanPath);
        if (found.Count == 0)
        {
            return new PolicyLoadResult(TollgatePolicy.Default, [], null);
        }
        var result = LoadFile(found[0], knownRuleIds);
        var sameFolder = found.Skip(1).Where(f => Path.GetDirectoryName(f) == Path.GetDirectoryName(found[0])).ToList();
        if (sameFolder.Count == 0)
        {
            return result;
        }
        var shadowed = sameFolder.Select(f => new Diagnostic(DiagnosticIds.PolicyInvalid, DiagnosticSeverity.Warning,
            $"{Path.GetFileName(f)} is not read because {Path.GetFileName(found[0])} in the same folder comes first",
            new SourceLocation(InputFile.DisplayPath(f)), "keep one policy file per folder"));
        return result with { Diagnostics = [.. shadowed, .. result.Diagnostics] };
    }

    /// <summary>Reads and validates one policy file.</summary>
    public static PolicyLoadResult LoadFile(string path, IReadOnlyCollection<string>? knownRuleIds = null)
    {
        var bag = new DiagnosticBag();
        var shown = InputFile.DisplayPath(path);
        var text = InputFile.ReadText(path, bag);
        if (text is null)
        {
            return new PolicyLoadResult(null, [.. bag.Items], shown);
        }
        return Parse(text, shown, knownRuleIds);
    }

    /// <summary>Policy files larger than this are refused: a real one is a few kilobytes.</summary>
    public const int MaxChars = 1024 * 1024;

    /// <summary>Deepest nesting of '[' and '{' accepted: a real policy nests two or three levels.</summary>
    public const int MaxFlowDepth = 64;

    /// <summary>Validates policy text; <paramref name="displayPath"/> is used in locations.</summary>
    public static PolicyLoadResult Parse(string text, string displayPath, IReadOnlyCollection<string>? knownRuleIds = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bag = new DiagnosticBag();
        if (text.Length > MaxChars)
        {
            bag.Error(DiagnosticIds.FileTooLarge, $"the policy file has {text.Length:N0} characters, more than the limit of {MaxChars:N0}",
                new SourceLocation(displayPath), "is this really a policy file?");
            return new PolicyLoadResult(null, [.. bag.Items], displayPath);
        }
        if (FlowDepthExceeded(text) is { } deep)
        {
            // The YAML object model is built recursively; refusing absurd nesting keeps a hostile file from exhausting the stack.
            var (line, column) = new TextLines(text).Position(deep);
            bag.Error(DiagnosticIds.TooDeep, $"'[' and '{{' are nested more than {MaxFlowDepth} levels deep",
                new SourceLocation(displayPath, line, column), "a policy nests two or three levels; check for a missing ']' or '}'");
            return new PolicyLoadResult(null, [.. bag.Items], displayPath);
        }
        var stream = new YamlStream();
        var parser = new YamlGuard.CheckingParser(new Parser(new StringReader(text)), MaxFlowDepth);
        try
        {
            stream.Load(parser);
        }
        catch (YamlGuard.TooDeepException e)
        {
            // Nesting the text check above does not see: indentation, "- - -" entries, brackets after a stray quote.
            bag.Error(DiagnosticIds.TooDeep, $"the policy nests more than {e.Limit} levels deep",
                new SourceLocation(displayPath, (int)e.Start.Line, (int)e.Start.Column), "a policy nests two or three levels; check the indentation and brackets");
            return new PolicyLoadResult(null, [.. bag.Items], displayPath);
        }
        catch (YamlGuard.BrokenEventsException e)
        {
            bag.Error(DiagnosticIds.PolicySyntax, $"not valid YAML: {e.Message}", new SourceLocation(displayPath, (int)e.Start.Line, (int)e.Start.Column),
                "check the YAML syntax near this position (a ': value' without its key?)");
            return new PolicyLoadResult(null, [.. bag.Items], displayPath);
        }
        catch (YamlGuard.RefusedAliasException e)
        {
            bag.Error(DiagnosticIds.PolicyInvalid, e.Message, new SourceLocation(displayPath, (int)e.Start.Line, (int)e.Start.Column),
                "write the value out: a policy needs no anchors or aliases");
            return new PolicyLoadResult(null, [.. bag.Items], displayPath);
        }
        catch (YamlException e)
        {
            var (line, column) = SyntaxPosition(e, text);
            bag.Error(DiagnosticIds.PolicySyntax, "not valid YAML: " + SyntaxMessage(e),
                new SourceLocation(displayPath, line, column), SyntaxHint(e));
            return new PolicyLoadResult(null, [.. bag.Items], displayPath);
        }
        catch (Exception e) when (e is not YamlException && e.Source == "YamlDotNet")
        {
            // YamlDotNet throws other exceptions than YamlException on some malformed texts: InvalidOperationException
            // on some unterminated constructs (an unclosed '[' before the end of the document), ArgumentException
            // ("unsupported event") on a ': value' without its key; the last event it produced is the closest known position.
            var mark = parser.Current?.Start;
            bag.Error(DiagnosticIds.PolicySyntax, "not valid YAML: the text after this point cannot be read",
                new SourceLocation(displayPath, (int)(mark?.Line ?? 1), (int)(mark?.Column ?? 1)),
                "look for an unclosed '[', '{' or quote, or a ': value' without its key");
            return new PolicyLoadResult(null, [.. bag.Items], displayPath);
        }
        var reader = new PolicyYamlReader(displayPath, bag, knownRuleIds);
        var policy = reader.Read(stream) with { Source = displayPath };
        var ordered = bag.Items.OrderBy(d => d.Location?.Line ?? 0).ThenBy(d => d.Location?.Column ?? 0).ToImmutableArray();
        return new PolicyLoadResult(bag.HasErrors ? null : policy, ordered, displayPath);
    }

    /// <summary>The offset where flow nesting first exceeds <see cref="MaxFlowDepth"/>, or null. Quotes and comments are skipped.</summary>
    private static int? FlowDepthExceeded(string text)
    {
        var depth = 0;
        var quote = '\0';
        var comment = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (comment)
            {
                comment = c != '\n';
                continue;
            }
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                continue;
            }
            switch (c)
            {
                case '"' or '\'':
                    // Only a quote that starts a scalar opens a string (it's not one inside "don't").
                    if (i == 0 || text[i - 1] is ' ' or '[' or '{' or ',' or ':' or '\n' or '-')
                    {
                        quote = c;
                    }
                    break;
                case '#' when i == 0 || char.IsWhiteSpace(text[i - 1]):
                    comment = true;
                    break;
                case '[' or '{':
                    if (++depth > MaxFlowDepth)
                    {
                        return i;
                    }
                    break;
                case ']' or '}':
                    depth = Math.Max(0, depth - 1);
                    break;
            }
        }
        return null;
    }

    private static List<string> FindAll(string scanPath)
    {
        var found = new List<string>();
        var full = Path.GetFullPath(scanPath);
        var start = Directory.Exists(full) ? full : Path.GetDirectoryName(full);
        for (var dir = start is null ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            foreach (var name in FileNames)
            {
                var candidate = Path.Combine(dir.FullName, name);
                if (File.Exists(candidate))
                {
                    found.Add(candidate);
                }
            }
            var gitMarker = Path.Combine(dir.FullName, ".git");
            if (found.Count > 0 || Directory.Exists(gitMarker) || File.Exists(gitMarker))
            {
                break;
            }
        }
        return found;
    }

    private static (int Line, int Column) SyntaxPosition(YamlException e, string text)
    {
        if (e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase))
        {
            // The parser reports the start of the enclosing mapping; the line that holds the tab is more useful.
            var lines = text.Split('\n');
            for (var i = (int)Math.Max(e.Start.Line - 1, 0); i < lines.Length; i++)
            {
                var indent = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
                var tab = lines[i].IndexOf('\t', StringComparison.Ordinal);
                if (tab >= 0 && tab < indent)
                {
                    return (i + 1, tab + 1);
                }
            }
        }
        return ((int)e.Start.Line, (int)e.Start.Column);
    }

    private static string SyntaxHint(YamlException e) =>
        e.Message.Contains("Duplicate key", StringComparison.OrdinalIgnoreCase) ? "a key may appear once in a mapping: keep one of them"
        : e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) ? "indent with spaces: YAML does not allow tabs in indentation"
        : "check the indentation and quote values that contain ': ' or start with '@', '*', '&' or '!'";

    private static string SyntaxMessage(YamlException e)
    {
        // YamlDotNet prefixes messages with the position, which the location already carries.
        var message = e.Message;
        var close = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && close > 0 ? message[(close + 3)..] : message;
    }
}
