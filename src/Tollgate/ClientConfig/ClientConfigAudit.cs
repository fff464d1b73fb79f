using System.Collections.Immutable;
using System.Xml;
using System.Xml.Linq;
using Tollgate.Mcp;

namespace Tollgate.ClientConfig;

/// <summary>One thing to change in a package manager's client configuration.</summary>
/// <param name="RuleId">The rule (TG5xxx, see docs/rules.md).</param>
/// <param name="Fail">True when the rule fails a check by default; false for a warning.</param>
/// <param name="File">The file the setting is in (or would go in); an environment variable is named as <c>$NAME</c>.</param>
/// <param name="Line">The 1-based line, or 0 when the problem is a setting that is missing.</param>
/// <param name="Message">What is wrong, with any secret masked.</param>
/// <param name="Fix">What to change; with a feed URL, the exact setting.</param>
public sealed record ClientConfigFinding(string RuleId, bool Fail, string File, int Line, string Message, string Fix);

/// <summary>What <see cref="ClientConfigAudit.Run"/> read and found.</summary>
public sealed record ClientConfigResult(ImmutableArray<string> Files, ImmutableArray<ClientConfigFinding> Findings, ImmutableArray<string> Problems);

/// <summary>
/// Checks the client configuration of npm, yarn, pip, uv and NuGet that applies to a project folder: the project's
/// files, the user's, and the environment. It reports installs that bypass the vetted feed (a public registry as the
/// default, extra indexes, several NuGet sources without packageSourceMapping), secrets written in plain text, and
/// npm installs that run dependencies' scripts.
/// </summary>
public static class ClientConfigAudit
{
    public const string BypassRule = "TG5001";
    public const string ExtraIndexRule = "TG5002";
    public const string NuGetMappingRule = "TG5003";
    public const string PlaintextTokenRule = "TG5004";
    public const string ScriptsRule = "TG5005";

    /// <summary>Runs every check for <paramref name="folder"/>.</summary>
    /// <param name="folder">The project folder.</param>
    /// <param name="feed">The vetted feed's base URL (its npm registry); null when not known.</param>
    /// <param name="environment">Reads an environment variable (HOME, PIP_*, UV_*, npm_config_*).</param>
    public static ClientConfigResult Run(string folder, Uri? feed, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        environment ??= Environment.GetEnvironmentVariable;
        var findings = ImmutableArray.CreateBuilder<ClientConfigFinding>();
        var files = ImmutableArray.CreateBuilder<string>();
        var problems = ImmutableArray.CreateBuilder<string>();
        var home = environment("HOME") ?? environment("USERPROFILE");
        var feedBase = feed?.AbsoluteUri.TrimEnd('/');
        Npm(folder, home, feedBase, environment, files, findings);
        Python(folder, home, feedBase, environment, files, findings, problems);
        NuGet(folder, home, feedBase, files, findings, problems);
        return new ClientConfigResult(files.ToImmutable(), findings.ToImmutable(), problems.ToImmutable());
    }

