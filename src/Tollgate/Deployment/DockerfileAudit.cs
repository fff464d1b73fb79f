using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Deployment;

/// <summary>One Dockerfile instruction: its keyword (upper case), its arguments as written, and the line it starts on.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments, int Line)
{
    /// <summary>The exec form's words (<c>["node", "server.js"]</c>), or null for the shell form.</summary>
    public IReadOnlyList<string>? ExecForm
    {
        get
        {
            var text = Arguments.Trim();
            if (!text.StartsWith('['))
            {
                return null;
            }
            try
            {
                using var document = JsonDocument.Parse(text);
                return document.RootElement.ValueKind == JsonValueKind.Array && document.RootElement.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String)
                    ? [.. document.RootElement.EnumerateArray().Select(e => e.GetString() ?? "")]
                    : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }
}

/// <summary>Reads a Dockerfile or Containerfile into instructions (continuations joined, comments and parser directives dropped).</summary>
public static class DockerfileReader
{
    public static List<DockerInstruction> Read(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<DockerInstruction>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var escape = '\\';
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith("# escape=", StringComparison.OrdinalIgnoreCase) && result.Count == 0)
            {
                escape = line.Length > 9 ? line[9] : '\\';
                continue;
            }
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var start = i;
            var builder = new System.Text.StringBuilder();
            while (true)
            {
                var current = lines[i].TrimEnd();
                if (current.EndsWith(escape) && i + 1 < lines.Length)
                {
                    builder.Append(current, 0, current.Length - 1).Append('\n');
                    i++;
                    // Comment lines inside a continuation are dropped by Docker too.
                    while (i < lines.Length && lines[i].TrimStart().StartsWith('#'))
                    {
                        builder.Append('\n');
                        i++;
                    }
                    if (i >= lines.Length)
                    {
                        break;
                    }
                    continue;
                }
                builder.Append(current);
                break;
            }
            var instruction = builder.ToString().Trim();
            var space = instruction.IndexOfAny([' ', '\t', '\n']);
            var keyword = (space < 0 ? instruction : instruction[..space]).ToUpperInvariant();
            var arguments = space < 0 ? "" : instruction[(space + 1)..].Trim();
            // A heredoc's body is not instructions: skip to its terminator.
            if (arguments.Contains("<<", StringComparison.Ordinal) && HeredocEnd(arguments) is { } end)
            {
                var body = new System.Text.StringBuilder();
                while (i + 1 < lines.Length && lines[i + 1].Trim() != end)
                {
                    body.Append(lines[++i]).Append('\n');
                }
                i++;
                arguments += "\n" + body;
            }
            result.Add(new DockerInstruction(keyword, arguments, start + 1));
        }
        return result;
    }

    private static string? HeredocEnd(string arguments)
    {
        var at = arguments.IndexOf("<<", StringComparison.Ordinal);
        var rest = arguments[(at + 2)..].TrimStart('-').Trim('"', '\'');
        var end = new string([.. rest.TakeWhile(c => char.IsAsciiLetterOrDigit(c) || c == '_')]);
        return end.Length > 0 ? end : null;
    }
}

/// <summary>Checks of a Dockerfile: base image digests, the user the final stage runs as, secrets in ARG/ENV, RUN/CMD/ENTRYPOINT commands.</summary>
internal static class DockerfileAudit
{
    /// <summary>Base images whose default user is not root, by name prefix and tag hint.</summary>
    private static readonly (string Prefix, string TagHint)[] s_nonRootImages =
    [
        ("gcr.io/distroless/", ":nonroot"),
        ("cgr.dev/chainguard/", ""),
        ("mcr.microsoft.com/dotnet/", "-chiseled"),
    ];

    public static void Check(string text, DeployFindings findings)
    {
        var instructions = DockerfileReader.Read(text);
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        var stages = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var ignoreScripts = false;
        string? stageName = null;
        string? user = null;
        var userLine = 0;
        var fromLine = 0;
        string? baseImage = null;
        var resource = "Dockerfile";
        foreach (var instruction in instructions)
        {
            switch (instruction.Keyword)
            {
                case "ARG":
                    foreach (var (name, value) in Assignments(instruction.Arguments, arg: true))
                    {
                        if (value is not null)
                        {
                            args[name] = value;
                        }
                        CheckBuildSecret(findings, instruction, resource, "ARG", name, value);
                    }
                    break;
                case "FROM":
                {
                    if (stageName is not null)
                    {
                        stages[stageName] = user;
                    }
                    var words = instruction.Arguments.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                    var image = words.Count > 0 ? Expand(words[0], args) : "";
                    stageName = words.Count >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                    resource = stageName is null ? $"FROM {image}" : $"stage '{stageName}'";
                    fromLine = instruction.Line;
                    baseImage = image;
                    // A stage built on an earlier stage runs as that stage's user until it says otherwise.
                    user = stages.TryGetValue(image, out var inherited) ? inherited : KnownUser(image);
                    userLine = instruction.Line;
                    if (!stages.ContainsKey(image) && !DeployValues.IsPinnedOrUnknown(image))
                    {
                        findings.Add(DeployRules.ImageNotPinned, instruction.Line, resource, $"base image {image} is not pinned by digest", $"FROM {words[0]}");
                    }
                    break;
                }
                case "USER":
                    user = Expand(instruction.Arguments.Trim(), args);
                    userLine = instruction.Line;
                    break;
                case "ENV":
                    foreach (var (name, value) in Assignments(instruction.Arguments, arg: false))
                    {
                        if (name.Equals("npm_config_ignore_scripts", StringComparison.OrdinalIgnoreCase) && value?.Trim('"') == "true")
                        {
                            ignoreScripts = true;
                        }
                        CheckBuildSecret(findings, instruction, resource, "ENV", name, value);
                    }
                    break;
                case "RUN":
                    if (instruction.Arguments.Contains("npm config set ignore-scripts true", StringComparison.Ordinal))
                    {
                        ignoreScripts = true;
                    }
                    // A build argument's default is what RUN sees unless the build overrides it (npm install -g pkg@${VERSION}).
                    CheckCommand(findings, instruction with { Arguments = Expand(instruction.Arguments, args) }, resource, ignoreScripts);
                    break;
                case "CMD" or "ENTRYPOINT":
                    CheckCommand(findings, instruction, resource, ignoreScripts);
                    break;
            }
        }
        if (baseImage is null)
        {
            return;
        }
        var effective = user?.Trim();
        if (effective is null or "" || effective is "root" or "0" || effective.StartsWith("root:", StringComparison.Ordinal) || effective.StartsWith("0:", StringComparison.Ordinal))
        {
            var why = effective is null or "" ? "the final stage sets no USER: it runs as the base image's user, root unless the image says otherwise" : $"USER {effective}";
            findings.Add(DeployRules.RunsAsRoot, effective is null or "" ? fromLine : userLine, resource, "the container runs as root", why);
        }
    }

