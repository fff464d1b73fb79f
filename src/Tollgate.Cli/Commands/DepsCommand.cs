using System.CommandLine;
using Spectre.Console;
using Tollgate.Ecosystems;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Reports;

namespace Tollgate.Cli.Commands;

internal sealed record DepsOptions(
    IReadOnlyList<string> Paths,
    string Format,
    string? Why,
    bool IncludeDev,
    string? Output,
    string? Sbom = null,
    IReadOnlyList<string>? Exclude = null);

/// <summary><c>tollgate deps</c>: the dependency graph of the projects under the given paths.</summary>
internal static class DepsCommand
{
    public static Command Create(Terminal terminal)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Lockfiles, manifests or folders to read (folders are searched recursively). Default: the current folder.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var format = new Option<string>("--format", "-f")
        {
            Description = "Output format: table (components), tree (from each project root), or json.",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "tree", "json");
        var why = new Option<string?>("--why")
        {
            Description = "Show every path from a project root to this package: NAME or NAME@VERSION.",
            HelpName = "NAME[@VERSION]",
        };
        var includeDev = new Option<bool>("--include-dev")
        {
            Description = "Include packages used only in development (devDependencies, dev groups).",
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Write the output to this file instead of stdout (written whole or not at all).",
            HelpName = "FILE",
        };

