using System.CommandLine;
using System.Text.Json.Nodes;
using Tollgate.ClientConfig;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate feed check-client [PATH]</c>: package-manager client configuration that bypasses the vetted feed.</summary>
internal static class CheckClientCommand
{
    public static Command Create(Terminal terminal)
    {
        var path = new Argument<string>("PATH") { Description = "The project folder (default: the current folder).", DefaultValueFactory = _ => "." };
        var feed = new Option<string?>("--feed") { Description = "The vetted feed's URL: findings then say exactly what to set.", HelpName = "URL" };
        var format = new Option<string>("--format", "-f") { Description = "Output format: table or json.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("check-client", """
            Check the npm, yarn, pip, uv and NuGet client configuration that applies to a project (its files, the
            user's, and PIP_*/UV_*/npm_config_* variables) for installs that bypass the vetted feed, extra indexes,
            several NuGet sources without packageSourceMapping, plain-text tokens (shown masked) and npm installs
            that run install scripts. Exit code 1 when a check fails.

            Examples:
              tollgate feed check-client
              tollgate feed check-client ./weather-mcp --feed http://127.0.0.1:4873
            """) { path, feed, format };
        command.SetAction(r => Run(terminal, r.GetValue(path)!, r.GetValue(feed), r.GetValue(format)!));
        return command;
    }

    private static int Run(Terminal terminal, string path, string? feedText, string format)
    {
        if (!Directory.Exists(path))
        {
            terminal.Fail($"{path} is not a folder");
            return ExitCodes.InputError;
        }
        Uri? feed = null;
        if (feedText is not null && (!Uri.TryCreate(feedText, UriKind.Absolute, out feed) || feed.Scheme is not ("http" or "https")))
        {
            terminal.Fail($"--feed '{feedText}' is not an absolute http(s) URL");
            return ExitCodes.InputError;
        }
        var result = ClientConfigAudit.Run(path, feed);
        foreach (var problem in result.Problems)
        {
            terminal.Fail(problem);
        }
        if (format == "json")
        {
            var findings = new JsonArray(result.Findings.Select(f => (JsonNode)new JsonObject
            {
                ["rule"] = f.RuleId,
                ["level"] = f.Fail ? "fail" : "warn",
                ["file"] = f.File,
                ["line"] = f.Line,
                ["message"] = f.Message,
                ["fix"] = f.Fix,
            }).ToArray());
            terminal.OutWriter.WriteLine(new JsonObject
            {
                ["files"] = new JsonArray(result.Files.Select(f => (JsonNode)JsonValue.Create(f)).ToArray()),
                ["findings"] = findings,
                ["incomplete"] = new JsonArray(result.Problems.Select(p => (JsonNode)JsonValue.Create(p)).ToArray()),
            }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            terminal.Message($"read {result.Files.Length} client configuration file(s): {string.Join(", ", result.Files)}");
            foreach (var f in result.Findings)
            {
                terminal.OutWriter.WriteLine($"{(f.Fail ? "FAIL" : "WARN")} {f.RuleId} {f.File}{(f.Line > 0 ? $":{f.Line}" : "")}: {f.Message}");
                terminal.OutWriter.WriteLine($"     fix: {f.Fix}");
            }
            if (result.Findings.IsEmpty)
            {
                terminal.OutWriter.WriteLine("no findings");
            }
        }
        // Fail closed: a file that could not be read is not a pass.
        return !result.Problems.IsEmpty ? ExitCodes.InputError : result.Findings.Any(f => f.Fail) ? ExitCodes.PolicyFailed : ExitCodes.Pass;
    }
}
