using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Graph;

namespace Tollgate.Updates;

/// <summary>The update plan as JSON (for machines) and as Markdown (a ready pull-request body).</summary>
public static class UpdateReport
{
    /// <summary>Marker lines a CI step can look for in the Markdown: the plan's overall auto-merge verdict.</summary>
    public const string AutomergeYes = "<!-- tollgate-automerge: true -->";
    public const string AutomergeNo = "<!-- tollgate-automerge: false -->";

    /// <summary>True when there is at least one proposal and every proposal may be auto-merged, and the plan is complete.</summary>
    public static bool MayAutomerge(UpdatePlan plan) =>
        plan.Problems.IsEmpty && plan.Proposals.Any() && plan.Proposals.All(p => p.Automerge);

    public static string Json(UpdatePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("updates");
            foreach (var u in plan.Updates)
            {
                w.WriteStartObject();
                w.WriteString("ecosystem", u.Ecosystem.ToOsvName());
                w.WriteString("name", u.Name);
                w.WriteString("current", u.Current);
                WriteNullable(w, "range", u.Range);
                WriteNullable(w, "wanted", u.Wanted);
                WriteNullable(w, "latest", u.Latest);
                WriteNullable(w, "proposed", u.Proposed);
                w.WriteString("updateType", u.UpdateType.ToName());
                w.WriteString("kind", u.Kind.ToName());
                w.WriteStartArray("security");
                foreach (var id in u.Security)
                {
                    w.WriteStringValue(id);
                }
                w.WriteEndArray();
                w.WriteBoolean("automerge", u.Automerge);
                w.WriteStartArray("reasons");
                foreach (var reason in u.Reasons)
                {
                    w.WriteStringValue(reason);
                }
                w.WriteEndArray();
                w.WriteStartArray("signals");
                foreach (var s in u.Signals)
                {
                    w.WriteStartObject();
                    w.WriteString("id", s.Id);
                    w.WriteString("severity", s.Severity.ToName());
                    w.WriteString("message", s.Message);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                WriteNullable(w, "group", u.Group);
                WriteNullable(w, "published", u.ProposedPublished?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
                WriteNullable(w, "releaseNotes", u.ReleaseNotes);
                WriteNullable(w, "manifest", u.Declared?.File);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("transitive");
            foreach (var t in plan.Transitive)
            {
                w.WriteStartObject();
                w.WriteString("ecosystem", t.Ecosystem.ToOsvName());
                w.WriteString("name", t.Name);
                w.WriteString("current", t.Current);
                WriteNullable(w, "fixedIn", t.FixedIn);
                w.WriteStartArray("security");
                foreach (var id in t.Advisories)
                {
                    w.WriteStringValue(id);
                }
                w.WriteEndArray();
                w.WriteString("via", t.Via);
                w.WriteString("advice", t.Advice);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("groups");
            foreach (var g in plan.Groups)
            {
                w.WriteStartObject();
                w.WriteString("name", g.Name);
                w.WriteStartArray("members");
                foreach (var m in g.Members)
                {
                    w.WriteStringValue(m);
                }
                w.WriteEndArray();
                w.WriteBoolean("automerge", g.Automerge);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("summary");
            w.WriteNumber("checked", plan.Checked);
            w.WriteNumber("proposals", plan.Proposals.Count());
            w.WriteNumber("security", plan.Proposals.Count(p => p.Kind == ProposalKind.Security));
            w.WriteNumber("automergeable", plan.Proposals.Count(p => p.Automerge));
            w.WriteBoolean("automerge", MayAutomerge(plan));
            w.WriteBoolean("advisoriesChecked", plan.AdvisoriesChecked);
            w.WriteBoolean("complete", plan.Problems.IsEmpty);
            w.WriteStartArray("problems");
            foreach (var p in plan.Problems)
            {
                w.WriteStringValue(p);
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    /// <summary>A pull-request body: what changes and why, release notes, each verdict with its reasons, and the marker line.</summary>
    public static string Markdown(UpdatePlan plan, string? group = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var proposals = plan.Proposals.Where(p => group is null || p.Group == group).ToList();
        var sb = new StringBuilder();
        var security = proposals.Count(p => p.Kind == ProposalKind.Security);
        sb.Append("## Dependency updates").Append(group is null ? "" : $" ({Escape(group)})").Append("\n\n");
        if (proposals.Count == 0)
        {
            sb.Append("Nothing to update.\n\n");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $"{proposals.Count} update(s)").Append(security > 0 ? $", {security} of them security fixes" : "").Append(".\n\n");
            sb.Append("| Package | From | To | Type | Why | Auto-merge |\n|---|---|---|---|---|---|\n");
            foreach (var p in proposals)
            {
                var why = p.Kind == ProposalKind.Security ? "security: " + string.Join(", ", p.Security) : p.Kind.ToName();
                sb.Append(CultureInfo.InvariantCulture, $"| {Escape(p.Name)} ({p.Ecosystem.ToOsvName()}) | {Escape(p.Current)} | {Escape(p.Proposed!)} | {p.UpdateType.ToName()} | {Escape(why)} | {(p.Automerge ? "yes" : "**no**")} |\n");
            }
            sb.Append('\n');
            foreach (var p in proposals)
            {
                sb.Append(CultureInfo.InvariantCulture, $"### {Escape(p.Name)} {Escape(p.Current)} → {Escape(p.Proposed!)}\n\n");
                if (p.ReleaseNotes is { } notes)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"Release notes: <{notes}>\n\n");
                }
                sb.Append(p.Automerge ? "Auto-merge: **yes**\n\n" : "Auto-merge: **no**\n\n");
                foreach (var reason in p.Reasons)
                {
                    sb.Append("- ").Append(Escape(reason)).Append('\n');
                }
                sb.Append('\n');
            }
        }
        if (group is null && plan.Transitive.Length > 0)
        {
            sb.Append("### Vulnerable transitive dependencies\n\n| Package | Version | Advisories | Fixed in | What to do |\n|---|---|---|---|---|\n");
            foreach (var t in plan.Transitive)
            {
                sb.Append(CultureInfo.InvariantCulture, $"| {Escape(t.Name)} | {Escape(t.Current)} | {Escape(string.Join(", ", t.Advisories))} | {Escape(t.FixedIn ?? "none known")} | {Escape(t.Advice)} |\n");
            }
            sb.Append('\n');
        }
        if (!plan.Problems.IsEmpty)
        {
            sb.Append("### Not checked\n\n");
            foreach (var problem in plan.Problems)
            {
                sb.Append("- ").Append(Escape(problem)).Append('\n');
            }
            sb.Append('\n');
        }
        var subset = plan with { Updates = [.. plan.Updates.Where(u => group is null || u.Group == group)] };
        sb.Append(MayAutomerge(subset) ? AutomergeYes : AutomergeNo).Append('\n');
        return sb.ToString();
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);
}
