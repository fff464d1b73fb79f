using System.Collections.Immutable;
using System.Globalization;
using Tollgate.Graph;
using Tollgate.Inputs;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Policy;

/// <summary>
/// Turns the YAML tree of a policy file into a <see cref="TollgatePolicy"/>, checking every key and value and adding
/// a diagnostic for each problem instead of stopping at the first.
/// </summary>
internal sealed class PolicyYamlReader(string file, DiagnosticBag diagnostics, IReadOnlyCollection<string>? knownRuleIds)
{
    internal static readonly string[] RootKeys =
    [
        "failOn", "malicious", "rules", "registries", "private", "installScripts", "minimumReleaseAge",
        "minimumReleaseAgeExclude", "deny", "allow", "maxDatabaseAge", "missingAdvisories", "ignore", "automerge",
    ];
    private static readonly string[] UpdateTypes = ["patch", "minor", "major"];
    private static readonly string[] RegistryKeys = ["approved"];
    private static readonly string[] InstallScriptKeys = ["allow", "network"];
    private static readonly string[] NetworkChoices = ["deny", "allow"];
    private static readonly string[] IgnoreKeys = ["id", "package", "reason", "owner", "expires"];
    private static readonly string[] Severities = ["none", "low", "medium", "high", "critical"];
    private static readonly string[] MaliciousActions = ["fail", "warn"];
    private static readonly string[] MissingAdvisoriesActions = ["error", "warn"];
    private static readonly string[] RuleLevels = ["off", "info", "warn", "fail"];

    public TollgatePolicy Read(YamlStream stream)
    {
        var policy = TollgatePolicy.Default;
        if (stream.Documents.Count == 0)
        {
            return policy;
        }
        if (stream.Documents.Count > 1)
        {
            Error(stream.Documents[1].RootNode, "the policy file holds more than one YAML document",
                "keep one document: remove the '---' separator and what follows it, or merge the two");
        }
        var root = stream.Documents[0].RootNode;
        if (IsNull(root))
        {
            return policy;
        }
        if (root is not YamlMappingNode map)
        {
            Error(root, $"the policy is {Describe(root)}; expected a mapping of settings", "start with a line such as 'failOn: high'");
            return policy;
        }
        foreach (var (key, value) in Entries(map, "the policy", RootKeys))
        {
            switch (key)
            {
                case "failOn":
                    if (ReadChoice(value, key, Severities, "a severity") is { } severity && SeverityNames.TryParse(severity, out var failOn))
                    {
                        policy = policy with { FailOn = failOn };
                    }
                    break;
                case "malicious":
                    if (ReadChoice(value, key, MaliciousActions, "an action") is { } action)
                    {
                        policy = policy with { Malicious = action == "warn" ? MaliciousAction.Warn : MaliciousAction.Fail };
                    }
                    break;
                case "rules":
                    policy = policy with { Rules = ReadRules(value) };
                    break;
                case "registries":
                    policy = policy with { Registries = ReadRegistries(value) };
                    break;
                case "private":
                    policy = policy with { Private = ReadPatterns(value, key) };
                    break;
                case "installScripts":
                    policy = policy with { InstallScripts = ReadInstallScripts(value) };
                    break;
                case "minimumReleaseAge":
                    if (ReadDuration(value, key) is { } age)
                    {
                        policy = policy with { MinimumReleaseAge = age };
                    }
                    break;
                case "minimumReleaseAgeExclude":
                    policy = policy with { MinimumReleaseAgeExclude = ReadPatterns(value, key) };
                    break;
                case "deny":
                    policy = policy with { Deny = ReadPatterns(value, key) };
                    break;
                case "allow":
                    policy = policy with { Allow = ReadPatterns(value, key) };
                    break;
                case "maxDatabaseAge":
                    if (ReadDuration(value, key) is { } dbAge)
                    {
                        policy = policy with { MaxDatabaseAge = dbAge };
                    }
                    break;
                case "missingAdvisories":
                    if (ReadChoice(value, key, MissingAdvisoriesActions, "an action") is { } missing)
                    {
                        policy = policy with { MissingAdvisories = missing == "warn" ? MissingAdvisoriesAction.Warn : MissingAdvisoriesAction.Error };
                    }
                    break;
                case "ignore":
                    policy = policy with { Ignore = ReadIgnores(value) };
                    break;
                case "automerge":
                    policy = policy with { Automerge = [.. Items(value, key, "patch, minor").Select(i => ReadChoice(i, key, UpdateTypes, "an update type")).OfType<string>().Distinct()] };
                    break;
            }
        }
        return policy;
    }

