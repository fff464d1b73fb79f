namespace Tollgate.Risk;

/// <summary>Registry URL comparison: scheme and host ignore case, credentials never take part, prefixes end at a '/'.</summary>
internal static class RegistryUrl
{
    /// <summary>
    /// The URL without credentials, query or fragment, with a trailing slash; null when it is not an absolute
    /// http(s) URL. <c>https://Host/npm</c> and <c>https://host/npm/</c> give the same result.
    /// </summary>
    public static string? Normalize(string? url)
    {
        if (url is null || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return null;
        }
        var text = uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        return text.EndsWith('/') ? text : text + "/";
    }

    /// <summary>True when <paramref name="url"/> is <paramref name="prefix"/> or lies below it, compared in normal form.</summary>
    public static bool IsUnder(string url, string prefix)
    {
        var u = Normalize(url);
        var p = Normalize(prefix);
        return u is not null && p is not null && u.StartsWith(p, StringComparison.Ordinal);
    }

    /// <summary>
    /// <see cref="IsUnder"/> for http(s) sources; for local folder sources (NuGet allows a folder as a package source,
    /// written as a path or a file: URI) the same folder.
    /// </summary>
    public static bool IsSameSource(string source, string configured)
    {
        if (Normalize(source) is not null || Normalize(configured) is not null)
        {
            return IsUnder(source, configured);
        }
        static string? Folder(string text)
        {
            var path = Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.IsFile ? uri.LocalPath : text;
            try
            {
                return Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                return null;
            }
        }
        var a = Folder(source);
        var b = Folder(configured);
        return a is not null && b is not null
            && string.Equals(a, b, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    /// <summary>The URL as it may be shown: credentials removed. Text that is not a URL is returned as it is.</summary>
    public static string Display(string url)
    {
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0)
        {
            // A lockfile can carry a token in the userinfo part; it must never reach a report.
            return uri.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped);
        }
        return url;
    }
}
