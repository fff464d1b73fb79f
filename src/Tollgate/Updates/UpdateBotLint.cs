using System.Collections.Immutable;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Risk;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using JsonNode = Tollgate.Inputs.JsonNode;

namespace Tollgate.Updates;

/// <summary>What <see cref="UpdateBotLint"/> found: findings (each located at its file and line), the files read, the graph of config components.</summary>
public sealed record UpdateBotLintResult(ImmutableArray<Finding> Findings, ImmutableArray<string> Files, ImmutableArray<Diagnostic> Diagnostics, DependencyGraph Graph);

/// <summary>
/// Checks the update bots' own configuration in a repository: <c>.github/dependabot.yml</c> and Renovate's
/// <c>renovate.json</c>, <c>renovate.json5</c>, <c>.renovaterc</c>, <c>.renovaterc.json</c>, <c>.github/renovate.json</c>
/// or the <c>renovate</c> key of the root <c>package.json</c> (rules TG4101–TG4106).
/// </summary>
public static class UpdateBotLint
{
    private static readonly string[] s_renovateFiles =
        ["renovate.json", "renovate.json5", ".renovaterc", ".renovaterc.json", ".renovaterc.json5", ".github/renovate.json", ".github/renovate.json5", ".gitlab/renovate.json"];

    private static readonly string[] s_skipFolders = ["node_modules", ".git", "bin", "obj", ".venv", "venv", "__pycache__", "dist"];

    public static UpdateBotLintResult Run(string repository, string? rulesDocumentationUri = null)
    {
        var bag = new DiagnosticBag();
        var findings = new List<Finding>();
        var files = new List<string>();
        var components = new List<Component>();
        var covered = new HashSet<Ecosystem>();
        var anyConfig = false;

        foreach (var name in new[] { ".github/dependabot.yml", ".github/dependabot.yaml" })
        {
            var path = Path.Combine(repository, name);
            if (File.Exists(path))
            {
                anyConfig = true;
                files.Add(path);
                var component = ConfigComponent(path);
                components.Add(component);
                Dependabot(path, component, findings, covered, bag, rulesDocumentationUri);
            }
        }
        foreach (var name in s_renovateFiles)
        {
            var path = Path.Combine(repository, name);
            if (File.Exists(path))
            {
                anyConfig = true;
                files.Add(path);
                var component = ConfigComponent(path);
                components.Add(component);
                JsonNode? root;
                if (name.EndsWith(".json5", StringComparison.Ordinal))
                {
                    string text;
                    try
                    {
                        text = File.ReadAllText(path);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        bag.Error(DiagnosticIds.FileUnreadable, $"cannot read: {e.Message}", new SourceLocation(InputFile.DisplayPath(path)));
                        continue;
                    }
                    root = LocatedJson.Parse(System.Text.Encoding.UTF8.GetBytes(Json5Text.ToJson(text)), InputFile.DisplayPath(path), bag, allowCommentsAndTrailingCommas: true);
                }
                else
                {
                    root = LocatedJson.ParseFile(path, bag, allowCommentsAndTrailingCommas: true);
                }
                if (root is not null)
                {
                    Renovate(root, path, component, findings, covered, rulesDocumentationUri);
                }
            }
        }
        var packageJson = Path.Combine(repository, "package.json");
        if (File.Exists(packageJson) && LocatedJson.ParseFile(packageJson, new DiagnosticBag()) is { } pkg && pkg["renovate"] is { IsObject: true } embedded)
        {
            anyConfig = true;
            files.Add(packageJson);
            var component = ConfigComponent(packageJson);
            components.Add(component);
            Renovate(embedded, packageJson, component, findings, covered, rulesDocumentationUri);
        }

        foreach (var (ecosystem, example) in EcosystemsIn(repository))
        {
            if (covered.Contains(ecosystem))
            {
                continue;
            }
            var at = anyConfig ? files[0] : example;
            var component = anyConfig ? components[0] : ConfigComponent(example);
            if (!anyConfig && !components.Contains(component))
            {
                components.Add(component);
            }
            findings.Add(Report(RegistryRules.EcosystemNotCovered, component, at, 1,
                anyConfig
                    ? $"the repository has {ecosystem.ToOsvName()} dependencies ({InputFile.DisplayPath(example)}) that no update configuration covers"
                    : $"the repository has {ecosystem.ToOsvName()} dependencies ({InputFile.DisplayPath(example)}) and no Dependabot or Renovate configuration",
                null, rulesDocumentationUri));
        }
        var roots = components.Select(c => new ProjectRoot(ProjectRoot.KeyFor(c.Locations[0].File), Ecosystem.Generic, null, null, c.Locations[0].File, [c.Locations[0].File])).DistinctBy(r => r.Key).ToImmutableArray();
        var graph = new DependencyGraph([.. components.DistinctBy(c => c.Key)], [.. components.DistinctBy(c => c.Key).Select(c => new DependencyEdge(ProjectRoot.KeyFor(c.Locations[0].File), c.Key))], roots, [.. bag.Items]);
        return new UpdateBotLintResult([.. findings], [.. files.Select(InputFile.DisplayPath)], [.. bag.Items], graph);
    }

