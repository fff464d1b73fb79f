namespace Tollgate.Ecosystems.PyPI;

/// <summary>
/// The package index pip or uv is configured with, read as they read it: <c>UV_DEFAULT_INDEX</c> /
/// <c>UV_INDEX_URL</c> / <c>PIP_INDEX_URL</c>, then the project's <c>uv.toml</c> (<c>index-url</c>, or the
/// <c>[[index]]</c> marked <c>default = true</c>), then pip's files (<c>PIP_CONFIG_FILE</c>, the virtual
/// environment's, the user's <c>~/.config/pip/pip.conf</c> and <c>~/.pip/pip.conf</c>, <c>/etc/pip.conf</c>),
/// <c>index-url</c> in <c>[global]</c> or <c>[install]</c>. Credentials written into the URL (user:password@) are
/// sent as basic authentication and never shown. Null when nothing is configured.
/// </summary>
public static class PipIndexConfig
{
    public static Uri? Read(string? projectFolder, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        foreach (var variable in new[] { "UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL" })
        {
            if (Parse(environment(variable)) is { } fromEnvironment)
            {
                return fromEnvironment;
            }
        }
        var home = environment("HOME");
        var uvFiles = new List<string>();
        if (projectFolder is not null)
        {
            uvFiles.Add(Path.Combine(projectFolder, "uv.toml"));
        }
        if (environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg)
        {
            uvFiles.Add(Path.Combine(xdg, "uv", "uv.toml"));
        }
        else if (home is { Length: > 0 })
        {
            uvFiles.Add(Path.Combine(home, ".config", "uv", "uv.toml"));
        }
        foreach (var file in uvFiles)
        {
            if (FromUvToml(file) is { } uv)
            {
                return uv;
            }
        }
        var pipFiles = new List<string>();
        if (environment("PIP_CONFIG_FILE") is { Length: > 0 } explicitFile)
        {
            pipFiles.Add(explicitFile);
        }
        if (environment("VIRTUAL_ENV") is { Length: > 0 } venv)
        {
            pipFiles.Add(Path.Combine(venv, "pip.conf"));
        }
        if (home is { Length: > 0 })
        {
            pipFiles.Add(Path.Combine(environment("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".config"), "pip", "pip.conf"));
            pipFiles.Add(Path.Combine(home, ".pip", "pip.conf"));
        }
        pipFiles.Add("/etc/pip.conf");
        foreach (var file in pipFiles)
        {
            if (FromPipConf(file) is { } pip)
            {
                return pip;
            }
        }
        return null;
    }

    private static Uri? Parse(string? text) =>
        text is { Length: > 0 } && Uri.TryCreate(text.Trim().Trim('"', '\''), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;

    private static string[]? Lines(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static Uri? FromPipConf(string path)
    {
        if (Lines(path) is not { } lines)
        {
            return null;
        }
        var section = "";
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                section = line[1..^1].Trim().ToLowerInvariant();
                continue;
            }
            var eq = line.IndexOfAny(['=', ':']);
            if (section is "global" or "install" && eq > 0 && line[..eq].Trim().Replace('_', '-') == "index-url")
            {
                return Parse(line[(eq + 1)..]);
            }
        }
        return null;
    }

    private static Uri? FromUvToml(string path)
    {
        if (Lines(path) is not { } lines)
        {
            return null;
        }
        string? indexUrl = null;
        var inIndex = false;
        var isDefault = false;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith('['))
            {
                if (inIndex && isDefault && indexUrl is not null)
                {
                    return Parse(indexUrl);
                }
                inIndex = line == "[[index]]";
                isDefault = false;
                indexUrl = inIndex ? null : indexUrl;
                continue;
            }
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }
            var key = line[..eq].Trim();
            var value = line[(eq + 1)..].Trim();
            if (!inIndex && key == "index-url")
            {
                return Parse(value);
            }
            if (inIndex && key == "url")
            {
                indexUrl = value;
            }
            if (inIndex && key == "default" && value == "true")
            {
                isDefault = true;
            }
        }
        return inIndex && isDefault ? Parse(indexUrl) : null;
    }
}
