using System.Collections.Frozen;
using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Risk;

namespace Tollgate.ClientConfig;

/// <summary>
/// A check of package-manager client configuration (rules TG5xxx). It is a <see cref="RiskRule"/> for its metadata, so
/// the policy, SARIF and Markdown describe it like every other rule; <see cref="ClientConfigAudit"/> reports its findings.
/// </summary>
public sealed class ClientConfigRule(string id, string name, string title, RuleLevel defaultLevel, Severity defaultSeverity, string rationale, string fix)
    : RiskRule(id, name, title, defaultLevel, defaultSeverity, rationale, fix)
{
    public override string? Category => "client-config";

    /// <summary>Client configuration rules find nothing in a dependency graph: the configuration audit reports them.</summary>
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context) => [];
}

/// <summary>The client configuration rules, by id (docs/rules.md documents each).</summary>
public static class ClientConfigRules
{
    public static ImmutableArray<ClientConfigRule> All { get; } =
    [
        new(ClientConfigAudit.BypassRule, "InstallsBypassVettedFeed", "Installs bypass the vetted feed", RuleLevel.Warn, Severity.Medium,
            "Packages installed straight from a public registry skip every check the vetted feed makes at download time (advisories, malicious versions, release age, install scripts).",
            "Point each client at the vetted feed: npm's registry in the project's .npmrc, pip's index-url, a nuget.config that starts with <clear />."),
        new(ClientConfigAudit.ExtraIndexRule, "ExtraPackageIndex", "Extra package index next to the main one", RuleLevel.Fail, Severity.High,
            "pip takes a name from whichever index offers the highest version, so anyone who uploads one of your private names to the public index wins the install: dependency confusion.",
            "Use one index, the vetted feed, which serves private names only from its own uploads."),
        new(ClientConfigAudit.NuGetMappingRule, "NuGetSourcesWithoutMapping", "Several NuGet sources without packageSourceMapping", RuleLevel.Fail, Severity.High,
            "NuGet takes a package from whichever source answers first, so a public package with your private package's id can be restored.",
            "Add <packageSourceMapping> giving each source the id patterns it may serve."),
        new(ClientConfigAudit.PlaintextTokenRule, "PlaintextRegistryCredential", "Registry credential written in plain text", RuleLevel.Fail, Severity.High,
            "A token in a configuration file is readable by everyone with the repository and its history; a stolen publish token is how maintainer accounts are taken over.",
            "Reference an environment variable set from a CI secret (${NPM_TOKEN}, %NUGET_TOKEN%) and revoke the credential that was in the file."),
        new(ClientConfigAudit.ScriptsRule, "ClientRunsInstallScripts", "Dependencies' install scripts are run", RuleLevel.Warn, Severity.Medium,
            "An install script runs with the developer's or the build agent's credentials the moment a compromised version is installed.",
            "Set ignore-scripts=true in the project's .npmrc (enableScripts: false in .yarnrc.yml) and run the scripts you need with `tollgate install`."),
    ];

    private static readonly FrozenDictionary<string, ClientConfigRule> s_byId = All.ToFrozenDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);

    /// <summary>The rule with this id (any case), or null.</summary>
    public static ClientConfigRule? Find(string id) => s_byId.GetValueOrDefault(id);

    /// <summary>
    /// The audit's findings as graph findings, so a scan judges and reports them with everything else: each is attached to a
    /// <see cref="Ecosystem.Generic"/> component named after the configuration file and located at the file and line.
    /// </summary>
    public static ImmutableArray<Finding> ToFindings(ClientConfigResult result, string? rulesDocumentationUri = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var findings = ImmutableArray.CreateBuilder<Finding>(result.Findings.Length);
        foreach (var f in result.Findings)
        {
            var rule = Find(f.RuleId);
            var file = f.File.StartsWith('$') ? f.File : Inputs.InputFile.DisplayPath(f.File);
            findings.Add(new Finding
            {
                Kind = FindingKind.Signal,
                Id = f.RuleId,
                Severity = rule?.DefaultSeverity ?? (f.Fail ? Severity.High : Severity.Medium),
                Summary = f.Message,
                Evidence = "fix: " + f.Fix,
                HelpUri = rulesDocumentationUri is { } docs ? $"{docs}#{f.RuleId.ToLowerInvariant()}" : null,
                Component = new Component
                {
                    Ecosystem = Ecosystem.Generic,
                    Name = file,
                    Version = "",
                    Purl = new PackageUrl("generic", null, Path.GetFileName(file), null),
                    Resolved = false,
                    Direct = true,
                    Origin = new Origin(OriginKind.File, file),
                    Locations = [new SourceLocation(file, Math.Max(1, f.Line))],
                },
            });
        }
        return findings.ToImmutable();
    }
}
