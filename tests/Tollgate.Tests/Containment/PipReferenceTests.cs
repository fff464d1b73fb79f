using System.Diagnostics;
using Tollgate.Containment;

namespace Tollgate.Tests.Containment;

/// <summary>
/// The pip command line Tollgate builds, read by pip's own option parser: the reference for what
/// <c>--only-binary :all: --no-binary NAME</c> means (pip's FormatControl), rather than our reading of pip's docs.
/// </summary>
public sealed class PipReferenceTests
{
    private const string ParseWithPip = """
        import sys
        from pip._internal.commands import create_command
        from pip._vendor.packaging.utils import canonicalize_name
        options, _ = create_command("install").parse_args(sys.argv[2:])
        for name in sys.argv[1].split(","):
            print(name + "=" + "+".join(sorted(options.format_control.get_allowed_formats(canonicalize_name(name)))))
        """;

    [Fact]
    public void PipInstall_AllowedNames_OnlyThoseMayUseSourceDistributions()
    {
        var step = InstallPlan.Install(
            new InstallCommandLine(PackageManagerKind.Pip, ["pip", "install", "-r", "requirements.txt"]), ["pyyaml", "django-extensions"]);

        var formats = AllowedFormats(step.Arguments.Skip(2), "PyYAML", "Django_Extensions", "requests", "setuptools");

        Assert.Equal(["PyYAML=source", "Django_Extensions=source", "requests=binary", "setuptools=binary"], formats);
    }

    [Fact]
    public void PipInstall_NothingAllowed_EveryPackageBinaryOnly()
    {
        var step = InstallPlan.Install(new InstallCommandLine(PackageManagerKind.Pip, ["python3", "-m", "pip", "install", "requests"]), []);

        var formats = AllowedFormats(step.Arguments.Skip(4), "requests", "pyyaml");

        Assert.Equal(["requests=binary", "pyyaml=binary"], formats);
    }

    private static List<string> AllowedFormats(IEnumerable<string> installArguments, params string[] names)
    {
        var python = Environment.GetEnvironmentVariable("TOLLGATE_PYTHON") is { Length: > 0 } configured ? configured : "python3";
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", ParseWithPip, string.Join(",", names) }.Concat(installArguments))
        {
            info.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{python} was not found ({e.Message}): install Python 3 with pip, or set TOLLGATE_PYTHON.");
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, "pip could not parse the command line: " + error);
            return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }
    }
}
