using System.Globalization;
using System.IO.Compression;
using System.Text.Json;

namespace Tollgate.Bench;

/// <summary>
/// Writes a synthetic OSV corpus shaped like the published one: one <c>all.zip</c> per ecosystem (npm, PyPI,
/// NuGet) of indented records with GHSA-, MAL- and PYSEC-style fields (aliases, CVSS vectors, ranges, version
/// lists, references, credits, database_specific). Deterministic for a given seed. Some npm records name the
/// packages of a real lockfile with ranges around their versions, so a scan finds something.
/// </summary>
internal static class OsvCorpus
{
    private static readonly string[] Words =
    [
        "parse", "json", "http", "client", "server", "stream", "util", "core", "cli", "config", "router", "auth", "token",
        "crypto", "cache", "queue", "react", "vue", "plugin", "loader", "babel", "eslint", "webpack", "mcp", "agent",
        "tool", "data", "file", "path", "glob", "yaml", "xml", "image", "pdf", "sql", "orm", "db", "redis", "mongo", "s3",
    ];

    private static readonly string[] Metrics = ["AV:N", "AV:A", "AV:L", "AV:P"];

    public sealed record Counts(int Npm, int PyPI, int NuGet)
    {
        public int Total => Npm + PyPI + NuGet;
    }

    /// <summary>Writes npm/all.zip, PyPI/all.zip and NuGet/all.zip under <paramref name="folder"/>; returns the archives.</summary>
    public static IReadOnlyList<string> Write(string folder, Counts counts, IReadOnlyList<(string Name, string Version)> knownPackages, int seed = 42)
    {
        var random = new Random(seed);
        var archives = new List<string>();
        foreach (var (ecosystem, count) in new[] { ("npm", counts.Npm), ("PyPI", counts.PyPI), ("NuGet", counts.NuGet) })
        {
            var dir = Directory.CreateDirectory(Path.Combine(folder, ecosystem)).FullName;
            var path = Path.Combine(dir, "all.zip");
            using (var file = File.Create(path))
            using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
            {
                for (var i = 0; i < count; i++)
                {
                    var (id, json) = Record(random, ecosystem, i, knownPackages);
                    var entry = zip.CreateEntry(id + ".json", CompressionLevel.Fastest);
                    using var stream = entry.Open();
                    stream.Write(json);
                }
            }
            archives.Add(path);
        }
        return archives;
    }

