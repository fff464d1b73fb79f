using Tollgate.Ecosystems.Npm;
using Tollgate.Graph;
using Tollgate.Inputs;

namespace Tollgate.Tests.Npm;

/// <summary>
/// Shapes that package managers write when the registry lacks some optional packages: bun and pnpm leave a missing
/// optional dependency out of the lockfile, and yarn needs <c>resolutions</c> in package.json to pin it elsewhere
/// (the entries below are cut from lockfiles bun 1.4.5 and yarn 4.18.1 wrote for a project depending on next@16.4.6).
/// </summary>
public sealed class MissingOptionalAndResolutionsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("tollgate-optional-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Bun_MissingOptionalDependency_IsNotReported_MissingRequiredOneIs()
    {
        var path = Write("bun.lock", """
            {
              "lockfileVersion": 1,
              "workspaces": { "": { "name": "app", "dependencies": { "next": "^16.4.6" } } },
              "packages": {
                "next": ["next@16.4.6", "", { "dependencies": { "@next/env": "16.4.6", "styled-jsx": "5.1.6" }, "optionalDependencies": { "@next/swc-darwin-x64": "16.4.6", "@next/swc-linux-x64-gnu": "16.4.6" } }, "sha512-AAAA"],
                "@next/env": ["@next/env@16.4.6", "", {}, "sha512-BBBB"],
                "@next/swc-linux-x64-gnu": ["@next/swc-linux-x64-gnu@16.4.6", "", { "os": "linux", "cpu": "x64" }, "sha512-CCCC"],
              }
            }
            """);
        var bag = new DiagnosticBag();

        var project = BunLockReader.Read(path, null, bag);

        Assert.NotNull(project);
        var dangling = bag.Items.Where(d => d.Id == DiagnosticIds.DanglingReference).Select(d => d.Message).ToList();
        // styled-jsx is a required dependency with no entry: that is a stale lockfile. The darwin binary is optional.
        Assert.Single(dangling);
        Assert.Contains("styled-jsx", dangling[0], StringComparison.Ordinal);
        Assert.Contains(project.Edges, e => e.From == "npm/next@16.4.6" && e.To == "npm/@next/swc-linux-x64-gnu@16.4.6");
    }

    [Fact]
    public void YarnBerry_ResolutionsInPackageJson_LinkTheDependentToTheResolvedEntry()
    {
        var manifestPath = Write("package.json", """
            {
              "name": "app",
              "dependencies": { "next": "^16.4.6" },
              "resolutions": { "@next/swc-darwin-x64": "16.4.5" }
            }
            """);
        var path = Write("yarn.lock", """
            __metadata:
              version: 8
              cacheKey: 10c0

            "@next/swc-darwin-x64@npm:16.4.5":
              version: 16.4.5
              resolution: "@next/swc-darwin-x64@npm:16.4.5"
              conditions: os=darwin & cpu=x64
              languageName: node
              linkType: hard

            "app@workspace:.":
              version: 0.0.0-use.local
              resolution: "app@workspace:."
              dependencies:
                next: "npm:^16.4.6"
              languageName: unknown
              linkType: soft

            "next@npm:^16.4.6":
              version: 16.4.6
              resolution: "next@npm:16.4.6"
              dependencies:
                "@next/swc-darwin-x64": "npm:16.4.6"
              dependenciesMeta:
                "@next/swc-darwin-x64":
                  optional: true
              languageName: node
              linkType: hard
            """);
        var bag = new DiagnosticBag();
        var manifest = PackageJson.Read(manifestPath, bag);

        var project = YarnLockReader.Read(path, manifest, bag);

        Assert.NotNull(project);
        Assert.DoesNotContain(bag.Items, d => d.Id == DiagnosticIds.DanglingReference);
        Assert.Contains(project.Edges, e => e.From == "npm/next@16.4.6" && e.To == "npm/@next/swc-darwin-x64@16.4.5");
        var swc = Assert.Single(project.Components, c => c.Name == "@next/swc-darwin-x64");
        Assert.Equal(DependencyScopes.Optional, swc.Scopes & DependencyScopes.Optional);
    }
}
