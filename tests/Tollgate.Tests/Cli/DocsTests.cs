using System.Text.RegularExpressions;

namespace Tollgate.Tests.Cli;

/// <summary>The user documentation stays whole: every page reachable from the README, every link and anchor resolving, every command described.</summary>
public sealed partial class DocsTests
{
    private static string Root => TestData.RepositoryRoot;

    private static IEnumerable<string> Pages() =>
        Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Append(Path.Combine(Root, "README.md")).Append(Path.Combine(Root, "CONTRIBUTING.md"));

    [Fact]
    public void Readme_LinksEveryDocsPage()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md"));

        Assert.All(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md"), page =>
            Assert.True(readme.Contains($"(docs/{Path.GetFileName(page)})", StringComparison.Ordinal), $"README.md does not link docs/{Path.GetFileName(page)}"));
    }

    [Fact]
    public void Docs_EveryRelativeLinkAndAnchor_Resolves()
    {
        var problems = new List<string>();
        foreach (var page in Pages())
        {
            foreach (Match m in Link().Matches(File.ReadAllText(page)))
            {
                var link = m.Groups[1].Value;
                if (link.StartsWith("http", StringComparison.Ordinal) || link.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }
                var hash = link.IndexOf('#', StringComparison.Ordinal);
                var file = hash < 0 ? link : link[..hash];
                var target = file.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, file));
                if (!File.Exists(target) && !Directory.Exists(target))
                {
                    problems.Add($"{Path.GetFileName(page)}: {link}: no such file");
                }
                else if (hash >= 0 && target.EndsWith(".md", StringComparison.Ordinal) && !Anchors(target).Contains(link[(hash + 1)..]))
                {
                    problems.Add($"{Path.GetFileName(page)}: {link}: no such heading or anchor");
                }
            }
        }
        Assert.Empty(problems);
    }

    [Fact]
    public void CliReference_DescribesEveryCommand()
    {
        var reference = File.ReadAllText(Path.Combine(Root, "docs", "cli.md"));
        var root = Tollgate.Cli.TollgateCli.Build(new Tollgate.Cli.Terminal(new StringWriter(), new StringWriter()));
        var missing = new List<string>();
        Walk(root.Subcommands, "tollgate");
        Assert.Empty(missing);

        void Walk(IEnumerable<System.CommandLine.Command> commands, string prefix)
        {
            foreach (var command in commands)
            {
                var name = $"{prefix} {command.Name}";
                // A group (db, inventory, feed, mcp) is described through its verbs.
                if (command.Subcommands.Count == 0 || command.Action is not null)
                {
                    // Named in backticks, or at the start of a usage line.
                    if (!Regex.IsMatch(reference, $@"(^|`){Regex.Escape(name)}(\b|`)", RegexOptions.Multiline))
                    {
                        missing.Add(name);
                    }
                }
                Walk(command.Subcommands, name);
            }
        }
    }

    /// <summary>The anchors GitHub makes for a page's headings, and explicit <c>&lt;a id&gt;</c> anchors.</summary>
    private static HashSet<string> Anchors(string page)
    {
        var text = File.ReadAllText(page);
        var anchors = ExplicitAnchor().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        foreach (Match heading in Heading().Matches(text))
        {
            var slug = Regex.Replace(heading.Groups[1].Value.Trim().ToLowerInvariant(), @"[^\w\- ]", "").Replace(' ', '-');
            anchors.Add(slug);
        }
        return anchors;
    }

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex("<a id=\"([^\"]+)\"")]
    private static partial Regex ExplicitAnchor();

    [GeneratedRegex(@"^#+\s+(.*)$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
