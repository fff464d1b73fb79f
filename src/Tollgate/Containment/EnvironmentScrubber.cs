using System.Collections.Immutable;
using Tollgate.Mcp;
using Tollgate.Policy;

namespace Tollgate.Containment;

/// <summary>One environment variable kept away from install scripts, and why. Never holds the value.</summary>
/// <param name="Name">The variable's name.</param>
/// <param name="Reason">Why it was withheld: the name pattern it matched, or the kind of credential its value looks like.</param>
public sealed record WithheldVariable(string Name, string Reason);

/// <summary>A variable that looks like a credential but was passed to install scripts, and why. Never holds the value.</summary>
/// <param name="Name">The variable's name.</param>
/// <param name="Reason">Why it was kept: the keep list, a CA certificate path, a path list, or an ordinary word in its name.</param>
public sealed record KeptVariable(string Name, string Reason);

/// <summary>An environment with the secrets taken out, the names of what was taken out, and of what only looked like a secret.</summary>
public sealed record ScrubbedEnvironment(
    ImmutableSortedDictionary<string, string> Variables,
    ImmutableArray<WithheldVariable> Withheld)
{
    /// <summary>Variables that look like credentials (by name or value) and were kept anyway, with the reason.</summary>
    public ImmutableArray<KeptVariable> Kept { get; init; } = [];
}

/// <summary>
/// Removes variables that hold credentials from an environment before untrusted code (install scripts) sees it:
/// by name (cloud, CI and registry credentials, and any name containing TOKEN, SECRET, KEY, PASSWORD, PASSWD,
/// CREDENTIAL, CREDS, AUTH, SAS or CONNECTION_STRING) and by value (strings shaped like well-known tokens, private
/// keys, connection strings with keys, URLs with passwords). Names on the keep list are never removed; neither are
/// CA certificate paths, path lists, nor names holding a credential word only inside an ordinary word (KEYBOARD).
/// </summary>
public sealed class EnvironmentScrubber
{
    /// <summary>The name of the variable holding a comma-separated keep list, read in addition to <c>--keep-env</c>.</summary>
    public const string KeepListVariable = "TOLLGATE_KEEP_ENV";

