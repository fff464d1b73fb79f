using System.Collections.Immutable;
using Tollgate.Policy;

namespace Tollgate.Containment;

/// <summary>One environment variable kept away from install scripts, and why. Never holds the value.</summary>
/// <param name="Name">The variable's name.</param>
/// <param name="Reason">Why it was withheld: the name pattern it matched, or the kind of credential its value looks like.</param>
public sealed record WithheldVariable(string Name, string Reason);

/// <summary>An environment with the secrets taken out, and the names of what was taken out.</summary>
public sealed record ScrubbedEnvironment(
    ImmutableSortedDictionary<string, string> Variables,
    ImmutableArray<WithheldVariable> Withheld);

/// <summary>
/// Removes variables that hold credentials from an environment before untrusted code (install scripts) sees it:
/// by name (cloud, CI and registry credentials, and anything named like a token, secret, key or password) and by
/// value (strings shaped like well-known tokens, private keys, connection strings with keys, URLs with passwords).
/// Names on the keep list are never removed.
/// </summary>
public sealed class EnvironmentScrubber
{
    /// <summary>The name of the variable holding a comma-separated keep list, read in addition to <c>--keep-env</c>.</summary>
    public const string KeepListVariable = "TOLLGATE_KEEP_ENV";

    /// <summary>
    /// Name patterns (upper case; <c>*</c> is any run of characters) whose variables are removed. Names are compared
    /// upper-cased, so <c>npm_config__authToken</c> matches <c>*_AUTHTOKEN</c>.
    /// </summary>
    public static ImmutableArray<string> DefaultNamePatterns { get; } =
    [
        // Azure: service principals, Managed Identity (the endpoint and header let a script ask for tokens), Terraform's ARM_*.
        "AZURE_*", "ARM_*", "MSI_*", "IDENTITY_*", "AZD_*",
        // AWS and Google Cloud.
        "AWS_*", "GOOGLE_*", "GCLOUD_*", "CLOUDSDK_*", "GCP_*",
        // CI and forge tokens; GitHub's OIDC request URL and token mint cloud credentials on request.
        "GITHUB_TOKEN", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_PAT", "GITLAB_TOKEN", "CI_JOB_TOKEN", "CI_JOB_JWT*",
        "ACTIONS_ID_TOKEN_REQUEST_*", "ACTIONS_RUNTIME_TOKEN", "SYSTEM_ACCESSTOKEN",
        // Registry credentials.
        "NPM_TOKEN", "NODE_AUTH_TOKEN", "NUGET_API_KEY", "NUGET_AUTH_TOKEN", "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS",
        "VSS_NUGET_ACCESSTOKEN", "TWINE_PASSWORD", "PYPI_TOKEN", "UV_INDEX_*_PASSWORD",
        // An SSH agent socket lets a script sign in as the user.
        "SSH_AUTH_SOCK",
        // Anything named like a credential.
        "*_TOKEN", "*_SECRET", "*_KEY", "*PASSWORD*", "*CONNECTION_STRING*", "*_CONNSTR", "*_AUTH",
        // Azure App Service passes connection strings as SQLCONNSTR_*, CUSTOMCONNSTR_* and the like.
        "*CONNSTR_*", "*_AUTHTOKEN",
        "*_PAT", "*_CREDENTIALS", "*_APIKEY", "*_SAS",
    ];

    private readonly ImmutableArray<string> _namePatterns;
    private readonly ImmutableArray<string> _keep;

    /// <param name="keep">Names (or <c>*</c> globs) never removed, compared ignoring case.</param>
    /// <param name="namePatterns">Name patterns to remove; <see cref="DefaultNamePatterns"/> when null.</param>
    public EnvironmentScrubber(IEnumerable<string>? keep = null, IEnumerable<string>? namePatterns = null)
    {
        _keep = [.. (keep ?? []).Select(k => k.Trim().ToUpperInvariant()).Where(k => k.Length > 0)];
        _namePatterns = [.. (namePatterns ?? DefaultNamePatterns).Select(p => p.ToUpperInvariant())];
    }

    /// <summary>The keep list as given, upper-cased.</summary>
    public ImmutableArray<string> Keep => _keep;

