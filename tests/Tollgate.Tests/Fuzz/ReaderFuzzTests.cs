using System.Diagnostics;
using System.Globalization;
using System.Text;
using Tollgate.Ecosystems;
using Tollgate.Inputs;
using Tollgate.Sbom;
using Xunit.Abstractions;

namespace Tollgate.Tests.Fuzz;

/// <summary>
/// Mutation fuzzing of every reader with the real lockfiles of the test data: each mutant is written under its real
/// file name (beside copies of the files it names, such as package.json or included requirements) and read in-process.
/// Damaged input must give diagnostics: any exception, or any input taking more than two seconds, fails the test.
/// </summary>
/// <remarks>
/// <c>TOLLGATE_FUZZ_INPUTS</c> sets how many mutants are read (default <see cref="DefaultInputs"/>),
/// <c>TOLLGATE_FUZZ_SEED</c> the seed, and <c>TOLLGATE_FUZZ_KEEP</c> a folder where failing inputs are saved;
/// bench/fuzz/run.sh runs a long campaign. Mutant <c>i</c> depends only on the seed and
/// <c>i</c>, so a failure reported with its seed and index is reproduced by <see cref="Mutant"/>.
/// </remarks>
[Collection(FuzzCollection.Name)]
public sealed class ReaderFuzzTests(ITestOutputHelper output)
{
    public const int DefaultInputs = 4000;
    public const int DefaultSeed = 20_250_601;
    private static readonly TimeSpan PerInputLimit = TimeSpan.FromSeconds(2);

    /// <summary>A real file to mutate: its folder (copied whole, for the files it names) and its name in that folder.</summary>
    /// <param name="Folder">The folder under testdata/.</param>
    /// <param name="File">The file to mutate, relative to the folder.</param>
    /// <param name="Sbom">Read with <see cref="SbomReader"/> rather than discovery.</param>
    /// <param name="ScanFolder">Discovery reads the folder (as <c>tollgate deps .</c> does) rather than the file named directly.</param>
    public sealed record Seed(string Folder, string File, bool Sbom = false, bool ScanFolder = false)
    {
        public string Name => $"{Folder}/{File}{(ScanFolder ? " (folder)" : "")}";
    }

    /// <summary>One or two real files per reader, small enough to read thousands of times.</summary>
    public static IReadOnlyList<Seed> Seeds { get; } =
    [
        // npm
        new("npm/lockfile-v1", "package-lock.json"),
        new("npm/workspaces", "package-lock.json"),
        new("npm/shrinkwrap", "npm-shrinkwrap.json"),
        new("npm/lockfile-v2", "package.json"),
        new("npm/yarn-classic-workspace", "yarn.lock"),
        new("npm/yarn-berry-workspace", "yarn.lock"),
        new("npm/pnpm9-workspace", "pnpm-lock.yaml"),
        new("npm/pnpm9-workspace", "package.json", ScanFolder: true),
        new("npm/pnpm7-basic", "pnpm-lock.yaml"),
        new("npm/bun-workspace", "bun.lock"),
        // PyPI
        new("pypi/requirements", "requirements.txt"),
        new("pypi/requirements", "requirements-base.txt", ScanFolder: true),
        new("reference/lockfiles/python/requirements-hashes-sigstore", "requirements.txt"),
        new("pypi/poetry-2x", "poetry.lock"),
        new("pypi/pipfile-git", "Pipfile.lock"),
        new("reference/lockfiles/python/uv-mcp-server-git", "uv.lock"),
        new("pypi/pdm", "pdm.lock"),
        new("pypi/pylock", "pylock.toml"),
        new("pypi/poetry-2x", "pyproject.toml"),
        // NuGet
        new("nuget/mcp-server", "packages.lock.json"),
        new("nuget/cpm-multi/src/Lib", "obj/project.assets.json"),
        new("nuget/cpm-multi", "src/App/App.csproj"),
        new("nuget/cpm-multi", "Directory.Packages.props", ScanFolder: true),
        new("nuget/packages-config", "packages.config"),
        new("nuget/deps-json", "McpServer.deps.json"),
        // SBOMs
        new("sbom/spec-examples", "valid-bom-1.6.json", Sbom: true),
        new("reference/sbom", "cyclonedx-npm-6.0.1.cdx-1.6.json", Sbom: true),
        new("reference/sbom", "sbom-tool-sample.spdx-2.2.json", Sbom: true),
    ];

