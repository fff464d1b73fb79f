using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.Tests.Versions;

/// <summary>
/// Runs a reference implementation (tests/tools/*-oracle.*) once with a batch of JSON-line cases and
/// returns its JSON-line answers. A missing interpreter or reference package fails the test with a
/// message saying how to install it; it never passes silently.
/// </summary>
internal static class ReferenceOracle
{
    private static readonly string ToolsDirectory = Path.Combine(TestData.RepositoryRoot, "tests", "tools");

    /// <summary>node-semver (and the CVSS calculator) through tests/tools/semver-oracle.js.</summary>
    public static IReadOnlyList<JsonObject> RunNode(IReadOnlyList<JsonObject> cases)
    {
        string modules = Path.Combine(ToolsDirectory, "node", "node_modules", "semver");
        Assert.True(Directory.Exists(modules),
            "The npm reference packages are not installed: run `npm ci --ignore-scripts` in tests/tools/node (.ci/run does).");
        return Run("node", [Path.Combine(ToolsDirectory, "semver-oracle.js")], cases, environment: null)
            ?? throw new Xunit.Sdk.XunitException("`node` was not found on PATH: install Node.js (CI installs it) to run the npm differential tests.");
    }

    /// <summary>Python's packaging (22 or later) through tests/tools/pep440-oracle.py.</summary>
    public static IReadOnlyList<JsonObject> RunPython(IReadOnlyList<JsonObject> cases) =>
        Run(Python.Value, [Path.Combine(ToolsDirectory, "pep440-oracle.py")], cases, environment: null)!;

    private static readonly Lazy<string> Python = new(FindPython);

    /// <summary>The first interpreter whose <c>packaging</c> (own or pip's) is 22 or later.</summary>
    private static string FindPython()
    {
        string script = Path.Combine(ToolsDirectory, "pep440-oracle.py");
        var tried = new List<string>();
        foreach (string exe in PythonCandidates())
        {
            tried.Add(exe);
            if (Run(exe, [script], [new JsonObject { ["op"] = "about" }], environment: null, quiet: true) is not null)
            {
                return exe;
            }
        }
        throw new Xunit.Sdk.XunitException(
            "No Python with `packaging` >= 22 was found (tried: " + string.Join(", ", tried) + "). " +
            "Install one, e.g. `apt-get install python3-packaging`, or set TOLLGATE_PYTHON to such an interpreter.");
    }

    private static IEnumerable<string> PythonCandidates()
    {
        if (Environment.GetEnvironmentVariable("TOLLGATE_PYTHON") is { Length: > 0 } configured)
        {
            yield return configured;
        }
        yield return "python3";
        yield return "/usr/bin/python3";
        string pyenvRoot = Environment.GetEnvironmentVariable("PYENV_ROOT") is { Length: > 0 } root
            ? root
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".pyenv");
        string versions = Path.Combine(pyenvRoot, "versions");
        if (Directory.Exists(versions))
        {
            // Newest first: "3.13.0" before "3.9.18".
            foreach (string dir in Directory.GetDirectories(versions)
                .OrderByDescending(d => System.Version.TryParse(Path.GetFileName(d), out var v) ? v : new System.Version(0, 0)))
            {
                string exe = Path.Combine(dir, "bin", "python3");
                if (File.Exists(exe))
                {
                    yield return exe;
                }
            }
        }
    }

    /// <summary>Runs the process; null when it cannot start or (with <paramref name="quiet"/>) exits non-zero.</summary>
    private static List<JsonObject>? Run(string exe, string[] args, IReadOnlyList<JsonObject> cases, Dictionary<string, string>? environment, bool quiet = false)
    {
        var info = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            var input = new StringBuilder();
            foreach (var c in cases)
            {
                input.Append(c.ToJsonString()).Append('\n');
            }
            process.StandardInput.Write(input.ToString());
            process.StandardInput.Close();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new Xunit.Sdk.XunitException($"{exe} did not answer within two minutes.");
            }
            if (process.ExitCode != 0)
            {
                if (quiet)
                {
                    return null;
                }
                throw new Xunit.Sdk.XunitException($"{exe} {string.Join(' ', args)} exited {process.ExitCode}: {stderr.Result}");
            }
            var answers = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonNode.Parse(line)!.AsObject())
                .ToList();
            Assert.True(answers.Count == cases.Count, $"{exe} answered {answers.Count} of {cases.Count} cases. stderr: {stderr.Result}");
            return answers;
        }
    }

    public static bool Ok(JsonObject answer) => answer["ok"]?.GetValue<bool>() == true;

    public static string Describe(JsonObject c) => c.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
}
