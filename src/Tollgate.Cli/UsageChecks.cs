using System.CommandLine;
using System.CommandLine.Parsing;
using Tollgate.Policy;

namespace Tollgate.Cli;

/// <summary>
/// Usage errors System.CommandLine does not report by itself, found before any command runs: an unknown option
/// taken for a path, and an output file that cannot be written where it is named.
/// </summary>
internal static class UsageChecks
{
    public static IEnumerable<string> Find(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        foreach (var token in parse.Tokens)
        {
            // After "--" every word is an argument (tollgate install -- npm ci --omit=dev).
            if (token.Type == TokenType.DoubleDash)
            {
                break;
            }
            if (token.Type == TokenType.Argument && token.Value.Length > 1 && token.Value[0] == '-' && !IsNumber(token.Value))
            {
                yield return UnknownOption(token.Value, command);
            }
        }
        // A word where a command with subcommands expected one of them: a misspelt command (tollgate scna).
        foreach (var error in parse.Errors)
        {
            const string Prefix = "Unrecognized command or argument '";
            if (error.Message.StartsWith(Prefix, StringComparison.Ordinal) && error.Message.EndsWith("'.", StringComparison.Ordinal))
            {
                var word = error.Message[Prefix.Length..^2];
                if (word.StartsWith('-'))
                {
                    continue;
                }
                var closest = command.Subcommands.Count == 0 ? null : Suggestions.Closest(word, command.Subcommands.Select(c => c.Name));
                yield return $"unknown command or argument '{word}' for {Where(command)}" + (closest is null ? "" : $"; did you mean '{closest}'?");
            }
        }
        if (OutputProblem(parse) is { } output)
        {
            yield return output;
        }
    }

    private static string UnknownOption(string given, Command command)
    {
        var name = given.Split('=', 2)[0];
        var names = OptionsOf(command).SelectMany(o => o.Aliases.Prepend(o.Name)).Distinct(StringComparer.Ordinal).ToList();
        var bare = name.TrimStart('-');
        // A typo, or a word cut short or grown (--advisory, --format-json): the closest by edit distance, else by shared start.
        var closest = Suggestions.Closest(bare, names.Select(n => n.TrimStart('-')))
            ?? names.Select(n => n.TrimStart('-'))
                .Select(n => (Name: n, Shared: n.Zip(bare).TakeWhile(p => p.First == p.Second).Count()))
                .Where(c => c.Shared >= 4 && c.Shared * 3 >= bare.Length * 2)
                .OrderByDescending(c => c.Shared).Select(c => c.Name).FirstOrDefault();
        var suggestion = closest is null ? "" : $"; did you mean '{names.First(n => n.TrimStart('-') == closest)}'?";
        return $"unknown option '{name}' for {Where(command)}{suggestion}";
    }

    private static string Where(Command command) => command.Parents.Any() ? $"'{string.Join(' ', Path(command))}'" : "tollgate";

    /// <summary>The options a command accepts: its own and the recursive options of the commands above it.</summary>
    private static IEnumerable<Option> OptionsOf(Command command)
    {
        foreach (var option in command.Options)
        {
            yield return option;
        }
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            foreach (var option in parent.Options.Where(o => o.Recursive))
            {
                yield return option;
            }
        }
    }

    private static IEnumerable<string> Path(Command command)
    {
        var names = new List<string>();
        for (Command? c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, c.Parents.Any() ? c.Name : "tollgate");
        }
        return names;
    }

    private static bool IsNumber(string value) => double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out _);

    /// <summary>
    /// <c>-o</c> must name a file in a folder that exists: a folder is not a file, and a mistyped folder is not created.
    /// </summary>
    private static string? OutputProblem(ParseResult parse)
    {
        var option = parse.CommandResult.Command.Options.FirstOrDefault(o => o.Name == "--output");
        if (option is null || parse.GetResult(option) is not { Implicit: false } result || result.Tokens.Count == 0)
        {
            return null;
        }
        var path = result.Tokens[0].Value;
        if (path.Length == 0)
        {
            return "--output needs a file name";
        }
        if (path == "-")
        {
            // "-" is standard output, as for most tools.
            return null;
        }
        if (Directory.Exists(path) || path.EndsWith('/') || path.EndsWith(System.IO.Path.DirectorySeparatorChar))
        {
            return $"--output {path} is a folder; name a file to write, e.g. {System.IO.Path.Combine(path, "report.json")}";
        }
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
        {
            return $"--output {path}: the folder {folder} does not exist (create it first; Tollgate does not create folders)";
        }
        return null;
    }
}
