using Tollgate.Cli;

namespace Tollgate.Tests.Cli;

/// <summary>Runs the real command tree in-process and captures exit code, stdout and stderr.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = TollgateCli.Run(args, new Terminal(stdout, stderr));
        return new Result(exit, stdout.ToString(), stderr.ToString());
    }
}
