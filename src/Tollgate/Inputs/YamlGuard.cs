using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Tollgate.Inputs;

/// <summary>
/// What loading YAML from a file we do not control needs beyond the parser: YamlDotNet builds its object model
/// recursively, a level of the call stack per level of nesting (too deep a document overflows the stack, which no
/// handler can catch), and hashes mapping keys whole. Its parser is not recursive: events are checked as they come.
/// </summary>
internal static class YamlGuard
{
    /// <summary>An alias refused before the document is built; the message says why.</summary>
    public sealed class RefusedAliasException(string message, Mark start) : Exception(message)
    {
        public Mark Start { get; } = start;
    }

    /// <summary>
    /// Events no document has (a mapping ending after a key, without its value): YamlDotNet's parser emits them for
    /// some malformed texts, and its object model then throws an ArgumentException without a position.
    /// </summary>
    public sealed class BrokenEventsException(string message, Mark start) : Exception(message)
    {
        public Mark Start { get; } = start;
    }

    /// <summary>A collection opened deeper than the limit, refused before the object model recurses into it.</summary>
    public sealed class TooDeepException(int limit, Mark start) : Exception($"nested more than {limit} levels deep")
    {
        public int Limit { get; } = limit;
        public Mark Start { get; } = start;
    }

    /// <summary>
    /// Passes a parser's events on, remembering where the collections still open began (to place an unclosed '{'), and
    /// refusing what makes loading the document unbounded: collections nested deeper than <paramref name="maxDepth"/>
    /// (whatever the syntax: brackets, indentation, "- - -"), an alias inside the node it names (a structure that
    /// contains itself), and any alias in a mapping key. Keys are hashed whole when the mapping is built, so a key
    /// holding itself overflows the stack, and a key of aliases of aliases ("billion laughs") takes exponential time.
    /// A mapping that ends after a key without its value is refused as broken.
    /// </summary>
    public sealed class CheckingParser(IParser inner, int maxDepth) : IParser
    {
        private sealed class Open(char? bracket, Mark start, AnchorName anchor, bool inKey, bool isMapping)
        {
            /// <summary>'{' or '[' for flow collections; null for block ones (kept so each end event closes the right one).</summary>
            public char? Bracket { get; } = bracket;
            public Mark Start { get; } = start;
            public AnchorName Anchor { get; } = anchor;
            /// <summary>True when the collection is a mapping key or inside one.</summary>
            public bool InKey { get; } = inKey;
            public bool IsMapping { get; } = isMapping;
            /// <summary>Complete child nodes so far: in a mapping, even counts mean the next node is a key.</summary>
            public int Children { get; set; }
            /// <summary>Where the last child node began.</summary>
            public Mark LastChild { get; set; } = start;
        }

        private readonly Stack<Open> _open = new();

        public ParsingEvent? Current => inner.Current;

        /// <summary>The innermost '{' or '[' not closed yet, or null.</summary>
        public (char Bracket, Mark Start)? InnermostOpenFlow =>
            _open.FirstOrDefault(o => o.Bracket is not null) is { Bracket: { } bracket } open ? (bracket, open.Start) : null;

        public bool MoveNext()
        {
            if (!inner.MoveNext())
            {
                return false;
            }
            var parent = _open.Count > 0 ? _open.Peek() : null;
            var inKey = parent is not null && (parent.InKey || (parent.IsMapping && parent.Children % 2 == 0));
            if (parent is not null && inner.Current is AnchorAlias or Scalar or MappingStart or SequenceStart)
            {
                parent.LastChild = inner.Current.Start;
            }
            switch (inner.Current)
            {
                case AnchorAlias alias:
                    if (inKey)
                    {
                        throw new RefusedAliasException($"the alias '*{alias.Value}' is used in a mapping key", alias.Start);
                    }
                    if (_open.Any(o => !o.Anchor.IsEmpty && o.Anchor.Equals(alias.Value)))
                    {
                        throw new RefusedAliasException($"the alias '*{alias.Value}' is inside the node it names: the structure contains itself", alias.Start);
                    }
                    Completed(parent);
                    break;
                case Scalar:
                    Completed(parent);
                    break;
                case MappingStart or SequenceStart when _open.Count >= maxDepth:
                    throw new TooDeepException(maxDepth, inner.Current.Start);
                case MappingStart m:
                    _open.Push(new Open(m.Style == MappingStyle.Flow ? '{' : null, m.Start, m.Anchor, inKey, isMapping: true));
                    break;
                case SequenceStart q:
                    _open.Push(new Open(q.Style == SequenceStyle.Flow ? '[' : null, q.Start, q.Anchor, inKey, isMapping: false));
                    break;
                case MappingEnd when parent is { IsMapping: true, Children: var children } && children % 2 == 1:
                    throw new BrokenEventsException("a mapping key without a value", parent.LastChild);
                case MappingEnd or SequenceEnd when _open.Count > 0:
                    _open.Pop();
                    Completed(_open.Count > 0 ? _open.Peek() : null);
                    break;
                default:
                    break;
            }
            return true;
        }

        private static void Completed(Open? parent)
        {
            if (parent is not null)
            {
                parent.Children++;
            }
        }
    }
}
