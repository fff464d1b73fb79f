using Tollgate.Graph;

namespace Tollgate.Risk;

/// <summary>
/// TG1011: a NuGet package whose <c>build/</c>, <c>buildTransitive/</c> or <c>buildMultiTargeting/</c> MSBuild files are
/// imported into every build of the project, or whose <c>tools/init.ps1</c>/<c>install.ps1</c> runs in Visual Studio:
/// NuGet's install-time code. The files come from the graph (<see cref="Component.BuildCode"/>); the allow list is
/// <c>installScripts.allow</c>, as for npm install scripts.
/// </summary>
internal sealed class NuGetBuildCodeRule() : RiskRule(
    Ecosystems.NuGet.NuGetBuildCodeScanner.RuleId,
    "NuGetBuildTimeCode",
    Ecosystems.NuGet.NuGetBuildCodeScanner.Title,
    RuleLevel.Warn,
    Severity.Medium,
    "NuGet runs no package code during a restore, but it imports a package's build/*.props and *.targets into every later build of "
    + "the project, and those files can run any command with the developer's or the build agent's rights; tools/init.ps1 runs in Visual Studio.",
    "Check what the files do. If the package needs them (analyzers, source generators, native assets), add it to installScripts.allow in "
    + "tollgate.yaml; otherwise replace the package or pin a version without them.")
{
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context)
    {
        foreach (var component in graph.Components)
        {
            if (!component.BuildCode.IsDefaultOrEmpty && !context.IsInstallScriptAllowed(component))
            {
                const int Shown = 5;
                var files = string.Join(", ", component.BuildCode.Take(Shown)) + (component.BuildCode.Length > Shown ? $" and {component.BuildCode.Length - Shown} more" : "");
                yield return Report(component, context, "carries code that runs at build time or in Visual Studio", files);
            }
        }
    }
}