    /// <summary>
    /// The known keys of a mapping with their values, in order. Unknown keys (with a suggestion) and keys that are not
    /// plain text are reported and skipped. (The YAML parser itself rejects repeated keys.)
    /// </summary>
    private List<(string Key, YamlNode Value)> Entries(YamlMappingNode map, string where, string[] known)
    {
        var result = new List<(string, YamlNode)>();
        foreach (var (keyNode, value) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } || IsNull(keyNode))
            {
                Error(keyNode, $"a key in {where} is {Describe(keyNode)}; expected a name", "keys are plain words such as " + Quote(known[0]));
                continue;
            }
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                var suggestion = Suggestions.Closest(key, known);
                Error(keyNode, $"unknown key '{key}' in {where}",
                    suggestion is not null ? $"did you mean '{suggestion}'?" : "known keys: " + string.Join(", ", known));
                continue;
            }
            result.Add((key, value));
        }
        return result;
    }

    private string? ReadChoice(YamlNode node, string key, string[] choices, string what)
    {
        if (node is not YamlScalarNode scalar || IsNull(node))
        {
            Error(node, $"'{key}' is {Describe(node)}; expected {what}: {string.Join(", ", choices)}", $"for example '{key}: {choices[^1]}'");
            return null;
        }
        var value = scalar.Value!.Trim();
        var match = choices.FirstOrDefault(c => string.Equals(c, value, StringComparison.OrdinalIgnoreCase))
            ?? (key == "failOn" && string.Equals(value, "moderate", StringComparison.OrdinalIgnoreCase) ? "medium" : null);
        if (match is null)
        {
            var suggestion = Suggestions.Closest(value, choices);
            Error(node, $"'{key}' is '{value}'; expected {what}: {string.Join(", ", choices)}",
                suggestion is not null ? $"did you mean '{suggestion}'?" : null);
        }
        return match;
    }

    private TimeSpan? ReadDuration(YamlNode node, string key)
    {
        if (node is not YamlScalarNode scalar || IsNull(node))
        {
            Error(node, $"'{key}' is {Describe(node)}; expected a duration such as 72h, 3d, 30m, 1w or P3D", "write 0 to turn the check off");
            return null;
        }
        if (!PolicyDuration.TryParse(scalar.Value, out var duration, out var error))
        {
            Error(node, $"'{key}': {error}", "a duration is a number and a unit: 30m, 72h, 3d, 1w, or ISO 8601 such as P3D");
            return null;
        }
        return duration;
    }

    private ImmutableSortedDictionary<string, RuleLevel> ReadRules(YamlNode node)
    {
        var rules = ImmutableSortedDictionary.CreateBuilder<string, RuleLevel>(StringComparer.OrdinalIgnoreCase);
        if (IsNull(node))
        {
            return rules.ToImmutable();
        }
        if (node is not YamlMappingNode map)
        {
            Error(node, $"'rules' is {Describe(node)}; expected a mapping of rule ids to levels", "for example 'rules: { TG1001: warn }'");
            return rules.ToImmutable();
        }
        var seen = new Dictionary<string, YamlNode>(StringComparer.OrdinalIgnoreCase);
        foreach (var (keyNode, value) in map.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } raw } || IsNull(keyNode))
            {
                Error(keyNode, $"a key in 'rules' is {Describe(keyNode)}; expected a rule id such as TG1001", null);
                continue;
            }
            var id = raw.Trim().ToUpperInvariant();
            if (!IsRuleId(id))
            {
                Error(keyNode, $"'{raw}' is not a rule id; expected TG1 to TG5 followed by three digits, such as TG1001",
                    id.StartsWith("TG0", StringComparison.Ordinal)
                        ? "TG0xxx ids are input diagnostics and cannot be turned off here"
                        : "rule ids are listed in docs/rules.md");
                continue;
            }
            if (!seen.TryAdd(id, keyNode))
            {
                Error(keyNode, $"rule {id} is set twice in 'rules' (first on line {seen[id].Start.Line})", "keep one of them");
                continue;
            }
            if (knownRuleIds is not null && !knownRuleIds.Contains(id, StringComparer.OrdinalIgnoreCase))
            {
                var suggestion = Suggestions.Closest(id, knownRuleIds);
                Warning(keyNode, $"rule {id} is not known to this version of Tollgate; its level has no effect",
                    suggestion is not null ? $"did you mean '{suggestion}'?" : "rule ids are listed in docs/rules.md");
            }
            if (ReadChoice(value, id, RuleLevels, "a level") is { } level && RuleLevelNames.TryParse(level, out var parsed))
            {
                rules[id] = parsed;
            }
        }
        return rules.ToImmutable();
    }

    /// <summary>True for TG1 (dependency rules), TG2 (MCP configuration rules), TG3 or TG4 (registry and update-bot rules) or TG5 (package-manager client configuration rules) followed by exactly three digits.</summary>
    internal static bool IsRuleId(string id) =>
        id.Length == 6 && id.StartsWith("TG", StringComparison.OrdinalIgnoreCase) && id[2] is >= '1' and <= '5'
        && id[3..].All(char.IsAsciiDigit);

    private RegistryPolicy ReadRegistries(YamlNode node)
    {
        if (IsNull(node))
        {
            return RegistryPolicy.Empty;
        }
        if (node is not YamlMappingNode map)
        {
            Error(node, $"'registries' is {Describe(node)}; expected a mapping with 'approved'", "for example 'registries: { approved: [ \"https://artifacts.example.com/npm/\" ] }'");
            return RegistryPolicy.Empty;
        }
        var approved = ImmutableArray.CreateBuilder<Uri>();
        foreach (var (_, value) in Entries(map, "'registries'", RegistryKeys))
        {
            foreach (var item in Items(value, "registries.approved", "\"https://artifacts.example.com/npm/\""))
            {
                if (ReadString(item, "a registry URL") is not { } text)
                {
                    continue;
                }
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                {
                    Error(item, $"'{text}' is not a registry URL; expected an absolute http or https URL", "for example https://artifacts.example.com/npm/");
                    continue;
                }
                if (uri.UserInfo.Length > 0)
                {
                    Error(item, "the registry URL contains credentials", "list the URL without user name or password; credentials belong in the package manager's own configuration");
                    continue;
                }
                if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
                {
                    Error(item, $"'{text}' has a query or fragment; expected a base URL", "list the URL packages are fetched under, e.g. https://artifacts.example.com/npm/");
                    continue;
                }
                approved.Add(uri);
            }
        }
        return new RegistryPolicy { Approved = approved.ToImmutable() };
    }

    private InstallScriptPolicy ReadInstallScripts(YamlNode node)
    {
        if (IsNull(node))
        {
            return InstallScriptPolicy.Empty;
        }
        if (node is not YamlMappingNode map)
        {
            Error(node, $"'installScripts' is {Describe(node)}; expected a mapping with 'allow'", "for example 'installScripts: { allow: [ \"esbuild\" ] }'");
            return InstallScriptPolicy.Empty;
        }
        var policy = InstallScriptPolicy.Empty;
        foreach (var (key, value) in Entries(map, "'installScripts'", InstallScriptKeys))
        {
            if (key == "allow")
            {
                policy = policy with { Allow = ReadPatterns(value, "installScripts.allow") };
            }
            else if (ReadChoice(value, "installScripts.network", NetworkChoices, "a choice") is { } network)
            {
                policy = policy with { Network = network == "allow" ? InstallScriptNetwork.Allow : InstallScriptNetwork.Deny };
            }
        }
        return policy;
    }

    private ImmutableArray<PackagePattern> ReadPatterns(YamlNode node, string key)
    {
        var patterns = ImmutableArray.CreateBuilder<PackagePattern>();
        foreach (var item in Items(node, key, "\"@acme/*\", \"left-pad@1.3.0\""))
        {
            if (ReadPattern(item) is { } pattern)
            {
                patterns.Add(pattern);
            }
        }
        return patterns.ToImmutable();
    }

    private PackagePattern? ReadPattern(YamlNode item)
    {
        if (ReadString(item, "a package pattern") is not { } text)
        {
            return null;
        }
        if (!PackagePattern.TryParse(text, out var pattern, out var error))
        {
            Error(item, error, "a pattern is a name, a glob such as @acme/*, name@version-or-range, a name followed by PEP 440 specifiers, or a package URL: see docs/policy.md");
            return null;
        }
        return pattern with { Location = At(item) };
    }

    private ImmutableArray<IgnoreEntry> ReadIgnores(YamlNode node)
    {
        var entries = ImmutableArray.CreateBuilder<IgnoreEntry>();
        foreach (var item in Items(node, "ignore", "{ id: GHSA-xxxx-xxxx-xxxx, reason: \"…\", expires: 2026-12-31 }"))
        {
            if (item is not YamlMappingNode map)
            {
                Error(item, $"an 'ignore' entry is {Describe(item)}; expected a mapping with id, reason and expires",
                    "for example '- { id: GHSA-xxxx-xxxx-xxxx, reason: \"not reachable\", expires: 2026-12-31 }'");
                continue;
            }
            string? id = null, reason = null, owner = null;
            PackagePattern? package = null;
            DateOnly? expires = null;
            var valid = true;
            foreach (var (key, value) in Entries(map, "an 'ignore' entry", IgnoreKeys))
            {
                switch (key)
                {
                    case "id":
                        id = ReadString(value, "an advisory id, alias or rule id");
                        if (id is not null && id.StartsWith("TG", StringComparison.OrdinalIgnoreCase) && !IsRuleId(id))
                        {
                            Error(value, $"'{id}' is not a rule id; expected TG1 to TG5 followed by three digits, such as TG1001", "advisory ids look like GHSA-…, CVE-…, PYSEC-… or MAL-…");
                            id = null;
                        }
                        valid &= id is not null;
                        break;
                    case "package":
                        package = ReadPattern(value);
                        valid &= package is not null;
                        break;
                    case "reason":
                        reason = ReadString(value, "the reason the finding is acceptable");
                        valid &= reason is not null;
                        break;
                    case "owner":
                        owner = ReadString(value, "who accepted the finding");
                        valid &= owner is not null;
                        break;
                    case "expires":
                        expires = ReadDate(value);
                        valid &= expires is not null;
                        break;
                }
            }
            var present = PresentKeys(map);
            if (!present.Contains("id"))
            {
                Error(map, "an 'ignore' entry has no 'id'", "name the advisory to ignore, e.g. GHSA-…, CVE-…, PYSEC-…, MAL-…, or the rule, e.g. TG1001");
                valid = false;
            }
            if (!present.Contains("reason"))
            {
                Error(map, $"the 'ignore' entry{For(id)} has no 'reason'", "say why the finding is acceptable, e.g. reason: \"not reachable: we never call template()\"");
                valid = false;
            }
            if (!present.Contains("expires"))
            {
                Error(map, $"the 'ignore' entry{For(id)} has no 'expires'", "give the last day it applies, e.g. expires: 2026-12-31, so it is looked at again");
                valid = false;
            }
            if (valid && id is not null && reason is not null && expires is not null)
            {
                entries.Add(new IgnoreEntry
                {
                    Id = id,
                    Package = package,
                    Reason = reason,
                    Owner = owner,
                    Expires = expires.Value,
                    Location = At(map),
                });
            }
        }
        return entries.ToImmutable();

        static string For(string? id) => id is null ? "" : $" for {id}";
    }

    private static HashSet<string?> PresentKeys(YamlMappingNode map) =>
        map.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value).ToHashSet(StringComparer.Ordinal);

    private DateOnly? ReadDate(YamlNode node)
    {
        if (ReadString(node, "a date (YYYY-MM-DD)") is not { } text)
        {
            return null;
        }
        if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            Error(node, $"'expires' is '{text}'; expected a date written YYYY-MM-DD", "for example expires: 2026-12-31, the last day the entry applies");
            return null;
        }
        return date;
    }

    /// <summary>A non-empty text value, or null after reporting what was there instead.</summary>
    private string? ReadString(YamlNode node, string what)
    {
        if (node is not YamlScalarNode scalar || IsNull(node) || string.IsNullOrWhiteSpace(scalar.Value))
        {
            Error(node, $"found {Describe(node)}; expected {what}", null);
            return null;
        }
        return scalar.Value.Trim();
    }

    /// <summary>The items of a list value; null or empty gives none, anything else is reported.</summary>
    private IEnumerable<YamlNode> Items(YamlNode node, string key, string example)
    {
        if (IsNull(node))
        {
            return [];
        }
        if (node is not YamlSequenceNode sequence)
        {
            Error(node, $"'{key}' is {Describe(node)}; expected a list", $"write a list, e.g. [ {example} ]");
            return [];
        }
        return sequence.Children;
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        _ when IsNull(node) => "empty",
        YamlScalarNode s => $"'{s.Value}'",
        _ => "not a value",
    };

    private static string Quote(string text) => $"'{text}'";

    private SourceLocation At(YamlNode node) => new(file, (int)node.Start.Line, (int)node.Start.Column);

    private void Error(YamlNode node, string message, string? hint) =>
        diagnostics.Error(DiagnosticIds.PolicyInvalid, message, At(node), hint);

    private void Warning(YamlNode node, string message, string? hint) =>
        diagnostics.Warning(DiagnosticIds.PolicyInvalid, message, At(node), hint);
}
