using System.Text;
using System.Text.Json;
using Tollgate.Graph;

namespace Tollgate.Inputs;

public enum JsonKind
{
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

/// <summary>
/// A JSON value that remembers its line and column, so readers can say where a component was declared.
/// Built by <see cref="LocatedJson.Parse"/>; read-only afterwards.
/// </summary>
public sealed class JsonNode
{
    private static readonly List<KeyValuePair<string, JsonNode>> NoProperties = [];
    private static readonly List<JsonNode> NoItems = [];
    private Dictionary<string, JsonNode>? _index;

    internal JsonNode(JsonKind kind, int line, int column)
    {
        Kind = kind;
        Line = line;
        Column = column;
    }

    public JsonKind Kind { get; }
    public int Line { get; }
    public int Column { get; }

    /// <summary>The text of a string, or the raw text of a number.</summary>
    public string? Text { get; internal set; }

    internal List<KeyValuePair<string, JsonNode>>? PropertyList { get; set; }
    internal List<JsonNode>? ItemList { get; set; }

    /// <summary>Object members in document order (empty for non-objects).</summary>
    public IReadOnlyList<KeyValuePair<string, JsonNode>> Properties => PropertyList ?? NoProperties;

    /// <summary>Array items (empty for non-arrays).</summary>
    public IReadOnlyList<JsonNode> Items => ItemList ?? NoItems;

    public bool IsObject => Kind == JsonKind.Object;
    public bool IsArray => Kind == JsonKind.Array;
    public bool IsString => Kind == JsonKind.String;

    /// <summary>The member named <paramref name="name"/> (the last one when repeated), or null.</summary>
    public JsonNode? this[string name]
    {
        get
        {
            var list = PropertyList;
            if (list is null)
            {
                return null;
            }
            if (list.Count <= 8)
            {
                for (var i = list.Count - 1; i >= 0; i--)
                {
                    if (list[i].Key == name)
                    {
                        return list[i].Value;
                    }
                }
                return null;
            }
            if (_index is null)
            {
                var index = new Dictionary<string, JsonNode>(list.Count, StringComparer.Ordinal);
                foreach (var (k, v) in list)
                {
                    index[k] = v;
                }
                _index = index;
            }
            return _index.GetValueOrDefault(name);
        }
    }

    /// <summary>The string value of member <paramref name="name"/>, or null when absent or not a string.</summary>
    public string? GetString(string name) => this[name] is { Kind: JsonKind.String } n ? n.Text : null;

    /// <summary>The boolean value of member <paramref name="name"/>, or null when absent or not a boolean.</summary>
    public bool? GetBool(string name) => this[name]?.Kind switch
    {
        JsonKind.True => true,
        JsonKind.False => false,
        _ => null,
    };

    /// <summary>The integer value of member <paramref name="name"/>, or null.</summary>
    public long? GetInt64(string name) =>
        this[name] is { Kind: JsonKind.Number, Text: { } t } && long.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;

    public SourceLocation LocationIn(string file) => new(file, Line, Column);

    public override string ToString() => Kind switch
    {
        JsonKind.String or JsonKind.Number => Text ?? "",
        JsonKind.True => "true",
        JsonKind.False => "false",
        JsonKind.Null => "null",
        _ => Kind.ToString(),
    };
}

/// <summary>
/// Parses JSON (optionally with comments and trailing commas, as bun.lock and VS Code files use) into
/// <see cref="JsonNode"/>s with line numbers. Problems become diagnostics with file, line and column.
/// </summary>
public static class LocatedJson
{
    public const int MaxDepth = 256;

    /// <summary>Reads and parses a file; null (with a diagnostic) when it cannot be read or is not JSON.</summary>
    public static JsonNode? ParseFile(string path, DiagnosticBag diagnostics, bool allowCommentsAndTrailingCommas = false)
    {
        var bytes = InputFile.ReadBytes(path, diagnostics);
        return bytes is null ? null : Parse(bytes, InputFile.DisplayPath(path), diagnostics, allowCommentsAndTrailingCommas);
    }

