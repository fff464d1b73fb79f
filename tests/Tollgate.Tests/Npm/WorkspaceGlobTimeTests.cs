using System.Text.Json;
using Tollgate.Ecosystems;
using Tollgate.Inputs;
using Tollgate.Tests.Advisories;
using Tollgate.Tests.Inputs;

namespace Tollgate.Tests.Npm;

/// <summary>
/// Workspace patterns come from the scanned repository's package.json: twenty '**' in one took time exponential in
/// their number (a hang), matched against a deep lockfile path or a deep folder tree. Both now take time proportional
/// to pattern times path.
/// </summary>
public sealed class WorkspaceGlobTimeTests : IDisposable
{
    private static readonly string ManyGlobstars = string.Join('/', Enumerable.Repeat("**", 20)) + "/zz";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static TimeSpan Read(string path) => QuickWork.Time(() => EcosystemReaders.Discovery().Read([path], new DiagnosticBag())).Elapsed;

    [Fact]
    public void Read_PackageLockPathAgainstManyGlobstars_Quick()
    {
        var deep = string.Join('/', Enumerable.Repeat("a", 30));
        File.WriteAllText(_temp.File("package.json"), JsonSerializer.Serialize(new { name = "x", version = "1.0.0", workspaces = new[] { ManyGlobstars } }));
        File.WriteAllText(_temp.File("package-lock.json"), JsonSerializer.Serialize(new
        {
            name = "x",
            lockfileVersion = 3,
            packages = new Dictionary<string, object>
            {
                [""] = new { name = "x", workspaces = new[] { ManyGlobstars } },
                [deep] = new { version = "1.0.0" },
            },
        }));

        var elapsed = Read(_temp.Path);

        QuickWork.AssertQuick(elapsed);
    }

    [Fact]
    public void Read_YarnClassicWorkspacesOverDeepFolders_Quick()
    {
        Directory.CreateDirectory(Path.Combine([_temp.Path, .. Enumerable.Repeat("a", 14)]));
        File.WriteAllText(_temp.File("package.json"), JsonSerializer.Serialize(new { name = "x", version = "1.0.0", workspaces = new[] { ManyGlobstars } }));
        File.WriteAllText(_temp.File("yarn.lock"), "# yarn lockfile v1\n\n\nms@^2.1.3:\n  version \"2.1.3\"\n");

        var elapsed = Read(_temp.File("yarn.lock"));

        QuickWork.AssertQuick(elapsed);
    }
}
