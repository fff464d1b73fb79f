using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Tollgate.Server.Inventory;
using Tollgate.Tests.Inventory;

namespace Tollgate.Server.Tests.Inventory;

/// <summary>
/// ci/scripts/inventory.sh, the step of the GitHub Action and the Azure Pipelines template that uploads the job's SBOM,
/// run with bash against a real server on 127.0.0.1 and the built <c>tollgate</c>.
/// </summary>
public sealed class CiUploadTests
{
    private static string Repo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tollgate.slnx")))
        {
            dir = dir.Parent;
        }
        return dir!.FullName;
    }

    private static async Task<(int Exit, string Output)> RunScript(Dictionary<string, string> environment)
    {
        // TOLLGATE_BIN/tollgate: the CLI this test project built.
        var bin = Directory.CreateTempSubdirectory("tollgate-bin-").FullName;
        var wrapper = Path.Combine(bin, "tollgate");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec \"{Environment.ProcessPath}\" \"{Path.Combine(AppContext.BaseDirectory, "Tollgate.Cli.dll")}\" \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo() };
        start.ArgumentList.Add(Path.Combine(Repo(), "ci", "scripts", "inventory.sh"));
        start.Environment["TOLLGATE_BIN"] = bin;
        start.Environment["NO_COLOR"] = "1";
        start.Environment.Remove("GITHUB_OUTPUT");
        start.Environment.Remove("TF_BUILD");
        foreach (var (k, v) in environment)
        {
            start.Environment[k] = v;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task InventoryScript_UploadsTheJobsSbom_AndRefusesWithoutTokenOrDeployment()
    {
        var (write, entry) = ApiTokens.Create("ci", TokenScope.Write);
        var tokensFile = Path.Combine(Directory.CreateTempSubdirectory("tollgate-tokens-").FullName, "tokens.txt");
        await File.WriteAllTextAsync(tokensFile, ApiTokens.Line(entry) + "\n");
        Assert.True(ApiTokens.TryLoad(tokensFile, out var tokens, out _));
        var (host, problems) = InventoryHost.Create(new InventoryServerOptions(new Uri("http://127.0.0.1:0"), StoreTargets.NewStore("sqlite"), tokens, false,
            AdvisoryDatabase: Path.Combine(Directory.CreateTempSubdirectory("tollgate-nodb-").FullName, "advisories.db")) { RescanInterval = TimeSpan.Zero });
        Assert.Empty(problems);
        await using (host!)
        {
            await host!.StartAsync();
            var sbom = Path.Combine(Directory.CreateTempSubdirectory("tollgate-sbom-").FullName, "sbom.cdx.json");
            await File.WriteAllTextAsync(sbom, """
                {"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"zod","version":"3.23.8","purl":"pkg:npm/zod@3.23.8"}]}
                """);
            var inputs = new Dictionary<string, string>
            {
                ["INPUT_SBOM"] = sbom, ["INPUT_SERVER"] = host.Address.AbsoluteUri, ["INPUT_DEPLOYMENT"] = "weather-mcp",
                ["INPUT_ENVIRONMENT"] = "prod", ["INPUT_VERSION"] = "0123abc", ["TOLLGATE_TOKEN"] = write,
            };

            var uploaded = await RunScript(inputs);
            var noToken = await RunScript(new(inputs) { ["TOLLGATE_TOKEN"] = "" });
            var noDeployment = await RunScript(new(inputs) { ["INPUT_DEPLOYMENT"] = "" });
            var noServer = await RunScript(new(inputs) { ["INPUT_SERVER"] = "" });

            Assert.True(uploaded.Exit == 0, uploaded.Output);
            Assert.DoesNotContain(write, uploaded.Output, StringComparison.Ordinal);
            using var http = new HttpClient { BaseAddress = host.Address };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", write);
            var list = JsonDocument.Parse(await http.GetStringAsync("/api/v1/deployments")).RootElement.GetProperty("deployments");
            var only = Assert.Single(list.EnumerateArray());
            Assert.Equal(("weather-mcp", "prod", "0123abc", 1), (only.GetProperty("deployment").GetString(), only.GetProperty("environment").GetString(),
                only.GetProperty("version").GetString(), only.GetProperty("components").GetInt32()));
            Assert.Equal(2, noToken.Exit);
            Assert.Contains("no token for the inventory server", noToken.Output, StringComparison.Ordinal);
            Assert.Equal(2, noDeployment.Exit);
            Assert.Contains("no deployment name", noDeployment.Output, StringComparison.Ordinal);
            Assert.Equal(0, noServer.Exit);
        }
    }
}
