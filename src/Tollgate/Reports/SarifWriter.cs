using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tollgate.Graph;
using Tollgate.Risk;

namespace Tollgate.Reports;

/// <summary>
/// Writes a scan as SARIF 2.1.0 for code-scanning services (GitHub, Azure DevOps): one run, one rule per distinct
/// finding id, one result per finding. Every result has a location (a file relative to <c>%SRCROOT%</c> and a line
/// of at least 1) and a fingerprint that stays the same across runs while rule, package version and file do.
/// </summary>
public static class SarifWriter
{
    /// <summary>The schema URL the log declares.</summary>
    public const string SchemaUri = "https://json.schemastore.org/sarif-2.1.0.json";

    /// <summary>The uriBaseId every relative artifact location is relative to.</summary>
    public const string SourceRootId = "%SRCROOT%";

    /// <summary>The key of Tollgate's partial fingerprint; bump the version when the hashed fields change.</summary>
    public const string FingerprintKey = "tollgate/v1";

    // Relaxed escaping keeps quotes, '+' and non-ASCII names readable; the log is a file, never embedded in HTML.
    private static readonly SarifJsonContext s_context = new(new JsonSerializerOptions(SarifJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static string Write(ScanReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var ordered = report.Ordered.ToList();
        var rules = ordered.GroupBy(f => f.Finding.Id, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => Rule(g.Key, [.. g]))
            .ToList();
        var ruleIndex = rules.Select((r, i) => (r.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal);

        var log = new SarifLog
        {
            Schema = SchemaUri,
            Version = "2.1.0",
            Runs =
            [
                new SarifRun
                {
                    Tool = new SarifTool
                    {
                        Driver = new SarifDriver
                        {
                            Name = "Tollgate",
                            FullName = "Tollgate supply-chain scanner " + report.ToolVersion,
                            InformationUri = IsAbsoluteUri(report.ToolInformationUri) ? report.ToolInformationUri : null,
                            Version = report.ToolVersion,
                            SemanticVersion = report.ToolVersion,
                            Rules = rules,
                        },
                    },
                    // GitHub takes the category from this id; Azure DevOps requires it.
                    AutomationDetails = new SarifAutomationDetails { Id = "tollgate/scan/" },
                    OriginalUriBaseIds = new Dictionary<string, SarifArtifactLocation>(StringComparer.Ordinal)
                    {
                        [SourceRootId] = report.SourceRoot is { } root
                            ? new SarifArtifactLocation { Uri = DirectoryUri(root) }
                            : new SarifArtifactLocation { Description = new SarifMessage { Text = "The folder the scan started from." } },
                    },
                    Invocations =
                    [
                        new SarifInvocation
                        {
                            // An incomplete scan did not do its job, whatever it found: code scanning must not read it as clean.
                            ExecutionSuccessful = report.Outcome != ScanOutcome.Incomplete && !report.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error),
                            ToolExecutionNotifications = report.Diagnostics.IsEmpty && report.Incomplete.IsEmpty ? null
                                : [.. report.Incomplete.Select(IncompleteNotification), .. report.Diagnostics.Select(d => Notification(d, report))],
                        },
                    ],
                    Results = [.. ordered.Select(f => Result(f, ruleIndex[f.Finding.Id], report))],
                    Properties = new SarifRunProperties
                    {
                        Verdict = report.Outcome.ToName(),
                        Incomplete = report.Incomplete.IsEmpty ? null : [.. report.Incomplete],
                        Advisories = CoverageDto.From(report.Advisories),
                    },
                },
            ],
        };
        return JsonSerializer.Serialize(log, s_context.SarifLog);
    }

    /// <summary>The fingerprint of a result: a hash of rule id, purl and file, independent of run, time and order.</summary>
    public static string Fingerprint(string ruleId, string purl, string file)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes($"{ruleId}\n{purl}\n{file}"));
        return Convert.ToHexStringLower(bytes.AsSpan(0, 16));
    }

