using Tollgate.Graph;
using Tollgate.Inputs;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>A TOML value that remembers where it was written (1-based line and column).</summary>
internal abstract class TomlNode(int line, int column)
{
    public int Line { get; } = line;
    public int Column { get; } = column;

    public SourceLocation LocationIn(string file) => new(file, Line, Column);

    /// <summary>The TOML type name, for messages about wrongly typed values.</summary>
    public abstract string TypeName { get; }
}

/// <summary>A TOML table (document root, <c>[header]</c>, dotted-key or inline table); keys in document order.</summary>
internal sealed class TomlTableNode(int line, int column) : TomlNode(line, column)
{
    private readonly List<KeyValuePair<string, TomlNode>> _entries = [];
    private readonly Dictionary<string, TomlNode> _index = new(StringComparer.Ordinal);

    public IReadOnlyList<KeyValuePair<string, TomlNode>> Entries => _entries;

    public override string TypeName => "table";

    public TomlNode? this[string key] => _index.GetValueOrDefault(key);

    internal void Set(string key, TomlNode value)
    {
        if (_index.ContainsKey(key))
        {
            _entries.RemoveAll(e => e.Key == key);
        }
        _index[key] = value;
        _entries.Add(new(key, value));
    }

    /// <summary>The string at <paramref name="key"/>, or null when absent or not a string.</summary>
    public string? GetString(string key) => this[key] is TomlScalarNode { Kind: TomlScalarKind.String } s ? s.Text : null;

    public TomlTableNode? GetTable(string key) => this[key] as TomlTableNode;

    public TomlArrayNode? GetArray(string key) => this[key] as TomlArrayNode;

    public bool? GetBool(string key) => this[key] is TomlScalarNode { Kind: TomlScalarKind.Boolean } s ? s.Text == "true" : null;

    /// <summary>Follows a dotted path of tables (<c>tool.poetry.dependencies</c>); null when any part is missing.</summary>
    public TomlTableNode? GetTablePath(string dottedPath)
    {
        TomlTableNode? table = this;
        foreach (var part in dottedPath.Split('.'))
        {
            table = table?.GetTable(part);
        }
        return table;
    }
}

/// <summary>A TOML array, or an array of tables (<c>[[name]]</c>).</summary>
internal sealed class TomlArrayNode(int line, int column) : TomlNode(line, column)
{
    public List<TomlNode> Items { get; } = [];

    public override string TypeName => "array";
}

internal enum TomlScalarKind
{
    String,
    Integer,
    Float,
    Boolean,
    DateTime,
}

/// <summary>A TOML string, number, boolean or date, kept as text.</summary>
internal sealed class TomlScalarNode(int line, int column, TomlScalarKind kind, string text) : TomlNode(line, column)
{
    public TomlScalarKind Kind { get; } = kind;
    public string Text { get; } = text;

    public override string TypeName => Kind.ToString().ToLowerInvariant();
}

/// <summary>
/// Parses TOML with Tomlyn's syntax tree, so every value keeps its line, and syntax errors become TG0004 diagnostics
/// with line and column instead of exceptions.
/// </summary>
internal static class LocatedToml
{
    /// <summary>Reads and parses a file; null (with diagnostics) when it cannot be read or is not valid TOML.</summary>
    public static TomlTableNode? ParseFile(string path, DiagnosticBag diagnostics)
    {
        var text = InputFile.ReadText(path, diagnostics);
        return text is null ? null : Parse(text, InputFile.DisplayPath(path), diagnostics);
    }

    public static TomlTableNode? Parse(string text, string displayPath, DiagnosticBag diagnostics)
    {
        DocumentSyntax document;
        try
        {
            document = SyntaxParser.Parse(text, displayPath, true);
        }
        catch (Tomlyn.TomlException e) when (e.Line is null && DeeperThan(text, MaxDepth) is { } deep)
        {
            // The parser refuses values nested deeper than its limit with an exception that has no position.
            var (line, column) = new TextLines(text).Position(deep);
            diagnostics.Error(DiagnosticIds.TooDeep, $"TOML nested more than {MaxDepth} levels deep",
                new SourceLocation(displayPath, line, column), "no lockfile nests this deep: the file is damaged or hostile");
            return null;
        }
        catch (ArgumentException e)
        {
            // Tomlyn's lexer throws instead of reporting on some texts: an escape cut off by the end of the text ("\"
            // last) builds its message from the end-of-text marker, which is no character (ArgumentOutOfRangeException).
            var cutEscape = text.Length > 0 && text[^1] == '\\';
            var (line, column) = new TextLines(text).Position(cutEscape ? text.Length - 1 : 0);
            diagnostics.Error(DiagnosticIds.InvalidToml,
                cutEscape ? "invalid TOML: the text ends in the middle of an escape ('\\' last)" : $"invalid TOML: the parser failed on this text ({e.Message})",
                new SourceLocation(displayPath, line, column),
                cutEscape ? "the document ends too early: the file looks truncated" : "check the TOML syntax");
            return null;
        }
        catch (Tomlyn.TomlException e)
        {
            // The syntax parser reports problems as diagnostics; this only guards against a parser bug.
            diagnostics.Error(DiagnosticIds.InvalidToml, $"invalid TOML: {e.Message}",
                new SourceLocation(displayPath, Math.Max(e.Line ?? 1, 1), Math.Max(e.Column ?? 1, 1)));
            return null;
        }
        if (document.HasErrors)
        {
            // One mistake (an unclosed string) makes the parser report every line after it: the first error is the one to fix.
            var message = document.Diagnostics.Where(d => d.Kind == DiagnosticMessageKind.Error).MinBy(d => d.Span.Start.Offset)!;
            var lines = new TextLines(text);
            var line = message.Span.Start.Line + 1;
            var column = message.Span.Start.Column + 1;
            var atEnd = message.Span.Start.Offset >= text.TrimEnd().Length - 1 || line >= lines.LineCount
                || message.Message.Contains("<eof>", StringComparison.OrdinalIgnoreCase);
            diagnostics.Error(DiagnosticIds.InvalidToml, $"invalid TOML: {message.Message}",
                new SourceLocation(displayPath, line, column),
                atEnd ? "the document ends too early: the file looks truncated" : "check the TOML syntax near this position");
            return null;
        }
        return Build(document);
    }

