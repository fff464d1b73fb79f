using System.Diagnostics;

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
        // Port 0, and the port read from what Azurite prints once it listens: a port chosen here and released could be
        // taken by another process in the seconds node takes to start.
        var start = new ProcessStartInfo(bin) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--blobHost", "127.0.0.1", "--blobPort", "0",
            "--location", Directory.CreateTempSubdirectory("tollgate-azurite-").FullName, "--skipApiVersionCheck", "--silent" })
        {
            start.ArgumentList.Add(a);
        }
        var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        const string Listening = "Azurite Blob service successfully listens on ";
        var printed = new System.Text.StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                printed.AppendLine(line);
                var at = line.IndexOf(Listening, StringComparison.Ordinal);
                if (at >= 0 && Uri.TryCreate(line[(at + Listening.Length)..].Trim(), UriKind.Absolute, out var address) && address.Port > 0)
                {
                    _ = process.StandardOutput.ReadToEndAsync();
                    return new AzuriteServer(process, address.Port);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        throw new InvalidOperationException($"Azurite did not start: {printed}{await stderr}");
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