    private static Component ConfigComponent(string path)
    {
        var shown = InputFile.DisplayPath(path);
        return new Component
        {
            Ecosystem = Ecosystem.Generic,
            Name = shown,
            Version = "config",
            Purl = new PackageUrl("generic", null, Path.GetFileName(path), "config"),
            Origin = new Origin(OriginKind.File, shown),
            Direct = true,
            Resolved = false,
            Locations = [new SourceLocation(shown, 1)],
        };
    }

    private static Finding Report(string id, Component component, string file, int line, string summary, string? evidence, string? docs)
    {
        var rule = RegistryRules.Find(id)!;
        return new Finding
        {
            Kind = FindingKind.Signal,
            Id = id,
            Severity = rule.DefaultSeverity,
            Summary = summary,
            Component = component with { Locations = [new SourceLocation(InputFile.DisplayPath(file), line)] },
            Evidence = evidence,
            HelpUri = docs is null ? null : $"{docs}#{rule.Anchor}",
        };
    }

    /// <summary>The ecosystems whose manifests the repository holds, with one example file each.</summary>
    private static Dictionary<Ecosystem, string> EcosystemsIn(string repository)
    {
        var found = new Dictionary<Ecosystem, string>();
        var pending = new Stack<(string Folder, int Depth)>();
        pending.Push((repository, 0));
        while (pending.Count > 0 && found.Count < 3)
        {
            var (folder, depth) = pending.Pop();
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var entry in entries)
            {
                var name = Path.GetFileName(entry);
                if (Directory.Exists(entry))
                {
                    if (depth < 8 && !s_skipFolders.Contains(name) && !(name.StartsWith('.') && name != ".github"))
                    {
                        pending.Push((entry, depth + 1));
                    }
                    continue;
                }
                Ecosystem? ecosystem = name switch
                {
                    "package.json" or "package-lock.json" or "pnpm-lock.yaml" or "yarn.lock" or "bun.lock" => Ecosystem.Npm,
                    "pyproject.toml" or "uv.lock" or "poetry.lock" or "Pipfile" or "Pipfile.lock" or "pdm.lock" => Ecosystem.PyPI,
                    "packages.lock.json" or "Directory.Packages.props" or "packages.config" => Ecosystem.NuGet,
                    _ when name.StartsWith("requirements", StringComparison.OrdinalIgnoreCase) && name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) => Ecosystem.PyPI,
                    _ when name.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".fsproj", StringComparison.OrdinalIgnoreCase) => Ecosystem.NuGet,
                    _ => null,
                };
                if (ecosystem is { } e && !found.ContainsKey(e))
                {
                    found[e] = entry;
                }
            }
        }
        return found;
    }

    private static Ecosystem? DependabotEcosystem(string name) => name switch
    {
        "npm" or "bun" => Ecosystem.Npm,
        "pip" or "uv" or "pipenv" or "poetry" or "pip-compile" => Ecosystem.PyPI,
        "nuget" => Ecosystem.NuGet,
        _ => null,
    };

    private static void Dependabot(string path, Component component, List<Finding> findings, HashSet<Ecosystem> covered, DiagnosticBag bag, string? docs)
    {
        var shown = InputFile.DisplayPath(path);
        YamlStream stream = new();
        try
        {
            var text = File.ReadAllText(path);
            stream.Load(new YamlGuard.CheckingParser(new Parser(new StringReader(text)), 64));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            bag.Error(DiagnosticIds.FileUnreadable, $"cannot read: {e.Message}", new SourceLocation(shown));
            return;
        }
        catch (Exception e) when (e is YamlException or YamlGuard.TooDeepException or YamlGuard.BrokenEventsException or YamlGuard.RefusedAliasException)
        {
            var mark = e switch
            {
                YamlException y => y.Start,
                YamlGuard.TooDeepException t => t.Start,
                YamlGuard.BrokenEventsException b => b.Start,
                YamlGuard.RefusedAliasException a => a.Start,
                _ => Mark.Empty,
            };
            bag.Error(DiagnosticIds.InvalidYaml, $"not valid YAML: {e.Message}", new SourceLocation(shown, (int)mark.Line, (int)mark.Column));
            return;
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            bag.Error(DiagnosticIds.UnexpectedShape, "expected a mapping with 'version' and 'updates'", new SourceLocation(shown, 1));
            return;
        }
        if (Get(root, "updates") is not YamlSequenceNode updates)
        {
            bag.Error(DiagnosticIds.UnexpectedShape, "expected an 'updates' list", new SourceLocation(shown, (int)root.Start.Line));
            return;
        }
        foreach (var node in updates.Children)
        {
            if (node is not YamlMappingNode entry)
            {
                continue;
            }
            var line = (int)entry.Start.Line;
            var ecosystemName = (Get(entry, "package-ecosystem") as YamlScalarNode)?.Value ?? "?";
            if (DependabotEcosystem(ecosystemName) is { } ecosystem)
            {
                covered.Add(ecosystem);
            }
            if (Get(entry, "cooldown") is null)
            {
                findings.Add(Report(RegistryRules.NoCooldown, component, path, line,
                    $"the {ecosystemName} updates have no cooldown: versions are proposed minutes after they are published", "add cooldown: { default-days: 3 }", docs));
            }
            if (Get(entry, "open-pull-requests-limit") is YamlScalarNode { Value: "0" } limit)
            {
                findings.Add(Report(RegistryRules.SecurityUpdatesOff, component, path, (int)limit.Start.Line,
                    $"open-pull-requests-limit: 0 switches the {ecosystemName} version updates off; security updates then depend on the repository's settings", null, docs));
            }
            if (Get(entry, "ignore") is YamlSequenceNode ignores)
            {
                foreach (var item in ignores.Children.OfType<YamlMappingNode>())
                {
                    if (Get(item, "versions") is null && Get(item, "update-types") is null)
                    {
                        var dependency = (Get(item, "dependency-name") as YamlScalarNode)?.Value ?? "?";
                        findings.Add(Report(RegistryRules.EndlessIgnore, component, path, (int)item.Start.Line,
                            $"the ignore entry for {dependency} ({ecosystemName}) drops every future version, security fixes included", "add versions or update-types", docs));
                    }
                }
            }
        }
    }

    private static YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.FirstOrDefault(p => p.Key is YamlScalarNode { Value: { } k } && k == key).Value;

    private static readonly Dictionary<string, Ecosystem> s_renovateManagers = new(StringComparer.Ordinal)
    {
        ["npm"] = Ecosystem.Npm,
        ["bun"] = Ecosystem.Npm,
        ["pip_requirements"] = Ecosystem.PyPI,
        ["pep621"] = Ecosystem.PyPI,
        ["poetry"] = Ecosystem.PyPI,
        ["pipenv"] = Ecosystem.PyPI,
        ["pip-compile"] = Ecosystem.PyPI,
        ["pip_setup"] = Ecosystem.PyPI,
        ["setup-cfg"] = Ecosystem.PyPI,
        ["nuget"] = Ecosystem.NuGet,
    };

    private static void Renovate(JsonNode root, string path, Component component, List<Finding> findings, HashSet<Ecosystem> covered, string? docs)
    {
        if (!root.IsObject)
        {
            return;
        }
        var enabled = root.GetBool("enabled") != false;
        if (enabled)
        {
            if (root["enabledManagers"] is { IsArray: true } managers)
            {
                foreach (var m in managers.Items.Where(i => i.IsString))
                {
                    if (s_renovateManagers.TryGetValue(m.Text!, out var e))
                    {
                        covered.Add(e);
                    }
                }
            }
            else
            {
                covered.UnionWith([Ecosystem.Npm, Ecosystem.PyPI, Ecosystem.NuGet]);
            }
        }
        var extends = root["extends"] is { IsArray: true } ex ? ex.Items.Where(i => i.IsString).Select(i => i.Text!).ToList() : [];
        var presetAge = extends.Any(e => e.Contains("minimumReleaseAge", StringComparison.OrdinalIgnoreCase) || e is "config:best-practices" or ":best-practices");
        var rules = root["packageRules"] is { IsArray: true } pr ? pr.Items.Where(i => i.IsObject).ToList() : [];
        var topAge = HasAge(root) || presetAge;
        if (!topAge && !rules.Any(HasAge))
        {
            var presets = extends.Count > 0 ? $" (the presets it extends were not read: {string.Join(", ", extends)})" : "";
            findings.Add(Report(RegistryRules.NoCooldown, component, path, root.Line,
                "no minimumReleaseAge: Renovate proposes versions minutes after they are published" + presets, "add \"minimumReleaseAge\": \"3 days\"", docs));
        }
        if (root.GetBool("automerge") == true)
        {
            var majorOff = root["major"] is { IsObject: true } major && major.GetBool("automerge") == false;
            var at = root["automerge"]!.Line;
            if (!majorOff)
            {
                findings.Add(Report(RegistryRules.AutomergeMajor, component, path, at, "\"automerge\": true at the top level merges every update, majors included", null, docs));
            }
            if (!topAge)
            {
                findings.Add(Report(RegistryRules.AutomergeWithoutAge, component, path, at, "\"automerge\": true without a minimumReleaseAge merges versions as soon as they are published", null, docs));
            }
        }
        foreach (var rule in rules)
        {
            if (rule.GetBool("automerge") == true)
            {
                var types = rule["matchUpdateTypes"] is { IsArray: true } t ? t.Items.Where(i => i.IsString).Select(i => i.Text!).ToList() : null;
                var at = rule["automerge"]!.Line;
                if (types is null || types.Contains("major"))
                {
                    findings.Add(Report(RegistryRules.AutomergeMajor, component, path, at,
                        types is null ? "a packageRules entry auto-merges without matchUpdateTypes, so majors too" : "a packageRules entry auto-merges major updates", null, docs));
                }
                if (!topAge && !HasAge(rule))
                {
                    findings.Add(Report(RegistryRules.AutomergeWithoutAge, component, path, at, "a packageRules entry auto-merges without a minimumReleaseAge", null, docs));
                }
            }
            var names = rule["matchPackageNames"] ?? rule["matchDepNames"] ?? rule["matchPackagePatterns"];
            // A rule that switches a package off for some files, branches or dependency types only is a scope, not an ignore.
            var scoped = new[] { "matchCurrentVersion", "allowedVersions", "matchUpdateTypes", "matchFileNames", "matchPaths", "matchBaseBranches", "matchDepTypes", "matchManagers" }
                .Any(k => rule[k] is not null);
            if (rule.GetBool("enabled") == false && names is not null && !scoped)
            {
                findings.Add(Report(RegistryRules.EndlessIgnore, component, path, rule.Line,
                    $"a packageRules entry disables updates{(names is { IsArray: true } n ? " of " + string.Join(", ", n.Items.Where(i => i.IsString).Select(i => i.Text)) : "")} for every version, security fixes included",
                    "add matchCurrentVersion or allowedVersions, or limit matchUpdateTypes", docs));
            }
        }
        if (root["ignoreDeps"] is { IsArray: true } ignoreDeps)
        {
            foreach (var dep in ignoreDeps.Items.Where(i => i.IsString))
            {
                findings.Add(Report(RegistryRules.EndlessIgnore, component, path, dep.Line,
                    $"ignoreDeps drops every update of {dep.Text}, security fixes included", "use a packageRules entry with allowedVersions instead", docs));
            }
        }
        if (root["vulnerabilityAlerts"] is { IsObject: true } alerts && alerts.GetBool("enabled") == false)
        {
            findings.Add(Report(RegistryRules.SecurityUpdatesOff, component, path, alerts["enabled"]!.Line, "vulnerabilityAlerts are switched off: no security update pull requests", null, docs));
        }
    }

    private static bool HasAge(JsonNode node) =>
        node["minimumReleaseAge"] is { IsString: true, Text.Length: > 0 } age && !age.Text!.StartsWith('0') || node["stabilityDays"] is { Kind: JsonKind.Number };
}
