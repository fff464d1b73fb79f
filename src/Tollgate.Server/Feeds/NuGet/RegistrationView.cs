using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.Server.Feeds.NuGet;

/// <summary>
/// A package's registration as the feed serves it: one page with every version, each catalog entry as the upstream
/// wrote it (<c>published</c>, <c>listed</c>, <c>deprecation</c>, <c>vulnerabilities</c>, dependency groups), URLs
/// pointing at the feed, and versions the policy refuses marked deprecated with the feed's reason. Refused versions
/// are kept, as in the flat container, so a client asking for one learns why it cannot have it.
/// </summary>
internal sealed class RegistrationView(string baseUrl, NuGetListing listing, ImmutableDictionary<string, VersionDecision> decisions, bool dryRun)
{
    private readonly string _lowerId = listing.Id.ToLowerInvariant();

    private string RegistrationBase => baseUrl + "v3/registration/";

    private string IndexUrl => $"{RegistrationBase}{_lowerId}/index.json";

    private string LeafUrl(NuGetListedVersion v) => $"{RegistrationBase}{_lowerId}/{v.Lower}.json";

    private string ContentUrl(NuGetListedVersion v) => $"{baseUrl}v3/flatcontainer/{_lowerId}/{v.Lower}/{_lowerId}.{v.Lower}.nupkg";

    /// <summary>The registration index, its one page inlined.</summary>
    public JsonObject Index()
    {
        var items = new JsonArray();
        foreach (var v in listing.Versions)
        {
            items.Add((JsonNode)Leaf(v));
        }
        var lower = listing.Versions.IsEmpty ? "0.0.0" : listing.Versions[0].Lower;
        var upper = listing.Versions.IsEmpty ? "0.0.0" : listing.Versions[^1].Lower;
        var page = new JsonObject
        {
            ["@id"] = $"{IndexUrl}#page/{lower}/{upper}",
            ["@type"] = "catalog:CatalogPage",
            ["count"] = listing.Versions.Length,
            ["lower"] = lower,
            ["upper"] = upper,
            ["parent"] = IndexUrl,
            ["items"] = items,
        };
        return new JsonObject
        {
            ["@id"] = IndexUrl,
            ["@type"] = new JsonArray(JsonValue.Create("catalog:CatalogRoot"), JsonValue.Create("PackageRegistration"), JsonValue.Create("catalog:Permalink")),
            ["count"] = 1,
            ["items"] = new JsonArray(page),
        };
    }

    /// <summary>The registration leaf document of one version.</summary>
    public JsonObject LeafDocument(NuGetListedVersion v)
    {
        var entry = CatalogEntry(v);
        return new JsonObject
        {
            ["@id"] = LeafUrl(v),
            ["@type"] = new JsonArray(JsonValue.Create("Package"), JsonValue.Create("http://schema.nuget.org/catalog#Permalink")),
            ["catalogEntry"] = LeafUrl(v) + "#catalogEntry",
            ["listed"] = entry["listed"]?.DeepClone() ?? JsonValue.Create(true),
            ["packageContent"] = ContentUrl(v),
            ["published"] = entry["published"]?.DeepClone(),
            ["registration"] = IndexUrl,
        };
    }

    private JsonObject Leaf(NuGetListedVersion v) => new()
    {
        ["@id"] = LeafUrl(v),
        ["@type"] = "Package",
        ["catalogEntry"] = CatalogEntry(v),
        ["packageContent"] = ContentUrl(v),
        ["registration"] = IndexUrl,
    };

    private JsonObject CatalogEntry(NuGetListedVersion v)
    {
        var entry = v.CatalogEntry is { } upstream && JsonNode.Parse(upstream.GetRawText()) is JsonObject parsed ? parsed : new JsonObject();
        // Links the upstream wrote (catalog pages, its own registrations) would send a client around the feed.
        RemoveIds(entry);
        entry["@id"] = LeafUrl(v) + "#catalogEntry";
        entry["@type"] = "PackageDetails";
        entry["id"] = listing.Id;
        entry["version"] ??= v.Version.ToFullString();
        entry["packageContent"] = ContentUrl(v);
        if (v.CatalogEntry is null)
        {
            entry["listed"] = true;
            entry["published"] = v.Published?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        }
        if (entry["dependencyGroups"] is JsonArray groups)
        {
            foreach (var dependency in groups.OfType<JsonObject>().Select(g => g["dependencies"]).OfType<JsonArray>().SelectMany(d => d.OfType<JsonObject>()))
            {
                if (dependency["id"] is JsonValue id && id.GetValueKind() == JsonValueKind.String)
                {
                    dependency["registration"] = $"{RegistrationBase}{id.GetValue<string>().ToLowerInvariant()}/index.json";
                }
            }
        }
        if (decisions.TryGetValue(v.Version.ToNormalizedString(), out var decision) && !decision.IsServed)
        {
            var reasons = new JsonArray();
            if (entry["deprecation"] is JsonObject { } old && old["reasons"] is JsonArray oldReasons)
            {
                foreach (var reason in oldReasons.OfType<JsonValue>().Where(r => r.GetValueKind() == JsonValueKind.String).Select(r => r.GetValue<string>()))
                {
                    reasons.Add((JsonNode)JsonValue.Create(reason));
                }
            }
            var refusal = decision.Verdict == FeedVerdict.Blocked ? "CriticalBugs" : "Other";
            if (!reasons.Any(r => r?.GetValue<string>() == refusal))
            {
                reasons.Add((JsonNode)JsonValue.Create(refusal));
            }
            entry["deprecation"] = new JsonObject
            {
                ["reasons"] = reasons,
                ["message"] = (dryRun ? "Served by this feed in dry-run, though its policy refuses it: " : "Refused by this feed: ") + decision.Message,
            };
        }
        return entry;
    }

    private static void RemoveIds(JsonObject node)
    {
        node.Remove("@id");
        foreach (var child in node.Select(p => p.Value).ToList())
        {
            switch (child)
            {
                case JsonObject o:
                    RemoveIds(o);
                    break;
                case JsonArray a:
                    foreach (var item in a.OfType<JsonObject>())
                    {
                        RemoveIds(item);
                    }
                    break;
            }
        }
    }
}
