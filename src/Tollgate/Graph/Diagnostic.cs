namespace Tollgate.Graph;

public enum DiagnosticSeverity
{
    Info,
    Warning,
    Error,
}

/// <summary>
/// An expected problem with an input: what was wrong, where, and how to fix it.
/// Errors mean some input could not be read (exit code 2); warnings mean it was read with caveats.
/// </summary>
public sealed record Diagnostic(
    string Id,
    DiagnosticSeverity Severity,
    string Message,
    SourceLocation? Location = null,
    string? Hint = null)
{
    public override string ToString()
    {
        var where = Location is null ? "" : Location + ": ";
        var level = Severity switch
        {
            DiagnosticSeverity.Error => "error",
            DiagnosticSeverity.Warning => "warning",
            _ => "info",
        };
        var hint = Hint is null ? "" : $" ({Hint})";
        return $"{where}{level} {Id}: {Message}{hint}";
    }
}

/// <summary>Diagnostic ids for input problems. Each is listed in docs/rules.md ("Input diagnostics").</summary>
public static class DiagnosticIds
{
    /// <summary>A file could not be opened or read.</summary>
    public const string FileUnreadable = "TG0001";
    /// <summary>Malformed JSON.</summary>
    public const string InvalidJson = "TG0002";
    /// <summary>Malformed YAML.</summary>
    public const string InvalidYaml = "TG0003";
    /// <summary>Malformed TOML.</summary>
    public const string InvalidToml = "TG0004";
    /// <summary>A lockfile version this release does not understand.</summary>
    public const string UnsupportedVersion = "TG0005";
    /// <summary>An include cycle (requirements -r/-c).</summary>
    public const string IncludeCycle = "TG0006";
    /// <summary>The file is larger than the configured limit.</summary>
    public const string FileTooLarge = "TG0007";
    /// <summary>Nesting deeper than the parser allows.</summary>
    public const string TooDeep = "TG0008";
    /// <summary>Well-formed, but not the shape the format requires (missing or wrongly typed field).</summary>
    public const string UnexpectedShape = "TG0009";
    /// <summary>A line or entry that could not be parsed (text formats).</summary>
    public const string InvalidEntry = "TG0010";
    /// <summary>A reference to another file that is missing (include, workspace).</summary>
    public const string MissingReference = "TG0011";
    /// <summary>A path given on the command line does not exist or holds no supported file.</summary>
    public const string NoInput = "TG0012";
    /// <summary>A dependency is declared but could not be resolved to a version (manifest only).</summary>
    public const string Unresolved = "TG0013";
    /// <summary>An edge names a package that the lockfile does not contain.</summary>
    public const string DanglingReference = "TG0014";
    /// <summary>Information about which file was authoritative for a project.</summary>
    public const string AuthoritativeFile = "TG0015";
    /// <summary>Malformed XML (project files, packages.config).</summary>
    public const string InvalidXml = "TG0016";
    /// <summary>Lockfile entries the package manager does not install (npm's <c>extraneous</c>), left out of the graph.</summary>
    public const string NotInstalled = "TG0017";
    /// <summary>A lockfile whose format does not record which packages run install scripts: TG1001 could not check them.</summary>
    public const string InstallScriptsUnknown = "TG0018";
    /// <summary>The policy file (tollgate.yaml) is valid YAML but a key or value is wrong: unknown key, wrong type, bad value.</summary>
    public const string PolicyInvalid = "TG0020";
    /// <summary>The policy file (tollgate.yaml) is not valid YAML.</summary>
    public const string PolicySyntax = "TG0021";
}
