using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tollgate.Graph;
using Tollgate.Inventory;
using Tollgate.Sbom;
using Tollgate.Server.Inventory;
using static System.Net.WebUtility;

namespace Tollgate.Server.Dashboard;

/// <summary>
/// The dashboard: plain server-rendered HTML (no script, nothing fetched from elsewhere), readable with a keyboard
/// and a screen reader, from a phone width up. Reads the same store through the same queries as the API.
/// </summary>
internal sealed class DashboardPages(InventoryServerOptions options, InventoryApi api)
{
    private const int PageSize = 200;

    public void Map(WebApplication app)
    {
        app.MapGet("/", (string? q, int? offset, int? from) => InventoryApi.Guard(() => Fleet(q, offset ?? 0, from ?? 0))).ExcludeFromDescription();
        app.MapGet("/deployments/{deployment}", (string deployment, string? filter, long? snapshot) => InventoryApi.Guard(() => Deployment(deployment, filter, snapshot))).ExcludeFromDescription();
        app.MapGet("/deployments/{deployment}/diff", (string deployment, long old, long @new) => InventoryApi.Guard(() => Diff(deployment, old, @new))).ExcludeFromDescription();
        app.MapGet("/hits", (string? since, int? offset) => InventoryApi.Guard(() => HitsPage(since, offset ?? 0))).ExcludeFromDescription();
        app.MapGet("/feed", (string? ecosystem) => InventoryApi.Guard(() => Feed(ecosystem))).ExcludeFromDescription();
        app.MapGet("/deployments/{deployment}/sbom", (string deployment, long? snapshot, string? format) => InventoryApi.Guard(() => Sbom(deployment, snapshot, format))).ExcludeFromDescription();
    }

