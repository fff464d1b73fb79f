using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tollgate.Advisories;
using Tollgate.Bench;
using Tollgate.Inputs;
using JsonNode = System.Text.Json.Nodes.JsonNode;
using Xunit.Abstractions;

namespace Tollgate.Tests.Advisories;

/// <summary>
/// The import's fast reader (<see cref="OsvRowReader"/>) against the full one (<see cref="OsvReader"/> then
/// <see cref="AdvisoryRow.Create(Advisory, byte[])"/>): for every record, the fast reader either declines it, or the
/// full reader reads it without a diagnostic and gives the same status and a byte-identical row. Run over the real OSV
/// records of the test data, the synthetic corpus of the import benchmark, and seeded mutations of real records.
/// </summary>
public sealed class OsvRowReaderDifferentialTests(ITestOutputHelper output)
{
    private const int Mutants = 4000;
    private const int Seed = 20_261_205;
    private static readonly byte[] Raw = [1, 2, 3];

    private sealed record Outcome(bool Accepted, bool FullRead);

    [Fact]
    public void TryRead_RealRecords_AcceptsEachAsTheFullReaderReadsIt()
    {
        var reader = new OsvRowReader();
        var records = RealRecords().ToList();

        var outcomes = records.Select(r => Compare(reader, r.Json, r.Name)).ToList();

        // Every well-formed real record takes the fast path (else the import gains nothing); the malformed ones do not.
        var missed = records.Zip(outcomes).Where(p => p.Second.FullRead && !p.Second.Accepted).Select(p => p.First.Name).ToList();
        Assert.True(missed.Count == 0, "declined though the full reader reads them: " + string.Join(", ", missed));
        Assert.True(records.Count > 2670, $"only {records.Count} real records found");
        Assert.Contains(outcomes, o => !o.FullRead);
        output.WriteLine($"{records.Count} real records, {outcomes.Count(o => o.Accepted)} read by the fast reader");
    }

    [Fact]
    public void TryRead_SyntheticCorpus_AcceptsEachAsTheFullReaderReadsIt()
    {
        using var temp = new TempFolder();
        var archives = OsvCorpus.Write(temp.Path, new OsvCorpus.Counts(1500, 800, 700), [("minimist", "1.2.5"), ("lodash", "4.17.20")], seed: 7);
        var reader = new OsvRowReader();
        var count = 0;

        foreach (var (name, json) in archives.SelectMany(ArchiveRecords))
        {
            var outcome = Compare(reader, json, name);
            Assert.True(outcome.Accepted && outcome.FullRead, $"{name}: declined or not read");
            count++;
        }

        Assert.Equal(3000, count);
    }

    [Fact]
    public void TryRead_MutatedRealRecords_DeclinesOrAgreesWithTheFullReader()
    {
        var originals = SeedRecords();
        var reader = new OsvRowReader();
        int accepted = 0, fullRead = 0, acceptedChanged = 0;

        for (var index = 0; index < Mutants; index++)
        {
            var random = new Random(Seed + index);
            var (name, json) = originals[random.Next(originals.Count)];
            var (mutant, mutations) = Mutate(random, json);

            var outcome = Compare(reader, mutant, $"{name} #{index} [{mutations}]");

            accepted += outcome.Accepted ? 1 : 0;
            fullRead += outcome.FullRead ? 1 : 0;
            acceptedChanged += outcome.Accepted && !mutant.AsSpan().SequenceEqual(json) ? 1 : 0;
        }

        output.WriteLine($"{Mutants} mutants (seed {Seed}): the full reader read {fullRead}, the fast reader {accepted}");
        // Not vacuous: many mutants are read by both, and many are declined.
        Assert.InRange(accepted, Mutants / 5, Mutants * 4 / 5);
        Assert.True(acceptedChanged > Mutants / 10, $"only {acceptedChanged} changed records read by the fast reader");
    }

