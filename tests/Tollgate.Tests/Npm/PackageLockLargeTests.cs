using System.Text.Json;
using Tollgate.Graph;
using static Tollgate.Tests.Npm.PackageLockFixtures;

namespace Tollgate.Tests.Npm;

/// <summary>A real project of more than 1,500 lockfile entries, compared with <c>npm ls --all --json</c> on Linux x64 (glibc).</summary>
public sealed class PackageLockLargeTests
{
    private static readonly Lazy<DependencyGraph> Graph = new(() => Read(TestData.Path("npm", "large"), out _));

    [Fact]
    public void Read_LargeProject_MoreThan1500Entries()
    {
        using var lockfile = JsonDocument.Parse(File.ReadAllText(TestData.Path("npm", "large", "package-lock.json")));

        Assert.True(lockfile.RootElement.GetProperty("packages").EnumerateObject().Count() > 1500);
        Assert.True(Graph.Value.Components.Length > 1400);
    }

    [Fact]
    public void Read_LargeProject_SameAsNpmLsExceptPackagesForOtherPlatforms()
    {
        var graph = Graph.Value;
        var ours = Ours(graph);
        var npmLs = NpmLsPackages("large");

        // npm ls shows the installed tree. The lockfile also lists optional packages for other platforms
        // (os/cpu/libc that exclude linux, x64, glibc) and optional packages only those pull in; npm did not
        // install them here.
        var notInstalled = NotInstalledOnThisPlatform(graph);
        Assert.Empty(npmLs.Except(ours));
        Assert.Equal(notInstalled.Order(StringComparer.Ordinal), ours.Except(npmLs).Order(StringComparer.Ordinal));
        Assert.Contains("@esbuild/darwin-arm64@0.28.2", notInstalled);
        Assert.Contains("fsevents@2.3.3", notInstalled);
        Assert.DoesNotContain("@esbuild/linux-x64@0.28.2", notInstalled);
    }

    [Fact]
    public void Read_LargeProject_DirectAndDevFollowPackageJson()
    {
        var graph = Graph.Value;
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestData.Path("npm", "large", "package.json")));
        var prod = manifest.RootElement.GetProperty("dependencies").EnumerateObject().Select(p => p.Name).ToList();
        var dev = manifest.RootElement.GetProperty("devDependencies").EnumerateObject().Select(p => p.Name).ToList();

        var direct = graph.Components.Where(c => c.Direct).ToList();

        Assert.Equal(prod.Concat(dev).Order(StringComparer.Ordinal), direct.Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.All(direct.Where(c => dev.Contains(c.Name)), c => Assert.Equal(DependencyScopes.Dev, c.Scopes & DependencyScopes.Dev));
        Assert.All(direct.Where(c => prod.Contains(c.Name)), c => Assert.Equal(DependencyScopes.Prod, c.Scopes));
        Assert.DoesNotContain(graph.WithoutDevOnly().Components, c => c.Name == "jest");
        Assert.Contains(graph.WithoutDevOnly().Components, c => c.Name == "@angular/cli");
    }

    [Fact]
    public void Read_LargeProject_InstallScriptFlags()
    {
        var graph = Graph.Value;

        Assert.True(Single(graph, "esbuild", "0.28.2").HasInstallScript);
        Assert.False(Single(graph, "express", "5.3.0").HasInstallScript);
        Assert.Equal(
            ["core-js", "core-js-pure", "esbuild"],
            graph.Components.Where(c => c.HasInstallScript == true).Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Read_LargeProject_WhyPathThroughJest()
    {
        var graph = Graph.Value;
        var jestCli = Single(graph, "jest-cli", "27.5.1");

        var paths = graph.PathsTo(jestCli.Key);

        Assert.Contains(paths, p => p.Select(graph.Label).SequenceEqual(["large-app@0.1.0", "jest@27.5.1", "jest-cli@27.5.1"]));
        Assert.Equal(LineOf("large/package-lock.json", "\"node_modules/jest\": {"), Single(graph, "jest", "27.5.1").Locations.Single().Line);
    }

    /// <summary>
    /// Reports show at most five paths, shortest first, and the first as "Why (shortest path)": for every component of
    /// a real 1,500-package lockfile, the first of five is as short as the breadth-first shortest path, and the five
    /// are the five shortest there are (checked against every path, where a component has few enough to list).
    /// </summary>
    [Fact]
    public void PathsTo_FirstFive_AreTheShortest()
    {
        var graph = Graph.Value;
        foreach (var component in graph.Components)
        {
            var shortest = graph.ShortestPathTo(component.Key);
            var five = graph.PathsTo(component.Key, 5);
            Assert.NotEmpty(five);
            Assert.True(five[0].Length == shortest.Length, $"{component.Key}: first path has {five[0].Length} nodes, shortest {shortest.Length}");
            var all = graph.PathsTo(component.Key, 100_000);
            if (all.Count < 100_000)
            {
                Assert.Equal(all.Take(five.Count).Select(p => p.Length), five.Select(p => p.Length));
            }
        }
    }

    /// <summary>
    /// The lockfile entries npm skips on Linux x64 with glibc: a platform mismatch, or an optional package whose every
    /// dependent is skipped. Read from the lockfile's own os/cpu/libc fields.
    /// </summary>
    private static HashSet<string> NotInstalledOnThisPlatform(DependencyGraph graph)
    {
        using var lockfile = JsonDocument.Parse(File.ReadAllText(TestData.Path("npm", "large", "package-lock.json")));
        var skipped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in lockfile.RootElement.GetProperty("packages").EnumerateObject())
        {
            var v = entry.Value;
            if (entry.Name.Length > 0 && !(Allows(v, "os", "linux") && Allows(v, "cpu", "x64") && Allows(v, "libc", "glibc")))
            {
                var name = v.TryGetProperty("name", out var n) ? n.GetString()! : entry.Name[(entry.Name.LastIndexOf("node_modules/", StringComparison.Ordinal) + 13)..];
                skipped.Add(Component.KeyFor(Ecosystem.Npm, name, v.GetProperty("version").GetString()!));
            }
        }
        bool grew;
        do
        {
            grew = false;
            foreach (var c in graph.Components.Where(c => (c.Scopes & DependencyScopes.Optional) != 0 && !skipped.Contains(c.Key)))
            {
                var parents = graph.Edges.Where(e => e.To == c.Key).Select(e => e.From).ToList();
                if (parents.Count > 0 && parents.All(skipped.Contains))
                {
                    grew = skipped.Add(c.Key) || grew;
                }
            }
        }
        while (grew);
        return [.. skipped.Select(k => graph.Label(k))];

        static bool Allows(JsonElement entry, string field, string value)
        {
            if (!entry.TryGetProperty(field, out var list))
            {
                return true;
            }
            var items = list.EnumerateArray().Select(i => i.GetString()!).ToList();
            if (items.Contains("!" + value))
            {
                return false;
            }
            var positive = items.Where(i => !i.StartsWith('!')).ToList();
            return positive.Count == 0 || positive.Contains(value);
        }
    }
}