    private IResult Fleet(string? query, int offset, int from)
    {
        var body = new StringBuilder();
        body.Append("<h1>Fleet</h1>");
        body.Append("<form method=\"get\" action=\"/\" role=\"search\"><label for=\"q\">Who is affected by</label> ")
            .Append("<input id=\"q\" name=\"q\" type=\"search\" placeholder=\"axios@&lt;1.6.0, pkg:npm/axios@1.5.1 or GHSA-…\" value=\"").Append(HtmlEncode(query ?? "")).Append("\"> ")
            .Append("<button type=\"submit\">Search</button></form>");
        if (!string.IsNullOrWhiteSpace(query))
        {
            var answer = api.Affected(query, new Paging(Math.Max(0, offset), PageSize));
            if (answer.Error is { } error)
            {
                body.Append("<p class=\"error\" role=\"alert\">").Append(HtmlEncode(error)).Append("</p>");
            }
            else
            {
                var page = answer.Page!;
                body.Append("<h2>").Append(page.Deployments).Append(" deployment(s) affected by ").Append(HtmlEncode(query)).Append(" (").Append(page.Total).Append(" hit(s))</h2>");
                body.Append("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Table, scrolls sideways\"><table><caption>Deployments containing a matching component, with the dependency path from the root</caption><thead><tr><th scope=\"col\">Deployment</th><th scope=\"col\">Environment</th><th scope=\"col\">Package</th>")
                    .Append(answer.AdvisoryIds is null ? "" : "<th scope=\"col\">Advisory</th>").Append("<th scope=\"col\">Path</th></tr></thead><tbody>");
                for (var i = 0; i < page.Hits.Count; i++)
                {
                    var h = page.Hits[i];
                    body.Append("<tr><td>").Append(DeploymentLink(h.Deployment)).Append("</td><td>").Append(HtmlEncode(h.Environment ?? "")).Append("</td><td>")
                        .Append(HtmlEncode($"{h.Component.Name}@{h.Component.Version}")).Append("</td>")
                        .Append(answer.AdvisoryIds is { } ids ? "<td>" + HtmlEncode(ids[i]) + "</td>" : "")
                        .Append("<td class=\"path\">").Append(HtmlEncode(string.Join(" › ", h.Path))).Append("</td></tr>");
                }
                body.Append("</tbody></table></div>");
                if (page.NextOffset is { } next)
                {
                    body.Append("<p><a href=\"/?q=").Append(UrlEncode(query)).Append("&amp;offset=").Append(next).Append("\">Next ").Append(PageSize).Append(" hits</a></p>");
                }
            }
        }
        using var store = api.Open();
        var deployments = store.List();
        var counts = store.HitCountsByDeployment();
        var unchecked_ = store.UncheckedDeployments();
        var (newest, lastRescan) = store.HitsAsOfLastRescan(paging: new Paging(0, 10));
        body.Append("<h2>Newest hits</h2>");
        if (lastRescan is null)
        {
            body.Append("<p class=\"error\">No rescan has run yet, so no hits are known. Run <code>tollgate inventory rescan</code> or POST <code>/api/v1/rescan</code>; the server also rescans when its advisory database changes.</p>");
        }
        else
        {
            body.Append("<p>Last rescan ").Append(Time(lastRescan.At)).Append(" UTC. Found in the last <a href=\"/hits?since=24h\">24 hours</a> · <a href=\"/hits?since=7d\">7 days</a> · <a href=\"/hits\">all ").Append(newest.Total).Append(" hits</a>.</p>");
            body.Append(HitsTable(newest.Hits, "The 10 hits found most recently", withDeployment: true));
        }
        from = Math.Clamp(from, 0, Math.Max(0, deployments.Count - 1));
        body.Append("<h2>Deployments (").Append(deployments.Count).Append(")</h2>");
        if (deployments.Count > PageSize)
        {
            body.Append("<p>Shown: ").Append(from + 1).Append('–').Append(Math.Min(deployments.Count, from + PageSize)).Append(" of ").Append(deployments.Count).Append(", most affected first.</p>");
        }
        body.Append("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Table, scrolls sideways\"><table><caption>Every deployment with its current SBOM and its hits as of the last rescan, most malicious, critical and high first</caption><thead><tr><th scope=\"col\">Deployment</th><th scope=\"col\">Environment</th><th scope=\"col\">Version</th><th scope=\"col\">Components</th><th scope=\"col\">Malicious</th><th scope=\"col\">Critical</th><th scope=\"col\">High</th><th scope=\"col\">Last SBOM (UTC)</th></tr></thead><tbody>");
        var none = new HitCounts(0, 0, 0, 0, null);
        var rows = deployments.Select(d => (d, Counts: counts.GetValueOrDefault(d.Deployment, none)))
            .OrderByDescending(x => x.Counts.Malicious).ThenByDescending(x => x.Counts.Critical).ThenByDescending(x => x.Counts.High)
            .ThenByDescending(x => x.d.AddedAt).ThenBy(x => x.d.Deployment, StringComparer.Ordinal).Skip(from).Take(PageSize);
        foreach (var (d, c) in rows)
        {
            body.Append("<tr><td>").Append(DeploymentLink(d.Deployment)).Append("</td><td>").Append(HtmlEncode(d.Environment ?? "")).Append("</td><td>")
                .Append(HtmlEncode(d.Version ?? "")).Append("</td><td class=\"num\">").Append(d.ComponentCount.ToString(CultureInfo.InvariantCulture)).Append("</td>");
            if (unchecked_.Contains(d.Deployment))
            {
                body.Append("<td colspan=\"3\" class=\"unchecked\">not checked yet</td>");
            }
            else
            {
                body.Append(CountCell(c.Malicious, "bad")).Append(CountCell(c.Critical, "bad")).Append(CountCell(c.High, "warn"));
            }
            body.Append("<td>").Append(Time(d.AddedAt)).Append("</td></tr>");
        }
        body.Append("</tbody></table></div>");
        var pages = new StringBuilder();
        if (from > 0)
        {
            pages.Append("<a href=\"/?from=").Append(Math.Max(0, from - PageSize)).Append("\">Previous ").Append(PageSize).Append("</a> ");
        }
        if (from + PageSize < deployments.Count)
        {
            pages.Append("<a href=\"/?from=").Append(from + PageSize).Append("\">Next ").Append(PageSize).Append(" deployments</a>");
        }
        if (pages.Length > 0)
        {
            body.Append("<p>").Append(pages).Append("</p>");
        }
        if (deployments.Count == 0)
        {
            body.Append("<p>No SBOM has been uploaded yet. Upload one with <code>tollgate inventory add sbom.cdx.json --deployment NAME --server URL --token-file FILE</code>.</p>");
        }
        return Page(string.IsNullOrWhiteSpace(query) ? "Fleet" : $"Affected by {query}", body.ToString());
    }