    private static string[]? ReadLines(string path, ImmutableArray<string>.Builder files)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }
            files.Add(path);
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A secret value that is written out, not a <c>${VAR}</c> reference.</summary>
    private static bool IsLiteralSecret(string value) => value.Length > 0 && !value.Contains("${", StringComparison.Ordinal) && !value.StartsWith('$');

    private static void Npm(string folder, string? home, string? feed, Func<string, string?> environment,
        ImmutableArray<string>.Builder files, ImmutableArray<ClientConfigFinding>.Builder findings)
    {
        var project = Path.Combine(folder, ".npmrc");
        string? registry = environment("npm_config_registry") ?? environment("NPM_CONFIG_REGISTRY");
        var registryFile = registry is null ? null : "$npm_config_registry";
        var registryLine = 0;
        var ignoreScripts = string.Equals(environment("npm_config_ignore_scripts") ?? environment("NPM_CONFIG_IGNORE_SCRIPTS"), "true", StringComparison.OrdinalIgnoreCase);
        var sawNpmrc = false;
        // The project's file wins over the user's, as npm reads them.
        foreach (var file in new[] { project, home is null ? null : Path.Combine(home, ".npmrc") })
        {
            if (file is null || ReadLines(file, files) is not { } lines)
            {
                continue;
            }
            sawNpmrc = true;
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length == 0 || line[0] is '#' or ';')
                {
                    continue;
                }
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    continue;
                }
                var key = line[..eq].Trim();
                var value = line[(eq + 1)..].Trim().Trim('"');
                if (key == "registry" && registry is null)
                {
                    (registry, registryFile, registryLine) = (value, file, i + 1);
                }
                else if (key == "ignore-scripts" && value.Equals("true", StringComparison.OrdinalIgnoreCase))
                {
                    ignoreScripts = true;
                }
                else if ((key.EndsWith(":_authToken", StringComparison.Ordinal) || key.EndsWith(":_password", StringComparison.Ordinal) || key is "_auth" or "_authToken"
                    || key.EndsWith(":_auth", StringComparison.Ordinal)) && IsLiteralSecret(value))
                {
                    findings.Add(new ClientConfigFinding(PlaintextTokenRule, true, file, i + 1,
                        $"a registry credential is written in plain text ({key}={SecretDetector.Mask(value)})",
                        $"write {key}=${{NPM_TOKEN}} and set NPM_TOKEN in the environment (CI secret), then revoke the token that was in the file"));
                }
            }
        }
        var yarnrc = Path.Combine(folder, ".yarnrc.yml");
        var yarnScriptsOff = false;
        if (ReadLines(yarnrc, files) is { } yarnLines)
        {
            for (var i = 0; i < yarnLines.Length; i++)
            {
                var line = yarnLines[i].Trim();
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0 || line.StartsWith('#'))
                {
                    continue;
                }
                var key = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim().Trim('"', '\'');
                if (key == "npmAuthToken" && IsLiteralSecret(value))
                {
                    findings.Add(new ClientConfigFinding(PlaintextTokenRule, true, yarnrc, i + 1, $"a registry token is written in plain text (npmAuthToken: {SecretDetector.Mask(value)})",
                        "write npmAuthToken: \"${NPM_TOKEN}\" and set NPM_TOKEN in the environment, then revoke the token that was in the file"));
                }
                else if (key == "npmRegistryServer" && feed is not null && !SameBase(value, feed))
                {
                    findings.Add(new ClientConfigFinding(BypassRule, false, yarnrc, i + 1, $"yarn installs from {value}, not from the vetted feed",
                        $"npmRegistryServer: \"{feed}/\""));
                }
                else if (key == "enableScripts" && value == "false")
                {
                    yarnScriptsOff = true;
                }
            }
            if (!yarnScriptsOff)
            {
                findings.Add(new ClientConfigFinding(ScriptsRule, false, yarnrc, 0, "yarn runs dependencies' install scripts (enableScripts is not false)",
                    "add 'enableScripts: false' to .yarnrc.yml; allow the few packages that need scripts with dependenciesMeta"));
            }
        }
        var usesNpm = sawNpmrc || File.Exists(Path.Combine(folder, "package.json"));
        if (!usesNpm)
        {
            return;
        }
        if (registry is null)
        {
            findings.Add(new ClientConfigFinding(BypassRule, false, project, 0,
                "no registry is configured: npm installs from its built-in default, the public registry",
                $"npm config set registry {feed ?? "<your vetted feed>"}/ --location project"));
        }
        else if (feed is not null && !SameBase(registry, feed))
        {
            findings.Add(new ClientConfigFinding(BypassRule, false, registryFile!, registryLine, $"npm installs from {registry}, not from the vetted feed",
                $"registry={feed}/"));
        }
        if (!ignoreScripts)
        {
            findings.Add(new ClientConfigFinding(ScriptsRule, false, project, 0, "npm runs dependencies' install scripts (ignore-scripts is not set)",
                "add 'ignore-scripts=true' to the project's .npmrc, and run the scripts you need with `tollgate install`"));
        }
    }

    private static bool SameBase(string url, string feed) => url.TrimEnd('/').StartsWith(feed, StringComparison.OrdinalIgnoreCase);

    private static void Python(string folder, string? home, string? feed, Func<string, string?> environment,
        ImmutableArray<string>.Builder files, ImmutableArray<ClientConfigFinding>.Builder findings, ImmutableArray<string>.Builder problems)
    {
        var pypiFeed = feed is null ? null : feed + "/pypi/simple/";
        foreach (var variable in new[] { "PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX" })
        {
            if (environment(variable) is { Length: > 0 } extra)
            {
                findings.Add(new ClientConfigFinding(ExtraIndexRule, true, "$" + variable, 0,
                    $"{variable} adds another index ({Redact(extra)}): pip and uv then take a name from whichever index offers it, so a public upload of one of your private names can win",
                    $"unset {variable}; serve everything through one index{(pypiFeed is null ? "" : $" ({pypiFeed})")}"));
            }
        }
        var pipFiles = new List<string>();
        if (environment("PIP_CONFIG_FILE") is { Length: > 0 } explicitFile)
        {
            pipFiles.Add(explicitFile);
        }
        pipFiles.Add(Path.Combine(folder, "pip.conf"));
        pipFiles.Add(Path.Combine(folder, "pip.ini"));
        if (home is not null)
        {
            pipFiles.Add(Path.Combine(home, ".config", "pip", "pip.conf"));
            pipFiles.Add(Path.Combine(home, ".pip", "pip.conf"));
        }
        string? index = environment("PIP_INDEX_URL");
        var indexFile = index is null ? null : "$PIP_INDEX_URL";
        var indexLine = 0;
        var sawPip = false;
        foreach (var file in pipFiles)
        {
            if (ReadLines(file, files) is not { } lines)
            {
                continue;
            }
            sawPip = true;
            var section = "";
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.StartsWith('[') && line.EndsWith(']'))
                {
                    section = line[1..^1].Trim().ToLowerInvariant();
                    continue;
                }
                var eq = line.IndexOfAny(['=', ':']);
                if (eq <= 0 || line[0] is '#' or ';')
                {
                    continue;
                }
                var key = line[..eq].Trim().Replace('_', '-').ToLowerInvariant();
                var value = line[(eq + 1)..].Trim();
                Credentials(value, file, i + 1, findings);
                if (key == "extra-index-url" && value.Length > 0)
                {
                    findings.Add(new ClientConfigFinding(ExtraIndexRule, true, file, i + 1,
                        $"extra-index-url adds another index ({Redact(value)}): pip takes a name from whichever index has the highest version, the classic dependency-confusion opening",
                        $"remove extra-index-url from [{section}] and serve everything through one index{(pypiFeed is null ? "" : $": index-url = {pypiFeed}")}"));
                }
                else if (key == "index-url" && index is null)
                {
                    (index, indexFile, indexLine) = (value, file, i + 1);
                }
            }
        }
        foreach (var (file, tool) in new[] { (Path.Combine(folder, "uv.toml"), false), (Path.Combine(folder, "pyproject.toml"), true) })
        {
            if (ReadLines(file, files) is not { } lines)
            {
                continue;
            }
            var inUv = !tool;
            var indexes = 0;
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.StartsWith('['))
                {
                    inUv = !tool || line.StartsWith("[tool.uv", StringComparison.Ordinal) || line.StartsWith("[[tool.uv.index]]", StringComparison.Ordinal);
                    if (inUv && (line == "[[index]]" || line == "[[tool.uv.index]]"))
                    {
                        indexes++;
                        if (indexes == 2)
                        {
                            findings.Add(new ClientConfigFinding(ExtraIndexRule, true, file, i + 1,
                                "a second uv index: a name missing from the first is looked up in the next, so a public upload of a private name can be installed",
                                $"keep one [[index]] with default = true{(pypiFeed is null ? "" : $" and url = \"{pypiFeed}\"")}"));
                        }
                    }
                    continue;
                }
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (!inUv || eq <= 0)
                {
                    continue;
                }
                var key = line[..eq].Trim();
                Credentials(line[(eq + 1)..].Trim().Trim('"'), file, i + 1, findings);
                if (key == "extra-index-url")
                {
                    findings.Add(new ClientConfigFinding(ExtraIndexRule, true, file, i + 1,
                        "extra-index-url adds another index: a public upload of one of your private names can be installed",
                        $"remove extra-index-url{(pypiFeed is null ? "" : $" and set index-url = \"{pypiFeed}\"")}"));
                }
            }
        }
        if (index is not null)
        {
            Credentials(index, indexFile!, indexLine, findings);
            if (pypiFeed is not null && !SameBase(index, feed + "/pypi/simple"))
            {
                findings.Add(new ClientConfigFinding(BypassRule, false, indexFile!, indexLine, $"pip installs from {Redact(index)}, not from the vetted feed",
                    $"pip config set global.index-url {pypiFeed}"));
            }
        }
        else if (sawPip || File.Exists(Path.Combine(folder, "requirements.txt")) || File.Exists(Path.Combine(folder, "pyproject.toml")))
        {
            findings.Add(new ClientConfigFinding(BypassRule, false, pipFiles[^1], 0,
                "no index-url is configured: pip installs from its built-in default, the public index",
                $"pip config set global.index-url {pypiFeed ?? "<your vetted feed>/pypi/simple/"}"));
        }
        _ = problems;
    }

    /// <summary>Reports a URL with user:password written into it.</summary>
    private static void Credentials(string value, string file, int line, ImmutableArray<ClientConfigFinding>.Builder findings)
    {
        foreach (var word in value.Split((char[])[' ', '\t', '"', '\''], StringSplitOptions.RemoveEmptyEntries))
        {
            if (Uri.TryCreate(word, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal) && IsLiteralSecret(uri.UserInfo[(uri.UserInfo.IndexOf(':', StringComparison.Ordinal) + 1)..]))
            {
                findings.Add(new ClientConfigFinding(PlaintextTokenRule, true, file, line, $"a password or token is written into an index URL ({Redact(word)})",
                    "move the credential to a keyring or the environment (e.g. PIP_INDEX_URL set by CI from a secret), then revoke it"));
            }
        }
    }

    /// <summary>A URL with its password masked.</summary>
    private static string Redact(string url) =>
        Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? url.Replace(uri.UserInfo, uri.UserInfo.Contains(':', StringComparison.Ordinal) ? uri.UserInfo[..uri.UserInfo.IndexOf(':', StringComparison.Ordinal)] + ":****" : "****", StringComparison.Ordinal)
            : url.Trim();

    private static void NuGet(string folder, string? home, string? feed, ImmutableArray<string>.Builder files,
        ImmutableArray<ClientConfigFinding>.Builder findings, ImmutableArray<string>.Builder problems)
    {
        // NuGet merges nuget.config from the project folder up to the root, then the user's file.
        var configs = new List<string>();
        for (var dir = new DirectoryInfo(Path.GetFullPath(folder)); dir is not null; dir = dir.Parent)
        {
            foreach (var name in new[] { "nuget.config", "NuGet.Config", "NuGet.config" })
            {
                var path = Path.Combine(dir.FullName, name);
                if (File.Exists(path) && !configs.Contains(path))
                {
                    configs.Add(path);
                    break;
                }
            }
        }
        if (home is not null)
        {
            configs.Add(Path.Combine(home, ".nuget", "NuGet", "NuGet.Config"));
        }
        var sources = new Dictionary<string, (string Url, string File, int Line)>(StringComparer.OrdinalIgnoreCase);
        var mapped = false;
        var cleared = false;
        string? nearest = null;
        foreach (var file in configs)
        {
            if (ReadLines(file, files) is null)
            {
                continue;
            }
            nearest ??= file;
            XDocument doc;
            try
            {
                doc = XDocument.Load(file, LoadOptions.SetLineInfo);
            }
            catch (XmlException e)
            {
                problems.Add($"{file}:{e.LineNumber}: not valid XML ({e.Message})");
                continue;
            }
            var root = doc.Root;
            if (root is null)
            {
                continue;
            }
            if (root.Element("packageSourceMapping") is { } mapping && mapping.Elements("packageSource").Any())
            {
                mapped = true;
            }
            if (root.Element("packageSources") is { } list && !cleared)
            {
                foreach (var element in list.Elements())
                {
                    if (element.Name.LocalName == "clear")
                    {
                        cleared = true;
                        break;
                    }
                    if (element.Name.LocalName == "add" && element.Attribute("key")?.Value is { } key && element.Attribute("value")?.Value is { } url
                        && !sources.ContainsKey(key) && url.StartsWith("http", StringComparison.OrdinalIgnoreCase))
                    {
                        sources[key] = (url, file, ((IXmlLineInfo)element).LineNumber);
                    }
                }
                // Disabled sources take no part in a restore.
                foreach (var disabled in root.Element("disabledPackageSources")?.Elements("add") ?? [])
                {
                    if (disabled.Attribute("value")?.Value.Equals("true", StringComparison.OrdinalIgnoreCase) == true && disabled.Attribute("key")?.Value is { } off)
                    {
                        sources.Remove(off);
                    }
                }
            }
            foreach (var credential in root.Element("packageSourceCredentials")?.Descendants("add") ?? [])
            {
                if (credential.Attribute("key")?.Value == "ClearTextPassword" && credential.Attribute("value")?.Value is { } secret && IsLiteralSecret(secret))
                {
                    findings.Add(new ClientConfigFinding(PlaintextTokenRule, true, file, ((IXmlLineInfo)credential).LineNumber,
                        $"a feed password is written in plain text (ClearTextPassword {SecretDetector.Mask(secret)})",
                        "use %ENV_VAR% in the value, or `dotnet nuget update source --store-password-in-clear-text` only in CI from a secret; revoke the written one"));
                }
            }
        }
        if (nearest is null)
        {
            return;
        }
        if (!cleared)
        {
            findings.Add(new ClientConfigFinding(BypassRule, false, nearest, 0,
                "the nuget.config does not start <packageSources> with <clear />: the sources of the user's and machine's configuration (by default the public gallery) still take part",
                feed is null ? "start <packageSources> with <clear /> and list only the vetted feed" : $"<packageSources><clear /><add key=\"tollgate\" value=\"{feed}/nuget/v3/index.json\" /></packageSources>"));
        }
        if (sources.Count > 1 && !mapped)
        {
            var (url, file, line) = sources.Values.First();
            findings.Add(new ClientConfigFinding(NuGetMappingRule, true, file, line,
                $"{sources.Count} package sources ({string.Join(", ", sources.Keys)}) and no <packageSourceMapping>: NuGet takes each package from whichever source answers, so a public package with a private name can be restored",
                "add <packageSourceMapping> giving each source the package id patterns it may serve (your prefix to the private feed, * to the vetted feed)"));
            _ = url;
        }
    }
}