        var sbom = new Option<string?>("--sbom")
        {
            Description = "Read the graph from a CycloneDX (1.2-1.7) or SPDX (2.2, 2.3) JSON SBOM instead of lockfiles.",
            HelpName = "FILE",
        };
        var exclude = ExcludeOption();
        var command = new Command("deps", """
            Show exactly which package versions a project pulls in, and why.

            Reads npm (package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, bun.lock, package.json),
            PyPI (requirements*.txt, poetry.lock, Pipfile.lock, uv.lock, pdm.lock, pylock.toml, pyproject.toml) and
            NuGet (packages.lock.json, obj/project.assets.json, *.csproj/*.fsproj, packages.config, *.deps.json).
            When a lockfile and its manifest are both present, the lockfile decides the versions.

            Examples:
              tollgate deps examples/
              tollgate deps package-lock.json --format tree
              tollgate deps . --why minimist
              tollgate deps . --format json -o graph.json
              tollgate deps --sbom manifest.spdx.json
            """)
        {
            paths, format, why, includeDev, output, sbom, exclude,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(sbom) is not null && r.GetValue(paths) is { Length: > 0 } given)
            {
                r.AddError($"--sbom reads the SBOM only, so PATH ({string.Join(", ", given)}) would be ignored: give PATH or --sbom, not both");
            }
        });
        command.SetAction(result => Run(new DepsOptions(
            result.GetValue(paths) is { Length: > 0 } p ? p : ["."],
            result.GetValue(format) ?? "table",
            result.GetValue(why),
            result.GetValue(includeDev),
            result.GetValue(output),
            result.GetValue(sbom),
            result.GetValue(exclude) ?? []), terminal));
        return command;
    }

    /// <summary><c>--exclude GLOB</c>, shared by the commands that search folders.</summary>
    internal static Option<string[]> ExcludeOption() => new("--exclude")
    {
        Description = "Leave files and folders out of a folder search: a name (examples, *.test.json) or a path below PATH (packages/*/fixtures, **/testdata). Repeatable.",
        HelpName = "GLOB",
    };

    public static int Run(DepsOptions options, Terminal terminal)
    {
        var diagnostics = new DiagnosticBag();
        var graph = ReadGraph(options.Paths, options.Sbom, diagnostics, new PathGlobs(options.Exclude ?? []));
        ReportFiles(graph, terminal);
        if (!options.IncludeDev)
        {
            graph = graph.WithoutDevOnly();
        }

        var exit = diagnostics.HasErrors ? ExitCodes.InputError : ExitCodes.Pass;
        if (options.Why is not null)
        {
            var whyExit = Why(graph, options.Why, terminal);
            terminal.Diagnostics(diagnostics.Items);
            return Math.Max(exit, whyExit);
        }

        switch (options.Format)
        {
            case "json":
                Emit(GraphJson.Write(graph), options.Output, terminal);
                break;
            case "tree":
                RenderTree(graph, terminal);
                break;
            default:
                if (graph.Roots.Length > 0)
                {
                    RenderTable(graph, terminal);
                }
                break;
        }
        terminal.Diagnostics(diagnostics.Items);
        if (exit != ExitCodes.Pass)
        {
            terminal.Fail("some inputs could not be read (see above); the graph is incomplete.");
        }
        return exit;
    }

    /// <summary>The graph from an SBOM when one is given, else from the lockfiles and manifests under the paths.</summary>
    internal static DependencyGraph ReadGraph(IReadOnlyList<string> paths, string? sbom, DiagnosticBag diagnostics, PathGlobs? exclude = null) =>
        sbom is null ? EcosystemReaders.Discovery(exclude).Read(paths, diagnostics) : Tollgate.Sbom.SbomReader.Read(sbom, diagnostics);

    internal static void Emit(string text, string? outputPath, Terminal terminal)
    {
        if (outputPath is null or "-")
        {
            terminal.OutWriter.WriteLine(text);
        }
        else
        {
            var written = OutputFile.WriteAllText(outputPath, text + "\n");
            if (written.Note is { } note)
            {
                terminal.Warning(note);
            }
            terminal.Progress("wrote", outputPath);
        }
    }

    private static void ReportFiles(DependencyGraph graph, Terminal terminal)
    {
        // One line per file that decided a graph; a workspace lockfile with several projects is read once.
        foreach (var group in graph.Roots.GroupBy(r => r.AuthoritativeFile, StringComparer.Ordinal))
        {
            var others = group.SelectMany(r => r.Files).Distinct(StringComparer.Ordinal).Where(f => f != group.Key).ToList();
            var also = others.Count == 0 ? "" : $" (with {string.Join(", ", others)})";
            var projects = group.Count() > 1 ? $", {group.Count()} projects" : "";
            terminal.Progress("read", $"{group.Key}{also} ({group.First().Ecosystem.ToOsvName()}{projects})");
        }
    }

    private static int Why(DependencyGraph graph, string spec, Terminal terminal)
    {
        var (name, version) = SplitNameVersion(spec);
        var matches = graph.FindByName(name, version).ToList();
        if (matches.Count == 0)
        {
            terminal.Fail($"no package {spec} in the graph (packages used only in development are hidden unless --include-dev is given)");
            return ExitCodes.InputError;
        }
        foreach (var component in matches)
        {
            var paths = graph.PathsTo(component.Key);
            terminal.Out.MarkupLineInterpolated($"[bold]{component.Name}@{component.Version}[/] ({component.Ecosystem.ToOsvName()}): {paths.Count} path(s)");
            foreach (var path in paths)
            {
                terminal.Out.WriteLine("  " + string.Join(" > ", path.Select(graph.Label)));
            }
        }
        return ExitCodes.Pass;
    }

    /// <summary>Splits <c>name@version</c>, keeping the leading '@' of an npm scope.</summary>
    internal static (string Name, string? Version) SplitNameVersion(string spec)
    {
        var at = spec.LastIndexOf('@');
        return at > 0 ? (spec[..at], spec[(at + 1)..]) : (spec, null);
    }

    private static void RenderTable(DependencyGraph graph, Terminal terminal)
    {
        var table = new TerminalTable(["Ecosystem", "Package", "Version", "Scope", "Direct", "Origin", "Declared at"], "Origin");
        foreach (var c in graph.Components.OrderBy(c => c.Ecosystem).ThenBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ThenBy(c => c.Version, StringComparer.Ordinal))
        {
            table.AddRow(
                Markup.Escape(c.Ecosystem.ToOsvName()),
                Markup.Escape(c.Name) + (c.HasInstallScript == true ? " [yellow](install script)[/]" : ""),
                Markup.Escape(c.Resolved ? c.Version : c.Version + " (unresolved)"),
                Markup.Escape(string.Join(",", GraphJson.ScopeNames(c.Scopes))),
                c.Direct ? "yes" : "",
                Markup.Escape(c.Origin.Kind == OriginKind.Registry ? "registry" : $"{c.Origin.Kind.ToString().ToLowerInvariant()} {c.Origin.Location}"),
                Markup.Escape(c.Locations.FirstOrDefault()?.ToString() ?? ""));
        }
        table.Write(terminal.Out);
        var direct = graph.Components.Count(c => c.Direct);
        terminal.Out.MarkupLineInterpolated($"{graph.Components.Length} packages ({direct} direct) from {graph.Roots.Length} project(s)");
    }

    private static void RenderTree(DependencyGraph graph, Terminal terminal)
    {
        foreach (var root in graph.Roots)
        {
            var tree = new Tree(Markup.Escape($"{root.DisplayName} ({root.AuthoritativeFile})"));
            var shown = new HashSet<string>(StringComparer.Ordinal);
            foreach (var child in graph.ChildrenOf(root.Key))
            {
                AddNode(tree.AddNode(Label(graph, child)), child);
            }
            terminal.Out.Write(tree);

            void AddNode(TreeNode node, string key)
            {
                // Like npm ls: a package shown once is marked "deduped" elsewhere, which also cuts cycles.
                if (!shown.Add(key))
                {
                    return;
                }
                foreach (var child in graph.ChildrenOf(key))
                {
                    var label = Label(graph, child) + (shown.Contains(child) ? " [grey]deduped[/]" : "");
                    AddNode(node.AddNode(label), child);
                }
            }
        }
    }

    private static string Label(DependencyGraph graph, string key)
    {
        var c = graph.Find(key);
        if (c is null)
        {
            return Markup.Escape(graph.Label(key));
        }
        var scope = c.Scopes == DependencyScopes.Prod ? "" : $" [grey]{Markup.Escape(string.Join(",", GraphJson.ScopeNames(c.Scopes)))}[/]";
        return Markup.Escape($"{c.Name}@{c.Version}") + scope;
    }
}
