using System.Diagnostics;
using System.Text.Json.Nodes;
using Tollgate.Cli;
using Tollgate.Cli.Commands;

namespace Tollgate.Tests.Updates;

/// <summary>A clock stopped at one instant (the fixtures' "now").</summary>
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public static readonly DateTimeOffset FixtureNow = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>Projects made by the real package managers against the fixture registry, and update runs over them.</summary>
internal static class UpdateTestKit
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr)
    {
        public JsonObject Json => JsonNode.Parse(Stdout)!.AsObject();

        public JsonObject Update(string name) =>
            Json["updates"]!.AsArray().Select(u => u!.AsObject()).SingleOrDefault(u => u["name"]!.GetValue<string>() == name)
            ?? throw new Xunit.Sdk.XunitException($"no update entry for {name} (exit {ExitCode}):\n{Stdout}\n{Stderr}");
    }

    public static string NewFolder(string name) => Directory.CreateTempSubdirectory("tollgate-update-" + name + "-").FullName;

    /// <summary>Runs a program in <paramref name="folder"/>; fails the test with its output when it exits non-zero.</summary>
    public static string Run(string folder, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["npm_config_cache"] = Path.Combine(TestRunTemp.Root, "npm-cache");
        start.Environment["npm_config_update_notifier"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), $"{program} {string.Join(' ', arguments)} did not finish");
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{error.Result}\n{output.Result}");
        return output.Result;
    }

    /// <summary>An npm project locked by npm itself against the fixture registry.</summary>
    public static string NpmProject(FixtureRegistry registry, string dependencies)
    {
        var folder = NewFolder("npm");
        File.WriteAllText(Path.Combine(folder, "package.json"), $$"""{ "name": "fixture-app", "version": "1.0.0", "private": true, "dependencies": {{{dependencies}}} }""");
        File.WriteAllText(Path.Combine(folder, ".npmrc"), $"registry={registry.NpmUrl}\n");
        Run(folder, "npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund");
        return folder;
    }

    public static async Task<Outcome> Update(string path, params string[] extra) => await Update(path, FixedTime.FixtureNow, extra);

    /// <summary>Runs <c>tollgate update PATH --format json</c> in-process at <paramref name="now"/>, with a cache of the test's own.</summary>
    public static async Task<Outcome> Update(string path, DateTimeOffset now, params string[] extra)
    {
        var registries = new List<string>();
        var advisories = new List<string>();
        var noAdvisories = true;
        string? minAge = null;
        var apply = false;
        var offline = false;
        var strict = false;
        string? only = null;
        string? cache = null;
        var format = "json";
        for (var i = 0; i < extra.Length; i++)
        {
            switch (extra[i])
            {
                case "--registry": registries.Add(extra[++i]); break;
                case "--advisories": advisories.Add(extra[++i]); noAdvisories = false; break;
                case "--min-age": minAge = extra[++i]; break;
                case "--apply": apply = true; break;
                case "--offline": offline = true; break;
                case "--strict-age": strict = true; break;
                case "--only": only = extra[++i]; break;
                case "--cache": cache = extra[++i]; break;
                case "--format": format = extra[++i]; break;
                default: throw new ArgumentException(extra[i]);
            }
        }
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var options = new UpdateOptions([path], null, format, null, null, advisories, noAdvisories, registries, offline, minAge, strict, apply, only, null, [],
            CacheFolder: cache ?? Path.Combine(NewFolder("cache"), "registry-cache"));
        var exit = await UpdateCommand.RunAsync(options, new Terminal(stdout, stderr, 200), new FixedTime(now));
        return new Outcome(exit, stdout.ToString(), stderr.ToString());
    }

    public static string ExampleAdvisories => Path.Combine(TestData.RepositoryRoot, "examples", "advisories");
}