    [Theory]
    [InlineData("""{"cwe_ids":["cwe-506"]}""", "malicious")]
    [InlineData("""{"cwe_ids":[1,"CWE-79",{"a":"CWE-506"},"CWE-506"]}""", "malicious")]
    [InlineData("""{"cwe_ids":"CWE-506"}""", "vulnerability")]
    [InlineData("""{"type":"MalWare"}""", "malicious")]
    [InlineData("""{"type":"malware "}""", "vulnerability")]
    [InlineData("""{"type":"m\u0061lware"}""", "malicious")]
    [InlineData("""{"malware":true}""", "malicious")]
    [InlineData("""{"malware":"true"}""", "vulnerability")]
    [InlineData("""{"Malware":true,"TYPE":"malware"}""", "vulnerability")]
    [InlineData("null", "vulnerability")]
    public void TryRead_MalwareMarkers_KindAsTheFullReader(string databaseSpecific, string kind)
    {
        var json = Encoding.UTF8.GetBytes($$$"""
            {"id":" GHSA-aaaa-bbbb-cccc ","modified":"2024-01-01T00:00:00.123456789Z","withdrawn":"2024-02-01T01:00:00+01:00",
             "aliases":["CVE-1","CVE-1",
             "CVE-2"],"database_specific":{{{databaseSpecific}}},
             "affected":[{"package":{"ecosystem":"PyPI","name":" Foo_Bar.baz "},"versions":["1.0.0"]},{"package":{"ecosystem":"Py\u0050I","name":"foo-bar-baz"}},
                         {"package":{"ecosystem":"npm","name":"Evil"}},{"package":{"ecosystem":"Go","name":" "}}]}
            """);
        var reader = new OsvRowReader();

        var outcome = Compare(reader, json, databaseSpecific);

        Assert.True(outcome.Accepted);
        var row = reader.Row(Raw);
        Assert.Equal(kind, Encoding.UTF8.GetString(row.KindUtf8));
        Assert.Equal("GHSA-aaaa-bbbb-cccc", row.Id);
        Assert.Equal(["pypi foo-bar-baz", "npm evil"], row.Affected.Select(a => $"{Encoding.UTF8.GetString(a.Ecosystem).ToLowerInvariant()} {Encoding.UTF8.GetString(a.Name)}"));
        Assert.Equal(["CVE-1", "CVE-2"], row.Aliases.Select(a => Encoding.UTF8.GetString(a)));
    }