    /// <summary>Short texts that mean something in one format or another, inserted to reach the readers' less travelled paths.</summary>
    private static readonly string[] Tokens =
    [
        "\"", "'", "{", "}", "[", "]", ":", ",", "\n", "\r\n", "\t", "\\", "\\u0000", "\\0", "\\ud800", "\\x00", "#", "=", " ",
        "-r ", "-c ", "-e ", "--hash=sha256:", "@", "link:", "file:", "file:../..", "workspace:", "npm:", "patch:", "git+https://",
        "&a ", "*a", "!!binary ", "? ", "- ", "---\n", "...\n", "<", ">", "</", "/>", "&#0;", "&amp;", "<![CDATA[", "<!DOCTYPE x>",
        "[[", "]]", "\"\"\"", "'''", "$(", ")", "%", "..", "/", "~", "0", "-1", "1e999", "99999999999999999999", "true", "null",
        "\"packages\": ", "\"dependencies\": ", "\"version\": ", "lockfileVersion: ", "__metadata:\n", "[[package]]\n",
    ];

    /// <summary>Values that readers parse (names, versions, paths, ranges), put in place of a word of the file.</summary>
    private static readonly string[] Values =
    [
        "", "\\u0000", "a\\u0000b", "\\0", "../../..", "/", "/dev/null", ".", "..", "link:", "link:..", "file:", "file:/", "workspace:*",
        "workspace:", "npm:", "npm:@", "@", "@@", "a@", "@a", "@a/", "a@npm:", "1.0.0(", "(", ")", "1.0.0_", "/a/1.0.0", "#", "\\",
        "9999999999999999999999", "-1", "0", "1e309", "NaN", "*", "latest", "<", ">=", "~", "^", "||", " - ", "==", "===", "!=", "~=",
        "1.0.0-", "1.0.0+", "v1", "1..0", "1.0.0.0.0.0", "sha512-", "sha512-@@@", "sha256:", "git+", "git+https://x/y.git#",
        "https://", "http://[::1", "a/b/c/d", "A.B/1.0.0/", "/1.0.0", "net8.0", "[1.0,", "(,1.0]", "$(X)", "$(", ";", "a;b;;",
        "true", "false", "null", "{}", "[]", "~", "&a", "*a", "!!str", "|", ">", "\"\"", "''",
    ];

