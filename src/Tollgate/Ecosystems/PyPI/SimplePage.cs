using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>One file of a project as an index lists it.</summary>
/// <param name="Filename">The distribution's file name.</param>
/// <param name="Url">Where the file is (absolute): upstream, or the feed's own URL when rendered.</param>
/// <param name="Sha256">The lower-case hex sha256 the index declares; null when it declares none.</param>
/// <param name="RequiresPython">PEP 503 <c>data-requires-python</c> / PEP 691 <c>requires-python</c>.</param>
/// <param name="Yanked">PEP 592: null when not yanked, else the reason (possibly empty).</param>
/// <param name="MetadataSha256">PEP 658/714: the sha256 of the core metadata file, null when none is offered with a hash.</param>
/// <param name="UploadTime">PEP 700 <c>upload-time</c>.</param>
/// <param name="Size">PEP 700 <c>size</c>.</param>
/// <param name="Provenance">PEP 740: the URL of the file's provenance document, where the index offers one.</param>
public sealed record SimpleFile(string Filename, Uri Url, string? Sha256, string? RequiresPython, string? Yanked, string? MetadataSha256,
    DateTimeOffset? UploadTime, long? Size, string? Provenance = null);

/// <summary>
/// A project page of the simple repository API (PEP 503 HTML or PEP 691 JSON), read or written: the one reader of
/// index pages, used by <see cref="PyPIIndexClient"/> (and so by <c>update</c>, <c>scan</c> and the feed's upstream
/// side) and the one writer of the pages the feed serves.
/// </summary>
/// <param name="Name">The project's PEP 503 normalised name.</param>
/// <param name="Files">Every file the page lists, with absolute URLs and no hash fragments.</param>
/// <param name="Versions">PEP 700 <c>versions</c> (JSON pages only; empty when the page does not list them).</param>
public sealed partial record SimplePage(string Name, ImmutableArray<SimpleFile> Files, ImmutableArray<string> Versions)
{
    /// <summary>PEP 691's JSON media type (version 1).</summary>
    public const string JsonMediaType = "application/vnd.pypi.simple.v1+json";

    /// <summary>PEP 691's HTML media type (version 1), the PEP 503 page.</summary>
    public const string HtmlMediaType = "application/vnd.pypi.simple.v1+html";

    /// <summary>
    /// What a client asks for: JSON preferred, HTML understood (an index without PEP 691 answers its PEP 503 page,
    /// often as plain <c>text/html</c>).
    /// </summary>
    public const string Accept = JsonMediaType + ", " + HtmlMediaType + "; q=0.2, text/html; q=0.1";

