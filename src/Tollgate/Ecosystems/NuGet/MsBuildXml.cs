using System.Xml;
using System.Xml.Linq;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Ecosystems.NuGet;

/// <summary>Loads MSBuild and NuGet XML files with line numbers; malformed XML becomes a diagnostic.</summary>
internal static class MsBuildXml
{
    /// <summary>
    /// Deeper nesting than this is refused: project files nest a few levels, and loading a document nested 100,000
    /// levels deep takes minutes (the time grows with the square of the depth).
    /// </summary>
    public const int MaxDepth = 256;

    /// <summary>The document, or null with a diagnostic when the file cannot be read or is not well-formed XML.</summary>
    public static XDocument? Load(string path, DiagnosticBag diagnostics)
    {
        var bytes = InputFile.ReadBytes(path, diagnostics);
        if (bytes is null)
        {
            return null;
        }
        // No DTDs: a project file never needs one, and entity expansion is a denial-of-service vector.
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
        try
        {
            // A first pass with the streaming reader measures the depth before any tree is built: it stops at the
            // first element too deep, so a hostile file costs no more than its first few hundred levels.
            using (var check = XmlReader.Create(new MemoryStream(bytes), settings))
            {
                while (check.Read())
                {
                    if (check.Depth > MaxDepth)
                    {
                        var info = (IXmlLineInfo)check;
                        diagnostics.Error(DiagnosticIds.TooDeep, $"XML nested more than {MaxDepth} levels deep",
                            new SourceLocation(InputFile.DisplayPath(path), info.LineNumber, info.LinePosition),
                            "no project file nests this deep: the file is damaged or hostile");
                        return null;
                    }
                }
            }
            // From bytes, so the reader honours a UTF-16 byte order mark or an encoding declaration as MSBuild does.
            using var reader = XmlReader.Create(new MemoryStream(bytes), settings);
            return XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            diagnostics.Error(DiagnosticIds.InvalidXml, $"invalid XML: {Describe(e)}",
                new SourceLocation(InputFile.DisplayPath(path), e.LineNumber, e.LinePosition),
                bytes.Length > 0 && e.Message.Contains("end of file", StringComparison.OrdinalIgnoreCase)
                    ? "the document ends too early: the file looks truncated"
                    : "check the XML syntax near this position (an unclosed or mismatched element?)");
            return null;
        }
    }

    /// <summary>Where an element or attribute is, 1-based.</summary>
    public static SourceLocation Location(XObject node, string displayPath) =>
        node is IXmlLineInfo info && info.HasLineInfo()
            ? new SourceLocation(displayPath, info.LineNumber, info.LinePosition)
            : new SourceLocation(displayPath);

    /// <summary>Child elements by local name, so old project files in the MSBuild 2003 namespace read the same.</summary>
    public static IEnumerable<XElement> Named(this XContainer parent, string localName) =>
        parent.Elements().Where(e => e.Name.LocalName == localName);

    /// <summary>
    /// An item's metadata: the attribute, or the child element of that name (MSBuild allows both), with its node.
    /// </summary>
    public static (string? Value, XObject? Node) Metadata(XElement item, string name)
    {
        var attribute = item.Attributes().FirstOrDefault(a => string.Equals(a.Name.LocalName, name, StringComparison.OrdinalIgnoreCase));
        if (attribute is not null)
        {
            return (attribute.Value.Trim(), attribute);
        }
        var element = item.Elements().LastOrDefault(e => string.Equals(e.Name.LocalName, name, StringComparison.OrdinalIgnoreCase));
        return element is null ? (null, null) : (element.Value.Trim(), element);
    }

    private static string Describe(XmlException e)
    {
        // XmlException appends "Line n, position m."; the location carries it already.
        var message = e.Message;
        var cut = message.IndexOf(" Line ", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
