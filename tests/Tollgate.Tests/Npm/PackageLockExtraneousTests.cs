using System.Text.Json;
using Tollgate.Graph;
using static Tollgate.Tests.Npm.PackageLockFixtures;

namespace Tollgate.Tests.Npm;

/// <summary>
/// Entries npm marks <c>"extraneous": true</c> are not installed by <c>npm ci</c>: real lockfiles from public repositories
/// (testdata/npm/extraneous/README.md) must give exactly the other entries, with one information diagnostic naming the first.
/// </summary>
public sealed class PackageLockExtraneousTests
{
    /// <summary>name@version of every entry under node_modules/ that is not extraneous (links and workspaces aside).</summary>
    private static SortedSet<string> Installed(string lockfile)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(lockfile));
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in doc.RootElement.GetProperty("packages").EnumerateObject())
        {
            var node = entry.Value;
            if (!entry.Name.Contains("node_modules/", StringComparison.Ordinal)
                || (node.TryGetProperty("extraneous", out var e) && e.GetBoolean())
                || (node.TryGetProperty("link", out var l) && l.GetBoolean()))
            {
                continue;
            }
            var name = node.TryGetProperty("name", out var n) ? n.GetString()! : entry.Name[(entry.Name.LastIndexOf("node_modules/", StringComparison.Ordinal) + 13)..];
            set.Add($"{name}@{node.GetProperty("version").GetString()}");
        }
        return set;
    }

    [Fact]
    public void Read_IronocFrontend_LeavesOutTheExtraneousNestedYaml()
    {
        var folder = TestData.Path("npm", "extraneous", "ironoc-frontend");
        var graph = Read(folder, out var diagnostics);

        Assert.DoesNotContain(graph.Components, c => c.Name == "yaml" && c.Version == "2.9.0");
        Assert.Contains(graph.Components, c => c.Name == "yaml" && c.Version == "1.10.3");
        Assert.Equal(Installed(Path.Combine(folder, "package-lock.json")), new SortedSet<string>(graph.Components.Select(c => $"{c.Name}@{c.Version}"), StringComparer.Ordinal));
        var note = Assert.Single(diagnostics.Items, d => d.Id == DiagnosticIds.NotInstalled);
        Assert.Equal(DiagnosticSeverity.Info, note.Severity);
        Assert.Contains("node_modules/tailwindcss/node_modules/yaml@2.9.0", note.Message, StringComparison.Ordinal);
        Assert.Equal(LineOf("extraneous/ironoc-frontend/package-lock.json", "\"node_modules/tailwindcss/node_modules/yaml\""), note.Location!.Line);
    }

    [Fact]
    public void Read_PagedjsCli_NoComponentForTheExtraneousGitEntry()
    {
        var graph = Read(TestData.Path("npm", "extraneous", "pagedjs-cli"), out var diagnostics);

        Assert.DoesNotContain(graph.Components, c => c.Name.Contains("pagedjs.git", StringComparison.Ordinal) || c.Version.Length == 0);
        var note = Assert.Single(diagnostics.Items, d => d.Id == DiagnosticIds.NotInstalled);
        Assert.Equal(38, note.Location!.Line);
        Assert.DoesNotContain(diagnostics.Items, d => d.Severity != DiagnosticSeverity.Info);
    }
}
