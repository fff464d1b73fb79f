using Microsoft.AspNetCore.Http;
using Microsoft.Win32.SafeHandles;

namespace Tollgate.Server.Storage;

/// <summary>
/// Writes a whole response body with one copy into the connection's output. The general writers
/// (<c>Response.Body.WriteAsync</c>, <c>SendFileAsync</c>, the file results) stage a first write before the headers
/// and copy through 4 KiB blocks (and, for a file, an intermediate buffer as well); for tarballs and packuments of
/// hundreds of kilobytes that copying was a fifth of the feed's own CPU time per request. Here the headers are sent
/// first and the body goes into output buffers of up to <see cref="Chunk"/>, flushed one by one, so a slow client
/// holds at most about one chunk of memory beyond the body itself.
/// </summary>
internal static class ResponseBody
{
    /// <summary>The largest piece written into the output before waiting for it to drain.</summary>
    private const int Chunk = 1024 * 1024;

    /// <summary>
    /// True for a <c>GET</c> with no <c>Range</c> and no precondition header: the whole body is the answer. Other
    /// requests take the general file results, which answer ranges, 304 and 412.
    /// </summary>
    public static bool IsPlainGet(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var h = request.Headers;
        return HttpMethods.IsGet(request.Method) && h.Range.Count == 0 && h.IfNoneMatch.Count == 0 && h.IfMatch.Count == 0
            && h.IfModifiedSince.Count == 0 && h.IfUnmodifiedSince.Count == 0 && h.IfRange.Count == 0;
    }

    /// <summary>
    /// Sets <c>Content-Length</c> and writes <paramref name="body"/> (headers only for <c>HEAD</c>). Status and other
    /// headers are the caller's, set before.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, ReadOnlyMemory<byte> body)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        response.ContentLength = body.Length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }
        // Memory asked for before the response has started is a staging area copied again when it starts.
        await response.StartAsync(context.RequestAborted).ConfigureAwait(false);
        var writer = response.BodyWriter;
        while (!body.IsEmpty)
        {
            var target = writer.GetMemory(Math.Min(body.Length, Chunk));
            var n = Math.Min(target.Length, body.Length);
            body[..n].CopyTo(target);
            writer.Advance(n);
            body = body[n..];
            var flushed = await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Sets <c>Content-Length</c> from the open file and writes the file read straight into the output (headers
    /// only for <c>HEAD</c>). The caller has made sure the file is complete and immutable under its name.
    /// </summary>
    public static async Task WriteFileAsync(HttpContext context, string path)
    {
        ArgumentNullException.ThrowIfNull(context);
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous);
        var length = RandomAccess.GetLength(file);
        var response = context.Response;
        response.ContentLength = length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }
        await response.StartAsync(context.RequestAborted).ConfigureAwait(false);
        var writer = response.BodyWriter;
        long offset = 0;
        while (offset < length)
        {
            var target = writer.GetMemory((int)Math.Min(length - offset, Chunk));
            var want = (int)Math.Min(target.Length, length - offset);
            var read = await RandomAccess.ReadAsync(file, target[..want], offset, context.RequestAborted).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"{path} ended at byte {offset} of the {length} it had when it was opened.");
            }
            writer.Advance(read);
            offset += read;
            var flushed = await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
        }
    }
}
