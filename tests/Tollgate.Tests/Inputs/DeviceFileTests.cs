using Tollgate.Tests.Advisories;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Inputs;

/// <summary>
/// A device named by an input (<c>-r /dev/zero</c>) or standing in for a lockfile (a symbolic link to one) says its
/// size is 0 and never ends: reading it to its end filled the memory and the process was killed ("Out of memory").
/// </summary>
public sealed class DeviceFileTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Deps_RequirementsIncludingADevice_RefusedNotOutOfMemory()
    {
        if (!File.Exists("/dev/zero"))
        {
            return; // Not a Unix system: there is no such device to name.
        }
        var path = _temp.File("requirements.txt");
        File.WriteAllText(path, "idna==3.7\n-r /dev/zero\n");

        var result = CliRunner.Run("deps", path);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Contains("/dev/zero: error TG0001: ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Deps_LockfileLinkedToADevice_RefusedNotOutOfMemory()
    {
        if (!File.Exists("/dev/zero"))
        {
            return; // Not a Unix system: there is no such device to link to.
        }
        File.WriteAllText(_temp.File("package.json"), "{\"name\": \"x\", \"version\": \"1.0.0\"}");
        File.CreateSymbolicLink(_temp.File("package-lock.json"), "/dev/zero");

        var result = CliRunner.Run("deps", _temp.Path);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Stderr}");
        Assert.Contains("package-lock.json: error TG0001: ", result.Stderr, StringComparison.Ordinal);
    }
}
