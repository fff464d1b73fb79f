using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Tollgate.Graph;
using Tollgate.Inventory;
using Tollgate.Sbom;

namespace Tollgate.Cli.Commands;

/// <summary>
/// <c>tollgate inventory add|list|affected --server URL</c>: the same questions asked of a <c>tollgate serve</c>
/// inventory API instead of a local store. The token comes from TOLLGATE_TOKEN (or --token, with a warning).
/// </summary>
internal static class InventoryRemote
{
    public static Option<string?> ServerOption() => new("--server")
    {
        Description = "A `tollgate serve` inventory server (e.g. https://inventory.example.com) to talk to instead of a local store.",
        HelpName = "URL",
    };

    public static Option<string?> TokenOption() => new("--token")
    {
        Description = "API token for --server. Prefer the TOLLGATE_TOKEN environment variable: a token on the command line is visible to other users.",
        HelpName = "TOKEN",
    };

    /// <summary>Uploads an SBOM (or the graph of a lockfile or folder, written as CycloneDX): the input is read and checked here first.</summary>
    public static int Add(Terminal terminal, string server, string? token, string path, string deployment, string? version, string? environment, bool json)
    {
        var diagnostics = new Inputs.DiagnosticBag();
        var graph = SbomCommand.ReadInput(path, diagnostics);
        terminal.Diagnostics(diagnostics.Items);
        if (diagnostics.HasErrors)
        {
            terminal.Fail("the SBOM could not be read (see above); nothing was uploaded.");
            return ExitCodes.InputError;
        }
        var sbom = CycloneDxWriter.Write(graph, SbomOptions.FromEnvironment(SbomFormat.CycloneDx, null, ToolInfo.Version, deployment, TimeProvider.System));
        var query = $"environment={Uri.EscapeDataString(environment ?? "")}&version={Uri.EscapeDataString(version ?? "")}";
        return Send(terminal, server, token, HttpMethod.Post, $"api/v1/deployments/{Uri.EscapeDataString(deployment)}/sboms?{query}", sbom, body =>
        {
            if (json)
            {
                terminal.OutWriter.WriteLine(body);
                return;
            }
            var s = JsonDocument.Parse(body).RootElement.GetProperty("deployments")[0];
            terminal.Out.MarkupLineInterpolated($"recorded snapshot {s.GetProperty("snapshot").GetInt64()} of [bold]{deployment}[/] on {server}: {s.GetProperty("components").GetInt32()} components");
        });
    }

    public static int List(Terminal terminal, string server, string? token, bool json) =>
        Send(terminal, server, token, HttpMethod.Get, "api/v1/deployments", null, body =>
        {
            if (json)
            {
                terminal.OutWriter.WriteLine(body);
                return;
            }
            var table = new TerminalTable(["Deployment", "Version", "Environment", "Components", "Recorded", "Snapshot"]);
            var list = JsonDocument.Parse(body).RootElement.GetProperty("deployments");
            foreach (var s in list.EnumerateArray())
            {
                table.AddRow(Markup.Escape(Text(s, "deployment")), Markup.Escape(Text(s, "version")), Markup.Escape(Text(s, "environment")),
                    s.GetProperty("components").GetInt32().ToString(CultureInfo.InvariantCulture),
                    s.GetProperty("addedAt").GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture), s.GetProperty("snapshot").GetInt64().ToString(CultureInfo.InvariantCulture));
            }
            table.Write(terminal.Out);
            terminal.Out.WriteLine($"{list.GetArrayLength()} deployment(s)");
        });

    public static int Affected(Terminal terminal, string server, string? token, string query, int offset, int? limit, bool json) =>
        Send(terminal, server, token, HttpMethod.Get, $"api/v1/affected?q={Uri.EscapeDataString(query)}&offset={offset}&limit={limit ?? int.MaxValue}", null, body =>
        {
            if (json)
            {
                terminal.OutWriter.WriteLine(body);
                return;
            }
            var root = JsonDocument.Parse(body).RootElement;
            var table = new TerminalTable(["Deployment", "Environment", "Version", "Package", "Path"], "Path");
            foreach (var h in root.GetProperty("affected").EnumerateArray())
            {
                var c = h.GetProperty("component");
                table.AddRow(Markup.Escape(Text(h, "deployment")), Markup.Escape(Text(h, "environment")), Markup.Escape(Text(h, "version")),
                    Markup.Escape($"{Text(c, "name")}@{Text(c, "version")}"), Markup.Escape(string.Join(" > ", h.GetProperty("path").EnumerateArray().Select(p => p.GetString()))));
            }
            table.Write(terminal.Out);
            terminal.Out.WriteLine($"{root.GetProperty("deployments").GetInt32()} deployment(s) affected by {query} ({root.GetProperty("total").GetInt32()} hit(s))");
        });

    public static int Hits(Terminal terminal, string server, string? token, string? since, string? deployment, Paging paging, bool json)
    {
        var query = $"api/v1/hits?offset={paging.Offset}&limit={paging.Limit ?? int.MaxValue}"
            + (since is null ? "" : $"&since={Uri.EscapeDataString(since)}") + (deployment is null ? "" : $"&deployment={Uri.EscapeDataString(deployment)}");
        var code = ExitCodes.Pass;
        var sent = Send(terminal, server, token, HttpMethod.Get, query, null, body => code = InventoryCommand.RenderHits(terminal, body, json));
        return sent != ExitCodes.Pass ? sent : code;
    }

    private static string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    private static int Send(Terminal terminal, string server, string? token, HttpMethod method, string path, string? body, Action<string> render)
    {
        if (!Uri.TryCreate(server.EndsWith('/') ? server : server + "/", UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            terminal.Fail($"--server '{server}' is not an http:// or https:// URL");
            return ExitCodes.InputError;
        }
        if (token is not null)
        {
            terminal.Warning("--token puts the secret where other users of this machine can see it; set TOLLGATE_TOKEN instead");
        }
        token ??= Environment.GetEnvironmentVariable("TOLLGATE_TOKEN");
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        using var request = new HttpRequestMessage(method, new Uri(baseUri, path));
        if (!string.IsNullOrEmpty(token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        try
        {
            using var response = http.Send(request);
            var text = new StreamReader(response.Content.ReadAsStream()).ReadToEnd();
            if (!response.IsSuccessStatusCode)
            {
                string message;
                try
                {
                    message = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString() ?? text;
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    message = text.Length > 300 ? text[..300] : text;
                }
                terminal.Fail($"{server} answered {(int)response.StatusCode} {response.ReasonPhrase}: {message}");
                return ExitCodes.InputError;
            }
            render(text);
            return ExitCodes.Pass;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            terminal.Fail($"cannot reach {server}: {e.Message}");
            return ExitCodes.InputError;
        }
    }
}