    private static (string Id, byte[] Json) Record(Random r, string ecosystem, int index, IReadOnlyList<(string Name, string Version)> known)
    {
        // npm's published archive is mostly malicious-package reports; PyPI's and NuGet's mostly vulnerabilities.
        var malicious = ecosystem switch { "npm" => r.NextDouble() < 0.6, "PyPI" => r.NextDouble() < 0.3, _ => r.NextDouble() < 0.2 };
        // Ids are unique across the archives, as OSV's are (an advisory of several ecosystems is not modelled).
        var serial = ecosystem switch { "npm" => index, "PyPI" => 10_000_000 + index, _ => 20_000_000 + index };
        var id = malicious ? $"MAL-{2022 + (index % 4)}-{serial}"
            : ecosystem == "PyPI" && r.NextDouble() < 0.4 ? $"PYSEC-{2015 + (index % 10)}-{serial}"
            : $"GHSA-{Chunk(r)}-{Chunk(r)}-{Chunk(r)}";
        var buffer = new MemoryStream(4096);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            var modified = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(r.Next(0, 180_000_000));
            w.WriteStartObject();
            w.WriteString("schema_version", malicious ? "1.7.4" : "1.6.0");
            w.WriteString("id", id);
            w.WriteString("modified", modified.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            w.WriteString("published", modified.AddDays(-r.Next(0, 900)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            if (!malicious)
            {
                w.WriteStartArray("aliases");
                w.WriteStringValue($"CVE-{2015 + r.Next(11)}-{r.Next(1000, 60000)}");
                if (id.StartsWith("PYSEC", StringComparison.Ordinal))
                {
                    w.WriteStringValue($"GHSA-{Chunk(r)}-{Chunk(r)}-{Chunk(r)}");
                }
                w.WriteEndArray();
            }
            (string Name, string? Version) package = ecosystem == "npm" && !malicious && known.Count > 0 && r.NextDouble() < 0.01
                ? known[r.Next(known.Count)]
                : (PackageName(r, ecosystem), null);
            w.WriteString("summary", malicious ? $"Malicious code in {package.Name} ({ecosystem})" : $"{Pick(r, ["Prototype pollution", "Regular expression denial of service", "Path traversal", "Cross-site scripting", "Command injection", "Server-side request forgery"])} in {package.Name}");
            w.WriteString("details", malicious
                ? "\n---\n_-= Per source details. Do not edit below this line.=-_\n\n## Source: ossf-package-analysis\nThe package executes code at install time that sends host information to a remote server."
                : Details(r));
            if (!malicious)
            {
                w.WriteStartArray("severity");
                w.WriteStartObject();
                if (r.NextDouble() < 0.2)
                {
                    w.WriteString("type", "CVSS_V4");
                    w.WriteString("score", $"CVSS:4.0/{Pick(r, Metrics)}/AC:L/AT:N/PR:{Pick(r, ["N", "L", "H"])}/UI:N/VC:H/VI:{Pick(r, ["N", "L", "H"])}/VA:N/SC:N/SI:N/SA:N");
                }
                else
                {
                    w.WriteString("type", "CVSS_V3");
                    w.WriteString("score", $"CVSS:3.1/{Pick(r, Metrics)}/AC:{Pick(r, ["L", "H"])}/PR:{Pick(r, ["N", "L", "H"])}/UI:{Pick(r, ["N", "R"])}/S:{Pick(r, ["U", "C"])}/C:{Pick(r, ["N", "L", "H"])}/I:{Pick(r, ["N", "L", "H"])}/A:{Pick(r, ["N", "L", "H"])}");
                }
                w.WriteEndObject();
                w.WriteEndArray();
            }
            w.WriteStartArray("affected");
            var affectedCount = malicious ? 1 : 1 + (r.NextDouble() < 0.2 ? r.Next(1, 3) : 0);
            for (var a = 0; a < affectedCount; a++)
            {
                var name = a == 0 ? package.Name : PackageName(r, ecosystem);
                w.WriteStartObject();
                w.WriteStartObject("package");
                w.WriteString("ecosystem", ecosystem);
                w.WriteString("name", name);
                w.WriteString("purl", $"pkg:{ecosystem.ToLowerInvariant()}/{name}");
                w.WriteEndObject();
                if (malicious)
                {
                    if (r.NextDouble() < 0.5)
                    {
                        WriteRange(w, "SEMVER", "0", null);
                    }
                    else
                    {
                        w.WriteStartArray("versions");
                        for (var v = 0; v < r.Next(1, 4); v++)
                        {
                            w.WriteStringValue($"{r.Next(0, 3)}.{r.Next(0, 10)}.{r.Next(0, 20)}");
                        }
                        w.WriteEndArray();
                    }
                }
                else
                {
                    var (introduced, fix) = a == 0 && package.Version is { } known1 ? Around(r, known1) : ($"{r.Next(0, 3)}.{r.Next(0, 10)}.0", $"{r.Next(3, 9)}.{r.Next(0, 20)}.{r.Next(0, 30)}");
                    var lastAffected = r.NextDouble() < 0.1;
                    WriteRange(w, ecosystem == "npm" ? "SEMVER" : "ECOSYSTEM", introduced, lastAffected ? null : fix, lastAffected ? fix : null);
                    if (ecosystem == "PyPI")
                    {
                        w.WriteStartArray("versions");
                        for (var v = 0; v < r.Next(2, 25); v++)
                        {
                            w.WriteStringValue($"{r.Next(0, 3)}.{v}.{r.Next(0, 5)}");
                        }
                        w.WriteEndArray();
                    }
                    if (r.NextDouble() < 0.5)
                    {
                        w.WriteStartObject("database_specific");
                        w.WriteString("last_known_affected_version_range", $"< {fix}");
                        w.WriteEndObject();
                    }
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("references");
            for (var i = 0; i < (malicious ? 0 : r.Next(2, 10)); i++)
            {
                w.WriteStartObject();
                w.WriteString("type", Pick(r, ["ADVISORY", "WEB", "PACKAGE", "FIX", "REPORT"]));
                w.WriteString("url", $"https://example.invalid/{package.Name}/advisories/{r.Next():x}");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (malicious)
            {
                w.WriteStartArray("credits");
                w.WriteStartObject();
                w.WriteString("name", Pick(r, ["OpenSSF: Package Analysis", "ReversingLabs", "Amazon Inspector"]));
                w.WriteString("type", "FINDER");
                w.WriteStartArray("contact");
                w.WriteStringValue("https://example.invalid/contact");
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteStartObject("database_specific");
                w.WriteStartArray("malicious-packages-origins");
                w.WriteStartObject();
                w.WriteString("source", "ossf-package-analysis");
                var hash = new byte[32];
                r.NextBytes(hash);
                w.WriteString("sha256", Convert.ToHexStringLower(hash));
                w.WriteString("import_time", modified.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }
            else
            {
                w.WriteStartObject("database_specific");
                w.WriteStartArray("cwe_ids");
                w.WriteStringValue($"CWE-{r.Next(20, 1400)}");
                w.WriteEndArray();
                w.WriteString("severity", Pick(r, ["LOW", "MODERATE", "HIGH", "CRITICAL"]));
                w.WriteBoolean("github_reviewed", true);
                w.WriteString("github_reviewed_at", modified.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
                w.WriteNull("nvd_published_at");
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return (id, buffer.ToArray());
    }

    private static void WriteRange(Utf8JsonWriter w, string type, string introduced, string? fix, string? lastAffected = null)
    {
        w.WriteStartArray("ranges");
        w.WriteStartObject();
        w.WriteString("type", type);
        w.WriteStartArray("events");
        w.WriteStartObject();
        w.WriteString("introduced", introduced);
        w.WriteEndObject();
        if (fix is not null)
        {
            w.WriteStartObject();
            w.WriteString("fixed", fix);
            w.WriteEndObject();
        }
        if (lastAffected is not null)
        {
            w.WriteStartObject();
            w.WriteString("last_affected", lastAffected);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    /// <summary>A range that contains the known version about half the time.</summary>
    private static (string Introduced, string Fixed) Around(Random r, string version)
    {
        var parts = version.Split('.', '-', '+');
        var major = int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 1;
        return r.NextDouble() < 0.5 ? ("0", $"{major + 1}.0.0") : ("0", $"{Math.Max(0, major - 1)}.0.1");
    }

    private static string Details(Random r)
    {
        var sentences = r.Next(2, 12);
        var parts = new List<string>(sentences);
        for (var i = 0; i < sentences; i++)
        {
            parts.Add($"Affected versions of this package are vulnerable to {Pick(r, Words)} {Pick(r, Words)} handling that lets an attacker {Pick(r, ["read files", "run commands", "exhaust memory", "bypass checks", "inject markup"])} via crafted {Pick(r, Words)} input.");
        }
        return string.Join(' ', parts);
    }

    private static string PackageName(Random r, string ecosystem) => ecosystem switch
    {
        "npm" => (r.NextDouble() < 0.2 ? $"@{Pick(r, Words)}{r.Next(100)}/" : "") + $"{Pick(r, Words)}-{Pick(r, Words)}-{r.Next(100_000)}",
        "PyPI" => $"{Pick(r, Words)}_{Pick(r, Words)}{r.Next(10_000)}",
        _ => $"{Cap(Pick(r, Words))}.{Cap(Pick(r, Words))}{r.Next(10_000)}",
    };

    private static string Cap(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    private static string Pick(Random r, string[] values) => values[r.Next(values.Length)];

    private static string Chunk(Random r)
    {
        const string alphabet = "23456789cfghjmpqrvwx";
        Span<char> c = stackalloc char[4];
        for (var i = 0; i < 4; i++)
        {
            c[i] = alphabet[r.Next(alphabet.Length)];
        }
        return new string(c);
    }
}