    [Theory]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","summary":1,"affected":[]}""")]
    [InlineData("""{"id":"X","modified":"yesterday","affected":[]}""")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"type":"CALVER","events":[{"introduced":"0"}]}]}]}""")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"type":"GIT","events":[{"introduced":"0","fixed":"1"}]}]}]}""")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","severity":[{"type":"CVSS_V3"}],"affected":[]}""")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","database_specific":[],"affected":[]}""")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","details":"\ud800","affected":[]}""")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[],}""")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[]} x""")]
    [InlineData("""{"id":"  ","modified":"2024-01-01T00:00:00Z","affected":[]}""")]
    [InlineData("""{"\u0069d":"X","modified":"2024-01-01T00:00:00Z","related":"GHSA-x","affected":[]}""")]
    public void TryRead_WhatTheFullReaderRejects_Declines(string json)
    {
        var outcome = Compare(new OsvRowReader(), Encoding.UTF8.GetBytes(json), json);

        Assert.False(outcome.FullRead);
        Assert.False(outcome.Accepted);
    }

    [Theory]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","aliases":["a",null],"affected":[{"package":{"ecosystem":"npm","name":"a"}}]}""")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","id":"Y","affected":[{"package":{"ecosystem":"npm","name":"a"}}]}""")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"}}],"database_specific":{"type":"x","type":"malware"}}""")]
    [InlineData("""{"id":"X","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"}}],"references":[null]}""")]
    public void TryRead_WhatItIsNotSureOf_DeclinesAndTheFullReaderReads(string json)
    {
        var outcome = Compare(new OsvRowReader(), Encoding.UTF8.GetBytes(json), json);

        Assert.True(outcome.FullRead);
        Assert.False(outcome.Accepted);
    }

    [Fact]
    public void TryRead_InvalidUtf8InSummary_DeclinesAsTheFullReaderRejects()
    {
        var json = Encoding.UTF8.GetBytes("""{"id":"X","modified":"2024-01-01T00:00:00Z","summary":"a#b","affected":[{"package":{"ecosystem":"npm","name":"a"}}]}""");
        json[Array.IndexOf(json, (byte)'#')] = 0xFF;

        var outcome = Compare(new OsvRowReader(), json, "invalid UTF-8");

        Assert.False(outcome.FullRead);
        Assert.False(outcome.Accepted);
    }

    /// <summary>Runs both readers over a record and asserts that the fast one declined or agrees with the full one.</summary>
    private static Outcome Compare(OsvRowReader reader, byte[] json, string name)
    {
        var accepted = reader.TryRead(json, out var status);
        var diagnostics = new DiagnosticBag();
        // The full reader never throws: a record it cannot read gets a diagnostic.
        var full = OsvReader.Read(json, name, diagnostics);
        var fullRead = full.Status != OsvReadStatus.Rejected;
        Assert.True(fullRead == (diagnostics.Items.Count == 0), $"{name}: {full.Status} with {diagnostics.Items.Count} diagnostic(s)");
        if (accepted)
        {
            Assert.True(fullRead, $"{name}: the fast reader read a record the full reader rejects: {string.Join("; ", diagnostics.Items)}");
            Assert.True(full.Status == status, $"{name}: status {status}, the full reader's {full.Status}");
            if (status == OsvReadStatus.Read)
            {
                Assert.Equal(Describe(AdvisoryRow.Create(full.Advisory!, Raw)), Describe(reader.Row(Raw)));
            }
        }
        return new Outcome(accepted, fullRead);
    }

    /// <summary>Every stored column of a row, byte for byte.</summary>
    private static string Describe(AdvisoryRow row) => string.Join("\n",
        $"id {row.Id} {Convert.ToHexString(row.IdUtf8)}",
        $"modified {row.Modified} {Convert.ToHexString(row.ModifiedUtf8)}",
        $"withdrawn {(row.WithdrawnUtf8 is null ? "null" : Convert.ToHexString(row.WithdrawnUtf8))}",
        $"kind {Convert.ToHexString(row.KindUtf8)}",
        $"raw {Convert.ToHexString(row.Raw)}",
        $"affected {string.Join(" ", row.Affected.Select(a => Convert.ToHexString(a.Ecosystem) + "/" + Convert.ToHexString(a.Name)))}",
        $"aliases {string.Join(" ", row.Aliases.Select(Convert.ToHexString))}");

    /// <summary>The real OSV records of the test data: the PyPA archive, the GitHub and malicious records, the malformed ones.</summary>
    private static IEnumerable<(string Name, byte[] Json)> RealRecords() =>
        ArchiveRecords(OsvTestData.PyPIArchive())
            .Concat(OsvTestData.GitHubAndMaliciousFiles().Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))))
            .Concat(Directory.GetFiles(TestData.Path("osv", "malformed"), "*.json").Order(StringComparer.Ordinal).Select(f => ("malformed/" + Path.GetFileName(f), File.ReadAllBytes(f))));

    private static IEnumerable<(string Name, byte[] Json)> ArchiveRecords(string archive)
    {
        using var zip = ZipFile.OpenRead(archive);
        foreach (var entry in zip.Entries.Where(e => e.Name.EndsWith(".json", StringComparison.Ordinal)))
        {
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            yield return (entry.FullName, buffer.ToArray());
        }
    }

    /// <summary>Records to mutate: every GitHub and malicious record, every 50th PyPA record, and a few synthetic ones of each ecosystem.</summary>
    private static List<(string Name, byte[] Json)> SeedRecords()
    {
        var records = OsvTestData.GitHubAndMaliciousFiles().Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
        records.AddRange(ArchiveRecords(OsvTestData.PyPIArchive()).Where((_, i) => i % 50 == 0));
        using var temp = new TempFolder();
        records.AddRange(OsvCorpus.Write(temp.Path, new OsvCorpus.Counts(20, 10, 10), [], seed: 11).SelectMany(ArchiveRecords));
        return records;
    }

    // ---- mutations ----

    private static readonly string[] TimestampForms =
    [
        "2024-01-01T00:00:00Z", "2024-01-01", "2024-01-01T00:00:00+02:00", "2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00.1234567Z",
        "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", " 2024-01-01T00:00:00Z ", "2024-01-01 00:00:00", "20240101T000000Z",
        "2024-01-01T24:00:00Z", "2024-01-01T00:00:60Z", "2024-01-01T00:00:00z", "2024-01-01T00:00:00.Z", "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.9999999Z", "01/02/2024", "2024-1-1T0:0:0Z", "",
    ];

    private static readonly string[] KnownNames =
    [
        "id", "modified", "published", "withdrawn", "aliases", "related", "upstream", "summary", "details", "severity", "affected",
        "references", "credits", "database_specific", "schema_version", "package", "ecosystem", "name", "purl", "ranges", "versions",
        "ecosystem_specific", "type", "repo", "events", "introduced", "fixed", "last_affected", "limit", "url", "contact", "score",
        "cwe_ids", "malware", "ID", "Id", "$id", "$type", "unknown",
    ];

    private static readonly string[] Strings =
    [
        "", " ", "npm", "PyPI", "NuGet", "Go", "npm:x", " npm", "SEMVER", "ECOSYSTEM", "GIT", "CALVER", "semver", "MAL-2024-1", " MAL-1 ",
        "malware", "MALWARE", "CWE-506", "cwe-506", "CWE-79", "CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "1.0.0", "0",
        "Foo_Bar", "@Scope/Name", "Ünïcödé", "\u0000", "a\nb", "\ud83d\ude00",
    ];

    /// <summary>Values a mutation puts in place of another: of every JSON type, nested, deep, with markers and timestamps.</summary>
    private static JsonNode? RandomValue(Random r)
    {
        switch (r.Next(14))
        {
            case 0: return null;
            case 1: return JsonValue.Create(r.Next(3) - 1);
            case 2: return JsonValue.Create(r.Next(2) == 0);
            case 3:
            case 4: return JsonValue.Create(Strings[r.Next(Strings.Length)]);
            case 5: return JsonValue.Create(TimestampForms[r.Next(TimestampForms.Length)]);
            case 6: return new JsonArray();
            case 7: return new JsonObject();
            case 8: return new JsonArray(JsonValue.Create(Strings[r.Next(Strings.Length)]), null);
            case 9: return new JsonArray(JsonValue.Create(Strings[r.Next(Strings.Length)]), JsonValue.Create(Strings[r.Next(Strings.Length)]));
            case 10:
                return r.Next(4) switch
                {
                    0 => new JsonObject { ["type"] = "MALWARE" },
                    1 => new JsonObject { ["malware"] = true },
                    2 => new JsonObject { ["cwe_ids"] = new JsonArray("CWE-79", "cwe-506") },
                    _ => new JsonObject { ["malware"] = "true", ["type"] = 1 },
                };
            case 11:
                return r.Next(3) switch
                {
                    0 => new JsonObject { ["introduced"] = "0" },
                    1 => new JsonObject { ["introduced"] = "1.0.0", ["fixed"] = null },
                    _ => new JsonObject { ["introduced"] = "1.0.0", ["fixed"] = "2.0.0" },
                };
            case 12:
                // Deep nesting, around the depth limit of 64.
                JsonNode deep = JsonValue.Create(1);
                for (var i = 0; i < 55 + r.Next(15); i++)
                {
                    deep = r.Next(2) == 0 ? new JsonArray(deep) : new JsonObject { ["a"] = deep };
                }
                return deep;
            default:
                return new JsonObject { ["ecosystem"] = Strings[r.Next(5)], ["name"] = Strings[r.Next(Strings.Length)] };
        }
    }

    /// <summary>A record changed by one to three mutations, in its tree or in its bytes, and what was done.</summary>
    private static (byte[] Json, string Mutations) Mutate(Random r, byte[] original)
    {
        var done = new List<string>();
        var root = JsonNode.Parse(original.AsSpan().StartsWith("\uFEFF"u8) ? original[3..] : original)!;
        var count = 1 + r.Next(3);
        for (var i = 0; i < count; i++)
        {
            done.Add(MutateTree(r, root));
        }
        var options = new JsonSerializerOptions { MaxDepth = 256, WriteIndented = r.Next(2) == 0, Encoder = r.Next(2) == 0 ? JavaScriptEncoder.UnsafeRelaxedJsonEscaping : JavaScriptEncoder.Default };
        var bytes = Encoding.UTF8.GetBytes(root.ToJsonString(options));
        if (r.Next(3) == 0)
        {
            (bytes, var what) = MutateBytes(r, bytes);
            done.Add(what);
        }
        return (bytes, string.Join(", ", done));
    }

    private static string MutateTree(Random r, JsonNode root)
    {
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        var node = nodes[r.Next(nodes.Count)];
        switch (node, r.Next(7))
        {
            case (JsonObject o, 0) when o.Count > 0:
            {
                var key = o.ElementAt(r.Next(o.Count)).Key;
                o.Remove(key);
                return $"removed {key}";
            }
            case (JsonObject o, 1 or 2):
            {
                var key = KnownNames[r.Next(KnownNames.Length)];
                o[key] = RandomValue(r);
                return $"set {key}";
            }
            case (JsonObject o, 3) when o.Count > 0:
            {
                // A known member's value replaced by a timestamp form or another value of its kind.
                var key = o.ElementAt(r.Next(o.Count)).Key;
                o[key] = key is "modified" or "published" or "withdrawn" ? TimestampForms[r.Next(TimestampForms.Length)] : RandomValue(r);
                return $"changed {key}";
            }
            case (JsonArray a, 0 or 1 or 2):
                a.Insert(r.Next(a.Count + 1), RandomValue(r));
                return "inserted into an array";
            case (JsonArray a, 3) when a.Count > 0:
                a.RemoveAt(r.Next(a.Count));
                return "removed from an array";
            case (_, 4 or 5) when node.Parent is JsonObject parent:
            {
                var key = node.GetPropertyName();
                parent[key] = RandomValue(r);
                return $"replaced {key}";
            }
            default:
            {
                var ds = root["database_specific"] as JsonObject ?? [];
                root["database_specific"] = ds;
                var marker = RandomValue(r) is JsonObject { Count: > 0 } m ? m : new JsonObject { ["type"] = "Malware" };
                foreach (var (key, value) in marker.ToList())
                {
                    ds[key] = value?.DeepClone();
                }
                return "malware marker";
            }
        }
    }

    private static void Collect(JsonNode node, List<JsonNode> into)
    {
        into.Add(node);
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children)
        {
            if (child is not null)
            {
                Collect(child, into);
            }
        }
    }

    private static readonly byte[][] NotUtf8 = [[0xFF], [0xC0, 0xAF], [0x80], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]];

    private static readonly string[] Escapes = ["\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u0041", "\\x", "\\u12", "\\u0000", "\\\"", "\\/", "\\n"];

    /// <summary>A change to the bytes the tree cannot express: invalid UTF-8, escapes, a BOM, duplicate members, comments, trailing commas.</summary>
    private static (byte[] Json, string What) MutateBytes(Random r, byte[] json)
    {
        var text = json.ToList();
        // A position inside a string most of the time: just after a letter.
        var letters = Enumerable.Range(0, json.Length).Where(i => char.IsAsciiLetter((char)json[i])).ToList();
        var at = letters.Count > 0 ? letters[r.Next(letters.Count)] + 1 : json.Length / 2;
        switch (r.Next(9))
        {
            case 0:
                text.InsertRange(at, NotUtf8[r.Next(NotUtf8.Length)]);
                return ([.. text], "invalid UTF-8");
            case 1:
                text.InsertRange(at, Encoding.ASCII.GetBytes(Escapes[r.Next(Escapes.Length)]));
                return ([.. text], "escape");
            case 2:
            {
                byte[] bom = [0xEF, 0xBB, 0xBF];
                return (r.Next(4) == 0 ? [.. bom, .. bom, .. json] : [.. bom, .. json], "BOM");
            }
            case 3:
            {
                // A member repeated (or added) at the start of a random object.
                var opens = Enumerable.Range(0, json.Length).Where(i => json[i] == '{').ToList();
                var open = opens[r.Next(opens.Count)];
                var key = KnownNames[r.Next(KnownNames.Length)];
                var value = RandomValue(r)?.ToJsonString() ?? "null";
                var nextIsMember = json.AsSpan(open + 1).TrimStart(" \r\n\t"u8) is [(byte)'"', ..];
                text.InsertRange(open + 1, Encoding.UTF8.GetBytes($"\"{key}\":{value}{(nextIsMember ? "," : "")}"));
                return ([.. text], $"duplicate {key}");
            }
            case 4:
            {
                // A member name spelled with an escape.
                var name = Encoding.UTF8.GetBytes("\"" + KnownNames[r.Next(15)] + "\"");
                var index = json.AsSpan().IndexOf(name);
                if (index < 0)
                {
                    return (json, "nothing");
                }
                text.RemoveRange(index + 1, 1);
                text.InsertRange(index + 1, Encoding.ASCII.GetBytes($"\\u{name[1]:x4}"));
                return ([.. text], "escaped name");
            }
            case 5:
            {
                var closes = Enumerable.Range(0, json.Length).Where(i => json[i] is (byte)']' or (byte)'}').ToList();
                text.Insert(closes[r.Next(closes.Count)], (byte)',');
                return ([.. text], "trailing comma");
            }
            case 6:
                text.InsertRange(r.Next(2) == 0 ? json.Length : 1, "/* c */"u8.ToArray());
                return ([.. text], "comment");
            case 7:
                return (json[..r.Next(json.Length)], "truncated");
            default:
                return ([.. json, .. r.Next(2) == 0 ? " \n\t"u8 : " {}"u8], "trailing");
        }
    }
}
