using System.Reflection;

namespace Tollgate.Cli;

internal static class ToolInfo
{
    /// <summary>Tollgate's version without build metadata (e.g. 0.1.0).</summary>
    public static string Version { get; } =
        (typeof(ToolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
        .Split('+')[0];
}