    /// <summary>The keep list from <c>--keep-env</c> values and the <see cref="KeepListVariable"/> variable.</summary>
    public static ImmutableArray<string> KeepList(IEnumerable<string> flags, IReadOnlyDictionary<string, string> environment)
    {
        var fromVariable = environment.TryGetValue(KeepListVariable, out var list)
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        return [.. flags.Concat(fromVariable).Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The environment without the variables that hold or grant credentials.</summary>
    public ScrubbedEnvironment Scrub(IReadOnlyDictionary<string, string> environment)
    {
        var kept = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var withheld = ImmutableArray.CreateBuilder<WithheldVariable>();
        foreach (var (name, value) in environment.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (WithholdReason(name, value) is { } reason)
            {
                withheld.Add(new WithheldVariable(name, reason));
            }
            else
            {
                kept[name] = value;
            }
        }
        return new ScrubbedEnvironment(kept.ToImmutable(), withheld.ToImmutable());
    }

    /// <summary>Why the variable would be withheld, or null when it is kept. The reason never includes the value.</summary>
    public string? WithholdReason(string name, string? value)
    {
        var upper = name.ToUpperInvariant();
        if (_keep.Any(k => PackagePattern.Glob(k, upper)))
        {
            return null;
        }
        foreach (var pattern in _namePatterns)
        {
            if (PackagePattern.Glob(pattern, upper))
            {
                return $"name matches {pattern}";
            }
        }
        return SecretValueKind(value) is { } kind ? $"value looks like {kind}" : null;
    }

    /// <summary>What kind of credential the value looks like, or null when it does not look like one.</summary>
    public static string? SecretValueKind(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        var v = value.Trim();
        if (StartsWithAny(v, "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"))
        {
            return "a GitHub token";
        }
        if (v.StartsWith("glpat-", StringComparison.Ordinal))
        {
            return "a GitLab token";
        }
        // npm tokens are "npm_" and 36 letters and digits; the length check spares ordinary values that start with npm_.
        if (v.StartsWith("npm_", StringComparison.Ordinal) && v.Length >= 40 && v.Skip(4).All(char.IsAsciiLetterOrDigit))
        {
            return "an npm token";
        }
        if ((v.StartsWith("AKIA", StringComparison.Ordinal) || v.StartsWith("ASIA", StringComparison.Ordinal))
            && v.Length >= 20 && v.Take(20).All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c)))
        {
            return "an AWS access key";
        }
        if (v.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            return "a private key or certificate";
        }
        if (v.Contains("AccountKey=", StringComparison.OrdinalIgnoreCase)
            || v.Contains("SharedAccessKey=", StringComparison.OrdinalIgnoreCase)
            || v.Contains("SharedAccessSignature=", StringComparison.OrdinalIgnoreCase))
        {
            return "a connection string with a key";
        }
        if (StartsWithAny(v, "xoxb-", "xoxp-", "xoxa-", "xoxs-", "xoxr-"))
        {
            return "a Slack token";
        }
        if (LooksLikeJwt(v))
        {
            return "a signed token (JWT)";
        }
        if (HasUrlPassword(v))
        {
            return "a URL with a password";
        }
        return null;
    }

    private static bool StartsWithAny(string value, params string[] prefixes) =>
        prefixes.Any(p => value.StartsWith(p, StringComparison.Ordinal));

    private static bool LooksLikeJwt(string value)
    {
        if (!value.StartsWith("eyJ", StringComparison.Ordinal))
        {
            return false;
        }
        var parts = value.Split('.');
        return parts.Length == 3 && parts.All(p => p.Length > 0 && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '='));
    }

    /// <summary>True for <c>scheme://user:password@host…</c>, where a password is in the user information.</summary>
    internal static bool HasUrlPassword(string value)
    {
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0)
        {
            return false;
        }
        var rest = value.AsSpan(scheme + 3);
        var end = rest.IndexOfAny('/', '?', '#');
        var authority = end < 0 ? rest : rest[..end];
        var at = authority.LastIndexOf('@');
        return at > 0 && authority[..at].IndexOf(':') >= 0;
    }

    /// <summary>
    /// The text with credentials hidden, for printing a command line: URL passwords become <c>***</c>, and a value that
    /// looks like a credential is replaced whole.
    /// </summary>
    public static string Redact(string text)
    {
        if (HasUrlPassword(text))
        {
            var scheme = text.IndexOf("://", StringComparison.Ordinal) + 3;
            var at = text.IndexOf('@', scheme);
            return text[..scheme] + "***" + text[at..];
        }
        return SecretValueKind(text) is null ? text : "***";
    }
}
