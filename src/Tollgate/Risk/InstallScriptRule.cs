using Tollgate.Graph;

namespace Tollgate.Risk;

/// <summary>TG1001: a package declares an install-time script (npm preinstall/install/postinstall).</summary>
internal sealed class InstallScriptRule() : RiskRule(
    "TG1001",
    "InstallScriptDeclared",
    "Package runs a script when it is installed",
    RuleLevel.Warn,
    Severity.Medium,
    "Install scripts run arbitrary code with the installing user's rights on every developer machine and CI runner, "
    + "before any of the package's code is reviewed or called. Most npm malware (credential stealers, worms) starts from a postinstall script.",
    "Check that the package needs the script (native builds, binary downloads). If it does, add it to installScripts.allow in tollgate.yaml; "
    + "otherwise install with scripts disabled (npm ci --ignore-scripts) or replace the package.")
{
    public override IEnumerable<Finding> Evaluate(DependencyGraph graph, RiskContext context)
    {
        foreach (var component in graph.Components)
        {
            if (component.HasInstallScript == true && !context.IsInstallScriptAllowed(component))
            {
                yield return Report(component, context,
                    "declares an install script that runs when it is installed",
                    "the lockfile marks the package with an install script and it is not in installScripts.allow");
            }
        }
    }
}