    /// <summary>The nesting of arrays and inline tables that Tomlyn's parser accepts (its default MaxDepth).</summary>
    private const int MaxDepth = 64;

    /// <summary>
    /// The offset of the first '[' or '{' opened deeper than <paramref name="limit"/>, or null. Brackets in strings count
    /// too: this only places an error the parser has found.
    /// </summary>
    private static int? DeeperThan(string text, int limit)
    {
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '[' or '{' when ++depth > limit:
                    return i;
                case ']' or '}':
                    depth = Math.Max(0, depth - 1);
                    break;
                default:
                    break;
            }
        }
        return null;
    }

    private static TomlTableNode Build(DocumentSyntax document)
    {
        var root = new TomlTableNode(1, 1);
        foreach (var kv in document.KeyValues)
        {
            AddKeyValue(root, kv);
        }
        foreach (var table in document.Tables)
        {
            if (table.Name is null)
            {
                continue;
            }
            var path = KeyParts(table.Name);
            var (line, column) = Position(table.Span);
            var parent = Navigate(root, path[..^1], line, column);
            var last = path[^1];
            TomlTableNode target;
            if (table is TableArraySyntax)
            {
                if (parent[last] is not TomlArrayNode array)
                {
                    array = new TomlArrayNode(line, column);
                    parent.Set(last, array);
                }
                target = new TomlTableNode(line, column);
                array.Items.Add(target);
            }
            else if (parent[last] is TomlTableNode existing)
            {
                target = existing;
            }
            else
            {
                target = new TomlTableNode(line, column);
                parent.Set(last, target);
            }
            foreach (var kv in table.Items)
            {
                AddKeyValue(target, kv);
            }
        }
        return root;
    }

    /// <summary>Walks to the table at <paramref name="path"/>, creating implicit tables; an array of tables continues at its last table.</summary>
    private static TomlTableNode Navigate(TomlTableNode table, string[] path, int line, int column)
    {
        foreach (var part in path)
        {
            switch (table[part])
            {
                case TomlTableNode next:
                    table = next;
                    break;
                case TomlArrayNode { Items.Count: > 0 } array when array.Items[^1] is TomlTableNode last:
                    table = last;
                    break;
                default:
                    var created = new TomlTableNode(line, column);
                    table.Set(part, created);
                    table = created;
                    break;
            }
        }
        return table;
    }

    private static void AddKeyValue(TomlTableNode table, KeyValueSyntax kv)
    {
        if (kv.Key is null || kv.Value is null)
        {
            return;
        }
        var path = KeyParts(kv.Key);
        var (line, column) = Position(kv.Span);
        var parent = Navigate(table, path[..^1], line, column);
        parent.Set(path[^1], Convert(kv.Value));
    }

    private static string[] KeyParts(KeySyntax key)
    {
        var parts = new List<string> { KeyText(key.Key) };
        foreach (var dotted in key.DotKeys)
        {
            parts.Add(KeyText(dotted.Key));
        }
        return [.. parts];
    }

    private static string KeyText(BareKeyOrStringValueSyntax? key) => key switch
    {
        BareKeySyntax bare => bare.Key?.Text ?? "",
        StringValueSyntax s => s.Value ?? "",
        null => "",
        _ => key.ToString()?.Trim() ?? "",
    };

    private static TomlNode Convert(ValueSyntax value)
    {
        var (line, column) = Position(value.Span);
        switch (value)
        {
            case StringValueSyntax s:
                return new TomlScalarNode(line, column, TomlScalarKind.String, s.Value ?? "");
            case IntegerValueSyntax i:
                return new TomlScalarNode(line, column, TomlScalarKind.Integer, i.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            case BooleanValueSyntax b:
                return new TomlScalarNode(line, column, TomlScalarKind.Boolean, b.Value ? "true" : "false");
            case FloatValueSyntax f:
                return new TomlScalarNode(line, column, TomlScalarKind.Float, f.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            case DateTimeValueSyntax d:
                return new TomlScalarNode(line, column, TomlScalarKind.DateTime, d.ToString()?.Trim() ?? "");
            case ArraySyntax a:
            {
                var array = new TomlArrayNode(line, column);
                foreach (var item in a.Items)
                {
                    if (item.Value is not null)
                    {
                        array.Items.Add(Convert(item.Value));
                    }
                }
                return array;
            }
            case InlineTableSyntax t:
            {
                var table = new TomlTableNode(line, column);
                foreach (var item in t.Items)
                {
                    if (item.KeyValue is not null)
                    {
                        AddKeyValue(table, item.KeyValue);
                    }
                }
                return table;
            }
            default:
                return new TomlScalarNode(line, column, TomlScalarKind.String, value.ToString()?.Trim() ?? "");
        }
    }

    private static (int Line, int Column) Position(SourceSpan span) => (span.Start.Line + 1, span.Start.Column + 1);
}