    private IResult Deployment(string deployment, string? filter, long? snapshotId)
    {
        using var store = api.Open();
        var history = store.History(deployment);
        var snapshot = snapshotId is { } id ? history.FirstOrDefault(h => h.Id == id) : history.FirstOrDefault(h => h.Current);
        if (snapshot is null)
        {
            return Page("Not found", $"<h1>Not found</h1><p>No deployment named {HtmlEncode(deployment)}{(snapshotId is null ? "" : $" with snapshot {snapshotId}")}. <a href=\"/\">Back to the fleet</a>.</p>", StatusCodes.Status404NotFound);
        }
        var components = store.Components(snapshot.Id);
        var shown = string.IsNullOrWhiteSpace(filter) ? components
            : [.. components.Where(c => c.Name.Contains(filter.Trim(), StringComparison.OrdinalIgnoreCase) || c.Purl.Contains(filter.Trim(), StringComparison.OrdinalIgnoreCase))];
        var enc = UrlEncode(deployment);
        var body = new StringBuilder();
        body.Append("<p><a href=\"/\">Fleet</a> › ").Append(HtmlEncode(deployment)).Append("</p>");
        body.Append("<h1>").Append(HtmlEncode(deployment)).Append("</h1>");
        body.Append("<p>Snapshot ").Append(snapshot.Id).Append(snapshot.Current ? " (current)" : "").Append(", version ").Append(HtmlEncode(snapshot.Version ?? "—"))
            .Append(", environment ").Append(HtmlEncode(snapshot.Environment ?? "—")).Append(", recorded ").Append(Time(snapshot.AddedAt)).Append(", ")
            .Append(snapshot.ComponentCount).Append(" components.</p>");
        body.Append("<p>Download this SBOM: <a href=\"/deployments/").Append(enc).Append("/sbom?snapshot=").Append(snapshot.Id).Append("&amp;format=cyclonedx\" download>CycloneDX</a> · ")
            .Append("<a href=\"/deployments/").Append(enc).Append("/sbom?snapshot=").Append(snapshot.Id).Append("&amp;format=spdx\" download>SPDX</a></p>");

        if (snapshot.Current)
        {
            body.Append("<h2>Findings</h2>");
            if (store.UncheckedDeployments().Contains(deployment))
            {
                body.Append("<p class=\"unchecked\">This snapshot has not been matched against the advisory database yet: its findings are not known. The next rescan matches it.</p>");
            }
            else
            {
                var findings = store.Hits(null, deployment, Paging.All);
                body.Append(findings.Total == 0 ? "<p>No known advisory hits this deployment as of the last rescan.</p>"
                    : HitsTable(findings.Hits, "Advisory hits in the current snapshot, newest found first, with the version that fixes each", withDeployment: false));
            }
        }
        body.Append("<h2>Snapshots</h2><div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Table, scrolls sideways\"><table><caption>SBOMs recorded for this deployment, newest first</caption><thead><tr><th scope=\"col\">Snapshot</th><th scope=\"col\">Version</th><th scope=\"col\">Environment</th><th scope=\"col\">Components</th><th scope=\"col\">Recorded (UTC)</th></tr></thead><tbody>");
        foreach (var h in history)
        {
            body.Append("<tr><td><a href=\"/deployments/").Append(enc).Append("?snapshot=").Append(h.Id).Append("\">").Append(h.Id).Append("</a>").Append(h.Current ? " (current)" : "").Append("</td><td>")
                .Append(HtmlEncode(h.Version ?? "")).Append("</td><td>").Append(HtmlEncode(h.Environment ?? "")).Append("</td><td class=\"num\">").Append(h.ComponentCount).Append("</td><td>")
                .Append(Time(h.AddedAt)).Append("</td></tr>");
        }
        body.Append("</tbody></table></div>");
        if (history.Count > 1)
        {
            body.Append("<form method=\"get\" action=\"/deployments/").Append(enc).Append("/diff\" class=\"diff\"><fieldset><legend>Compare two snapshots</legend>")
                .Append(SnapshotSelect("old", "Old", history, history[1].Id)).Append(' ').Append(SnapshotSelect("new", "New", history, history[0].Id))
                .Append(" <button type=\"submit\">Show the differences</button></fieldset></form>");
        }

        body.Append("<h2>Components</h2><form method=\"get\" action=\"/deployments/").Append(enc).Append("\">")
            .Append("<input type=\"hidden\" name=\"snapshot\" value=\"").Append(snapshot.Id).Append("\">")
            .Append("<label for=\"filter\">Filter by name or purl</label> <input id=\"filter\" name=\"filter\" type=\"search\" value=\"").Append(HtmlEncode(filter ?? "")).Append("\"> ")
            .Append("<button type=\"submit\">Filter</button></form>");
        body.Append("<p>").Append(shown.Count).Append(" of ").Append(components.Count).Append(" components shown.</p>");
        body.Append("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Table, scrolls sideways\"><table><caption>Components of snapshot ").Append(snapshot.Id).Append("</caption><thead><tr><th scope=\"col\">Ecosystem</th><th scope=\"col\">Package</th><th scope=\"col\">Version</th><th scope=\"col\">Direct</th><th scope=\"col\">Purl</th></tr></thead><tbody>");
        foreach (var c in shown)
        {
            body.Append("<tr><td>").Append(c.Ecosystem.ToOsvName()).Append("</td><td>").Append(HtmlEncode(c.Name)).Append("</td><td>").Append(HtmlEncode(c.Version)).Append("</td><td>")
                .Append(c.Direct ? "direct" : "").Append("</td><td class=\"path\">").Append(HtmlEncode(c.Purl)).Append("</td></tr>");
        }
        body.Append("</tbody></table></div>");
        return Page(deployment, body.ToString());
    }

