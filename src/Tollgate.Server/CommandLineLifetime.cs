using Microsoft.Extensions.Hosting;

namespace Tollgate.Server;

/// <summary>
/// The hosts' lifetime: the command that runs a host handles SIGINT and SIGTERM itself (stop accepting, let requests in
/// flight finish, flush the audit log, exit 0); the default console lifetime would react to the same signals and stop
/// the host on its own, beside that orderly stop.
/// </summary>
internal sealed class CommandLineLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
