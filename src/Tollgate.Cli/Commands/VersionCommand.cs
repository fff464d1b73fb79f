using System.CommandLine;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate version</c>: the version, the commit it was built from and that commit's date.</summary>
internal static class VersionCommand
{
    public static Command Create(Terminal terminal)
    {
        var command = new Command("version", """
            Print Tollgate's version, the commit it was built from and the build date (`tollgate --version` prints the
            version alone).

            Example:
              tollgate version
            """);
        command.SetAction(_ =>
        {
            terminal.OutWriter.WriteLine($"tollgate {ToolInfo.Version}");
            terminal.OutWriter.WriteLine($"commit  {ToolInfo.Commit}");
            terminal.OutWriter.WriteLine($"built   {ToolInfo.BuildDate}");
            return ExitCodes.Pass;
        });
        return command;
    }
}
