using System.Diagnostics.CodeAnalysis;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>What an npm client asked for.</summary>
internal enum NpmRequestKind
{
    Packument,
    Tarball,
    Ping,
    Whoami,
    /// <summary>Another <c>/-/</c> endpoint (search, audit, login …) the feed does not offer.</summary>
    Unsupported,
}

/// <summary>A parsed request path: the package name and, for tarballs, the file name.</summary>
internal sealed record NpmRequestPath(NpmRequestKind Kind, string? Name = null, string? File = null)
{
    /// <summary>
    /// Reads a raw request target (path and query as the client sent them). Accepted: <c>/name</c>,
    /// <c>/@scope/name</c>, <c>/@scope%2fname</c>, <c>/name/-/file.tgz</c>, <c>/@scope/name/-/file.tgz</c>, <c>/-/ping</c>,
    /// <c>/-/whoami</c>. Dot segments, backslashes, control characters and malformed names give an error text.
    /// </summary>
    public static bool TryParse(string rawTarget, [NotNullWhen(true)] out NpmRequestPath? path, [NotNullWhen(false)] out string? error)
    {
        path = null;
        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var raw = query >= 0 ? rawTarget[..query] : rawTarget;
        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(raw);
        }
        catch (UriFormatException)
        {
            error = "the path is not valid percent-encoding";
            return false;
        }
        if (decoded.Length == 0 || decoded[0] != '/' || decoded.Length > 1024)
        {
            error = "the path must start with '/' and be at most 1024 characters";
            return false;
        }
        if (decoded.Any(c => c == '\\' || char.IsControl(c)))
        {
            error = "the path holds a backslash or a control character";
            return false;
        }
        var segments = decoded[1..].Split('/');
        if (segments.Any(s => s is "." or ".."))
        {
            error = "the path holds a '.' or '..' segment";
            return false;
        }
        if (segments[0] == "-")
        {
            path = segments switch
            {
                ["-", "ping"] => new NpmRequestPath(NpmRequestKind.Ping),
                ["-", "whoami"] => new NpmRequestPath(NpmRequestKind.Whoami),
                _ => new NpmRequestPath(NpmRequestKind.Unsupported),
            };
            error = null;
            return true;
        }
        // A scoped name takes two segments ("@scope/name", or one when the client encoded the slash as %2f).
        var nameLength = segments[0].StartsWith('@') ? 2 : 1;
        if (segments.Length < nameLength)
        {
            error = $"'{decoded}' is not a package name: a scoped name is @scope/name";
            return false;
        }
        var name = string.Join('/', segments[..nameLength]);
        if (!IsValidName(name, out var nameError))
        {
            error = nameError;
            return false;
        }
        var rest = segments[nameLength..];
        switch (rest)
        {
            case []:
                path = new NpmRequestPath(NpmRequestKind.Packument, name);
                error = null;
                return true;
            case ["-", var file]:
                if (!IsValidTarballFile(file))
                {
                    error = $"'{file}' is not a tarball file name";
                    return false;
                }
                path = new NpmRequestPath(NpmRequestKind.Tarball, name, file);
                error = null;
                return true;
            default:
                error = $"'{decoded}' is not a path this feed serves: expected /NAME or /NAME/-/FILE.tgz";
                return false;
        }
    }

    /// <summary>
    /// npm's rules for names of existing packages: at most 214 characters, URL-safe characters only, not starting with
    /// '.' or '_', and for scoped names '@scope/name' with both parts valid. Upper case is accepted because old
    /// packages have it.
    /// </summary>
    public static bool IsValidName(string name, [NotNullWhen(false)] out string? error)
    {
        if (name.Length is 0 or > 214)
        {
            error = "a package name has 1 to 214 characters";
            return false;
        }
        var parts = name.StartsWith('@') ? name[1..].Split('/') : [name];
        if (parts.Length > 2 || (name.StartsWith('@') && parts.Length != 2))
        {
            error = $"'{name}' is not a package name: a scoped name is @scope/name";
            return false;
        }
        foreach (var part in parts)
        {
            if (part.Length == 0 || part[0] is '.' or '_' || !part.All(IsNameChar))
            {
                error = $"'{name}' is not a package name: names use letters, digits and - . _ ~ and do not start with . or _";
                return false;
            }
        }
        error = null;
        return true;
    }

    /// <summary>
    /// npm's rules for a name a new package may take (what the public registry accepts for a publish): the rules of
    /// <see cref="IsValidName"/>, lower case only, none of <c>~'!()*</c>, and not a name npm reserves. Only letters,
    /// digits and <c>- . _</c> remain, so a published name can never hold a path character.
    /// </summary>
    public static bool IsValidNewName(string name, [NotNullWhen(false)] out string? error)
    {
        if (!IsValidName(name, out error))
        {
            return false;
        }
        var parts = name.StartsWith('@') ? name[1..].Split('/') : [name];
        if (!parts.All(p => p.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.' or '_')))
        {
            error = $"'{name}' cannot be published: a new package name uses lower-case letters, digits and - . _ only";
            return false;
        }
        if (parts[^1] is "node_modules" or "favicon.ico")
        {
            error = $"'{name}' cannot be published: npm reserves that name";
            return false;
        }
        return true;
    }

    private static bool IsValidTarballFile(string file) =>
        file.Length is > 4 and <= 300 && file.EndsWith(".tgz", StringComparison.Ordinal) && file[0] != '.'
        && file.All(c => IsNameChar(c) || c == '+');

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~';
}
