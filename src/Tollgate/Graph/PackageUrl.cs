using System.Buffers;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Tollgate.Graph;

/// <summary>
/// A package URL (purl): <c>pkg:type/namespace/name@version?qualifiers#subpath</c>, per the package-url
/// specification. Components are kept decoded; <see cref="ToString"/> produces the canonical encoded form
/// (lower-case type, qualifiers sorted by key, empty qualifier values dropped).
/// </summary>
public sealed record PackageUrl
{
    public PackageUrl(
        string type,
        string? @namespace,
        string name,
        string? version = null,
        ImmutableSortedDictionary<string, string>? qualifiers = null,
        string? subpath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Type = type.ToLowerInvariant();
        Namespace = string.IsNullOrEmpty(@namespace) ? null : @namespace;
        Name = name;
        Version = string.IsNullOrEmpty(version) ? null : version;
        Qualifiers = qualifiers ?? ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);
        Subpath = string.IsNullOrEmpty(subpath) ? null : subpath;
    }

    public string Type { get; }
    public string? Namespace { get; }
    public string Name { get; }
    public string? Version { get; }
    public ImmutableSortedDictionary<string, string> Qualifiers { get; }
    public string? Subpath { get; }

    /// <summary>Builds the purl of a package in one of the supported ecosystems, applying each type's name rules.</summary>
    public static PackageUrl For(Ecosystem ecosystem, string name, string? version, ImmutableSortedDictionary<string, string>? qualifiers = null)
    {
        switch (ecosystem)
        {
            case Ecosystem.Npm:
                // The purl npm type: the scope is the namespace (with its '@'), names are lower-cased.
                var lower = name.ToLowerInvariant();
                if (lower.StartsWith('@'))
                {
                    var slash = lower.IndexOf('/', StringComparison.Ordinal);
                    if (slash > 0)
                    {
                        return new PackageUrl("npm", lower[..slash], lower[(slash + 1)..], version, qualifiers);
                    }
                }
                return new PackageUrl("npm", null, lower, version, qualifiers);
            case Ecosystem.PyPI:
                // The purl pypi type: lower-cased, '_' replaced with '-'.
                return new PackageUrl("pypi", null, name.ToLowerInvariant().Replace('_', '-'), version, qualifiers);
            case Ecosystem.NuGet:
                return new PackageUrl("nuget", null, name, version, qualifiers);
            default:
                throw new ArgumentOutOfRangeException(nameof(ecosystem));
        }
    }

    /// <summary>Whether <see cref="For"/> accepts <paramref name="name"/> (as PyPI readers pass it: PEP 503 normalized).</summary>
    public static bool IsValidName(Ecosystem ecosystem, string name)
    {
        switch (ecosystem)
        {
            case Ecosystem.Npm:
                var slash = name.StartsWith('@') ? name.IndexOf('/', StringComparison.Ordinal) : -1;
                return name.Length > 0 && (slash <= 0 || slash < name.Length - 1);
            case Ecosystem.PyPI:
                return Component.NormalizePyPIName(name).Length > 0;
            default:
                return name.Length > 0;
        }
    }

    /// <summary>The purl without version, qualifiers or subpath: identifies the package, not one release.</summary>
    public PackageUrl WithoutVersion() => new(Type, Namespace, Name);

    /// <summary>The package name as its registry spells it (npm: <c>@scope/name</c>).</summary>
    public string FullName => Namespace is null ? Name : $"{Namespace}/{Name}";

    public override string ToString()
    {
        var sb = new StringBuilder(64).Append("pkg:");
        sb.Append(Type).Append('/');
        if (Namespace is not null)
        {
            foreach (var segment in Namespace.Split('/'))
            {
                sb.Append(Encode(segment)).Append('/');
            }
        }
        sb.Append(Encode(Name));
        if (Version is not null)
        {
            sb.Append('@').Append(Encode(Version));
        }
        var first = true;
        foreach (var (key, value) in Qualifiers)
        {
            if (value.Length == 0)
            {
                continue;
            }
            sb.Append(first ? '?' : '&').Append(key.ToLowerInvariant()).Append('=').Append(Encode(value));
            first = false;
        }
        if (Subpath is not null)
        {
            sb.Append('#');
            sb.AppendJoin('/', Subpath.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s is not "." and not "..").Select(Encode));
        }
        return sb.ToString();
    }

    /// <summary>Parses a purl; throws <see cref="FormatException"/> with the reason when it is not one.</summary>
    public static PackageUrl Parse(string text) =>
        TryParse(text, out var purl, out var error) ? purl : throw new FormatException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out PackageUrl? purl) => TryParse(text, out purl, out _);

    public static bool TryParse(string? text, [NotNullWhen(true)] out PackageUrl? purl, out string? error)
    {
        purl = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text) || !text.StartsWith("pkg:", StringComparison.OrdinalIgnoreCase))
        {
            error = "a package URL starts with 'pkg:'";
            return false;
        }
        var rest = text[4..].TrimStart('/');
        string? subpath = null;
        var hash = rest.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            subpath = string.Join('/', rest[(hash + 1)..].Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString));
            rest = rest[..hash];
        }
        var qualifiers = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var question = rest.IndexOf('?', StringComparison.Ordinal);
        if (question >= 0)
        {
            foreach (var pair in rest[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    error = $"qualifier '{pair}' is not key=value";
                    return false;
                }
                var value = Uri.UnescapeDataString(pair[(eq + 1)..]);
                if (value.Length > 0)
                {
                    qualifiers[pair[..eq].ToLowerInvariant()] = value;
                }
            }
            rest = rest[..question];
        }
        rest = rest.TrimEnd('/');
        var typeEnd = rest.IndexOf('/', StringComparison.Ordinal);
        if (typeEnd <= 0)
        {
            error = "a package URL needs a type and a name (pkg:type/name)";
            return false;
        }
        var type = rest[..typeEnd].ToLowerInvariant();
        var path = rest[(typeEnd + 1)..];
        string? version = null;
        var at = path.LastIndexOf('@');
        var lastSlash = path.LastIndexOf('/');
        if (at > lastSlash && at >= 0)
        {
            version = Uri.UnescapeDataString(path[(at + 1)..]);
            path = path[..at];
        }
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        if (segments.Length == 0 || segments[^1].Length == 0)
        {
            error = "a package URL needs a name";
            return false;
        }
        var ns = segments.Length > 1 ? string.Join('/', segments[..^1]) : null;
        purl = new PackageUrl(type, ns, segments[^1], version, qualifiers.ToImmutable(), subpath);
        return true;
    }

    // Unreserved characters, and ':' which the spec allows unencoded.
    private static readonly SearchValues<char> Unencoded = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:");

    private static string Encode(string segment)
    {
        if (!segment.AsSpan().ContainsAnyExcept(Unencoded))
        {
            return segment;
        }
        // Percent-encode everything except unreserved characters; ':' is kept as the spec allows.
        var sb = new StringBuilder(segment.Length);
        foreach (var b in Encoding.UTF8.GetBytes(segment))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or ':')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }
}
