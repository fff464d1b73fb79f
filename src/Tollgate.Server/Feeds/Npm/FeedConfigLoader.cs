using System.Collections.Immutable;
using System.Globalization;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Policy;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>The outcome of reading <c>feed.yaml</c>: the options (null when the file has errors) and every problem found.</summary>
public sealed record FeedConfigResult(FeedOptions? Options, ImmutableArray<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
}

/// <summary>
/// Reads <c>feed.yaml</c>. Like the policy loader, it reports every problem at once with its line and column and
/// uses nothing from a file with errors. Relative paths are taken from the file's folder.
/// </summary>
public static class FeedConfigLoader
{
    internal static readonly string[] Keys =
        ["listen", "upstream", "storage", "sharedArtifacts", "state", "policy", "db", "dryRun", "forwardedHeaders", "packumentTtl", "packumentStaleWhileRevalidate", "upstreamTimeout", "vulnerabilities", "maxPublishBytes", "maxPackumentBytes", "maxTarballBytes", "auditRetention", "tokens", "responseCacheBytes", "tarballMemoryBytes", "backgroundRevalidations", "npm", "pypi", "nuget"];

    /// <summary>Reads and validates a config file.</summary>
    public static FeedConfigResult Load(string path)
    {
        var bag = new DiagnosticBag();
        var text = InputFile.ReadText(path, bag);
        if (text is null)
        {
            return new FeedConfigResult(null, [.. bag.Items]);
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        return Parse(text, InputFile.DisplayPath(path), folder);
    }

    /// <summary>Validates config text; relative paths resolve against <paramref name="baseFolder"/>.</summary>
    public static FeedConfigResult Parse(string text, string displayPath, string baseFolder)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bag = new DiagnosticBag();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            bag.Error(DiagnosticIds.InvalidYaml, "not valid YAML: " + e.Message,
                new SourceLocation(displayPath, (int)e.Start.Line, (int)e.Start.Column), "check the indentation and quoting");
            return new FeedConfigResult(null, [.. bag.Items]);
        }
        var options = new FeedOptions();
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" or "~" or "null" })
        {
            return new FeedConfigResult(options, []);
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode map)
        {
            Error(bag, displayPath, stream.Documents[0].RootNode, "the feed config must be a mapping of settings", "start with a line such as 'listen: http://127.0.0.1:4873'");
            return new FeedConfigResult(null, [.. bag.Items]);
        }
        foreach (var (keyNode, value) in map.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            switch (key)
            {
                case "listen":
                    if (Url(bag, displayPath, value, key) is { } listen)
                    {
                        options = options with { Listen = listen };
                    }
                    break;
                case "upstream":
                    if (Url(bag, displayPath, value, key) is { } upstream)
                    {
                        options = options with { Upstream = upstream };
                    }
                    break;
                case "storage":
                    options = options with { Storage = PathValue(bag, displayPath, value, key, baseFolder) };
                    break;
                case "policy":
                    options = options with { Policy = PathValue(bag, displayPath, value, key, baseFolder) };
                    break;
                case "state":
                    if (Scalar(bag, displayPath, value, key) is { Length: > 0 } state)
                    {
                        options = options with { State = state };
                    }
                    break;
                case "sharedArtifacts":
                    if (Scalar(bag, displayPath, value, key) is { Length: > 0 } shared)
                    {
                        options = options with { SharedArtifacts = shared };
                    }
                    break;
                case "db":
                    options = options with { Database = PathValue(bag, displayPath, value, key, baseFolder) };
                    break;
                case "dryRun" or "forwardedHeaders":
                    if (Scalar(bag, displayPath, value, key) is { } flag)
                    {
                        if (bool.TryParse(flag, out var b))
                        {
                            options = key == "dryRun" ? options with { DryRun = b } : options with { ForwardedHeaders = b };
                        }
                        else
                        {
                            Error(bag, displayPath, value, $"'{key}' is '{flag}'; expected true or false", null);
                        }
                    }
                    break;
                case "packumentTtl" or "packumentStaleWhileRevalidate" or "upstreamTimeout":
                    if (Scalar(bag, displayPath, value, key) is { } durationText)
                    {
                        if (PolicyDuration.TryParse(durationText, out var duration, out var error))
                        {
                            options = key switch
                            {
                                "packumentTtl" => options with { PackumentTtl = duration },
                                "packumentStaleWhileRevalidate" => options with { PackumentStaleWhileRevalidate = duration },
                                _ => options with { UpstreamTimeout = duration },
                            };
                        }
                        else
                        {
                            Error(bag, displayPath, value, $"'{key}': {error}", "a duration is a number and a unit (s, m, h, d, w), e.g. 30s or 5m, or ISO 8601 such as PT30S"
                                + (key == "packumentStaleWhileRevalidate" ? "; 0 turns it off" : ""));
                        }
                    }
                    break;
                case "auditRetention":
                    if (Scalar(bag, displayPath, value, key) is { } retentionText)
                    {
                        if (PolicyDuration.TryParse(retentionText, out var retention, out var error) && retention > TimeSpan.Zero)
                        {
                            options = options with { AuditRetention = retention };
                        }
                        else
                        {
                            Error(bag, displayPath, value, $"'auditRetention': {error ?? "must be longer than zero"}", "e.g. 90d; leave it out to keep every entry");
                        }
                    }
                    break;
                case "vulnerabilities":
                    switch (Scalar(bag, displayPath, value, key))
                    {
                        case "block": options = options with { Vulnerabilities = VulnerabilityAction.Block }; break;
                        case "warn": options = options with { Vulnerabilities = VulnerabilityAction.Warn }; break;
                        case { } other: Error(bag, displayPath, value, $"'vulnerabilities' is '{other}'; expected block or warn", null); break;
                    }
                    break;
                case "maxPublishBytes" or "maxPackumentBytes" or "maxTarballBytes" or "responseCacheBytes" or "tarballMemoryBytes":
                    if (Scalar(bag, displayPath, value, key) is { } size)
                    {
                        if (long.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && (bytes > 0 || (bytes == 0 && key == "tarballMemoryBytes")))
                        {
                            options = key switch
                            {
                                "maxPublishBytes" => options with { MaxPublishBytes = bytes },
                                "maxPackumentBytes" => options with { MaxPackumentBytes = bytes },
                                "responseCacheBytes" => options with { ResponseCacheBytes = bytes },
                                "tarballMemoryBytes" => options with { TarballMemoryBytes = bytes },
                                _ => options with { MaxTarballBytes = bytes },
                            };
                        }
                        else
                        {
                            Error(bag, displayPath, value, $"'{key}' is '{size}'; expected a positive number of bytes", "e.g. 52428800 for 50 MiB");
                        }
                    }
                    break;
                case "backgroundRevalidations":
                    if (Scalar(bag, displayPath, value, key) is { } countText)
                    {
                        if (int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= 256)
                        {
                            options = options with { BackgroundRevalidations = count };
                        }
                        else
                        {
                            Error(bag, displayPath, value, $"'backgroundRevalidations' is '{countText}'; expected a whole number from 1 to 256", "the default is 4");
                        }
                    }
                    break;
                case "tokens":
                    options = options with { Tokens = Tokens(bag, displayPath, value) };
                    break;
                case "npm":
                    options = options with { Upstream = SectionUpstream(bag, displayPath, value, key) ?? options.Upstream };
                    break;
                case "pypi":
                    options = options with { PyPIUpstream = SectionUpstream(bag, displayPath, value, key) };
                    break;
                case "nuget":
                    options = options with { NuGetUpstream = SectionUpstream(bag, displayPath, value, key) };
                    break;
                default:
                    Error(bag, displayPath, keyNode, $"unknown setting '{key}'",
                        "known settings: " + string.Join(", ", Keys));
                    break;
            }
        }
        var ordered = bag.Items.OrderBy(d => d.Location?.Line ?? 0).ThenBy(d => d.Location?.Column ?? 0).ToImmutableArray();
        return new FeedConfigResult(bag.HasErrors ? null : options, ordered);
    }

    /// <summary>An ecosystem section (<c>pypi: { upstream: URL }</c>): the upstream it names, or null.</summary>
    private static Uri? SectionUpstream(DiagnosticBag bag, string file, YamlNode value, string section)
    {
        if (value is not YamlMappingNode map)
        {
            Error(bag, file, value, $"'{section}' must be a mapping", $"{section}:\n  upstream: https://index.example.com/simple/");
            return null;
        }
        Uri? upstream = null;
        foreach (var (keyNode, v) in map.Children)
        {
            if ((keyNode as YamlScalarNode)?.Value == "upstream")
            {
                upstream = Url(bag, file, v, $"{section}.upstream");
            }
            else
            {
                Error(bag, file, keyNode, $"unknown setting '{section}.{(keyNode as YamlScalarNode)?.Value}'", $"known settings of '{section}': upstream");
            }
        }
        return upstream;
    }

    private static ImmutableArray<FeedToken> Tokens(DiagnosticBag bag, string file, YamlNode value)
    {
        if (value is not YamlSequenceNode list)
        {
            Error(bag, file, value, "'tokens' must be a list of { name, sha256 } entries", "tokens: [ { name: ci, sha256: <64 hex digits> } ]");
            return [];
        }
        var tokens = ImmutableArray.CreateBuilder<FeedToken>();
        foreach (var item in list)
        {
            if (item is not YamlMappingNode entry)
            {
                Error(bag, file, item, "a token entry must be a mapping with 'name' and 'sha256'", null);
                continue;
            }
            string? name = null, hash = null;
            var packages = ImmutableArray<PackagePattern>.Empty;
            foreach (var (k, v) in entry.Children)
            {
                switch ((k as YamlScalarNode)?.Value)
                {
                    case "name": name = Scalar(bag, file, v, "name"); break;
                    case "sha256": hash = Scalar(bag, file, v, "sha256"); break;
                    case "packages": packages = Patterns(bag, file, v); break;
                    case "token" or "secret":
                        Error(bag, file, k, "a token is never written in the config in plain text", "write its SHA-256 instead: printf %s \"$TOKEN\" | sha256sum");
                        break;
                    default: Error(bag, file, k, $"unknown token setting '{(k as YamlScalarNode)?.Value}'", "a token entry has 'name', 'sha256' and optionally 'packages'"); break;
                }
            }
            if (string.IsNullOrWhiteSpace(name))
            {
                Error(bag, file, entry, "a token entry needs a 'name'", null);
            }
            if (hash is null || hash.Length != 64 || !hash.All(char.IsAsciiHexDigit))
            {
                Error(bag, file, entry, "a token entry needs 'sha256': the 64 hex digits of the token's SHA-256", "printf %s \"$TOKEN\" | sha256sum");
            }
            else if (!string.IsNullOrWhiteSpace(name))
            {
                tokens.Add(new FeedToken(name, hash.ToLowerInvariant()) { Packages = packages });
            }
        }
        return tokens.ToImmutable();
    }

    /// <summary>A token's <c>packages</c>: npm package patterns as the policy writes them.</summary>
    private static ImmutableArray<PackagePattern> Patterns(DiagnosticBag bag, string file, YamlNode value)
    {
        if (value is not YamlSequenceNode list || list.Children.Count == 0)
        {
            Error(bag, file, value, "a token's 'packages' must be a non-empty list of package patterns", "packages: [ \"@acme/*\" ] (leave it out to allow every private name)");
            return [];
        }
        var patterns = ImmutableArray.CreateBuilder<PackagePattern>();
        foreach (var item in list)
        {
            var text = (item as YamlScalarNode)?.Value;
            if (!PackagePattern.TryParse(text, out var pattern, out var error))
            {
                Error(bag, file, item, $"'{text}' is not a package pattern: {error}", "e.g. @acme/* or @acme/cli");
            }
            else if (pattern.Ecosystem is { } ecosystem && ecosystem != Ecosystem.Npm)
            {
                Error(bag, file, item, $"'{text}' names a {ecosystem} package; the feed publishes npm packages only", null);
            }
            else
            {
                patterns.Add(pattern with { Location = new SourceLocation(file, (int)item.Start.Line, (int)item.Start.Column) });
            }
        }
        return patterns.ToImmutable();
    }

    private static Uri? Url(DiagnosticBag bag, string file, YamlNode value, string key)
    {
        if (Scalar(bag, file, value, key) is not { } text)
        {
            return null;
        }
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.UserInfo))
        {
            return uri;
        }
        Error(bag, file, value, $"'{key}' is '{text}'; expected an absolute http(s) URL without credentials", "e.g. http://127.0.0.1:4873");
        return null;
    }

    private static string? PathValue(DiagnosticBag bag, string file, YamlNode value, string key, string baseFolder) =>
        Scalar(bag, file, value, key) is { } text ? Path.GetFullPath(Path.Combine(baseFolder, text)) : null;

    private static string? Scalar(DiagnosticBag bag, string file, YamlNode value, string key)
    {
        if (value is YamlScalarNode { Value: { Length: > 0 } text })
        {
            return text;
        }
        Error(bag, file, value, $"'{key}' needs a single value", null);
        return null;
    }

    private static void Error(DiagnosticBag bag, string file, YamlNode node, string message, string? hint) =>
        bag.Error(DiagnosticIds.InvalidEntry, message, new SourceLocation(file, (int)node.Start.Line, (int)node.Start.Column), hint);
}
