using System.CommandLine;
using Spectre.Console;
using Tollgate.Cli;
using Tollgate.Cli.Commands;

return TollgateCli.Run(args, Terminal.System);

namespace Tollgate.Cli
{
    /// <summary>Builds the <c>tollgate</c> command tree and runs it, mapping failures to exit codes.</summary>
    internal static class TollgateCli
    {
        public static RootCommand Build(Terminal terminal)
        {
            var root = new RootCommand("""
                Tollgate: supply-chain defence for MCP servers and the packages they are built from.

                Start with:
                  tollgate deps PATH        which package versions a project pulls in, and why
                  tollgate db update        download the advisory database (or `db import FILE` offline)
                Exit codes: 0 pass, 1 policy failed, 2 usage or input error, 3 internal error.
                """)
            {
                ScanCommand.Create(terminal),
                DepsCommand.Create(terminal),
                DbCommand.Create(terminal),
                SbomCommand.Create(terminal),
                InventoryCommand.Create(terminal),
                McpCommand.Create(terminal),
            };
            root.Options.Add(new Option<bool>("--verbose")
            {
                Description = "Show details of internal errors (stack traces).",
                Recursive = true,
            });
            return root;
        }

        public static int Run(string[] args, Terminal terminal)
        {
            var verbose = args.Contains("--verbose");
            try
            {
                var parse = Build(terminal).Parse(args);
                if (parse.Errors.Count > 0)
                {
                    foreach (var error in parse.Errors)
                    {
                        terminal.Fail(error.Message);
                    }
                    terminal.Message("run 'tollgate --help' or 'tollgate COMMAND --help' for usage.");
                    return ExitCodes.InputError;
                }
                return parse.Invoke(new InvocationConfiguration
                {
                    EnableDefaultExceptionHandler = false,
                    Output = terminal.OutWriter,
                    Error = terminal.ErrorWriter,
                });
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                terminal.Fail($"internal error: {e.Message}");
                if (verbose)
                {
                    terminal.Error.WriteLine(e.ToString());
                }
                else
                {
                    terminal.Message("this is a bug in Tollgate; run again with --verbose for details.");
                }
                return ExitCodes.InternalError;
            }
        }
    }
}
