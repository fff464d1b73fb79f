using Tollgate.Mcp;

namespace Tollgate.Deployment;

/// <summary>
/// Checks shell commands written in deployment files (Dockerfile RUN/CMD/ENTRYPOINT, workflow and pipeline steps,
/// container commands): unpinned package runs and installs (TG3052), npm install (TG3060), install scripts (TG3061),
/// pip without hashes (TG3062), and docker run options that give a container the host (TG3022–TG3025).
/// </summary>
internal static class CommandChecks
{
    /// <summary>Checks every simple command in <paramref name="script"/>.</summary>
    /// <param name="findings">Where findings go.</param>
    /// <param name="line">The line the script starts on.</param>
    /// <param name="resource">The step, instruction or container the script belongs to.</param>
    /// <param name="script">The shell text.</param>
    /// <param name="ignoreScripts">True when install scripts are already turned off (npm_config_ignore_scripts in the environment).</param>
    public static void Check(DeployFindings findings, int line, string resource, string script, bool ignoreScripts)
    {
        foreach (var (words, offset) in SimpleCommands(script))
        {
            CheckOne(findings, line + offset, resource, words, ignoreScripts);
        }
    }

    /// <summary>Checks a command given as an argument list (exec form, Kubernetes command/args).</summary>
    public static void Check(DeployFindings findings, int line, string resource, IReadOnlyList<string> argv, bool ignoreScripts)
    {
        if (argv.Count >= 3 && argv[0] is "sh" or "bash" or "/bin/sh" or "/bin/bash" && argv[1] is "-c" or "-lc" or "-ec")
        {
            Check(findings, line, resource, argv[2], ignoreScripts);
            return;
        }
        if (argv.Count > 0)
        {
            CheckOne(findings, line, resource, [.. argv], ignoreScripts);
        }
    }

    private static void CheckOne(DeployFindings findings, int line, string resource, List<string> words, bool ignoreScripts)
    {
        // Leading environment assignments and wrappers do not change what runs.
        while (words.Count > 0 && (words[0] is "sudo" or "exec" or "env" or "time" || (words[0].Contains('=', StringComparison.Ordinal) && !words[0].StartsWith('-'))))
        {
            if (words[0].StartsWith("npm_config_ignore_scripts=true", StringComparison.OrdinalIgnoreCase)
                || words[0].StartsWith("NPM_CONFIG_IGNORE_SCRIPTS=true", StringComparison.OrdinalIgnoreCase))
            {
                ignoreScripts = true;
            }
            words.RemoveAt(0);
        }
        if (words.Count == 0)
        {
            return;
        }
        var program = McpLaunch.ProgramName(words[0]);
        var args = words.Skip(1).ToList();
        var text = string.Join(' ', words);
        switch (program)
        {
            case "npm" or "pnpm" or "yarn" or "bun":
                CheckNodeInstall(findings, line, resource, program, args, text, ignoreScripts);
                break;
            case "pip" or "pip3":
                CheckPip(findings, line, resource, args, text);
                break;
            case "python" or "python3" when args.Count > 2 && args[0] == "-m" && args[1] is "pip" or "pip3":
                CheckPip(findings, line, resource, args[2..], text);
                break;
            case "uv" when args.Count > 1 && args[0] == "pip" && args[1] == "install":
                CheckPip(findings, line, resource, ["install", .. args[2..]], text);
                break;
        }
        if (program is "npm" && args.Count > 0 && args[0] is "install" or "i" or "add" && args.Any(a => a is "-g" or "--global"))
        {
            // A global install is how images install a server: the package named must be pinned.
            foreach (var spec in args.Skip(1).Where(a => !a.StartsWith('-')))
            {
                var launch = McpLaunch.NpmSpec(spec);
                if (launch.Kind == LaunchKind.Package && !launch.Pinned)
                {
                    findings.Add(DeployRules.UnpinnedPackageRun, line, resource, $"installs {launch.Name} globally without an exact version", Shorten(text));
                }
            }
        }
        // A wrapper that starts a runner (mcp-proxy … uvx pkg, tini -- npx pkg) runs that package all the same.
        var runnerAt = words.FindIndex(1, w => McpLaunch.ProgramName(w) is "npx" or "uvx" or "bunx" or "pnpx" or "pipx" or "dnx");
        if (runnerAt > 0 && program is not ("npm" or "pip" or "pip3" or "python" or "python3" or "uv" or "docker" or "podman"))
        {
            words = words[runnerAt..];
            args = words.Skip(1).ToList();
        }
        var run = McpLaunch.ParseCommand(words[0], args);
        if (run.Kind == LaunchKind.Package && !run.Pinned && run.Runner is not null)
        {
            findings.Add(DeployRules.UnpinnedPackageRun, line, resource,
                $"runs {run.Name} through {run.Runner} without an exact version{(run.AutoConfirmFlag is { } flag ? $" ({flag}: installed without asking)" : "")}", Shorten(text));
        }
        else if (run.Kind == LaunchKind.Container)
        {
            CheckDockerRun(findings, line, resource, args, text);
        }
    }

    private static void CheckNodeInstall(DeployFindings findings, int line, string resource, string program, List<string> args, string text, bool ignoreScripts)
    {
        var verb = args.FirstOrDefault(a => !a.StartsWith('-'));
        var installs = program switch
        {
            "npm" => verb is "install" or "i" or "ci" or "add" or "isntall" or "in",
            "yarn" => verb is null or "install" or "add",
            _ => verb is "install" or "i" or "add",
        };
        if (!installs)
        {
            return;
        }
        var packages = args.SkipWhile(a => a != verb).Skip(1).Where(a => !a.StartsWith('-')).ToList();
        if (program == "npm" && verb is "install" or "i" or "in" or "isntall" && packages.Count == 0)
        {
            findings.Add(DeployRules.NpmInstall, line, resource, "runs npm install: the lockfile is not enforced", Shorten(text));
        }
        var scriptsOff = ignoreScripts || args.Any(a => a is "--ignore-scripts" or "--ignore-scripts=true" || a.StartsWith("--mode=skip-build", StringComparison.Ordinal));
        if (!scriptsOff && !(program == "bun"))
        {
            findings.Add(DeployRules.InstallScriptsRun, line, resource, $"runs {program} {verb ?? "install"} without --ignore-scripts: dependencies' install scripts run", Shorten(text));
        }
    }

