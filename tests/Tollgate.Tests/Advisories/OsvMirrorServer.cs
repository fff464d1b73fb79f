using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Tollgate.Tests.Advisories;

/// <summary>
/// A loopback HTTP server laid out like OSV's bucket (<c>/{Ecosystem}/all.zip</c>), answering
/// conditional requests with 304 like a real bucket does, and failing on request where a test says so.
/// </summary>
internal sealed class OsvMirrorServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _failures = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public OsvMirrorServer()
    {
        var port = FreePort();
        BaseUrl = $"http://127.0.0.1:{port}/osv/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string BaseUrl { get; }

    /// <summary>Every request as "METHOD path status", in order.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    public void Serve(string ecosystem, byte[] archive) => _files[$"/osv/{ecosystem}/all.zip"] = archive;

    /// <summary>The next requests for this ecosystem's archive answer these status codes before it is served.</summary>
    public void FailNext(string ecosystem, params int[] statusCodes) =>
        _failures[$"/osv/{ecosystem}/all.zip"] = new ConcurrentQueue<int>(statusCodes);

    public static string ETagOf(byte[] content) => "\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..16] + "\"";

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            var path = context.Request.Url!.AbsolutePath;
            var response = context.Response;
            int status;
            if (_failures.TryGetValue(path, out var queue) && queue.TryDequeue(out var failure))
            {
                status = failure;
            }
            else if (!_files.TryGetValue(path, out var content))
            {
                status = 404;
            }
            else
            {
                var etag = ETagOf(content);
                if (context.Request.Headers["If-None-Match"] == etag)
                {
                    status = 304;
                }
                else
                {
                    status = 200;
                    response.Headers["ETag"] = etag;
                    response.Headers["Last-Modified"] = "Mon, 01 Jan 2024 00:00:00 GMT";
                    response.ContentType = "application/zip";
                    response.ContentLength64 = content.Length;
                    response.StatusCode = status;
                    Log.Enqueue($"{context.Request.HttpMethod} {path} {status}");
                    await response.OutputStream.WriteAsync(content).ConfigureAwait(false);
                    response.Close();
                    continue;
                }
            }
            Log.Enqueue($"{context.Request.HttpMethod} {path} {status}");
            response.StatusCode = status;
            response.Close();
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        LoopbackListener.Close(_listener);
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
