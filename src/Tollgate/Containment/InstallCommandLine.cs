using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Tollgate.Containment;

/// <summary>The package managers whose installs Tollgate can contain.</summary>
public enum PackageManagerKind
{
    Npm,
    Pnpm,
    /// <summary>Yarn 1.x.</summary>
    YarnClassic,
    /// <summary>Yarn 2 and later.</summary>
    YarnBerry,
    Pip,
    /// <summary><c>dotnet restore</c> (NuGet).</summary>
    DotnetRestore,
}

/// <summary>
/// A package manager's install command as the user wrote it, with the manager it belongs to.
/// Only install commands are accepted: a contained install must not become a way to run arbitrary scripts.
/// </summary>
/// <param name="Kind">The manager.</param>
/// <param name="Arguments">The command line as given, program first.</param>
public sealed record InstallCommandLine(PackageManagerKind Kind, ImmutableArray<string> Arguments)
{
    private static readonly ImmutableHashSet<string> s_npmInstall = ImmutableHashSet.Create(StringComparer.Ordinal,
        "install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add",
        "ci", "clean-install", "ic", "install-clean", "isntall-clean");

    private static readonly ImmutableHashSet<string> s_pnpmInstall = ImmutableHashSet.Create(StringComparer.Ordinal,
        "install", "i", "add");

    private static readonly ImmutableHashSet<string> s_yarnInstall = ImmutableHashSet.Create(StringComparer.Ordinal,
        "install", "add");

    /// <summary>The program as given (a name on PATH or a path).</summary>
    public string Program => Arguments[0];

    /// <summary>
    /// Recognises an install command: <c>npm ci|install|add</c>, <c>pnpm install|add</c>, <c>yarn [install|add]</c>,
    /// <c>pip install</c> (also <c>pip3</c> and <c>python -m pip install</c>), <c>dotnet restore</c>. Yarn's major
    /// version is read from the project in <paramref name="workingDirectory"/> (see <see cref="IsYarnBerry"/>).
    /// </summary>
    public static bool TryParse(IReadOnlyList<string> argv, string workingDirectory,
        [NotNullWhen(true)] out InstallCommandLine? command, [NotNullWhen(false)] out string? error)
    {
        command = null;
        if (argv.Count == 0 || string.IsNullOrWhiteSpace(argv[0]))
        {
            error = "give the install command after '--', e.g. tollgate install -- npm ci";
            return false;
        }
        var program = ProgramName(argv[0]);
        var rest = argv.Skip(1).ToList();
        var verb = FirstNonOption(rest);
        switch (program)
        {
            case "npm":
                return Accept(PackageManagerKind.Npm, verb is not null && s_npmInstall.Contains(verb), "npm ci, npm install or npm add", out command, out error);
            case "pnpm":
                return Accept(PackageManagerKind.Pnpm, verb is not null && s_pnpmInstall.Contains(verb), "pnpm install or pnpm add", out command, out error);
            case "yarn":
                var kind = IsYarnBerry(workingDirectory) ? PackageManagerKind.YarnBerry : PackageManagerKind.YarnClassic;
                // A bare 'yarn' installs.
                return Accept(kind, verb is null || s_yarnInstall.Contains(verb), "yarn, yarn install or yarn add", out command, out error);
            case "dotnet":
                return Accept(PackageManagerKind.DotnetRestore, verb == "restore", "dotnet restore", out command, out error);
            case "python" or "python3" or "py":
                var isPip = rest.Count >= 3 && rest[0] == "-m" && rest[1] == "pip" && rest[2] == "install";
                return Accept(PackageManagerKind.Pip, isPip, "python -m pip install", out command, out error);
            default:
                if (IsPipName(program))
                {
                    return Accept(PackageManagerKind.Pip, verb == "install", "pip install", out command, out error);
                }
                error = $"'{argv[0]}' is not a package manager Tollgate knows: use npm, pnpm, yarn, pip or dotnet";
                return false;
        }

        bool Accept(PackageManagerKind kind, bool isInstall, string expected, out InstallCommandLine? result, out string? message)
        {
            if (!isInstall)
            {
                result = null;
                message = $"'{string.Join(' ', argv)}' is not an install command: expected {expected}";
                return false;
            }
            result = new InstallCommandLine(kind, [.. argv]);
            message = null;
            return true;
        }
    }

    /// <summary>The program's name without folder, <c>.exe</c>/<c>.cmd</c> extension or case.</summary>
    private static string ProgramName(string program)
    {
        var name = Path.GetFileName(program.Replace('\\', '/')).ToLowerInvariant();
        foreach (var extension in new[] { ".exe", ".cmd", ".bat", ".ps1" })
        {
            if (name.EndsWith(extension, StringComparison.Ordinal))
            {
                return name[..^extension.Length];
            }
        }
        return name;
    }

    private static bool IsPipName(string name) =>
        name == "pip" || (name.StartsWith("pip", StringComparison.Ordinal) && name[3..].All(c => char.IsAsciiDigit(c) || c == '.'));

    /// <summary>The sub-command: the first argument that is not an option. Options go after it.</summary>
    private static string? FirstNonOption(List<string> args) => args.FirstOrDefault(a => !a.StartsWith('-'));

    /// <summary>
    /// True when the project uses Yarn 2 or later: package.json's <c>packageManager</c> names <c>yarn@2</c> or later,
    /// or, without that field, a <c>.yarnrc.yml</c> (Yarn 2+'s settings file) sits in the folder.
    /// </summary>
    public static bool IsYarnBerry(string directory)
    {
        var manifest = Path.Combine(directory, "package.json");
        if (File.Exists(manifest))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
                if (doc.RootElement.ValueKind == JsonValueKind.Object
                    && doc.RootElement.TryGetProperty("packageManager", out var pm)
                    && pm.ValueKind == JsonValueKind.String
                    && pm.GetString() is { } spec
                    && spec.StartsWith("yarn@", StringComparison.Ordinal))
                {
                    var major = new string([.. spec[5..].TakeWhile(char.IsAsciiDigit)]);
                    return major.Length > 0 && (major.Length > 1 || major[0] >= '2');
                }
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
            {
                // An unreadable manifest is the package manager's to report; fall back to the settings file.
            }
        }
        return File.Exists(Path.Combine(directory, ".yarnrc.yml"));
    }
}
