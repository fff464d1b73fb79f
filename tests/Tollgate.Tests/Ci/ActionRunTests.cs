using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NJsonSchema;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Tests.Ci;

/// <summary>
/// Runs the shell steps of the composite action (action.yml) on this machine, in order, as a GitHub runner would:
/// each step's <c>env</c> and <c>if</c> evaluated from the action's inputs and earlier steps' outputs, with the
/// runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH) in a temporary folder. The release binary is
/// downloaded from a loopback server with its SHA256SUMS. Steps that use other actions (setup-dotnet, cache,
/// upload-sarif, upload-artifact) need GitHub and are skipped; the test checks which.
/// </summary>
public sealed partial class ActionRunTests
{
    private static string Root => TestData.RepositoryRoot;

    [Fact]
    public async Task Action_ShellSteps_InstallScanSummariseAndGate()
    {
        using var run = new ActionRun();
        using var server = new ReleaseServer();
        server.Publish("0.1.0", run.WrapperBinary());

        var result = run.Execute(new Dictionary<string, string>
        {
            ["path"] = "examples/mcp-server-npm",
            ["advisories"] = "examples/advisories",
            ["version"] = "0.1.0",
            ["release-url"] = server.BaseUrl,
            ["format"] = "json",
            ["vex"] = TestData.Path("vex", "own", "example.openvex.json"),
            ["sbom"] = "true",
        });

        Assert.Equal(["actions/setup-dotnet", "actions/cache", "github/codeql-action/upload-sarif", "actions/upload-artifact"],
            result.Skipped.Select(s => s.Split('@')[0]));
        Assert.Equal(["Install Tollgate", "Scan", "SBOM", "Gate on the policy"], result.Ran.Select(r => r.Name));
        Assert.All(result.Ran.SkipLast(1), r => Assert.True(r.ExitCode == 0, $"{r.Name} exited {r.ExitCode}:\n{r.Output}"));
        // The example fails its policy: the last step fails the job, after the reports were written.
        Assert.Equal(1, result.Ran[^1].ExitCode);
        Assert.Contains("::error::Tollgate: the policy failed (verdict fail)", result.Ran[^1].Output, StringComparison.Ordinal);

        Assert.Equal("1", result.Outputs["scan"]["exit-code"]);
        Assert.Equal("fail", result.Outputs["scan"]["verdict"]);
        var summary = File.ReadAllText(run.StepSummary);
        Assert.StartsWith("## Tollgate scan: fail", summary, StringComparison.Ordinal);
        Assert.Contains("<summary>Suppressed (2)</summary>", summary, StringComparison.Ordinal);

        var sarif = File.ReadAllText(result.Outputs["scan"]["sarif-file"]);
        var schema = await JsonSchema.FromJsonAsync(File.ReadAllText(TestData.Reference("schemas", "sarif-2.1.0.json")));
        Assert.Empty(schema.Validate(sarif));
        using (var doc = JsonDocument.Parse(sarif))
        {
            var results = doc.RootElement.GetProperty("runs")[0].GetProperty("results");
            Assert.Equal(7, results.GetArrayLength());
            Assert.Equal(2, results.EnumerateArray().Count(r => r.TryGetProperty("suppressions", out _)));
        }
        using (var report = JsonDocument.Parse(File.ReadAllText(result.Outputs["scan"]["report-file"])))
        {
            Assert.Equal("fail", report.RootElement.GetProperty("verdict").GetString());
        }
        using (var sbom = JsonDocument.Parse(File.ReadAllText(result.Outputs["sbom"]["sbom-file"])))
        {
            Assert.Equal("CycloneDX", sbom.RootElement.GetProperty("bomFormat").GetString());
        }
        Assert.Contains(Path.Combine(run.RunnerTemp, "tollgate", "bin"), File.ReadAllText(run.PathFile), StringComparison.Ordinal);
        Assert.Contains("GET /v0.1.0/SHA256SUMS", server.Log);
    }

