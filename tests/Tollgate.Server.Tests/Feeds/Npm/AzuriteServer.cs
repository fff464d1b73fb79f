using System.Diagnostics;
using System.Net;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// Azurite, Microsoft's Azure Storage emulator (tests/tools/azurite, installed by .ci/run), serving Blob Storage on a
/// free loopback port with a fresh folder; stopped with the test.
/// </summary>
internal sealed class AzuriteServer : IAsyncDisposable
{
    /// <summary>Azurite's documented development account (the emulator's public, well-known key).</summary>
    public const string DevAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;

    private AzuriteServer(Process process, int port)
    {
        _process = process;
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevAccountKey};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    public static async Task<AzuriteServer> StartAsync()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Tollgate.slnx")))
        {
            root = root.Parent;
        }
        var bin = Path.Combine(root!.FullName, "tests", "tools", "azurite", "node_modules", ".bin", "azurite-blob");
        Assert.True(File.Exists(bin), $"{bin} is missing: run `npm ci --ignore-scripts --prefix tests/tools/azurite` (.ci/run does)");
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var start = new ProcessStartInfo(bin) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--location", Directory.CreateTempSubdirectory("tollgate-azurite-").FullName, "--skipApiVersionCheck", "--silent" })
        {
            start.ArgumentList.Add(a);
        }
        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 200 && !process.HasExited; i++)
        {
            try
            {
                await http.GetAsync($"http://127.0.0.1:{port}/devstoreaccount1?comp=list");
                return new AzuriteServer(process, port);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }
        throw new InvalidOperationException("Azurite did not start");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
