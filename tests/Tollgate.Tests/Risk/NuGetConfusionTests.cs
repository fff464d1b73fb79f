using System.IO.Compression;
using System.Text.Json;
using Tollgate.Tests.Cli;
using Tollgate.Tests.Updates;

namespace Tollgate.Tests.Risk;

/// <summary>
/// TG1009 for NuGet, on projects restored by the real <c>dotnet restore</c>: the source each private-named package came
/// from (the global packages folder's .nupkg.metadata) against the source nuget.config's packageSourceMapping gives it.
/// Two local folder feeds stand for the private feed and the public gallery; both hold a package with the private id.
/// </summary>
public sealed class NuGetConfusionTests
{
    private const string Policy = "private: [ \"Contoso.*\" ]\n";

    private static void Pack(string feed, string id, string version)
    {
        Directory.CreateDirectory(feed);
        using var zip = ZipFile.Open(Path.Combine(feed, $"{id}.{version}.nupkg"), ZipArchiveMode.Create);
        using var writer = new StreamWriter(zip.CreateEntry($"{id}.nuspec").Open());
        writer.Write($"""
            <?xml version="1.0" encoding="utf-8"?>
            <package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
              <metadata><id>{id}</id><version>{version}</version><authors>Contoso</authors><description>test package</description></metadata>
            </package>
            """);
    }

    private static string Config(string mappedTo) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <config><add key="globalPackagesFolder" value="packages" /></config>
          <packageSources>
            <clear />
            <add key="contoso" value="feeds/contoso" />
            <add key="gallery" value="feeds/gallery" />
          </packageSources>
          {(mappedTo.Length == 0 ? "" : $"""
          <packageSourceMapping>
            <packageSource key="{mappedTo}"><package pattern="Contoso.*" /></packageSource>
            <packageSource key="{(mappedTo == "contoso" ? "gallery" : "contoso")}"><package pattern="*" /></packageSource>
          </packageSourceMapping>
          """)}
        </configuration>
        """;

    /// <summary>A project that references Contoso.Internal, restored with Contoso.* mapped to <paramref name="restoreFrom"/>.</summary>
    private static string Restored(string restoreFrom)
    {
        var folder = UpdateTestKit.NewFolder("nuget-confusion");
        Pack(Path.Combine(folder, "feeds", "contoso"), "Contoso.Internal", "1.0.0");
        Pack(Path.Combine(folder, "feeds", "gallery"), "Contoso.Internal", "1.0.0");
        File.WriteAllText(Path.Combine(folder, "nuget.config"), Config(restoreFrom));
        File.WriteAllText(Path.Combine(folder, "tollgate.yaml"), Policy);
        File.WriteAllText(Path.Combine(folder, "App.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <RestorePackagesWithLockFile>true</RestorePackagesWithLockFile>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Contoso.Internal" Version="1.0.0" />
              </ItemGroup>
            </Project>
            """);
        UpdateTestKit.Run(folder, "dotnet", "restore");
        var metadata = File.ReadAllText(Path.Combine(folder, "packages", "contoso.internal", "1.0.0", ".nupkg.metadata"));
        Assert.Contains(Path.Combine("feeds", restoreFrom), metadata, StringComparison.Ordinal);
        return folder;
    }

    private static List<JsonElement> Confusion(string folder, out int exitCode)
    {
        var run = CliRunner.Run("scan", Path.Combine(folder, "App.csproj"), "--no-advisories", "--checks", "deps", "--format", "json");
        exitCode = run.ExitCode;
        using var doc = JsonDocument.Parse(run.Stdout);
        return [.. doc.RootElement.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("id").GetString() == "TG1009").Select(f => f.Clone())];
    }

    [Fact]
    public void PrivateId_RestoredFromTheMappedPrivateFeed_IsNotConfusion()
    {
        var folder = Restored("contoso");
        Assert.Empty(Confusion(folder, out var exit));
        Assert.Equal(0, exit);
    }

    [Fact]
    public void PrivateId_RestoredFromAnotherSourceThanTheMapping_FailsTG1009NamingBoth()
    {
        var folder = Restored("gallery");
        // The configuration now maps Contoso.* to the private feed, but what was restored came from the gallery.
        File.WriteAllText(Path.Combine(folder, "nuget.config"), Config("contoso"));
        var finding = Assert.Single(Confusion(folder, out var exit));
        Assert.Equal(1, exit);
        var evidence = finding.GetProperty("evidence").GetString()!;
        Assert.Contains(Path.Combine("feeds", "gallery"), evidence, StringComparison.Ordinal);
        Assert.Contains("package source mapping", evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void PrivateId_WithoutAnyMapping_FailsTG1009SayingHowToShowItIsPrivate()
    {
        var folder = Restored("contoso");
        File.WriteAllText(Path.Combine(folder, "nuget.config"), Config(""));
        var finding = Assert.Single(Confusion(folder, out var exit));
        Assert.Equal(1, exit);
        Assert.Contains("packageSourceMapping", finding.GetProperty("evidence").GetString()!, StringComparison.Ordinal);
    }
}
