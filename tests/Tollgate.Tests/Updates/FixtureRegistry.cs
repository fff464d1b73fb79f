using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.Tests.Updates;

/// <summary>
/// A loopback registry for all three ecosystems, serving the files under testdata/registry (see its README):
/// npm packuments at <c>/npm/</c> (and the tarballs recorded in npm-tarballs/), a NuGet V3 source at <c>/nuget/v3/index.json</c> (registrations and a flat
/// container), and a PEP 691 index at <c>/pypi/simple/</c>. Conditional requests get 304s; a test can make the next
/// requests of a path fail with given status codes.
/// </summary>
internal sealed class FixtureRegistry : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly ConcurrentDictionary<string, byte[]> _npm = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _failures = new(StringComparer.Ordinal);

    public FixtureRegistry(params string[] npmFolders)
    {
        // A free port can be taken by another process before the listener binds it: try a few.
        for (var attempt = 0; ; attempt++)
        {
            Root = $"http://127.0.0.1:{FreePort()}/";
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add(Root);
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // Taken meanwhile; a listener that failed to start is not reused.
                _listener.Close();
                _listener = new HttpListener();
            }
        }
        foreach (var folder in npmFolders.DefaultIfEmpty("npm"))
        {
            AddNpmFolder(folder);
        }
        _loop = Task.Run(LoopAsync);
    }

    public static string DataFolder => TestData.Path("registry");

    public string Root { get; private set; } = "";

    public string NpmUrl => Root + "npm/";

    public string NuGetIndexUrl => Root + "nuget/v3/index.json";

    public string PyPIUrl => Root + "pypi/simple/";

    /// <summary>When set, npm requests without <c>Authorization: Bearer TOKEN</c> are refused with 401.</summary>
    public string? RequiredNpmToken { get; set; }

    /// <summary>The Authorization headers received, in order.</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    /// <summary>Every request as "METHOD path status".</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Serves every packument of testdata/registry/FOLDER (later folders replace earlier ones' packages).</summary>
    public void AddNpmFolder(string folder)
    {
        foreach (var file in Directory.GetFiles(Path.Combine(DataFolder, folder), "*.json"))
        {
            var text = File.ReadAllText(file).Replace("{registry}", NpmUrl, StringComparison.Ordinal);
            var name = JsonNode.Parse(text)!["name"]!.GetValue<string>();
            _npm[name] = Encoding.UTF8.GetBytes(text);
        }
    }

    /// <summary>The packument names served.</summary>
    public IEnumerable<string> NpmNames => _npm.Keys;

    /// <summary>The next requests for <paramref name="path"/> answer these status codes first.</summary>
    public void FailNext(string path, params int[] statusCodes) => _failures[path] = new ConcurrentQueue<int>(statusCodes);

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
            _ = Task.Run(() => Answer(context));
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var response = context.Response;
        var path = context.Request.Url!.AbsolutePath;
        var status = 404;
        var logged = false;
        try
        {
            if (_failures.TryGetValue(path, out var queue) && queue.TryDequeue(out var failure))
            {
                status = failure;
                response.StatusCode = status;
                return;
            }
            if (context.Request.Headers["Authorization"] is { } authorization)
            {
                Authorizations.Enqueue(authorization);
            }
            if (RequiredNpmToken is { } token && path.StartsWith("/npm/", StringComparison.Ordinal) && context.Request.Headers["Authorization"] != "Bearer " + token)
            {
                response.StatusCode = status = 401;
                return;
            }
            var (body, type) = Find(context.Request, path);
            if (body is null)
            {
                response.StatusCode = status = 404;
                return;
            }
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body))[..16] + "\"";
            if (context.Request.Headers["If-None-Match"] == etag)
            {
                response.StatusCode = status = 304;
                return;
            }
            response.StatusCode = status = 200;
            response.Headers["ETag"] = etag;
            response.ContentType = type;
            response.ContentLength64 = body.Length;
            // Logged before the body goes out: the client may have read it all, and the test looked at the log, before
            // this thread runs again.
            Log.Enqueue($"{context.Request.HttpMethod} {path} {status}");
            logged = true;
            response.OutputStream.Write(body);
        }
        catch (Exception e) when (e is HttpListenerException or IOException)
        {
            // The client went away.
        }
        finally
        {
            if (!logged)
            {
                Log.Enqueue($"{context.Request.HttpMethod} {path} {status}");
            }
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                // Already gone.
            }
        }
    }

    private (byte[]? Body, string Type) Find(HttpListenerRequest request, string path)
    {
        if (path.StartsWith("/npm/", StringComparison.Ordinal) && path.EndsWith(".tgz", StringComparison.Ordinal))
        {
            // NAME/-/FILE.tgz, served from npm-tarballs/ when recorded there.
            var tarball = Path.Combine(DataFolder, "npm-tarballs", Path.GetFileName(Uri.UnescapeDataString(path)));
            return (path.Contains("/-/", StringComparison.Ordinal) && File.Exists(tarball) ? File.ReadAllBytes(tarball) : null, "application/octet-stream");
        }
        if (path.StartsWith("/npm/", StringComparison.Ordinal))
        {
            var name = Uri.UnescapeDataString(path["/npm/".Length..]);
            return (_npm.GetValueOrDefault(name), "application/json");
        }
        if (path.StartsWith("/nuget/", StringComparison.Ordinal))
        {
            return (NuGet(path["/nuget/".Length..]), path.EndsWith(".nupkg", StringComparison.Ordinal) ? "application/octet-stream" : "application/json");
        }
        if (path.StartsWith("/pypi/simple/", StringComparison.Ordinal))
        {
            var accept = request.Headers["Accept"] ?? "";
            return accept.Contains("application/vnd.pypi.simple.v1+json", StringComparison.Ordinal)
                ? (PyPIPage(path["/pypi/simple/".Length..].TrimEnd('/')), "application/vnd.pypi.simple.v1+json")
                : (null, "text/plain");
        }
        if (path.StartsWith("/pypi/files/", StringComparison.Ordinal))
        {
            var file = Path.Combine(DataFolder, "pypi", Path.GetFileName(path));
            return (File.Exists(file) ? File.ReadAllBytes(file) : null, "application/octet-stream");
        }
        return (null, "text/plain");
    }

    private byte[]? NuGet(string path)
    {
        var registry = Root + "nuget/";
        if (path == "v3/index.json")
        {
            return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
            {
                version = "3.0.0",
                resources = new object[]
                {
                    new Dictionary<string, string> { ["@id"] = registry + "v3-flatcontainer/", ["@type"] = "PackageBaseAddress/3.0.0" },
                    new Dictionary<string, string> { ["@id"] = registry + "v3/registration5-gz-semver2/", ["@type"] = "RegistrationsBaseUrl/3.6.0" },
                },
            }));
        }
        const string Registrations = "v3/registration5-gz-semver2/";
        if (path.StartsWith(Registrations, StringComparison.Ordinal) && path.EndsWith("/index.json", StringComparison.Ordinal))
        {
            var id = path[Registrations.Length..^"/index.json".Length].ToLowerInvariant();
            var recorded = Path.Combine(DataFolder, "nuget", id + ".json");
            if (File.Exists(recorded))
            {
                return Encoding.UTF8.GetBytes(File.ReadAllText(recorded).Replace("{registry}", registry, StringComparison.Ordinal));
            }
            var built = BuiltPackages(id);
            if (built.Count == 0)
            {
                return null;
            }
            var items = built.Select((p, i) => new Dictionary<string, object>
            {
                ["@id"] = $"{registry}{Registrations}{id}/{p.Version}.json",
                ["catalogEntry"] = new Dictionary<string, object> { ["id"] = p.Id, ["version"] = p.Version, ["listed"] = true, ["published"] = $"2024-0{i + 1}-01T00:00:00.000+00:00" },
                ["packageContent"] = $"{registry}v3-flatcontainer/{id}/{p.Version}/{id}.{p.Version}.nupkg",
            }).ToList();
            return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["count"] = 1,
                ["items"] = new[] { new Dictionary<string, object> { ["count"] = items.Count, ["lower"] = built[0].Version, ["upper"] = built[^1].Version, ["items"] = items } },
            }));
        }
        const string Flat = "v3-flatcontainer/";
        if (path.StartsWith(Flat, StringComparison.Ordinal))
        {
            var parts = path[Flat.Length..].Split('/');
            var built = BuiltPackages(parts[0].ToLowerInvariant());
            if (parts.Length == 2 && parts[1] == "index.json")
            {
                return built.Count == 0 ? null : Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { versions = built.Select(b => b.Version.ToLowerInvariant()) }));
            }
            if (parts.Length == 3)
            {
                var match = built.FirstOrDefault(b => string.Equals(b.Version, parts[1], StringComparison.OrdinalIgnoreCase));
                if (match.File is null)
                {
                    return null;
                }
                if (parts[2].EndsWith(".nupkg", StringComparison.Ordinal))
                {
                    return File.ReadAllBytes(match.File);
                }
                if (parts[2].EndsWith(".nuspec", StringComparison.Ordinal))
                {
                    using var zip = ZipFile.OpenRead(match.File);
                    using var nuspec = zip.Entries.First(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
                    using var copy = new MemoryStream();
                    nuspec.CopyTo(copy);
                    return copy.ToArray();
                }
            }
        }
        return null;
    }

    /// <summary>The .nupkg files of nuget-packages/ for an id (lower case), lowest version first.</summary>
    private static List<(string Id, string Version, string File)> BuiltPackages(string id)
    {
        var folder = Path.Combine(DataFolder, "nuget-packages");
        return [.. Directory.GetFiles(folder, "*.nupkg")
            .Select(f => Path.GetFileNameWithoutExtension(f))
            .Select(n => (Name: n, Split: IndexOfVersion(n)))
            .Where(x => x.Split > 0 && x.Name[..x.Split].Equals(id, StringComparison.OrdinalIgnoreCase))
            .Select(x => (x.Name[..x.Split], x.Name[(x.Split + 1)..], Path.Combine(folder, x.Name + ".nupkg")))
            .OrderBy(x => global::NuGet.Versioning.NuGetVersion.Parse(x.Item2))];
    }

    private static int IndexOfVersion(string stem)
    {
        for (var i = 0; i < stem.Length - 1; i++)
        {
            if (stem[i] == '.' && char.IsAsciiDigit(stem[i + 1]))
            {
                return i;
            }
        }
        return -1;
    }

    private byte[]? PyPIPage(string project)
    {
        var releases = JsonNode.Parse(File.ReadAllText(Path.Combine(DataFolder, "pypi", "releases.json")))!;
        if (!string.Equals(releases["name"]!.GetValue<string>(), project, StringComparison.Ordinal))
        {
            return null;
        }
        var files = new JsonArray();
        foreach (var f in releases["files"]!.AsArray())
        {
            var name = f!["filename"]!.GetValue<string>();
            var bytes = File.ReadAllBytes(Path.Combine(DataFolder, "pypi", name));
            files.Add(new JsonObject
            {
                ["filename"] = name,
                ["url"] = Root + "pypi/files/" + name,
                ["hashes"] = new JsonObject { ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)) },
                ["upload-time"] = f["upload-time"]!.GetValue<string>(),
                ["yanked"] = f["yanked"]!.DeepClone(),
                ["size"] = bytes.Length,
            });
        }
        var page = new JsonObject { ["meta"] = new JsonObject { ["api-version"] = "1.1" }, ["name"] = project, ["files"] = files };
        return Encoding.UTF8.GetBytes(page.ToJsonString());
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!_listener.IsListening)
        {
            return;
        }
        LoopbackListener.Close(_listener);
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Stopping ends the loop with an exception; nothing to report.
        }
    }
}
