using System.Text.RegularExpressions;
using Tollgate.Ecosystems.NuGet;
using Tollgate.Containment;
using Tollgate.Inputs;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Containment;

public sealed partial class NuGetBuildCodeTests
{
    private static string Assets => TestData.Path("containment", "nuget-buildcode", "obj", "project.assets.json");

    [Fact]
    public void Scan_RealAssetsFile_ListsPackagesWithBuildCode()
    {
        var diagnostics = new DiagnosticBag();
        // A folder with no packages: the assets file's own file lists decide (the machine's package cache may differ).
        var empty = Directory.CreateTempSubdirectory("tollgate-nuget-").FullName;

        var found = NuGetBuildCodeScanner.Scan(Assets, empty, diagnostics);

        Assert.Empty(diagnostics.Items);
        Assert.Equal(
            [
                "Microsoft.CodeCoverage@18.0.1: build/netstandard2.0/Microsoft.CodeCoverage.props, build/netstandard2.0/Microsoft.CodeCoverage.targets",
                "Microsoft.Extensions.Configuration.Abstractions@10.0.0: buildTransitive/net461/Microsoft.Extensions.Configuration.Abstractions.targets, buildTransitive/netcoreapp2.0/Microsoft.Extensions.Configuration.Abstractions.targets",
                "Microsoft.Extensions.Primitives@10.0.0: buildTransitive/net461/Microsoft.Extensions.Primitives.targets, buildTransitive/netcoreapp2.0/Microsoft.Extensions.Primitives.targets",
                "xunit.analyzers@1.18.0: tools/install.ps1",
            ],
            found.Select(p => $"{p.Component.Name}@{p.Component.Version}: {string.Join(", ", p.Files)}"));
        Directory.Delete(empty);
    }

    [Fact]
    public void Scan_RealAssetsFile_CoversEveryImportNuGetGenerated()
    {
        // The reference: the props/targets NuGet itself wrote imports for during the same restore.
        var generated = Directory.GetFiles(Path.GetDirectoryName(Assets)!, "*.nuget.g.*").Select(File.ReadAllText);
        var imports = generated.SelectMany(text => ImportPattern().Matches(text).Select(m => m.Groups[1].Value)).Distinct().ToList();
        var found = NuGetBuildCodeScanner.Scan(Assets, null, new DiagnosticBag())
            .SelectMany(p => p.Files.Select(f => $"{p.Component.Name.ToLowerInvariant()}/{p.Component.Version}/{f}"))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

        Assert.NotEmpty(imports);
        Assert.All(imports, import => Assert.Contains(import, found));
    }

    [Fact]
    public void TollgateScan_RealAssetsFile_ReportsTG1011ForEachPackageWithBuildCodeUnlessAllowed()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-nuget-scan-").FullName;
        var source = Path.GetDirectoryName(Path.GetDirectoryName(Assets)!)!;
        File.Copy(Path.Combine(source, "buildcode.csproj"), Path.Combine(folder, "buildcode.csproj"));
        Directory.CreateDirectory(Path.Combine(folder, "obj"));
        File.Copy(Assets, Path.Combine(folder, "obj", "project.assets.json"));

