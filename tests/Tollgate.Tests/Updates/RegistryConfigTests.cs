using Tollgate.Ecosystems.Npm;
using Tollgate.Ecosystems.NuGet;
using Tollgate.Ecosystems.PyPI;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Updates;

/// <summary>Registry URLs and credentials read from the package managers' own configuration files.</summary>
public sealed class RegistryConfigTests
{
    private static Func<string, string?> Environment(string home, params (string Name, string Value)[] variables) =>
        name => name == "HOME" ? home : variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void PipIndex_EnvironmentBeatsUvTomlBeatsPipConf()
    {
        var home = UpdateTestKit.NewFolder("home");
        var project = UpdateTestKit.NewFolder("project");
        Directory.CreateDirectory(Path.Combine(home, ".config", "pip"));
        File.WriteAllText(Path.Combine(home, ".config", "pip", "pip.conf"), "[global]\nindex-url = https://pip.example.test/simple/\n");

        Assert.Equal("https://pip.example.test/simple/", PipIndexConfig.Read(project, Environment(home))!.AbsoluteUri);

        File.WriteAllText(Path.Combine(project, "uv.toml"), "[[index]]\nname = \"corp\"\nurl = \"https://uv.example.test/simple/\"\ndefault = true\n");
        Assert.Equal("https://uv.example.test/simple/", PipIndexConfig.Read(project, Environment(home))!.AbsoluteUri);

        Assert.Equal("https://env.example.test/simple/",
            PipIndexConfig.Read(project, Environment(home, ("PIP_INDEX_URL", "https://env.example.test/simple/")))!.AbsoluteUri);
        Assert.Null(PipIndexConfig.Read(UpdateTestKit.NewFolder("empty"), Environment(UpdateTestKit.NewFolder("emptyhome"))));
    }

    [Fact]
    public void NuGetSources_ClearMappingAndCredentials_AreHonoured()
    {
        var home = UpdateTestKit.NewFolder("home");
        var project = UpdateTestKit.NewFolder("project");
        File.WriteAllText(Path.Combine(project, "nuget.config"), """
            <configuration>
              <packageSources>
                <clear />
                <add key="public" value="https://public.example.test/v3/index.json" />
                <add key="corp" value="https://corp.example.test/v3/index.json" />
              </packageSources>
              <packageSourceCredentials>
                <corp><add key="Username" value="ci" /><add key="ClearTextPassword" value="%CORP_TOKEN%" /></corp>
              </packageSourceCredentials>
              <packageSourceMapping>
                <packageSource key="public"><package pattern="*" /></packageSource>
                <packageSource key="corp"><package pattern="Contoso.*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        Directory.CreateDirectory(Path.Combine(home, ".nuget", "NuGet"));
        File.WriteAllText(Path.Combine(home, ".nuget", "NuGet", "NuGet.Config"),
            """<configuration><packageSources><add key="user" value="https://user.example.test/v3/index.json" /></packageSources></configuration>""");

        var config = NuGetSourceConfig.Read(project, Environment(home, ("CORP_TOKEN", "t0ken")));

        Assert.Equal(["public", "corp"], config.Sources.Select(s => s.Key));
        Assert.Equal(["corp"], config.SourcesFor("Contoso.Mcp.Server").Select(s => s.Key));
        Assert.Equal(["public"], config.SourcesFor("Newtonsoft.Json").Select(s => s.Key));
        Assert.Equal("Basic " + Convert.ToBase64String("ci:t0ken"u8.ToArray()), config.Sources[1].Authorization);
    }

    [Fact]
    public void Npmrc_ScopeRegistryAndNerfDartToken_AreFound()
    {
        var home = UpdateTestKit.NewFolder("home");
        var project = UpdateTestKit.NewFolder("project");
        File.WriteAllText(Path.Combine(project, ".npmrc"), "@acme:registry=https://npm.acme.test/repo/\n//npm.acme.test/repo/:_authToken=${ACME_TOKEN}\n");

        var npmrc = NpmrcSettings.Read(project, Environment(home, ("ACME_TOKEN", "abc")));

        Assert.Equal("https://npm.acme.test/repo/", npmrc.ScopeRegistry("@acme/tools")!.AbsoluteUri);
        Assert.Null(npmrc.ScopeRegistry("left-pad"));
        Assert.Equal("Bearer abc", npmrc.Authorization(new Uri("https://npm.acme.test/repo/")));
        Assert.Null(npmrc.Authorization(new Uri("https://other.example.test/")));
    }

    [Theory]
    [InlineData("--only", "security")]
    [InlineData("--registry", "cargo=https://x.example.test/")]
    [InlineData("--registry", "npm=not a url")]
    [InlineData("--min-age", "soon")]
    public void UpdateCli_BadOption_ExitsTwoWithAMessage(string option, string value)
    {
        var result = CliRunner.Run("update", ".", option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error:", result.Stderr, StringComparison.Ordinal);
    }
}