    private static string SnapshotSelect(string name, string label, IReadOnlyList<DeploymentSnapshot> history, long selected)
    {
        var sb = new StringBuilder();
        sb.Append("<label for=\"").Append(name).Append("\">").Append(label).Append("</label> <select id=\"").Append(name).Append("\" name=\"").Append(name).Append("\">");
        foreach (var h in history)
        {
            sb.Append("<option value=\"").Append(h.Id).Append('"').Append(h.Id == selected ? " selected" : "").Append('>')
                .Append(h.Id).Append(" — ").Append(HtmlEncode(h.Version ?? "")).Append(' ').Append(Time(h.AddedAt)).Append("</option>");
        }
        return sb.Append("</select>").ToString();
    }

    private IResult Diff(string deployment, long oldId, long newId)
    {
        var changes = api.Diff(deployment, oldId, newId);
        if (changes is null)
        {
            return Page("Not found", $"<h1>Not found</h1><p>Deployment {HtmlEncode(deployment)} has no snapshots {oldId} and {newId}. <a href=\"/deployments/{UrlEncode(deployment)}\">Back</a>.</p>", StatusCodes.Status404NotFound);
        }
        var body = new StringBuilder();
        body.Append("<p><a href=\"/\">Fleet</a> › <a href=\"/deployments/").Append(UrlEncode(deployment)).Append("\">").Append(HtmlEncode(deployment)).Append("</a> › diff</p>");
        body.Append("<h1>").Append(HtmlEncode(deployment)).Append(": snapshot ").Append(oldId).Append(" → ").Append(newId).Append("</h1>");
        body.Append("<p>").Append(changes.Value.Length).Append(" change(s).</p>");
        body.Append("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Table, scrolls sideways\"><table><caption>Packages added, removed, upgraded or downgraded</caption><thead><tr><th scope=\"col\">Change</th><th scope=\"col\">Ecosystem</th><th scope=\"col\">Package</th><th scope=\"col\">Old</th><th scope=\"col\">New</th></tr></thead><tbody>");
        foreach (var c in changes.Value)
        {
            body.Append("<tr><td>").Append(c.Kind.ToString().ToLowerInvariant()).Append("</td><td>").Append(c.Ecosystem.ToOsvName()).Append("</td><td>").Append(HtmlEncode(c.Name))
                .Append("</td><td>").Append(HtmlEncode(string.Join(", ", c.OldVersions))).Append("</td><td>").Append(HtmlEncode(string.Join(", ", c.NewVersions))).Append("</td></tr>");
        }
        body.Append("</tbody></table></div>");
        return Page($"{deployment}: diff", body.ToString());
    }

