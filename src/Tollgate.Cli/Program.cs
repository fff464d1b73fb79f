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
                  tollgate scan PATH        vulnerable, malicious and risky dependencies, judged by tollgate.yaml
                  tollgate deps PATH        which package versions a project pulls in, and why
                  tollgate db update        download the advisory database (or `db import FILE` offline)
                Exit codes: 0 pass, 1 policy failed, 2 usage or input error (or nothing could be checked), 3 internal error.
                """)
            {
                ScanCommand.Create(terminal),
                DepsCommand.Create(terminal),
                DbCommand.Create(terminal),
                SbomCommand.Create(terminal),
                InventoryCommand.Create(terminal),
                McpCommand.Create(terminal),
                DeployCommand.Create(terminal),
                FeedCommand.Create(terminal),
                ServeCommand.Create(terminal),
                InstallCommand.Create(terminal),
                UpdateCommand.Create(terminal),
                VersionCommand.Create(terminal),
            };
            root.Options.Add(new Option<bool>("--verbose")
            {
                Description = "Show details of internal errors (stack traces).",
                Recursive = true,
            });
            // --version prints Tollgate's own version, whichever program hosts the command (the test host, too).
            root.Options.OfType<VersionOption>().Single().Action = new PrintVersion(terminal);
            root.Options.Add(new Option<bool>("--quiet", "-q")
            {
                Description = "Print only results, warnings and errors on stderr: no progress or file lines.",
                Recursive = true,
            });
            root.Options.Add(new Option<bool>("--no-color")
            {
                Description = "No colours or other terminal escape codes, as when NO_COLOR is set.",
                Recursive = true,
            });
            return root;
        }

        private sealed class PrintVersion(Terminal terminal) : System.CommandLine.Invocation.SynchronousCommandLineAction
        {
            public override int Invoke(ParseResult parseResult)
            {
                terminal.OutWriter.WriteLine(ToolInfo.Version);
                return ExitCodes.Pass;
            }
        }

        public static int Run(string[] args, Terminal terminal)
        {
            var verbose = args.Contains("--verbose");
            try
            {
                // Bare `tollgate` is a request for help, not a mistake.
                var parse = Build(terminal).Parse(args.Length == 0 ? ["--help"] : args);
                var options = parse.Tokens.TakeWhile(t => t.Type != System.CommandLine.Parsing.TokenType.DoubleDash)
                    .Where(t => t.Type == System.CommandLine.Parsing.TokenType.Option).Select(t => t.Value).ToList();
                terminal.Quiet = options.Any(o => o is "--quiet" or "-q");
                if (options.Contains("--no-color"))
                {
                    terminal.NoColor();
                }
                // An unknown option gets one message, with the closest real option, instead of the parser's own.
                var errors = parse.Errors.Select(e => e.Message)
                    .Where(m => !m.StartsWith("Unrecognized command or argument '", StringComparison.Ordinal))
                    .Concat(UsageChecks.Find(parse)).Distinct().ToList();
                if (errors.Count > 1)
                {
                    // "Required command was not provided" adds nothing to the error that explains why.
                    errors.RemoveAll(e => e.StartsWith("Required command was not provided", StringComparison.Ordinal));
                }
                if (errors.Count > 0)
                {
                    foreach (var error in errors)
                    {
                        terminal.Fail(error);
                    }
                    terminal.Message("run 'tollgate --help' or 'tollgate COMMAND --help' for usage.");
                    return ExitCodes.InputError;
                }
                StartupPages.Release();
                return parse.Invoke(new InvocationConfiguration
                {
                    EnableDefaultExceptionHandler = false,
                    // The servers handle SIGINT/SIGTERM themselves and drain requests in flight (up to 30 s); the
                    // parser's own handler would end the process with 130/143 two seconds after the signal.
                    ProcessTerminationTimeout = null,
                    Output = terminal.OutWriter,
                    Error = terminal.ErrorWriter,
                });
            }
            catch (Tollgate.Reports.OutputFileException e)
            {
                // The report could not be written where -o says: the user's environment, so exit 2, not a bug.
                terminal.Fail($"{e.Message}; nothing was written");
                terminal.Message("check that the folder of --output is writable by this user and has free space.");
                return ExitCodes.InputError;
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