    /// <summary>
    /// Reads a page in the form <paramref name="mediaType"/> names (JSON for <c>+json</c> and <c>application/json</c>,
    /// else HTML); with no media type (a copy from a cache that did not keep it), JSON when the body starts with '{'.
    /// Null when a JSON page is not one. Relative file URLs resolve against <paramref name="pageUrl"/>.
    /// </summary>
    public static SimplePage? Read(byte[] body, string? mediaType, Uri pageUrl, string name)
    {
        ArgumentNullException.ThrowIfNull(body);
        var json = mediaType is { Length: > 0 }
            ? mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase) || string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase)
            : body.AsSpan().TrimStart(" \t\r\n"u8) is [(byte)'{', ..];
        return json ? ParseJson(body, pageUrl, name) : ParseHtml(Encoding.UTF8.GetString(body), pageUrl, name);
    }

    /// <summary>Reads a PEP 691 JSON page; null when it is not one. Relative file URLs resolve against <paramref name="pageUrl"/>.</summary>
    public static SimplePage? ParseJson(byte[] body, Uri pageUrl, string name)
    {
        try
        {
            return ReadJson(JsonNode.Parse(body) as JsonObject, pageUrl, name);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not JSON, or JSON of another shape (an array where an object belongs, a repeated key): not a page.
            return null;
        }
    }

    private static SimplePage? ReadJson(JsonObject? doc, Uri pageUrl, string name)
    {
        if (doc?["files"] is not JsonArray files)
        {
            return null;
        }
        var result = ImmutableArray.CreateBuilder<SimpleFile>();
        foreach (var node in files)
        {
            if (node is not JsonObject file || Text(file["filename"]) is not { } filename || Text(file["url"]) is not { } url
                || !Uri.TryCreate(pageUrl, url, out var absolute))
            {
                continue;
            }
            var yanked = file["yanked"] switch
            {
                JsonValue v when v.GetValueKind() == JsonValueKind.True => "",
                JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                _ => null,
            };
            var metadata = file["core-metadata"] ?? file["data-dist-info-metadata"] ?? file["dist-info-metadata"];
            DateTimeOffset? uploaded = Text(file["upload-time"]) is { } t && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
            long? size = file["size"] is JsonValue s && s.TryGetValue<long>(out var n) ? n : null;
            result.Add(new SimpleFile(filename, StripFragment(absolute), Sha256(Text(file["hashes"]?["sha256"])), Text(file["requires-python"]), yanked,
                Sha256(Text((metadata as JsonObject)?["sha256"])), uploaded, size, Text(file["provenance"]) is { Length: > 0 } p ? p : null));
        }
        var versions = doc["versions"] is JsonArray v1 ? v1.Select(Text).OfType<string>().ToImmutableArray() : [];
        return new SimplePage(name, result.ToImmutable(), versions);
    }

    /// <summary>Reads a PEP 503 HTML page: every anchor is a file, its fragment the hash, its data- attributes the rest.</summary>
    public static SimplePage ParseHtml(string html, Uri pageUrl, string name)
    {
        var files = ImmutableArray.CreateBuilder<SimpleFile>();
        foreach (Match anchor in AnchorPattern().Matches(html))
        {
            var attributes = AttributePattern().Matches(anchor.Groups["attrs"].Value)
                .GroupBy(m => m.Groups["name"].Value.ToLowerInvariant())
                .ToDictionary(g => g.Key, g => WebUtility.HtmlDecode(g.First().Groups["value"].Value), StringComparer.Ordinal);
            if (!attributes.TryGetValue("href", out var href) || !Uri.TryCreate(pageUrl, href, out var url))
            {
                continue;
            }
            var filename = Uri.UnescapeDataString(url.Segments[^1]);
            var fragment = url.Fragment.TrimStart('#');
            var sha256 = fragment.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase) ? Sha256(fragment[7..]) : null;
            var metadata = attributes.GetValueOrDefault("data-core-metadata") ?? attributes.GetValueOrDefault("data-dist-info-metadata");
            var metadataHash = metadata is not null && metadata.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase) ? Sha256(metadata[7..]) : null;
            files.Add(new SimpleFile(filename, StripFragment(url), sha256, attributes.GetValueOrDefault("data-requires-python"),
                attributes.GetValueOrDefault("data-yanked"), metadataHash, null, null,
                attributes.GetValueOrDefault("data-provenance") is { Length: > 0 } provenance ? provenance : null));
        }
        return new SimplePage(name, files.ToImmutable(), []);
    }

    /// <summary>The PEP 691 JSON form (api-version 1.1, with PEP 700 fields).</summary>
    public byte[] ToJson()
    {
        var files = new JsonArray();
        foreach (var f in Files)
        {
            var file = new JsonObject
            {
                ["filename"] = f.Filename,
                ["url"] = f.Url.AbsoluteUri,
                ["hashes"] = f.Sha256 is null ? new JsonObject() : new JsonObject { ["sha256"] = f.Sha256 },
            };
            if (f.RequiresPython is not null)
            {
                file["requires-python"] = f.RequiresPython;
            }
            if (f.MetadataSha256 is not null)
            {
                file["core-metadata"] = new JsonObject { ["sha256"] = f.MetadataSha256 };
                file["data-dist-info-metadata"] = new JsonObject { ["sha256"] = f.MetadataSha256 };
            }
            file["yanked"] = f.Yanked is null ? false : f.Yanked.Length == 0 ? true : f.Yanked;
            if (f.UploadTime is { } at)
            {
                file["upload-time"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
            }
            if (f.Size is { } size)
            {
                file["size"] = size;
            }
            if (f.Provenance is not null)
            {
                file["provenance"] = f.Provenance;
            }
            files.Add((JsonNode)file);
        }
        var doc = new JsonObject
        {
            ["meta"] = new JsonObject { ["api-version"] = "1.1" },
            ["name"] = Name,
            ["versions"] = new JsonArray(Versions.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            ["files"] = files,
        };
        return Encoding.UTF8.GetBytes(doc.ToJsonString());
    }

    /// <summary>The PEP 503 HTML form, with hashes in fragments and PEP 592/658/714 data attributes.</summary>
    public byte[] ToHtml()
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"1.1\">\n<title>Links for ")
            .Append(WebUtility.HtmlEncode(Name)).Append("</title>\n</head>\n<body>\n<h1>Links for ").Append(WebUtility.HtmlEncode(Name)).Append("</h1>\n");
        foreach (var f in Files)
        {
            var href = f.Url.AbsoluteUri + (f.Sha256 is null ? "" : "#sha256=" + f.Sha256);
            html.Append("<a href=\"").Append(WebUtility.HtmlEncode(href)).Append('"');
            if (f.RequiresPython is not null)
            {
                html.Append(" data-requires-python=\"").Append(WebUtility.HtmlEncode(f.RequiresPython)).Append('"');
            }
            if (f.Yanked is not null)
            {
                html.Append(" data-yanked=\"").Append(WebUtility.HtmlEncode(f.Yanked)).Append('"');
            }
            if (f.MetadataSha256 is not null)
            {
                html.Append(" data-dist-info-metadata=\"sha256=").Append(f.MetadataSha256).Append("\" data-core-metadata=\"sha256=").Append(f.MetadataSha256).Append('"');
            }
            if (f.Provenance is not null)
            {
                html.Append(" data-provenance=\"").Append(WebUtility.HtmlEncode(f.Provenance)).Append('"');
            }
            html.Append('>').Append(WebUtility.HtmlEncode(f.Filename)).Append("</a><br/>\n");
        }
        html.Append("</body>\n</html>\n");
        return Encoding.UTF8.GetBytes(html.ToString());
    }

    /// <summary>The PEP 503 root page listing <paramref name="projects"/> (links relative to <c>/simple/</c>).</summary>
    public static byte[] RootHtml(IEnumerable<string> projects)
    {
        var html = new StringBuilder("<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"1.1\">\n<title>Simple index</title>\n</head>\n<body>\n");
        foreach (var p in projects)
        {
            html.Append("<a href=\"").Append(WebUtility.HtmlEncode(p)).Append("/\">").Append(WebUtility.HtmlEncode(p)).Append("</a><br/>\n");
        }
        return Encoding.UTF8.GetBytes(html.Append("</body>\n</html>\n").ToString());
    }

    /// <summary>The PEP 691 JSON root page.</summary>
    public static byte[] RootJson(IEnumerable<string> projects) => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["meta"] = new JsonObject { ["api-version"] = "1.1" },
        ["projects"] = new JsonArray(projects.Select(p => (JsonNode)new JsonObject { ["name"] = p }).ToArray()),
    }.ToJsonString());

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string? Sha256(string? hex) =>
        hex is { Length: 64 } && hex.All(char.IsAsciiHexDigit) ? hex.ToLowerInvariant() : null;

    private static Uri StripFragment(Uri url) => url.Fragment.Length == 0 ? url : new Uri(url.GetLeftPart(UriPartial.Query));

    [GeneratedRegex("<a\\s(?<attrs>[^>]*)>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AnchorPattern();

    [GeneratedRegex("(?<name>[a-zA-Z-]+)\\s*=\\s*\"(?<value>[^\"]*)\"", RegexOptions.CultureInvariant)]
    private static partial Regex AttributePattern();
}
