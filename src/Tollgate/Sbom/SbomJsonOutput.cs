using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Tollgate.Sbom;

/// <summary>
/// The JSON writer the SBOM writers write a document through, one component at a time. The output goes to the
/// stream in pieces of about <see cref="FlushAt"/> bytes, so neither the document nor a tree of objects for all of
/// it is ever held whole; the bytes are those <see cref="JsonSerializer"/> writes for the same values and options.
/// </summary>
internal sealed class SbomJsonOutput : IDisposable
{
    private const int FlushAt = 32 * 1024;
    private readonly Stream _stream;
    private readonly ArrayBufferWriter<byte> _buffer = new(2 * FlushAt);

    public SbomJsonOutput(Stream stream, JsonSerializerOptions options)
    {
        _stream = stream;
        Json = new Utf8JsonWriter(_buffer, new JsonWriterOptions
        {
            Encoder = options.Encoder,
            Indented = options.WriteIndented,
            IndentCharacter = options.IndentCharacter,
            IndentSize = options.IndentSize,
            NewLine = options.NewLine,
        });
    }

    public Utf8JsonWriter Json { get; }

    /// <summary>Hands what has been written so far to the stream once it is large enough; call between items.</summary>
    public void Checkpoint()
    {
        Json.Flush();
        if (_buffer.WrittenCount >= FlushAt)
        {
            Drain();
        }
    }

    /// <summary>Hands everything written to the stream; call once the document is complete.</summary>
    public void Complete()
    {
        Json.Flush();
        Drain();
    }

    public void Dispose() => Json.Dispose();

    /// <summary>The document <paramref name="write"/> produces, as text (for callers that need a string).</summary>
    public static string ToText(Action<Stream> write)
    {
        using var text = new MemoryStream();
        write(text);
        return Encoding.UTF8.GetString(text.GetBuffer(), 0, checked((int)text.Length));
    }

    private void Drain()
    {
        _stream.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }
}