    private static SarifRule Rule(string id, IReadOnlyList<ReportedFinding> findings)
    {
        var first = findings[0].Finding;
        var level = Level(findings.Max(f => f.Level));
        var severity = ScanText.FormatScore(findings.Max(f => ScanText.SecuritySeverity(f.Finding)));
        var tags = new List<string> { "security", "supply-chain", first.Kind.ToName() };
        if (RiskRules.Find(id) is { } rule)
        {
            if (rule.Category is { } category)
            {
                tags.Add(category);
            }
            return new SarifRule
            {
                Id = rule.Id,
                Name = rule.Name,
                ShortDescription = new SarifMessage { Text = rule.Title },
                FullDescription = new SarifMessage { Text = $"{rule.Title}. {rule.Rationale}" },
                Help = new SarifMultiformatMessage
                {
                    Text = $"{rule.Rationale}\n\nHow to fix: {rule.Fix}",
                    Markdown = $"**{rule.Title}** ({rule.Id})\n\n{rule.Rationale}\n\n**How to fix.** {rule.Fix}\n\n"
                        + $"To suppress, add an `ignore` entry with `id: {rule.Id}`, the package, a reason and an expiry to `tollgate.yaml`, "
                        + $"or set `rules: {{ {rule.Id}: off }}`.",
                },
                HelpUri = IsAbsoluteUri(first.HelpUri) ? first.HelpUri : null,
                DefaultConfiguration = new SarifConfiguration { Level = Level(rule.DefaultLevel) },
                Properties = new SarifRuleProperties { Tags = tags, SecuritySeverity = severity },
            };
        }
        var aliases = first.Aliases.IsEmpty ? "" : $" Also known as {string.Join(", ", first.Aliases)}.";
        var what = first.Kind == FindingKind.Malicious ? "Malicious package" : "Vulnerable package";
        var fixedIn = findings.SelectMany(f => f.Finding.FixedIn).Distinct(StringComparer.Ordinal).ToList();
        var fix = first.Kind == FindingKind.Malicious
            ? "Remove the package, and treat every machine that installed it as compromised: rotate its secrets."
            : fixedIn.Count > 0 ? $"Upgrade to a fixed version: {string.Join(", ", fixedIn)}." : "No fixed version is known: replace the package or accept the risk with a reasoned, expiring ignore.";
        var link = IsAbsoluteUri(first.HelpUri) ? $"\n\n[Advisory]({first.HelpUri})" : "";
        return new SarifRule
        {
            Id = id,
            Name = first.Kind == FindingKind.Malicious ? "MaliciousPackage" : "VulnerableDependency",
            ShortDescription = new SarifMessage { Text = $"{what}: {first.Summary}" },
            FullDescription = new SarifMessage { Text = $"{id}: {first.Summary}.{aliases}" },
            Help = new SarifMultiformatMessage
            {
                Text = $"{first.Summary}.{aliases}\n\nHow to fix: {fix}",
                Markdown = $"**{id}**: {first.Summary}.{aliases}\n\n**How to fix.** {fix}{link}",
            },
            HelpUri = IsAbsoluteUri(first.HelpUri) ? first.HelpUri : null,
            DefaultConfiguration = new SarifConfiguration { Level = level },
            Properties = new SarifRuleProperties { Tags = tags, SecuritySeverity = severity },
        };
    }