    [Fact]
    public void Action_ReleaseBinaryNotMatchingItsSum_IsNotRun()
    {
        using var run = new ActionRun();
        using var server = new ReleaseServer();
        server.Publish("0.1.0", run.WrapperBinary(), tamper: true);

        var result = run.Execute(new Dictionary<string, string>
        {
            ["path"] = "examples/mcp-server-npm",
            ["advisories"] = "examples/advisories",
            ["version"] = "0.1.0",
            ["release-url"] = server.BaseUrl,
        });

        var install = result.Ran[0];
        Assert.Equal("Install Tollgate", install.Name);
        Assert.Equal(2, install.ExitCode);
        Assert.Contains("does not match its SHA-256 in the release's SHA256SUMS", install.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(run.RunnerTemp, "tollgate", "bin", "tollgate")));
    }

    [Fact]
    public void Action_PinnedSumThatDiffers_IsNotRun()
    {
        using var run = new ActionRun();
        using var server = new ReleaseServer();
        server.Publish("0.1.0", run.WrapperBinary());

        var result = run.Execute(new Dictionary<string, string>
        {
            ["version"] = "0.1.0",
            ["sha256"] = new string('0', 64),
            ["release-url"] = server.BaseUrl,
        });

        Assert.Equal(2, result.Ran[0].ExitCode);
        Assert.Contains("but the pipeline pins 0000", result.Ran[0].Output, StringComparison.Ordinal);
    }

    /// <summary>One run of the action's steps in a temporary runner folder.</summary>
    private sealed partial class ActionRun : IDisposable
    {
        private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("tollgate-action-");

        public string RunnerTemp => Path.Combine(_dir.FullName, "runner-temp");
        public string StepSummary => Path.Combine(_dir.FullName, "step-summary.md");
        public string PathFile => Path.Combine(_dir.FullName, "path");

        /// <summary>A stand-in for the release binary: a script that runs the CLI this test run built.</summary>
        public byte[] WrapperBinary()
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var cli = Path.Combine(Root, "src", "Tollgate.Cli", "bin", configuration, "net10.0", "Tollgate.Cli");
            Assert.True(File.Exists(cli), "the CLI is built with the tests: " + cli);
            return Encoding.UTF8.GetBytes($"#!/bin/sh\nexec \"{cli}\" \"$@\"\n");
        }

        public sealed record Step(string Name, int ExitCode, string Output);

        public sealed record Result(List<Step> Ran, List<string> Skipped, Dictionary<string, Dictionary<string, string>> Outputs);

        public Result Execute(Dictionary<string, string> given)
        {
            Directory.CreateDirectory(RunnerTemp);
            var action = YamlJson.Mapping(Path.Combine(Root, "action.yml"));
            var inputs = ((YamlMappingNode)action["inputs"]).Children.ToDictionary(
                c => ((YamlScalarNode)c.Key).Value!,
                c => given.TryGetValue(((YamlScalarNode)c.Key).Value!, out var v) ? v : ((YamlScalarNode)((YamlMappingNode)c.Value)["default"]).Value ?? "",
                StringComparer.Ordinal);
            Assert.Empty(given.Keys.Except(inputs.Keys));
            var outputs = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
            var ran = new List<Step>();
            var skipped = new List<string>();
            var failed = false;
            foreach (var node in ((YamlSequenceNode)((YamlMappingNode)action["runs"])["steps"]).Children.Cast<YamlMappingNode>())
            {
                string? Get(string key) => node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlScalarNode)v).Value : null;
                string Eval(string text) => Expression().Replace(text, m => Value(m.Groups[1].Value, inputs, outputs));
                if (Get("uses") is { } uses)
                {
                    skipped.Add(uses);
                    continue;
                }
                var condition = Get("if");
                if (failed && condition?.Contains("always()", StringComparison.Ordinal) != true)
                {
                    continue;
                }
                if (condition is not null && !Condition(condition, inputs, outputs))
                {
                    continue;
                }
                var outputFile = Path.Combine(_dir.FullName, $"output-{ran.Count}");
                File.WriteAllText(outputFile, "");
                var start = new ProcessStartInfo("bash", ["-c", Get("run")!])
                {
                    WorkingDirectory = Get("working-directory") is { } wd ? Eval(wd) : Root,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                };
                foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("GITHUB_", StringComparison.Ordinal) || k.StartsWith("RUNNER_", StringComparison.Ordinal)
                    || k.StartsWith("INPUT_", StringComparison.Ordinal) || k.StartsWith("TOLLGATE_", StringComparison.Ordinal) || k == "TF_BUILD").ToList())
                {
                    start.Environment.Remove(key);
                }
                start.Environment["GITHUB_ACTION_PATH"] = Root;
                start.Environment["GITHUB_WORKSPACE"] = Root;
                start.Environment["GITHUB_OUTPUT"] = outputFile;
                start.Environment["GITHUB_STEP_SUMMARY"] = StepSummary;
                start.Environment["GITHUB_PATH"] = PathFile;
                start.Environment["RUNNER_TEMP"] = RunnerTemp;
                start.Environment["RUNNER_OS"] = "Linux";
                start.Environment["RUNNER_ARCH"] = "X64";
                if (node.Children.TryGetValue(new YamlScalarNode("env"), out var env))
                {
                    foreach (var (key, value) in ((YamlMappingNode)env).Children)
                    {
                        start.Environment[((YamlScalarNode)key).Value!] = Eval(((YamlScalarNode)value).Value ?? "");
                    }
                }
                using var process = Process.Start(start)!;
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                process.WaitForExit();
                ran.Add(new Step(Get("name")!, process.ExitCode, stdout.Result + stderr.Result));
                failed |= process.ExitCode != 0;
                if (Get("id") is { } id)
                {
                    outputs[id] = File.ReadAllLines(outputFile).Where(l => l.Contains('=', StringComparison.Ordinal))
                        .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..], StringComparer.Ordinal);
                }
            }
            return new Result(ran, skipped, outputs);
        }

        private static string Value(string expression, Dictionary<string, string> inputs, Dictionary<string, Dictionary<string, string>> outputs)
        {
            expression = expression.Trim();
            if (expression.StartsWith("inputs.", StringComparison.Ordinal))
            {
                return inputs[expression["inputs.".Length..]];
            }
            if (expression.StartsWith("steps.", StringComparison.Ordinal))
            {
                var parts = expression.Split('.');
                Assert.Equal("outputs", parts[2]);
                return outputs.TryGetValue(parts[1], out var step) && step.TryGetValue(parts[3], out var v) ? v : "";
            }
            return expression switch
            {
                "github.action_path" or "github.workspace" => Root,
                "github.action_repository" => "",
                "runner.os" => "Linux",
                _ => throw new InvalidOperationException("the test does not evaluate ${{ " + expression + " }}"),
            };
        }

        /// <summary>The conditions action.yml uses: terms joined by &amp;&amp;, each always() or X == 'v' / X != 'v'.</summary>
        private static bool Condition(string condition, Dictionary<string, string> inputs, Dictionary<string, Dictionary<string, string>> outputs) =>
            condition.Split("&&").Select(t => t.Trim()).All(term =>
            {
                if (term == "always()")
                {
                    return true;
                }
                var m = Comparison().Match(term);
                Assert.True(m.Success, "the test does not evaluate the condition " + term);
                var equal = Value(m.Groups[1].Value, inputs, outputs) == m.Groups[3].Value;
                return m.Groups[2].Value == "==" ? equal : !equal;
            });

        [GeneratedRegex(@"\$\{\{\s*(.+?)\s*\}\}")]
        private static partial Regex Expression();

        [GeneratedRegex(@"^([\w.-]+)\s*(==|!=)\s*'([^']*)'$")]
        private static partial Regex Comparison();

        public void Dispose() => _dir.Delete(recursive: true);
    }

    /// <summary>A loopback server laid out like a release download: /v{version}/tollgate-{version}-{rid} and SHA256SUMS.</summary>
    private sealed class ReleaseServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
        private readonly Task _loop;

        public ReleaseServer()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            BaseUrl = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/";
            probe.Stop();
            _listener.Prefixes.Add(BaseUrl);
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public string BaseUrl { get; }

        public ConcurrentQueue<string> Log { get; } = new();

        /// <summary>A release archive (tar.gz holding <c>tollgate</c>) and its SHA256SUMS; tampered: the sum is of other bytes.</summary>
        public void Publish(string version, byte[] binary, bool tamper = false)
        {
            var name = $"tollgate-{version}-linux-x64.tar.gz";
            using var archive = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(archive, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            using (var tar = new System.Formats.Tar.TarWriter(gzip))
            {
                var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "tollgate")
                {
                    DataStream = new MemoryStream(binary),
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                };
                tar.WriteEntry(entry);
            }
            var bytes = archive.ToArray();
            _files[$"/v{version}/{name}"] = bytes;
            var sum = Convert.ToHexStringLower(SHA256.HashData(tamper ? [.. bytes, (byte)'\n'] : bytes));
            _files[$"/v{version}/SHA256SUMS"] = Encoding.UTF8.GetBytes($"{sum}  {name}\n{new string('1', 64)}  tollgate-{version}-win-x64.tar.gz\n");
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                var path = context.Request.Url!.AbsolutePath;
                Log.Enqueue($"{context.Request.HttpMethod} {path}");
                if (_files.TryGetValue(path, out var content))
                {
                    context.Response.ContentLength64 = content.Length;
                    await context.Response.OutputStream.WriteAsync(content);
                }
                else
                {
                    context.Response.StatusCode = 404;
                }
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            LoopbackListener.Close(_listener);
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
        }
    }
}