    private IResult Sbom(string deployment, long? snapshotId, string? format)
    {
        using var store = api.Open();
        var history = store.History(deployment);
        var snapshot = snapshotId is { } id ? history.FirstOrDefault(h => h.Id == id) : history.FirstOrDefault(h => h.Current);
        if (snapshot is null || format is not ("cyclonedx" or "spdx"))
        {
            return Results.Text(snapshot is null ? $"no deployment {deployment} with that snapshot" : "format is cyclonedx or spdx", "text/plain", statusCode: snapshot is null ? 404 : 400);
        }
        var graph = InventoryApi.Graph(store.Components(snapshot.Id));
        var kind = format == "spdx" ? SbomFormat.Spdx : SbomFormat.CycloneDx;
        var sbomOptions = new SbomOptions(SbomOptions.DefaultVersion(kind), snapshot.AddedAt, false, InventoryApi.ToolVersion, deployment);
        var text = kind == SbomFormat.Spdx ? SpdxWriter.Write(graph, sbomOptions) : CycloneDxWriter.Write(graph, sbomOptions);
        var safe = new string([.. deployment.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_')]);
        return Results.File(Encoding.UTF8.GetBytes(text), "application/json", $"{safe}-{snapshot.Id}.{(kind == SbomFormat.Spdx ? "spdx" : "cdx")}.json");
    }

    /// <summary>Verdicts in the order the chart stacks them, with colours that keep 3:1 contrast against white.</summary>
    private static readonly (string Verdict, string Colour, string Label)[] Verdicts =
    [
        ("allowed", "#2e7d32", "allowed"), ("warned", "#8a6d00", "warned"), ("hidden", "#6a4c93", "hidden (too young)"),
        ("blocked", "#b00020", "blocked"), ("refused", "#5f6368", "refused"), ("published", "#0b57a4", "published"),
    ];

    private const int FeedDays = 30;

    private IResult Feed(string? ecosystem)
    {
        if (options.FeedStorage is null)
        {
            return Page("Feed", "<h1>Feed</h1><p>This server was started without a feed: give <code>--feed-config</code> (the file <code>tollgate feed serve</code> reads) to see its decisions here.</p>", StatusCodes.Status404NotFound);
        }
        var path = Path.Combine(options.FeedStorage, Feeds.Npm.FeedAuditLog.FileName);
        if (options.FeedState is null && !File.Exists(path))
        {
            return Page("Feed", $"<h1>Feed</h1><p>No audit log yet at {HtmlEncode(path)}: the feed has not decided anything.</p>");
        }
        using var log = Feeds.Npm.FeedAuditLog.Open(options.FeedStorage, readOnly: true, state: options.FeedState);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var first = today.AddDays(-(FeedDays - 1));
        var counts = log.DailyCounts(new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), ecosystem);
        var top = log.TopRefused(15, ecosystem);
        var newest = log.Query(new Feeds.Npm.AuditQuery { BlockedOnly = true, Ecosystem = ecosystem, Limit = 25 }).Reverse().ToList();

        var body = new StringBuilder();
        body.Append("<h1>Feed</h1>");
        body.Append("<nav aria-label=\"Ecosystem\"><p>Ecosystem: ");
        body.Append(ecosystem is null ? "<strong aria-current=\"page\">all</strong> " : "<a href=\"/feed\">all</a> ");
        foreach (var choice in EcosystemNames.Registries)
        {
            var label = choice.ToOsvName();
            body.Append(string.Equals(label, ecosystem, StringComparison.OrdinalIgnoreCase) ? $"<strong aria-current=\"page\">{label}</strong> " : $"<a href=\"/feed?ecosystem={label}\">{label}</a> ");
        }
        body.Append("</p></nav>");

        body.Append("<h2>Decisions per day, last ").Append(FeedDays).Append(" days</h2>");
        body.Append(Chart(counts, first, today));

        body.Append("<h2>Most refused packages</h2>");
        if (top.IsEmpty)
        {
            body.Append("<p>Nothing refused.</p>");
        }
        else
        {
            body.Append("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Most refused packages, scrolls sideways\"><table><caption>Packages by requests refused (blocked, hidden or refused), with the rules and advisories that refused them</caption><thead><tr><th scope=\"col\">Package</th><th scope=\"col\">Ecosystem</th><th scope=\"col\">Requests refused</th><th scope=\"col\">Rules and advisories</th></tr></thead><tbody>");
            foreach (var t in top)
            {
                body.Append("<tr><td>").Append(HtmlEncode(t.Package)).Append("</td><td>").Append(t.Ecosystem).Append("</td><td class=\"num\">")
                    .Append(t.Requests.ToString("N0", CultureInfo.InvariantCulture)).Append("</td><td>").Append(HtmlEncode(string.Join(", ", t.Rules))).Append("</td></tr>");
            }
            body.Append("</tbody></table></div>");
        }

        body.Append("<h2>Newest refusals</h2>");
        if (newest.Count == 0)
        {
            body.Append("<p>Nothing refused.</p>");
        }
        else
        {
            body.Append("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Newest refusals, scrolls sideways\"><table><caption>The latest refusals, newest first, with the reason the feed gave</caption><thead><tr><th scope=\"col\">Last seen (UTC)</th><th scope=\"col\">Package</th><th scope=\"col\">Version</th><th scope=\"col\">Verdict</th><th scope=\"col\">Rule</th><th scope=\"col\">Reason</th></tr></thead><tbody>");
            foreach (var e in newest)
            {
                body.Append("<tr><td>").Append(Time(e.LastSeen)).Append("</td><td>").Append(HtmlEncode(e.Package)).Append("</td><td>").Append(HtmlEncode(e.Version ?? ""))
                    .Append("</td><td>").Append(HtmlEncode(e.Verdict)).Append(e.DryRun ? " (dry-run)" : "").Append("</td><td>").Append(HtmlEncode(e.Rule ?? ""))
                    .Append("</td><td>").Append(HtmlEncode(e.Message)).Append("</td></tr>");
            }
            body.Append("</tbody></table></div>");
        }
        return Page("Feed", body.ToString());
    }

    /// <summary>A stacked bar per day, drawn as SVG on the server, with the same numbers in a table for screen readers and for copying.</summary>
    private static string Chart(IReadOnlyList<Feeds.Npm.AuditDayCount> counts, DateOnly first, DateOnly last)
    {
        var days = Enumerable.Range(0, last.DayNumber - first.DayNumber + 1).Select(first.AddDays).ToList();
        var byDay = days.ToDictionary(d => d, d => Verdicts.Select(v => counts.Where(c => c.Day == d && c.Verdict == v.Verdict).Sum(c => c.Count)).ToArray());
        var max = Math.Max(1, byDay.Values.Max(v => v.Sum()));
        const int width = 900, height = 240, left = 48, bottom = 28, top = 10;
        var barWidth = (width - left - 10) / (double)days.Count;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<figure><svg role=\"img\" aria-labelledby=\"chart-title\" viewBox=\"0 0 {width} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\">");
        svg.Append("<title id=\"chart-title\">Feed decisions per day by verdict; the table below has the same numbers</title>");
        var plot = height - bottom - top;
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top + plot}\" x2=\"{width - 5}\" y2=\"{top + plot}\" stroke=\"#555\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{top + 10}\" text-anchor=\"end\" font-size=\"12\" fill=\"#1a1a1a\">{max:N0}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{top + plot}\" text-anchor=\"end\" font-size=\"12\" fill=\"#1a1a1a\">0</text>");
        for (var i = 0; i < days.Count; i++)
        {
            var x = left + i * barWidth;
            double y = top + plot;
            var values = byDay[days[i]];
            for (var v = 0; v < Verdicts.Length; v++)
            {
                if (values[v] == 0)
                {
                    continue;
                }
                var h = plot * values[v] / (double)max;
                y -= h;
                svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar\" data-verdict=\"{Verdicts[v].Verdict}\" x=\"{x + 1:F1}\" y=\"{y:F1}\" width=\"{Math.Max(1, barWidth - 2):F1}\" height=\"{h:F1}\" fill=\"{Verdicts[v].Colour}\"><title>{days[i]:yyyy-MM-dd}: {values[v]:N0} {Verdicts[v].Label}</title></rect>");
            }
            if (i % 5 == 0 || i == days.Count - 1)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + barWidth / 2:F1}\" y=\"{height - 8}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#1a1a1a\">{days[i]:MM-dd}</text>");
            }
        }
        svg.Append("</svg><figcaption>");
        foreach (var (verdict, colour, label) in Verdicts)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<span class=\"key\"><svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"{colour}\"/></svg> {label}</span> ");
        }
        svg.Append("</figcaption></figure>");
        svg.Append("<details><summary>The numbers behind the chart</summary><div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Decisions per day, scrolls sideways\"><table><caption>Decisions per day (UTC) by verdict: each decision on the day it was first made, each refused download or publish on its day</caption><thead><tr><th scope=\"col\">Day</th>");
        foreach (var (_, _, label) in Verdicts)
        {
            svg.Append("<th scope=\"col\">").Append(label).Append("</th>");
        }
        svg.Append("</tr></thead><tbody>");
        foreach (var day in days.Where(d => byDay[d].Sum() > 0))
        {
            svg.Append("<tr><th scope=\"row\">").Append(day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append("</th>");
            foreach (var value in byDay[day])
            {
                svg.Append("<td class=\"num\">").Append(value.ToString("N0", CultureInfo.InvariantCulture)).Append("</td>");
            }
            svg.Append("</tr>");
        }
        svg.Append("</tbody></table></div></details>");
        return svg.ToString();
    }

    private IResult HitsPage(string? since, int offset)
    {
        using var store = api.Open();
        var body = new StringBuilder("<p><a href=\"/\">Fleet</a> › Hits</p><h1>Hits</h1>");
        body.Append("<form method=\"get\" action=\"/hits\"><label for=\"since\">Found since</label> <input id=\"since\" name=\"since\" type=\"search\" placeholder=\"24h, 7d or 2026-12-04T09:00Z\" value=\"")
            .Append(HtmlEncode(since ?? "")).Append("\"> <button type=\"submit\">Show</button></form>");
        DateTimeOffset? from = null;
        if (!string.IsNullOrWhiteSpace(since))
        {
            if (!Tollgate.Policy.PointInTime.TryParse(since, DateTimeOffset.UtcNow, out var parsed, out var error))
            {
                body.Append("<p class=\"error\" role=\"alert\">").Append(HtmlEncode(error)).Append("</p>");
                return Page("Hits", body.ToString(), StatusCodes.Status400BadRequest);
            }
            from = parsed;
        }
        var (page, last) = store.HitsAsOfLastRescan(from, null, new Paging(Math.Max(0, offset), PageSize));
        if (last is null)
        {
            body.Append("<p class=\"error\">No rescan has run yet, so no hits are known.</p>");
            return Page("Hits", body.ToString());
        }
        body.Append("<p>").Append(page.Total).Append(" hit(s)").Append(from is { } f ? $" found since {Time(f)} UTC" : "").Append("; last rescan ").Append(Time(last.At)).Append(" UTC.</p>");
        body.Append(HitsTable(page.Hits, "Advisory hits in current deployments, newest found first", withDeployment: true));
        if (page.NextOffset is { } next)
        {
            body.Append("<p><a href=\"/hits?since=").Append(UrlEncode(since ?? "")).Append("&amp;offset=").Append(next).Append("\">Next ").Append(PageSize).Append(" hits</a></p>");
        }
        return Page("Hits", body.ToString());
    }

    private static string HitsTable(IReadOnlyList<FoundHit> hits, string caption, bool withDeployment)
    {
        var html = new StringBuilder("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Table, scrolls sideways\"><table><caption>").Append(HtmlEncode(caption)).Append("</caption><thead><tr>")
            .Append("<th scope=\"col\">Found (UTC)</th>").Append(withDeployment ? "<th scope=\"col\">Deployment</th>" : "")
            .Append("<th scope=\"col\">Package</th><th scope=\"col\">Advisory</th><th scope=\"col\">Severity</th><th scope=\"col\">Fixed in</th><th scope=\"col\">Path</th></tr></thead><tbody>");
        foreach (var h in hits)
        {
            html.Append("<tr><td>").Append(Time(h.FoundAt)).Append("</td>").Append(withDeployment ? "<td>" + DeploymentLink(h.Hit.Deployment) + "</td>" : "")
                .Append("<td>").Append(HtmlEncode($"{h.Hit.Component.Name}@{h.Hit.Component.Version}")).Append("</td><td>").Append(HtmlEncode(h.AdvisoryId))
                .Append(h.Finding.Summary.Length > 0 ? "<br><small>" + HtmlEncode(h.Finding.Summary) + "</small>" : "").Append("</td><td>")
                .Append(h.Finding.Malicious ? "<strong class=\"bad\">malicious</strong>" : HtmlEncode(h.Finding.Severity.ToName())).Append("</td><td>")
                .Append(HtmlEncode(h.Finding.FixedIn ?? (h.Finding.Malicious ? "remove it" : "no fix known"))).Append("</td><td class=\"path\">")
                .Append(HtmlEncode(string.Join(" › ", h.Hit.Path))).Append("</td></tr>");
        }
        return html.Append("</tbody></table></div>").ToString();
    }

    private static string CountCell(int count, string cls) =>
        count == 0 ? "<td class=\"num\">0</td>" : $"<td class=\"num {cls}\"><strong>{count.ToString(CultureInfo.InvariantCulture)}</strong></td>";

    private static string DeploymentLink(string deployment) =>
        $"<a href=\"/deployments/{UrlEncode(deployment)}\">{HtmlEncode(deployment)}</a>";

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private IResult Page(string title, string body, int status = StatusCodes.Status200OK)
    {
        var html = $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{HtmlEncode(title)}} · Tollgate</title>
            <link rel="icon" href="data:,">
            <style>{{Style}}</style>
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            <header><nav aria-label="Main"><a href="/">Tollgate inventory</a> <a href="/hits?since=24h">Hits</a> {{(options.FeedStorage is null ? "" : "<a href=\"/feed\">Feed</a> ")}}<a href="/openapi/v1.json">API</a></nav></header>
            <main id="main">
            {{body}}
            </main>
            <footer><p>{{(options.AllowAnonymousRead ? "Read access without a token is enabled on this server." : "")}} Tollgate {{HtmlEncode(InventoryApi.ToolVersion)}}</p></footer>
            </body>
            </html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    // Colours meet WCAG AA contrast (4.5:1 or more) on their backgrounds; focus is always visible.
    private const string Style = """
        :root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff;line-height:1.45}
        body{margin:0 auto;max-width:1400px;padding:0 1rem 2rem}
        header{border-bottom:1px solid #ccc;padding:.6rem 0;margin-bottom:1rem}
        nav a{margin-right:1rem;font-weight:600}
        a{color:#0b57a4}
        a:focus,button:focus,input:focus,select:focus{outline:3px solid #b35c00;outline-offset:2px}
        .skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.3rem}
        h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:1.6rem}
        form{margin:.8rem 0}input,select,button{font:inherit;padding:.35rem .5rem;border:1px solid #555;border-radius:4px}
        input[type=search]{min-width:min(28rem,100%)}button{background:#0b57a4;color:#fff;border-color:#0b57a4;cursor:pointer}
        fieldset{border:1px solid #ccc;border-radius:4px}
        .scroll{overflow-x:auto}
        table{border-collapse:collapse;width:100%;font-size:.95rem}
        caption{text-align:left;color:#444;padding:.3rem 0}
        th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
        th{background:#f2f2f2}
        td.num{text-align:right}td.path{word-break:break-all}
        .error{color:#a00000;font-weight:600}.bad{color:#a00000}.warn{color:#7a4a00}.unchecked{color:#5f4b00;font-style:italic}
        figure{margin:0}.key{margin-right:1rem;white-space:nowrap}
        footer{margin-top:2rem;color:#444;font-size:.9rem}
        @media (max-width:600px){body{padding:0 .5rem}th,td{padding:.3rem}input[type=search]{min-width:0;width:100%}}
        """;
}