    /// <summary>
    /// Name patterns (upper case; <c>*</c> is any run of characters) whose variables are removed, in addition to names
    /// containing one of <see cref="CredentialWords"/>. Names are compared upper-cased.
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
        // Azure App Service passes connection strings as SQLCONNSTR_*, CUSTOMCONNSTR_* and the like.
        "*CONNSTR_*", "*_CONNSTR",
        // Personal access tokens.
        "*_PAT",
    ];

    /// <summary>
    /// Words that make a variable a credential wherever they appear in its name, ignoring case: <c>TOKEN</c>,
    /// <c>SOMESECRET</c>, <c>PRIVATEKEY</c>, <c>API_KEY_1</c>, <c>DEPLOY_CREDS</c>. Checked in this order; the first
    /// found is the reason given.
    /// </summary>
    public static ImmutableArray<string> CredentialWords { get; } =
        ["TOKEN", "SECRET", "KEY", "PASSWORD", "PASSWD", "CREDENTIAL", "CREDS", "AUTH", "SAS", "CONNECTION_STRING"];

    /// <summary>
    /// Ordinary words that contain a credential word, as whole parts of a name (parts are separated by <c>_</c>,
    /// <c>-</c> or <c>.</c>): <c>GIT_AUTHOR_NAME</c>, <c>KEYBOARD_LAYOUT</c>, <c>TOKENIZERS_PARALLELISM</c>,
    /// <c>SASS_BINARY_SITE</c> (node-sass's install script reads it). Only words that never name a credential are
    /// here; a credential word elsewhere in the name still counts (<c>GIT_AUTHOR_TOKEN</c>).
    /// </summary>
    public static ImmutableArray<string> OrdinaryWords { get; } =
    [
        "AUTHOR", "AUTHORS",
        "KEYBOARD", "KEYBOARDS", "KEYMAP", "KEYMAPS", "MONKEY", "DONKEY", "TURKEY", "HOCKEY", "JOCKEY", "WHISKEY",
        "TOKENIZER", "TOKENIZERS",
        "SASS",
    ];

    /// <summary>
    /// Names of variables that hold the path of CA certificates (public), kept when their value is a path even if the
    /// name matches a pattern (<c>AWS_CA_BUNDLE</c> matches <c>AWS_*</c>): scripts that download need them behind a
    /// TLS-inspecting proxy.
    /// </summary>
    public static ImmutableArray<string> CertificatePathNames { get; } =
    [
        "SSL_CERT_FILE", "SSL_CERT_DIR", "*_SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "*_CA_BUNDLE", "*_CA_CERTS",
        "*_CA_CERTS_FILE", "*_CA_FILE", "*_CAFILE", "*_CAINFO", "*_CAPATH", "PIP_CERT", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",
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
        var keptAnyway = ImmutableArray.CreateBuilder<KeptVariable>();
        foreach (var (name, value) in environment.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var (withholdReason, keepReason) = Decide(name, value);
            if (withholdReason is not null)
            {
                withheld.Add(new WithheldVariable(name, withholdReason));
                continue;
            }
            kept[name] = value;
            if (keepReason is not null)
            {
                keptAnyway.Add(new KeptVariable(name, keepReason));
            }
        }
        return new ScrubbedEnvironment(kept.ToImmutable(), withheld.ToImmutable()) { Kept = keptAnyway.ToImmutable() };
    }

    /// <summary>Why the variable would be withheld, or null when it is kept. The reason never includes the value.</summary>
    public string? WithholdReason(string name, string? value) => Decide(name, value).Withhold;

    /// <summary>
    /// Why a variable that looks like a credential is kept, or null when it is withheld or does not look like one.
    /// The reason never includes the value.
    /// </summary>
    public string? KeepReason(string name, string? value) => Decide(name, value).Keep;

    private (string? Withhold, string? Keep) Decide(string name, string? value)
    {
        var upper = name.ToUpperInvariant();
        var pathValue = IsPathList(value);
        // A path is no credential: value shapes are searched for anywhere in a value, and a folder name can hold one.
        var valueKind = pathValue ? null : SecretValueKind(value);
        var reason = NameReason(upper) ?? (valueKind is null ? null : $"value looks like {valueKind}");
        if (reason is null)
        {
            if (pathValue && SecretValueKind(value) is not null)
            {
                return (null, "a path list (PATH-like value), not a credential");
            }
            return (null, OrdinaryWordReason(upper));
        }
        if (_keep.Any(k => PackagePattern.Glob(k, upper)))
        {
            return (null, $"on the keep list (--keep-env or {KeepListVariable}); otherwise withheld: {reason}");
        }
        if (pathValue && valueKind is null && CertificatePathNames.Any(p => PackagePattern.Glob(p, upper))
            && !CredentialWords.Any(w => WithoutOrdinaryWords(upper).Contains(w, StringComparison.Ordinal)))
        {
            return (null, "a CA certificate path, not a credential");
        }
        return (reason, null);
    }

    /// <summary>Why the name says the variable is a credential: a pattern it matches or a credential word in it; null when neither.</summary>
    private string? NameReason(string upper)
    {
        foreach (var pattern in _namePatterns)
        {
            if (PackagePattern.Glob(pattern, upper))
            {
                return $"name matches {pattern}";
            }
        }
        var words = WithoutOrdinaryWords(upper);
        return CredentialWords.FirstOrDefault(w => words.Contains(w, StringComparison.Ordinal)) is { } word ? $"name contains {word}" : null;
    }

    /// <summary>The name with its ordinary words (<see cref="OrdinaryWords"/>) blanked out, parts still separated.</summary>
    private static string WithoutOrdinaryWords(string upper) =>
        string.Join('_', upper.Split('_', '-', '.').Select(part => OrdinaryWords.Contains(part) ? "" : part));

    /// <summary>For a name whose credential word is only part of an ordinary word: which word, for the output.</summary>
    private static string? OrdinaryWordReason(string upper)
    {
        foreach (var part in upper.Split('_', '-', '.').Where(OrdinaryWords.Contains))
        {
            if (CredentialWords.FirstOrDefault(w => part.Contains(w, StringComparison.Ordinal)) is { } word)
            {
                return $"{word} only as part of the word {part}";
            }
        }
        return null;
    }

    /// <summary>True for a value that is one or more absolute paths separated by the path list separator (PATH, a CA bundle).</summary>
    private static bool IsPathList(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }
        var parts = value.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return parts.Length > 0 && parts.All(p => Path.IsPathFullyQualified(p) && !p.Any(char.IsControl));
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
        // The MCP audit's formats (Anthropic and OpenAI keys among them), found anywhere in the value.
        if (SecretDetector.Find(null, v) is { } match)
        {
            return ("AEIOU".Contains(match.Kind[0], StringComparison.Ordinal) ? "an " : "a ") + match.Kind;
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
