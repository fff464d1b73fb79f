using System.CommandLine;
using Tollgate.Ecosystems;
using Tollgate.Inputs;
using Tollgate.Sbom;

namespace Tollgate.Cli.Commands;

internal sealed record SbomOptionsInput(IReadOnlyList<string> Paths, string Format, string? SpecVersion, string? Output);

/// <summary><c>tollgate sbom</c>: a CycloneDX or SPDX SBOM of the projects under the given paths.</summary>
internal static class SbomCommand
{
    public static Command Create(Terminal terminal)
    {
        var paths = new Argument<string[]>("PATH")
        {
            Description = "Lockfiles, manifests or folders to describe (default: the current folder).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var format = new Option<string>("--format", "-f")
        {
            Description = "SBOM format: cyclonedx (JSON) or spdx (JSON).",
            DefaultValueFactory = _ => "cyclonedx",
        };
        format.AcceptOnlyFromAmong("cyclonedx", "spdx");
        var specVersion = new Option<string?>("--spec-version")
        {
            Description = "Specification version: CycloneDX 1.5, 1.6 (default) or 1.7; SPDX 2.2 or 2.3 (default).",
            HelpName = "VERSION",
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Write the SBOM to this file instead of stdout (written whole or not at all).",
            HelpName = "FILE",
        };
        var command = new Command("sbom", """
            Write a software bill of materials (SBOM) for the projects under PATH.

            Every component carries its purl, version, scope, hashes (converted from lockfile integrity), licence
            where the input records one, and the dependency relationships. Output is sorted; when SOURCE_DATE_EPOCH
            is set the timestamp comes from it and the serial number / document namespace from the content, so two
            runs on the same input are byte-identical.

            Examples:
              tollgate sbom examples/mcp-server-npm -o sbom.cdx.json
              tollgate sbom . --format spdx --spec-version 2.2 -o manifest.spdx.json
              SOURCE_DATE_EPOCH=1700000000 tollgate sbom . > sbom.json
            """)
        {
            paths, format, specVersion, output,
        };
        command.SetAction(result => Run(new SbomOptionsInput(
            result.GetValue(paths) is { Length: > 0 } p ? p : ["."],
            result.GetValue(format) ?? "cyclonedx",
            result.GetValue(specVersion),
            result.GetValue(output)), terminal));
        return command;
    }

    public static int Run(SbomOptionsInput options, Terminal terminal)
    {
        var sbomFormat = options.Format == "spdx" ? SbomFormat.Spdx : SbomFormat.CycloneDx;
        var allowed = sbomFormat == SbomFormat.Spdx ? SbomOptions.SpdxVersions : SbomOptions.CycloneDxVersions;
        if (options.SpecVersion is not null && !allowed.Contains(options.SpecVersion))
        {
            terminal.Fail($"{options.Format} version {options.SpecVersion} is not supported; use one of {string.Join(", ", allowed)}.");
            return ExitCodes.InputError;
        }
        var diagnostics = new DiagnosticBag();
        var graph = EcosystemReaders.Discovery().Read(options.Paths, diagnostics);
        terminal.Diagnostics(diagnostics.Items);
        if (diagnostics.HasErrors)
        {
            terminal.Fail("some inputs could not be read (see above); no SBOM written.");
            return ExitCodes.InputError;
        }
        var projectName = Path.GetFileName(Path.GetFullPath(options.Paths[0]).TrimEnd('/', '\\'));
        var sbomOptions = SbomOptions.FromEnvironment(sbomFormat, options.SpecVersion, ToolInfo.Version, projectName, TimeProvider.System);
        var text = sbomFormat == SbomFormat.Spdx ? SpdxWriter.Write(graph, sbomOptions) : CycloneDxWriter.Write(graph, sbomOptions);
        DepsCommand.Emit(text, options.Output, terminal);
        terminal.Message($"{graph.Components.Length} components from {graph.Roots.Length} project(s)");
        return ExitCodes.Pass;
    }
}