    private static readonly byte[][] NotUtf8 =
    [
        [0xFF], [0xC0, 0x80], [0x80], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF0, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFE, 0xFF],
    ];

    [Fact]
    public void Readers_MutatedRealLockfiles_GiveDiagnosticsNotExceptionsAndStayFast()
    {
        var inputs = Setting("TOLLGATE_FUZZ_INPUTS", DefaultInputs);
        var seed = Setting("TOLLGATE_FUZZ_SEED", DefaultSeed);
        var keep = Environment.GetEnvironmentVariable("TOLLGATE_FUZZ_KEEP");
        var originals = Seeds.Select(s => File.ReadAllBytes(TestData.Path(s.Folder, s.File))).ToArray();
        var temp = Directory.CreateTempSubdirectory("tollgate-fuzz-");
        var failures = new List<string>();
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        var slowest = (Elapsed: TimeSpan.Zero, What: "");
        var clock = Stopwatch.StartNew();
        var ran = 0;
        string? reading = null;
        try
        {
            // Each seed's folder is copied once; its file is overwritten by each of its mutants. What is read is the file,
            // or the folder for seeds read as a folder scan.
            var folders = Seeds.Select((_, i) => Path.Combine(temp.FullName, i.ToString(CultureInfo.InvariantCulture))).ToArray();
            var paths = Seeds.Select((s, i) => CopyFolder(TestData.Path(s.Folder), folders[i], s.File)).ToArray();
            var targets = Seeds.Select((s, i) => s.ScanFolder ? folders[i] : paths[i]).ToArray();
            // Each reader once on its real file first, so that compiling the reader's code is not timed as a mutant.
            for (var which = 0; which < Seeds.Count; which++)
            {
                Read(targets[which], Seeds[which].Sbom);
            }
            for (var index = 0; index < inputs; index++)
            {
                var which = index % Seeds.Count;
                var (bytes, mutations) = Mutant(originals[which], seed, index);
                File.WriteAllBytes(paths[which], bytes);
                var what = $"{Seeds[which].Name} #{index} [{mutations}]";
                if (!string.IsNullOrEmpty(keep))
                {
                    // A stack overflow or running out of memory ends the process without a report: the input being read
                    // is left here for it.
                    Directory.CreateDirectory(keep);
                    File.WriteAllText(Path.Combine(keep, "reading.txt"), what + "\n");
                    if (reading is not null)
                    {
                        File.Delete(reading);
                    }
                    reading = Path.Combine(keep, "reading-" + Path.GetFileName(paths[which]));
                    File.WriteAllBytes(reading, bytes);
                }

                var (elapsed, error) = Read(targets[which], Seeds[which].Sbom);
                if (error is null && elapsed > PerInputLimit)
                {
                    // Once more, so that a pause of this shared machine is not taken for a slow reader: a slow input is slow again.
                    var again = Read(targets[which], Seeds[which].Sbom);
                    (elapsed, error) = (again.Elapsed < elapsed ? again.Elapsed : elapsed, again.Error);
                }
                ran++;
                if (elapsed > slowest.Elapsed)
                {
                    slowest = (elapsed, what);
                }
                if ((error is not null || elapsed > PerInputLimit) && !string.IsNullOrEmpty(keep))
                {
                    Directory.CreateDirectory(keep);
                    File.WriteAllBytes(Path.Combine(keep, $"{index}-{Path.GetFileName(paths[which])}"), bytes);
                }
                if (error is not null)
                {
                    // One report per distinct crash (its type and where it was thrown), with the first input that found it.
                    if (error is TimeoutException || distinct.Add(Signature(error)))
                    {
                        failures.Add($"{what}: {error.GetType().Name}: {error.Message}\n{TopFrames(error)}");
                    }
                    if (error is TimeoutException)
                    {
                        // The reader is still running on its thread: nothing after it would be measured fairly.
                        break;
                    }
                }
                else if (elapsed > PerInputLimit)
                {
                    failures.Add($"{what}: took {elapsed.TotalMilliseconds:F0} ms, more than {PerInputLimit.TotalSeconds:F0} s");
                }
            }
        }
        finally
        {
            temp.Delete(recursive: true);
        }

        output.WriteLine($"fuzz: {ran} inputs from {Seeds.Count} real files (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s; "
            + $"slowest {slowest.Elapsed.TotalMilliseconds:F0} ms: {slowest.What}");
        foreach (var failure in failures)
        {
            output.WriteLine("FAIL " + failure);
        }
        Assert.True(failures.Count == 0, $"{failures.Count} failure(s) in {ran} inputs (seed {seed}):\n" + string.Join("\n", failures));
        Assert.True(ran >= inputs, $"ran {ran} inputs, fewer than the {inputs} asked for");
    }

    /// <summary>Reads one file as the CLI does, on a thread of its own so that a hang fails the test instead of stalling it.</summary>
    private static (TimeSpan Elapsed, Exception? Error) Read(string path, bool sbom)
    {
        var clock = Stopwatch.StartNew();
        var task = Task.Run(() =>
        {
            var bag = new DiagnosticBag();
            _ = sbom ? SbomReader.Read(path, bag) : EcosystemReaders.Discovery().Read([path], bag);
        });
        try
        {
            if (!task.Wait(PerInputLimit * 15))
            {
                return (clock.Elapsed, new TimeoutException($"still reading after {clock.Elapsed.TotalSeconds:F0} s"));
            }
        }
        catch (AggregateException e)
        {
            return (clock.Elapsed, e.InnerException ?? e);
        }
        return (clock.Elapsed, null);
    }

    /// <summary>Mutant <paramref name="index"/> of <paramref name="original"/> for <paramref name="seed"/>, and what was done to it.</summary>
    public static (byte[] Bytes, string Mutations) Mutant(byte[] original, int seed, int index)
    {
        var random = new Random(unchecked((seed * 1_000_003) + index));
        var bytes = new List<byte>(original);
        var done = new List<string>();
        var count = 1 + random.Next(3);
        for (var m = 0; m < count; m++)
        {
            done.Add(Mutate(bytes, random));
        }
        return ([.. bytes], string.Join("; ", done));
    }

    private static string Mutate(List<byte> bytes, Random random)
    {
        var at = random.Next(bytes.Count + 1);
        switch (random.Next(13))
        {
            case 11 or 12:
            {
                // A word (between spaces, quotes and punctuation) replaced by a value readers parse.
                var (start, end) = Word(bytes, Math.Min(at, Math.Max(bytes.Count - 1, 0)));
                var value = Values[random.Next(Values.Length)];
                bytes.RemoveRange(start, end - start);
                bytes.InsertRange(start, Encoding.UTF8.GetBytes(value));
                return $"word at {start} -> '{Printable(value)}'";
            }
            case 0:
            {
                var flips = 1 + random.Next(8);
                for (var i = 0; i < flips && bytes.Count > 0; i++)
                {
                    var b = random.Next(bytes.Count);
                    bytes[b] ^= (byte)(1 << random.Next(8));
                }
                return $"flip {flips} bits";
            }
            case 1:
                bytes.RemoveRange(at, bytes.Count - at);
                return $"truncate at {at}";
            case 2:
            {
                var (start, length) = Range(bytes.Count, random);
                var copy = bytes.GetRange(start, length);
                var to = random.Next(bytes.Count + 1);
                bytes.InsertRange(to, copy);
                return $"duplicate {length} bytes from {start} at {to}";
            }
            case 3:
            {
                var (start, length) = Range(bytes.Count, random);
                bytes.RemoveRange(start, length);
                return $"remove {length} bytes at {start}";
            }
            case 4:
                bytes.InsertRange(at, Enumerable.Repeat((byte)0, 1 + random.Next(3)));
                return $"NUL at {at}";
            case 5:
            {
                var which = random.Next(NotUtf8.Length);
                bytes.InsertRange(at, NotUtf8[which]);
                return $"not UTF-8 #{which} at {at}";
            }
            case 6:
            {
                // Deep nesting, in the brackets of every format.
                string[] opens = ["[", "{", "<a>", "- ", "{\"a\":", "[[", "  "];
                var open = opens[random.Next(opens.Length)];
                var depth = random.Next(4) switch { 0 => 300, 1 => 3_000, 2 => 30_000, _ => 100_000 };
                var text = open == "  " ? string.Concat(Enumerable.Range(0, Math.Min(depth, 2_000)).Select(i => "\n" + new string(' ', i) + "a:"))
                    : string.Concat(Enumerable.Repeat(open, depth));
                bytes.InsertRange(at, Encoding.UTF8.GetBytes(text));
                return $"{depth} x '{open.Trim()}' at {at}";
            }
            case 7:
                return SwapLines(bytes, random);
            case 8:
            {
                var token = Tokens[random.Next(Tokens.Length)];
                bytes.InsertRange(at, Encoding.UTF8.GetBytes(token));
                return $"insert '{Printable(token)}' at {at}";
            }
            case 9:
            {
                // Replace a short run with a token, as a damaged value would read.
                var token = Tokens[random.Next(Tokens.Length)];
                var length = Math.Min(random.Next(1, 16), bytes.Count - Math.Min(at, bytes.Count));
                bytes.RemoveRange(Math.Min(at, bytes.Count), length);
                bytes.InsertRange(Math.Min(at, bytes.Count), Encoding.UTF8.GetBytes(token));
                return $"replace {length} bytes at {at} with '{Printable(token)}'";
            }
            default:
            {
                var value = (byte)random.Next(256);
                if (bytes.Count > 0)
                {
                    bytes[Math.Min(at, bytes.Count - 1)] = value;
                }
                return $"byte 0x{value:X2} at {at}";
            }
        }
    }

    private static (int Start, int End) Word(List<byte> bytes, int at)
    {
        static bool Delimiter(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or (byte)'"' or (byte)'\'' or (byte)':'
            or (byte)',' or (byte)'=' or (byte)'<' or (byte)'>' or (byte)'{' or (byte)'}' or (byte)'[' or (byte)']';
        if (bytes.Count == 0)
        {
            return (0, 0);
        }
        var (start, end) = (at, at);
        while (start > 0 && !Delimiter(bytes[start - 1]))
        {
            start--;
        }
        while (end < bytes.Count && !Delimiter(bytes[end]))
        {
            end++;
        }
        return (start, end);
    }

    private static (int Start, int Length) Range(int count, Random random)
    {
        if (count == 0)
        {
            return (0, 0);
        }
        var start = random.Next(count);
        var length = Math.Min(count - start, random.Next(4) == 0 ? random.Next(count) : random.Next(1, 200));
        return (start, length);
    }

    private static string SwapLines(List<byte> bytes, Random random)
    {
        // As bytes, so that bytes that are not UTF-8 (from an earlier mutation) stay as they were.
        var original = SplitLines([.. bytes]);
        if (original.Count < 2)
        {
            return "swap lines (one line)";
        }
        var (a, b) = (random.Next(original.Count), random.Next(original.Count));
        (original[a], original[b]) = (original[b], original[a]);
        bytes.Clear();
        for (var i = 0; i < original.Count; i++)
        {
            if (i > 0)
            {
                bytes.Add((byte)'\n');
            }
            bytes.AddRange(original[i]);
        }
        return $"swap lines {a + 1} and {b + 1}";
    }

    private static List<byte[]> SplitLines(byte[] bytes)
    {
        var result = new List<byte[]>();
        var start = 0;
        for (var i = 0; i <= bytes.Length; i++)
        {
            if (i == bytes.Length || bytes[i] == (byte)'\n')
            {
                result.Add(bytes[start..i]);
                start = i + 1;
            }
        }
        return result;
    }

    /// <summary>Copies a seed's folder (without the large reference outputs beside it); returns the path of the file to mutate.</summary>
    private static string CopyFolder(string from, string to, string file)
    {
        foreach (var source in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, source);
            if (new FileInfo(source).Length > 1_000_000 && relative != file)
            {
                continue;
            }
            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }
        return Path.Combine(to, file);
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;

    /// <summary>
    /// The exception's type and the three innermost Tollgate frames it passed through (a shared helper is reached from
    /// several readers): one crash, however many inputs find it.
    /// </summary>
    private static string Signature(Exception e)
    {
        var frames = (e.StackTrace ?? "").Split('\n').Select(l => l.Trim()).ToList();
        var ours = frames.Where(l => l.StartsWith("at Tollgate.", StringComparison.Ordinal)).Take(3).ToList();
        return e.GetType().FullName + " " + string.Join(" ", ours.Count > 0 ? ours : frames.Take(1));
    }

    private static string TopFrames(Exception e, int count = 6) =>
        string.Join("\n", (e.StackTrace ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Take(count));

    private static string Printable(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
}

/// <summary>The fuzz test runs alone: it times each input, and tests running beside it on two cores would be timed too.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "reader fuzzing";
}