    private static void CheckPip(DeployFindings findings, int line, string resource, List<string> args, string text)
    {
        if (args.Count == 0 || args[0] != "install")
        {
            return;
        }
        var hashed = args.Any(a => a == "--require-hashes" || a.StartsWith("--only-binary", StringComparison.Ordinal));
        var fromFile = false;
        for (var i = 1; i < args.Count; i++)
        {
            var a = args[i];
            if (a is "-r" or "--requirement" or "-c" or "--constraint" or "-e" or "--editable")
            {
                fromFile |= a is "-r" or "--requirement";
                i++;
                continue;
            }
            if (a.StartsWith('-') || a is "." || a.StartsWith("./", StringComparison.Ordinal) || a.StartsWith('/') || a.EndsWith(".whl", StringComparison.Ordinal))
            {
                fromFile |= a is "." || a.StartsWith("./", StringComparison.Ordinal);
                continue;
            }
            var spec = McpLaunch.PythonSpec(a.Trim('"', '\''));
            if (spec.Kind == LaunchKind.Package && !spec.Pinned)
            {
                findings.Add(DeployRules.UnpinnedPackageRun, line, resource, $"pip installs {spec.Name} without an exact version", Shorten(text));
            }
        }
        if (!hashed)
        {
            findings.Add(DeployRules.PipWithoutHashes, line, resource,
                fromFile ? "pip install without --require-hashes: the index decides what is installed" : "pip install without --require-hashes or --only-binary", Shorten(text));
        }
    }

    private static void CheckDockerRun(DeployFindings findings, int line, string resource, List<string> args, string text)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var (option, inline) = args[i].Contains('=', StringComparison.Ordinal) && args[i].StartsWith("--", StringComparison.Ordinal)
                ? (args[i][..args[i].IndexOf('=', StringComparison.Ordinal)], args[i][(args[i].IndexOf('=', StringComparison.Ordinal) + 1)..])
                : (args[i], (string?)null);
            string Value() => inline ?? (i + 1 < args.Count ? args[++i] : "");
            switch (option)
            {
                case "--privileged":
                    findings.Add(DeployRules.PrivilegedContainer, line, resource, "docker run --privileged", Shorten(text));
                    break;
                case "--network" or "--net" or "--pid" or "--ipc" or "--uts":
                    if (Value() == "host")
                    {
                        findings.Add(DeployRules.HostNamespaces, line, resource, $"docker run {option} host", Shorten(text));
                    }
                    break;
                case "--cap-add":
                    findings.Add(DeployRules.AddedCapabilities, line, resource, $"docker run --cap-add {Value()}", Shorten(text));
                    break;
                case "-v" or "--volume" or "--mount":
                    if (IsRuntimeSocket(Value()))
                    {
                        findings.Add(DeployRules.DockerSocket, line, resource, "docker run mounts the container runtime's socket", Shorten(text));
                    }
                    break;
            }
        }
    }

    /// <summary>True when a volume or mount names the Docker, containerd or Podman socket.</summary>
    public static bool IsRuntimeSocket(string volume) =>
        volume.Contains("docker.sock", StringComparison.Ordinal) || volume.Contains("containerd.sock", StringComparison.Ordinal)
        || volume.Contains("podman.sock", StringComparison.Ordinal) || volume.Contains("crio.sock", StringComparison.Ordinal);

    private static string Shorten(string text) => text.Length <= 160 ? text : text[..157] + "...";

    /// <summary>
    /// The simple commands of a shell text with the line offset each starts at: split at newlines (backslash
    /// continuations joined), <c>&amp;&amp;</c>, <c>||</c>, <c>;</c> and <c>|</c>, then into words with quotes removed.
    /// Enough for install commands; it is not a shell.
    /// </summary>
    public static IEnumerable<(List<string> Words, int LineOffset)> SimpleCommands(string script)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        var inWord = false;
        var quote = '\0';
        var lineOffset = 0;
        var startOffset = 0;
        var comment = false;
        for (var i = 0; i <= script.Length; i++)
        {
            var c = i < script.Length ? script[i] : '\n';
            if (comment)
            {
                if (c != '\n')
                {
                    continue;
                }
                comment = false;
            }
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else
                {
                    if (c == '\n')
                    {
                        lineOffset++;
                    }
                    word.Append(c);
                }
                continue;
            }
            if (c == '\\' && i + 1 < script.Length && script[i + 1] is '\n' or '\r')
            {
                i += script[i + 1] == '\r' && i + 2 < script.Length && script[i + 2] == '\n' ? 2 : 1;
                lineOffset++;
                continue;
            }
            var separator = c is '\n' or ';' or '|' or '&' or '(' or ')';
            if (char.IsWhiteSpace(c) || separator)
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
                if (separator)
                {
                    if (words.Count > 0)
                    {
                        yield return (words, startOffset);
                        words = [];
                    }
                    if (c == '\n')
                    {
                        lineOffset++;
                    }
                    startOffset = lineOffset;
                }
                continue;
            }
            if (c == '#' && !inWord)
            {
                comment = true;
                continue;
            }
            if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
                continue;
            }
            word.Append(c);
            inWord = true;
        }
    }
}
