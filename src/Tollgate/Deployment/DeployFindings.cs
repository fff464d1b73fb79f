using Tollgate.Graph;

namespace Tollgate.Deployment;

/// <summary>
/// Collects the findings about one deployment file. Each finding is attached to a <see cref="Ecosystem.Generic"/>
/// component named after the resource (<c>Microsoft.App/containerApps 'mcp'</c>, <c>jobs.build.steps[3]</c>) and located
/// at the file and line, so the policy, SARIF and Markdown writers treat it like every other finding.
/// </summary>
public sealed class DeployFindings(string displayPath, string? rulesDocumentationUri = null)
{
    private readonly List<Finding> _items = [];

    /// <summary>The file as shown in reports.</summary>
    public string File { get; } = displayPath;

    public IReadOnlyList<Finding> Items => _items;

    /// <summary>Adds a finding of <paramref name="rule"/> about <paramref name="resource"/> at <paramref name="line"/>.</summary>
    public void Add(DeployRule rule, int line, string resource, string message, string? evidence = null, Severity? severity = null)
    {
        ArgumentNullException.ThrowIfNull(rule);
        _items.Add(new Finding
        {
            Kind = FindingKind.Signal,
            Id = rule.Id,
            Severity = severity ?? rule.DefaultSeverity,
            Summary = message,
            Evidence = evidence,
            HelpUri = rulesDocumentationUri is { } docs ? $"{docs}#{rule.Anchor}" : null,
            Component = new Component
            {
                Ecosystem = Ecosystem.Generic,
                Name = resource,
                Version = "",
                Purl = new PackageUrl("generic", null, resource, null),
                Resolved = false,
                Direct = true,
                Origin = new Origin(OriginKind.File, File),
                Locations = [new SourceLocation(File, Math.Max(1, line))],
            },
        });
    }
}

/// <summary>Small judgements several file kinds share: images, secrets in name/value pairs.</summary>
internal static class DeployValues
{
    /// <summary>True when an image reference is pinned by digest, or cannot be judged (an expression or variable).</summary>
    public static bool IsPinnedOrUnknown(string image)
    {
        var i = image.Trim();
        return i.Length == 0 || i.Contains("@sha256:", StringComparison.OrdinalIgnoreCase) || i.Contains('$', StringComparison.Ordinal)
            || i.StartsWith('[') || i.Contains("{{", StringComparison.Ordinal) || i.Equals("scratch", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>True for environment names that carry a service principal's client secret.</summary>
    public static bool IsClientSecretName(string name) =>
        name.Equals("AZURE_CLIENT_SECRET", StringComparison.OrdinalIgnoreCase) || name.Equals("ARM_CLIENT_SECRET", StringComparison.OrdinalIgnoreCase)
        || name.Equals("AZURE_CREDENTIALS", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Checks one environment entry written in a deployment file: a plaintext secret (TG3010) or a client secret or
    /// listKeys() value (TG3002). <paramref name="literal"/> is false for values the platform fills in (references, expressions).
    /// </summary>
    public static void CheckEnv(DeployFindings findings, int line, string resource, string name, string? value, bool literal)
    {
        if (value is not null && value.Contains("listKeys(", StringComparison.OrdinalIgnoreCase))
        {
            findings.Add(DeployRules.KeyBasedAuth, line, resource, $"'{name}' is set from listKeys(): the server authenticates with an account key", "listKeys()");
            return;
        }
        if (IsClientSecretName(name))
        {
            findings.Add(DeployRules.KeyBasedAuth, line, resource, $"'{name}' gives the server a service principal's client secret", name);
        }
        if (literal && value is not null && Mcp.SecretDetector.Find(name, value) is { } secret)
        {
            findings.Add(DeployRules.PlaintextSecret, line, resource, $"'{name}' holds a {secret.Kind} in plain text", secret.Masked);
        }
    }
}