    public static JsonNode? Parse(ReadOnlySpan<byte> utf8, string displayPath, DiagnosticBag diagnostics, bool allowCommentsAndTrailingCommas = false)
    {
        if (utf8.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
        {
            AllowTrailingCommas = allowCommentsAndTrailingCommas,
            CommentHandling = allowCommentsAndTrailingCommas ? JsonCommentHandling.Skip : JsonCommentHandling.Disallow,
            // Two more than ours: the reader counts the level it is about to open, so our own check (with its clearer
            // diagnostic) must be the one that fires.
            MaxDepth = MaxDepth + 2,
        });
        var builder = new Builder(utf8);
        try
        {
            // The reader throws on input without a token ("when isFinalBlock is true") rather than returning false.
            if (utf8.Trim(" \t\r\n"u8).IsEmpty || !reader.Read())
            {
                diagnostics.Error(DiagnosticIds.InvalidJson, "the file is empty; expected a JSON document",
                    new SourceLocation(displayPath, 1, 1), "was the file truncated when it was written?");
                return null;
            }
            var root = builder.ReadValue(ref reader, 0);
            if (reader.Read())
            {
                var (line, column) = builder.Position((int)reader.TokenStartIndex);
                diagnostics.Error(DiagnosticIds.InvalidJson, "unexpected content after the end of the JSON document",
                    new SourceLocation(displayPath, line, column), "are two documents concatenated?");
                return null;
            }
            return root;
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var column = (int)(e.BytePositionInLine ?? 0) + 1;
            var truncated = reader.BytesConsumed >= utf8.Length - 1 || e.Message.Contains("end of data", StringComparison.OrdinalIgnoreCase);
            diagnostics.Error(DiagnosticIds.InvalidJson, $"invalid JSON: {Describe(e)}",
                new SourceLocation(displayPath, line, column),
                truncated ? "the document ends too early: the file looks truncated" : "check the JSON syntax near this position");
            return null;
        }
        catch (TooDeepException e)
        {
            diagnostics.Error(DiagnosticIds.TooDeep, $"JSON nested more than {MaxDepth} levels deep",
                new SourceLocation(displayPath, e.Line, e.Column), "no lockfile nests this deep: the file is damaged or hostile");
            return null;
        }
        catch (NotTextException e)
        {
            diagnostics.Error(DiagnosticIds.InvalidJson, $"invalid JSON: {e.Message}",
                new SourceLocation(displayPath, e.Line, e.Column), "JSON text is UTF-8: the file is damaged, or was saved in another encoding");
            return null;
        }
    }

    private static string Describe(JsonException e)
    {
        // System.Text.Json appends its own position; ours is in the location already.
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }

    private sealed class TooDeepException(int line, int column) : Exception
    {
        public int Line { get; } = line;
        public int Column { get; } = column;
    }

    /// <summary>A string whose bytes or escapes are no Unicode text (the reader's own exception has no position).</summary>
    private sealed class NotTextException(string message, int line, int column) : Exception(message)
    {
        public int Line { get; } = line;
        public int Column { get; } = column;
    }

