using System.Runtime.CompilerServices;

namespace Tollgate.Tests;

/// <summary>
/// Gives the test run a temporary folder of its own and removes it when the run ends, so a run leaves nothing in the
/// machine's temporary folder. Every temporary path the tests, Tollgate and the tools they start ask for
/// (<see cref="Path.GetTempPath"/>, <c>TMPDIR</c>) lies inside it.
/// </summary>
internal static class TestRunTemp
{
    public static string Root { get; private set; } = "";

    [ModuleInitializer]
    internal static void Initialize()
    {
        Root = Directory.CreateTempSubdirectory("tollgate-test-run-").FullName;
        Environment.SetEnvironmentVariable("TMPDIR", Root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Remove(Root);
    }

    private static void Remove(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A child process still holding a file: the folder is under the system's temporary folder and is left for it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
