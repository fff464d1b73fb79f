using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// A loopback TCP relay in front of a server (the tests' PostgreSQL). <see cref="Cut"/> drops every open connection and
/// refuses new ones, as a database server that went away does.
/// </summary>
internal sealed class TcpRelay : IAsyncDisposable
{
    private TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentBag<TcpClient> _open = [];
    private CancellationTokenSource _cut = new();
    private readonly string _host;
    private readonly int _port;
    private Task _accepting = Task.CompletedTask;

    private TcpRelay(string host, int port) => (_host, _port) = (host, port);

    /// <summary>The loopback port clients connect to (the same after <see cref="ResumeAsync"/>).</summary>
    public int Port { get; private set; }

    public static TcpRelay Start(string host, int port)
    {
        var relay = new TcpRelay(host, port);
        relay._listener.Start();
        relay.Port = ((IPEndPoint)relay._listener.LocalEndpoint).Port;
        relay._accepting = relay.Accept();
        return relay;
    }

    private async Task Accept()
    {
        while (!_cut.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_cut.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Relay(client);
        }
    }

    private async Task Relay(TcpClient client)
    {
        using var server = new TcpClient();
        _open.Add(client);
        _open.Add(server);
        try
        {
            await server.ConnectAsync(_host, _port, _cut.Token);
            await Task.WhenAny(
                client.GetStream().CopyToAsync(server.GetStream(), _cut.Token),
                server.GetStream().CopyToAsync(client.GetStream(), _cut.Token));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Cut, or one side closed: both connections end.
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <summary>Drops the open connections and stops listening.</summary>
    public void Cut()
    {
        _cut.Cancel();
        _listener.Stop();
        foreach (var connection in _open)
        {
            connection.Dispose();
        }
    }

    /// <summary>After <see cref="Cut"/>: listens again on the same port, as a database server that came back.</summary>
    public async Task ResumeAsync()
    {
        await _accepting;
        _cut.Dispose();
        _cut = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _accepting = Accept();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_cut.IsCancellationRequested)
        {
            Cut();
        }
        await _accepting;
        _cut.Dispose();
    }
}
