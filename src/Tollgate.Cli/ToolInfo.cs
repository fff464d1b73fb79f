using System.Reflection;

namespace Tollgate.Cli;

internal static class ToolInfo
{
    /// <summary>Tollgate's version without build metadata (e.g. 0.1.0).</summary>
    public static string Version { get; } =
        (typeof(ToolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
        .Split('+')[0];

    /// <summary>The git commit the build came from, or "unknown" when it was built outside a git checkout.</summary>
    public static string Commit { get; } = Metadata("TollgateCommit");

    /// <summary>
    /// The build date: SOURCE_DATE_EPOCH when the build set it, else the commit's date, so the same commit always
    /// builds the same binary.
    /// </summary>
    public static string BuildDate { get; } = Metadata("TollgateBuildDate");

    private static string Metadata(string key) =>
        typeof(ToolInfo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value is { Length: > 0 } value
            ? value
            : "unknown";
}