    private static SarifResult Result(ReportedFinding reported, int ruleIndex, ScanReport report)
    {
        var finding = reported.Finding;
        var locations = Locations(finding.Component, report);
        var purl = finding.Component.Purl.ToString();
        return new SarifResult
        {
            RuleId = finding.Id,
            RuleIndex = ruleIndex,
            Level = Level(reported.Level),
            Message = new SarifMessage { Text = $"{ScanText.PackageLabel(finding)}: {ScanText.SummaryWithEvidence(finding)}; fix: {ScanText.Fix(finding)}" },
            Locations = [.. locations.Select(l => l.Location)],
            PartialFingerprints = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [FingerprintKey] = Fingerprint(finding.Id, purl, locations[0].File),
            },
            Suppressions = reported.Suppression is { } s
                ? [new SarifSuppression { Kind = "external", Status = "accepted", Justification = Justification(s) }]
                : null,
            Properties = new SarifResultProperties
            {
                Purl = purl,
                Severity = finding.Severity.ToName(),
                Paths = reported.Paths.IsEmpty ? null : [.. reported.Paths.Select(p => ScanText.PathLine(p))],
            },
        };
    }

    private static string Justification(Suppression s)
    {
        if (s.Source == SuppressionSource.Vex)
        {
            return s.Describe();
        }
        var sb = new StringBuilder(s.Reason);
        if (s.Owner is not null)
        {
            sb.Append(" (owner: ").Append(s.Owner).Append(')');
        }
        if (s.Expires is { } expires)
        {
            sb.Append(" (expires: ").Append(expires.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).Append(')');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Where a finding points: the component's declarations, else the file that decided its project, else the first file
    /// scanned. Code-scanning services drop results without a location, so there is always one, at line 1 or later.
    /// </summary>
    private static List<(SarifLocation Location, string File)> Locations(Component component, ScanReport report)
    {
        var sources = component.Locations
            .GroupBy(l => l.File, StringComparer.Ordinal)
            .Select(g => g.OrderBy(l => l.Line <= 0 ? int.MaxValue : l.Line).First())
            .Take(10)
            .ToList();
        if (sources.Count == 0 && report.Graph is { } graph)
        {
            var path = graph.ShortestPathTo(component.Key);
            var root = path.IsEmpty ? null : graph.Roots.FirstOrDefault(r => r.Key == path[0]);
            if (root is not null)
            {
                sources.Add(new SourceLocation(root.AuthoritativeFile));
            }
        }
        if (sources.Count == 0)
        {
            sources.Add(new SourceLocation(report.ScannedFiles.FirstOrDefault() ?? report.Graph?.Files.FirstOrDefault() ?? "."));
        }
        return [.. sources.Select(s =>
        {
            var artifact = Artifact(s.File, report.SourceRoot);
            var location = new SarifLocation
            {
                PhysicalLocation = new SarifPhysicalLocation
                {
                    ArtifactLocation = artifact,
                    Region = new SarifRegion { StartLine = Math.Max(1, s.Line), StartColumn = s.Line > 0 && s.Column > 0 ? s.Column : null },
                },
            };
            return (location, artifact.Uri ?? s.File);
        })];
    }

    private static SarifNotification IncompleteNotification(string reason) => new()
    {
        Descriptor = new SarifDescriptorReference { Id = "incomplete" },
        Level = "error",
        Message = new SarifMessage { Text = "Incomplete, not checked: " + reason },
    };

    private static SarifNotification Notification(Diagnostic d, ScanReport report) => new()
    {
        Descriptor = new SarifDescriptorReference { Id = d.Id },
        Level = d.Severity switch
        {
            DiagnosticSeverity.Error => "error",
            DiagnosticSeverity.Warning => "warning",
            _ => "note",
        },
        Message = new SarifMessage { Text = d.Hint is null ? d.Message : $"{d.Message} ({d.Hint})" },
        Locations = d.Location is { } l
            ? [new SarifLocation
            {
                PhysicalLocation = new SarifPhysicalLocation
                {
                    ArtifactLocation = Artifact(l.File, report.SourceRoot),
                    Region = l.Line > 0 ? new SarifRegion { StartLine = l.Line, StartColumn = l.Column > 0 ? l.Column : null } : null,
                },
            }]
            : null,
    };

    /// <summary>A file as a URI relative to <c>%SRCROOT%</c>; an absolute path outside the source root stays an absolute file URI.</summary>
    internal static SarifArtifactLocation Artifact(string file, string? sourceRoot)
    {
        var path = file;
        if (Path.IsPathRooted(path))
        {
            var relative = sourceRoot is null ? null : Path.GetRelativePath(sourceRoot, path);
            if (relative is null || relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            {
                return new SarifArtifactLocation { Uri = new Uri(path).AbsoluteUri };
            }
            path = relative;
        }
        var segments = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".");
        var uri = string.Join('/', segments.Select(Uri.EscapeDataString));
        return new SarifArtifactLocation { Uri = uri.Length == 0 ? "." : uri, UriBaseId = SourceRootId };
    }

    private static string DirectoryUri(string root)
    {
        var uri = new Uri(Path.GetFullPath(root)).AbsoluteUri;
        return uri.EndsWith('/') ? uri : uri + "/";
    }

    private static bool IsAbsoluteUri(string? text) => text is not null && Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http";

    private static string Level(FindingLevel level) => level switch
    {
        FindingLevel.Fail => "error",
        FindingLevel.Warn => "warning",
        _ => "note",
    };

    private static string Level(RuleLevel level) => level switch
    {
        RuleLevel.Fail => "error",
        RuleLevel.Warn => "warning",
        RuleLevel.Info => "note",
        _ => "none",
    };
}
