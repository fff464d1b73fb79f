using System.Text.RegularExpressions;

namespace Tollgate.Mcp;

/// <summary>A secret found in a configuration value: what kind it is and the value masked for display.</summary>
/// <param name="Kind">What the value is (<c>GitHub token</c>, <c>high-entropy value</c>…).</param>
/// <param name="Masked">The first four characters followed by <c>****</c>: the only form of a secret that is ever printed.</param>
public sealed record SecretMatch(string Kind, string Masked);

/// <summary>
/// Recognises plaintext secrets: known token formats anywhere, and long random-looking values under names that say
/// they are secrets. References the client expands (<c>${env:NAME}</c>, <c>${input:id}</c>, <c>${NAME}</c>,
/// <c>$NAME</c>, <c>%NAME%</c>) and obvious placeholders are not secrets.
/// </summary>
public static partial class SecretDetector
{
    private static readonly (string Kind, Regex Pattern)[] s_formats =
    [
        ("Anthropic API key", AnthropicKey()),
        ("GitHub token", GitHubToken()),
        ("GitHub fine-grained token", GitHubPat()),
        ("npm token", NpmToken()),
        ("AWS access key id", AwsKeyId()),
        ("Azure storage account key", AzureAccountKey()),
        ("Slack token", SlackToken()),
        ("OpenAI API key", OpenAIKey()),
    ];

    /// <summary>The masked form of a secret: its first four characters, then <c>****</c>.</summary>
    public static string Mask(string secret) => (secret.Length <= 4 ? "" : secret[..4]) + "****";

    /// <summary>A secret in <paramref name="value"/>, written under <paramref name="name"/> (an env variable, a header, an option), or null.</summary>
    public static SecretMatch? Find(string? name, string value)
    {
        if (string.IsNullOrWhiteSpace(value) || IsReference(value))
        {
            return null;
        }
        foreach (var (kind, pattern) in s_formats)
        {
            var match = pattern.Match(value);
            if (match.Success)
            {
                var token = match.Groups["secret"].Success ? match.Groups["secret"].Value : match.Value;
                return new SecretMatch(kind, Mask(token));
            }
        }
        if (name is not null && name.Equals("Authorization", StringComparison.OrdinalIgnoreCase)
            || name is not null && name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase))
        {
            var space = value.IndexOf(' ', StringComparison.Ordinal);
            var scheme = space > 0 ? value[..space] : "";
            var credential = space > 0 ? value[(space + 1)..].Trim() : value.Trim();
            if (credential.Length >= 8 && !IsReference(credential) && !IsPlaceholder(credential))
            {
                return new SecretMatch(scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) ? "bearer token" : "credential", Mask(credential));
            }
            return null;
        }
        if (name is not null && IsSecretName(name) && LooksRandom(value))
        {
            return new SecretMatch("high-entropy value", Mask(value));
        }
        return null;
    }

    /// <summary>True for names that say they hold a secret: TOKEN, SECRET, PASSWORD, API_KEY, ACCESS_KEY, PRIVATE_KEY, CREDENTIAL, AUTH.</summary>
    public static bool IsSecretName(string name)
    {
        var upper = name.ToUpperInvariant().Replace('-', '_');
        return upper.Contains("TOKEN", StringComparison.Ordinal) || upper.Contains("SECRET", StringComparison.Ordinal)
            || upper.Contains("PASSWORD", StringComparison.Ordinal) || upper.Contains("PASSWD", StringComparison.Ordinal)
            || upper.Contains("API_KEY", StringComparison.Ordinal) || upper.Contains("APIKEY", StringComparison.Ordinal)
            || upper.Contains("ACCESS_KEY", StringComparison.Ordinal) || upper.Contains("PRIVATE_KEY", StringComparison.Ordinal)
            || upper.Contains("CREDENTIAL", StringComparison.Ordinal) || upper.Contains("AUTH", StringComparison.Ordinal)
            || upper is "KEY" or "PAT" || upper.EndsWith("_KEY", StringComparison.Ordinal) || upper.EndsWith("_PAT", StringComparison.Ordinal);
    }

    /// <summary>True for values the client replaces with something else: variable and input references.</summary>
    public static bool IsReference(string value)
    {
        var v = value.Trim();
        return v.StartsWith("${", StringComparison.Ordinal) && v.EndsWith('}')
            || v.StartsWith('$') && v.Length > 1 && v[1..].All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            || v.StartsWith('%') && v.EndsWith('%') && v.Length > 2
            || v.StartsWith("{env:", StringComparison.Ordinal);
    }

    /// <summary>
    /// Long, varied and without spaces: at least 16 characters, letters and digits mixed, and at least 3 bits of
    /// Shannon entropy per character. Words, paths, URLs and placeholders fall below it.
    /// </summary>
    public static bool LooksRandom(string value)
    {
        var v = value.Trim();
        if (v.Length < 16 || v.Contains(' ', StringComparison.Ordinal) || IsPlaceholder(v)
            || v.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || v.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            || v.StartsWith('/') || v.StartsWith("./", StringComparison.Ordinal))
        {
            return false;
        }
        if (!v.Any(char.IsAsciiDigit) || !v.Any(char.IsAsciiLetter))
        {
            return false;
        }
        var counts = new Dictionary<char, int>();
        foreach (var c in v)
        {
            counts[c] = counts.GetValueOrDefault(c) + 1;
        }
        var entropy = counts.Values.Sum(n => -(double)n / v.Length * Math.Log2((double)n / v.Length));
        return entropy >= 3.0;
    }

    private static bool IsPlaceholder(string value)
    {
        var lower = value.ToLowerInvariant();
        return lower.StartsWith('<') || lower.Contains("your", StringComparison.Ordinal) || lower.Contains("xxxx", StringComparison.Ordinal)
            || lower.Contains("here", StringComparison.Ordinal) || lower.Contains("example", StringComparison.Ordinal)
            || lower.Contains("changeme", StringComparison.Ordinal) || lower.Contains("placeholder", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\bsk-ant-[A-Za-z0-9_\-]{20,}")]
    private static partial Regex AnthropicKey();

    [GeneratedRegex(@"\bgh[pousr]_[A-Za-z0-9]{36,}")]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"\bgithub_pat_[A-Za-z0-9_]{22,}")]
    private static partial Regex GitHubPat();

    [GeneratedRegex(@"\bnpm_[A-Za-z0-9]{36}\b")]
    private static partial Regex NpmToken();

    [GeneratedRegex(@"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")]
    private static partial Regex AwsKeyId();

    [GeneratedRegex(@"AccountKey=(?<secret>[A-Za-z0-9+/]{20,}={0,2})")]
    private static partial Regex AzureAccountKey();

    [GeneratedRegex(@"\bxox[abposr]-[A-Za-z0-9\-]{10,}")]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")]
    private static partial Regex OpenAIKey();
}