    private static void CheckCommand(DeployFindings findings, DockerInstruction instruction, string resource, bool ignoreScripts)
    {
        var where = $"{resource} {instruction.Keyword}";
        if (instruction.ExecForm is { } exec)
        {
            CommandChecks.Check(findings, instruction.Line, where, exec, ignoreScripts);
        }
        else
        {
            CommandChecks.Check(findings, instruction.Line, where, instruction.Arguments, ignoreScripts);
        }
    }

    private static void CheckBuildSecret(DeployFindings findings, DockerInstruction instruction, string resource, string keyword, string name, string? value)
    {
        if (value is not null && Mcp.SecretDetector.Find(name, value.Trim('"', '\'')) is { } secret)
        {
            findings.Add(DeployRules.PlaintextSecret, instruction.Line, resource, $"{keyword} {name} holds a {secret.Kind} in plain text", secret.Masked);
        }
        else if (Mcp.SecretDetector.IsSecretName(name) && !name.Contains("AUTHOR", StringComparison.OrdinalIgnoreCase))
        {
            findings.Add(DeployRules.SecretInImage, instruction.Line, resource, $"{keyword} {name} passes a secret into the image build; it stays in the image's history", $"{keyword} {name}");
        }
    }

    /// <summary>The user a base image runs as when known, else null (root, for an image that says nothing).</summary>
    private static string? KnownUser(string image)
    {
        foreach (var (prefix, hint) in s_nonRootImages)
        {
            if (image.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && (hint.Length == 0 || image.Contains(hint, StringComparison.OrdinalIgnoreCase)))
            {
                return "nonroot";
            }
        }
        return null;
    }

    /// <summary><c>${NAME}</c>, <c>${NAME:-default}</c> and <c>$NAME</c> replaced by ARG defaults; unknown names stay as written.</summary>
    internal static string Expand(string text, IReadOnlyDictionary<string, string> args)
    {
        var result = new System.Text.StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '$' || i + 1 >= text.Length)
            {
                result.Append(text[i]);
                continue;
            }
            var braced = text[i + 1] == '{';
            var start = braced ? i + 2 : i + 1;
            var end = start;
            while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
            {
                end++;
            }
            var name = text[start..end];
            string? fallback = null;
            var close = end;
            if (braced)
            {
                close = text.IndexOf('}', end);
                if (close < 0)
                {
                    result.Append(text[i..]);
                    break;
                }
                var modifier = text[end..close];
                if (modifier.StartsWith(":-", StringComparison.Ordinal))
                {
                    fallback = modifier[2..];
                }
                close++;
            }
            if (args.TryGetValue(name, out var value) || fallback is not null)
            {
                result.Append(value ?? fallback);
            }
            else
            {
                result.Append(text[i..close]);
            }
            i = close - 1;
        }
        return result.ToString();
    }

    /// <summary>The NAME=value pairs of an ARG or ENV instruction (also the legacy <c>ENV NAME value</c> form); values unquoted, null when absent.</summary>
    private static IEnumerable<(string Name, string? Value)> Assignments(string arguments, bool arg)
    {
        var text = arguments.Trim();
        var firstSpace = text.IndexOfAny([' ', '\t']);
        var firstEquals = text.IndexOf('=', StringComparison.Ordinal);
        if (!arg && firstSpace > 0 && (firstEquals < 0 || firstEquals > firstSpace))
        {
            yield return (text[..firstSpace], text[(firstSpace + 1)..].Trim());
            yield break;
        }
        foreach (var (words, _) in CommandChecks.SimpleCommands(text))
        {
            foreach (var word in words)
            {
                var eq = word.IndexOf('=', StringComparison.Ordinal);
                yield return eq < 0 ? (word, null) : (word[..eq], word[(eq + 1)..]);
            }
        }
    }
}
