using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using Tollgate.Graph;
using Tollgate.Policy;

namespace Tollgate.Server.Feeds.Npm;

/// <summary>
/// Judges every version of a packument through the feed's shared <see cref="PackageJudge"/>: this class only reads
/// what npm says about each version (its publish time, its install scripts).
/// </summary>
internal sealed class VersionJudge(PackageJudge judge)
{
    /// <summary>The rule name reported for versions younger than <see cref="TollgatePolicy.MinimumReleaseAge"/>.</summary>
    public const string MinimumReleaseAgeRule = PackageJudge.MinimumReleaseAgeRule;

    /// <summary>The install script rule (see docs/rules.md).</summary>
    public const string InstallScriptRule = PackageJudge.InstallScriptRule;

    private static readonly string[] InstallScriptNames = ["preinstall", "install", "postinstall"];

    public TollgatePolicy Policy => judge.Policy;

    /// <summary>A decision for every version in <paramref name="packument"/> (keyed by version text).</summary>
    public ImmutableDictionary<string, VersionDecision> Judge(string name, JsonObject packument)
    {
        var versions = packument["versions"] as JsonObject ?? [];
        var times = packument["time"] as JsonObject;
        var releases = new List<FeedRelease>();
        foreach (var (version, manifest) in versions)
        {
            var published = times?[version]?.GetValueKind() == System.Text.Json.JsonValueKind.String
                && DateTimeOffset.TryParse(times[version]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                ? at : (DateTimeOffset?)null;
            releases.Add(new FeedRelease(new Component
            {
                Ecosystem = Ecosystem.Npm,
                Name = name,
                Version = version,
                Purl = PackageUrl.For(Ecosystem.Npm, name, version),
            }, published, HasInstallScript(manifest as JsonObject) ? "runs an install script" : null));
        }
        return judge.Judge(releases);
    }

    /// <summary>
    /// When the decisions for <paramref name="packument"/> next change by the clock alone: the moment the next hidden
    /// version comes of age, or the next UTC midnight when the policy has ignore entries (one may expire). Null when
    /// only a new input (packument, policy, advisories) changes them.
    /// </summary>
    public DateTimeOffset? NextChange(JsonObject packument, ImmutableDictionary<string, VersionDecision> decisions)
    {
        ArgumentNullException.ThrowIfNull(packument);
        ArgumentNullException.ThrowIfNull(decisions);
        var times = packument["time"] as JsonObject;
        var published = decisions.Values
            .Select(d => times?[d.Version] is JsonValue t && t.TryGetValue<string>(out var text)
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? (d.Version, (DateTimeOffset?)at) : (d.Version, null));
        return judge.NextChange(published, decisions);
    }

    /// <summary>True when the version manifest declares an install-time script (or npm's <c>hasInstallScript</c> flag).</summary>
    internal static bool HasInstallScript(JsonObject? manifest)
    {
        if (manifest is null)
        {
            return false;
        }
        if (manifest["hasInstallScript"] is JsonValue flag && flag.GetValueKind() == System.Text.Json.JsonValueKind.True)
        {
            return true;
        }
        return manifest["scripts"] is JsonObject scripts
            && InstallScriptNames.Any(s => scripts[s] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String
                && !string.IsNullOrWhiteSpace(v.GetValue<string>()));
    }
}