    private ref struct Builder
    {
        private readonly ReadOnlySpan<byte> _utf8;
        private int _scanned;
        private int _line;
        private int _lineStart;
        private readonly Dictionary<string, string> _pool;

        public Builder(ReadOnlySpan<byte> utf8)
        {
            _utf8 = utf8;
            _line = 1;
            _pool = new Dictionary<string, string>(StringComparer.Ordinal);
        }

        /// <summary>Line and column of a byte offset; offsets must not decrease between calls.</summary>
        public (int, int) Position(int offset)
        {
            var span = _utf8[_scanned..offset];
            int index;
            var consumed = _scanned;
            while ((index = span.IndexOf((byte)'\n')) >= 0)
            {
                _line++;
                consumed += index + 1;
                _lineStart = consumed;
                span = span[(index + 1)..];
            }
            _scanned = offset;
            return (_line, offset - _lineStart + 1);
        }

        public JsonNode ReadValue(ref Utf8JsonReader reader, int depth)
        {
            var (line, column) = Position((int)reader.TokenStartIndex);
            if (depth > MaxDepth)
            {
                throw new TooDeepException(line, column);
            }
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                {
                    var node = new JsonNode(JsonKind.Object, line, column) { PropertyList = [] };
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        var name = Intern(ref reader);
                        reader.Read();
                        node.PropertyList.Add(new(name, ReadValue(ref reader, depth + 1)));
                    }
                    return node;
                }
                case JsonTokenType.StartArray:
                {
                    var node = new JsonNode(JsonKind.Array, line, column) { ItemList = [] };
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        node.ItemList.Add(ReadValue(ref reader, depth + 1));
                    }
                    return node;
                }
                case JsonTokenType.String:
                    return new JsonNode(JsonKind.String, line, column) { Text = Intern(ref reader) };
                case JsonTokenType.Number:
                    return new JsonNode(JsonKind.Number, line, column) { Text = Encoding.UTF8.GetString(reader.ValueSpan) };
                case JsonTokenType.True:
                    return new JsonNode(JsonKind.True, line, column);
                case JsonTokenType.False:
                    return new JsonNode(JsonKind.False, line, column);
                default:
                    return new JsonNode(JsonKind.Null, line, column);
            }
        }

        private string Intern(ref Utf8JsonReader reader)
        {
            // Utf8JsonReader does not check that a string's bytes are UTF-8; GetString throws an exception without a
            // position when they are not, so they are checked here, where the position is known.
            var raw = reader.ValueSpan;
            var invalid = FirstInvalidUtf8(raw);
            if (invalid >= 0)
            {
                // The value starts after the opening quote.
                var (line, column) = Position((int)reader.TokenStartIndex + 1 + invalid);
                throw new NotTextException($"bytes that are not UTF-8 in a {(reader.TokenType == JsonTokenType.PropertyName ? "property name" : "string")}", line, column);
            }
            // Names, versions and keys repeat thousands of times in a lockfile; share short strings, and look
            // them up by their characters so a repeat allocates nothing. Escapes take the reader's own path.
            if (reader.ValueIsEscaped || raw.Length > 64)
            {
                string text;
                try
                {
                    text = reader.GetString() ?? "";
                }
                catch (InvalidOperationException e)
                {
                    // An escape that is no character: half of a surrogate pair ("\ud800" alone).
                    var (line, column) = Position((int)reader.TokenStartIndex);
                    throw new NotTextException(e.Message.TrimEnd('.'), line, column);
                }
                return text.Length > 64 ? text : Pool(text);
            }
            Span<char> chars = stackalloc char[64];
            if (!Encoding.UTF8.TryGetChars(raw, chars, out var count))
            {
                return reader.GetString() ?? "";
            }
            var lookup = _pool.GetAlternateLookup<ReadOnlySpan<char>>();
            if (lookup.TryGetValue(chars[..count], out var shared))
            {
                return shared;
            }
            var value = new string(chars[..count]);
            _pool[value] = value;
            return value;
        }

        /// <summary>The offset of the first byte that does not belong to a UTF-8 character, or -1.</summary>
        private static int FirstInvalidUtf8(ReadOnlySpan<byte> utf8)
        {
            if (System.Text.Unicode.Utf8.IsValid(utf8))
            {
                return -1;
            }
            var offset = 0;
            while (System.Text.Rune.DecodeFromUtf8(utf8[offset..], out _, out var consumed) == System.Buffers.OperationStatus.Done)
            {
                offset += consumed;
            }
            return offset;
        }

        private string Pool(string value)
        {
            if (_pool.TryGetValue(value, out var shared))
            {
                return shared;
            }
            _pool[value] = value;
            return value;
        }
    }
}