        var run = CliRunner.Run("scan", folder, "--no-advisories", "--format", "json");
        using (var doc = System.Text.Json.JsonDocument.Parse(run.Stdout))
        {
            var tg1011 = doc.RootElement.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("id").GetString() == "TG1011")
                .Select(f => $"{f.GetProperty("package").GetProperty("name").GetString()}: {f.GetProperty("evidence").GetString()}").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(
                [
                    "Microsoft.CodeCoverage: build/netstandard2.0/Microsoft.CodeCoverage.props, build/netstandard2.0/Microsoft.CodeCoverage.targets",
                    "Microsoft.Extensions.Configuration.Abstractions: buildTransitive/net461/Microsoft.Extensions.Configuration.Abstractions.targets, buildTransitive/netcoreapp2.0/Microsoft.Extensions.Configuration.Abstractions.targets",
                    "Microsoft.Extensions.Primitives: buildTransitive/net461/Microsoft.Extensions.Primitives.targets, buildTransitive/netcoreapp2.0/Microsoft.Extensions.Primitives.targets",
                    "xunit.analyzers: tools/install.ps1",
                ],
                tg1011);
            Assert.Equal("warn", doc.RootElement.GetProperty("verdict").GetString());
        }

        File.WriteAllText(Path.Combine(folder, "tollgate.yaml"), "installScripts:\n  allow: [ \"pkg:nuget/xunit.analyzers\" ]\nrules:\n  TG1011: fail\n");
        var strict = CliRunner.Run("scan", folder, "--no-advisories", "--format", "json");
        Assert.Equal(1, strict.ExitCode);
        Assert.DoesNotContain("\"xunit.analyzers\"", strict.Stdout, StringComparison.Ordinal);
        Directory.Delete(folder, recursive: true);
    }

    [Theory]
    [InlineData("build/Foo.props", true)]
    [InlineData("build/net8.0/Foo.targets", true)]
    [InlineData("buildTransitive/Foo.targets", true)]
    [InlineData("buildMultiTargeting/Foo.props", true)]
    [InlineData("BUILD\\Foo.PROPS", true)]
    [InlineData("tools/init.ps1", true)]
    [InlineData("tools/install.ps1", true)]
    [InlineData("tools/uninstall.ps1", false)]
    [InlineData("tools/net8.0/any/tool.dll", false)]
    [InlineData("buildTransitive/net8.0/_._", false)]
    [InlineData("build/Foo.dll", false)]
    [InlineData("lib/net8.0/build/Foo.props", false)]
    [InlineData("Foo.props", false)]
    public void IsBuildCode_PackagePaths(string path, bool expected)
    {
        Assert.Equal(expected, NuGetBuildCodeScanner.IsBuildCode(path));
    }

    [Fact]
    public void Scan_NotJson_WarnsWithoutThrowing()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("tollgate-nuget-").FullName, "project.assets.json");
        File.WriteAllText(file, "{ \"libraries\": ");
        var diagnostics = new DiagnosticBag();

        Assert.Empty(NuGetBuildCodeScanner.Scan(file, null, diagnostics));
        Assert.Equal(Graph.DiagnosticIds.InvalidJson, Assert.Single(diagnostics.Items).Id);
    }

    [Fact]
    public void TollgateInstall_DotnetRestore_ReportsTG1011UnlessAllowed()
    {
        // A real restore from the machine's global packages folder (a valid local feed), so no registry is needed:
        // the two packages are ones this test project itself depends on, so they are always there.
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var dir = Directory.CreateTempSubdirectory("tollgate-restore-").FullName;
        File.WriteAllText(Path.Combine(dir, "app.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
              <ItemGroup>
                <PackageReference Include="xunit.analyzers" Version="1.18.0" />
                <PackageReference Include="Microsoft.CodeCoverage" Version="18.0.1" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "tollgate.yaml"), "installScripts:\n  allow: [ \"pkg:nuget/xunit.analyzers\" ]\nrules:\n  TG1011: fail\n");

        var result = CliRunner.Run("install", "--directory", dir, "--", "dotnet", "restore", "--source", packages);

        Assert.True(result.ExitCode == 1, result.Stderr);
        Assert.Contains("fail TG1011: Microsoft.CodeCoverage@18.0.1 carries code that runs at build time or in Visual Studio: "
            + "build/netstandard2.0/Microsoft.CodeCoverage.props, build/netstandard2.0/Microsoft.CodeCoverage.targets", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("allowed build-time code: xunit.analyzers@1.18.0 (tools/install.ps1)", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("TG1011: xunit.analyzers", result.Stderr, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    [GeneratedRegex(@"<Import Project=""\$\(NuGetPackageRoot\)([^""]+)""")]
    private static partial Regex ImportPattern();
}
