using Tollgate.ClientConfig;

namespace Tollgate.Tests.ClientConfig;

/// <summary>Client configuration checks over hand-written config files (the edge cases each rule is about).</summary>
public sealed class ClientConfigAuditTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tollgate-client-config-").FullName;

    private string Project => Directory.CreateDirectory(Path.Combine(_root, "project")).FullName;

    private string Home => Directory.CreateDirectory(Path.Combine(_root, "home")).FullName;

    private ClientConfigResult Run(Uri? feed = null, params (string Name, string Value)[] variables)
    {
        var env = variables.ToDictionary(v => v.Name, v => v.Value);
        env["HOME"] = Home;
        return ClientConfigAudit.Run(Project, feed, name => env.GetValueOrDefault(name));
    }

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public void Npmrc_NoRegistryNoIgnoreScripts_BypassAndScriptsWarned()
    {
        Write("project/package.json", "{}");
        var result = Run();
        Assert.Contains(result.Findings, f => f.RuleId == ClientConfigAudit.BypassRule && f.Message.Contains("npm installs from its built-in default", StringComparison.Ordinal) && !f.Fail);
        Assert.Contains(result.Findings, f => f.RuleId == ClientConfigAudit.ScriptsRule);
    }

    [Fact]
    public void Npmrc_FeedAndIgnoreScripts_NoNpmFindings()
    {
        Write("project/.npmrc", "registry=http://127.0.0.1:4873/\nignore-scripts=true\n//127.0.0.1:4873/:_authToken=${NPM_TOKEN}\n");
        var result = Run(new Uri("http://127.0.0.1:4873"));
        Assert.DoesNotContain(result.Findings, f => f.File.EndsWith(".npmrc", StringComparison.Ordinal));
    }

    [Fact]
    public void Npmrc_PlaintextTokenAndOtherRegistry_MaskedAndFixNamesFeed()
    {
        Write("home/.npmrc", "registry=https://registry.example.test/\n//registry.example.test/:_authToken=npm_abcdefghijklmnop\n");
        Write("project/.npmrc", "ignore-scripts=true\n");
        var result = Run(new Uri("http://127.0.0.1:4873"));
        var token = Assert.Single(result.Findings, f => f.RuleId == ClientConfigAudit.PlaintextTokenRule);
        Assert.True(token.Fail);
        Assert.Equal(2, token.Line);
        Assert.Contains("npm_****", token.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdefghijklmnop", token.Message, StringComparison.Ordinal);
        var bypass = Assert.Single(result.Findings, f => f.RuleId == ClientConfigAudit.BypassRule);
        Assert.Equal("registry=http://127.0.0.1:4873/", bypass.Fix);
    }

    [Fact]
    public void PipConf_ExtraIndexUrl_FailsAsDependencyConfusion()
    {
        Write("home/.config/pip/pip.conf", "[global]\nindex-url = http://127.0.0.1:4873/pypi/simple/\nextra-index-url = https://user:s3cretpassword@pypi.example.test/simple/\n");
        var result = Run(new Uri("http://127.0.0.1:4873"));
        var extra = Assert.Single(result.Findings, f => f.RuleId == ClientConfigAudit.ExtraIndexRule);
        Assert.True(extra.Fail);
        Assert.Equal(3, extra.Line);
        Assert.DoesNotContain("s3cretpassword", extra.Message, StringComparison.Ordinal);
        Assert.Contains(result.Findings, f => f.RuleId == ClientConfigAudit.PlaintextTokenRule && f.Line == 3);
        Assert.DoesNotContain(result.Findings, f => f.RuleId == ClientConfigAudit.BypassRule);
    }

    [Fact]
    public void PipEnvironment_ExtraIndexVariable_Fails()
    {
        var result = Run(null, ("PIP_EXTRA_INDEX_URL", "https://pypi.example.test/simple/"));
        Assert.Contains(result.Findings, f => f.RuleId == ClientConfigAudit.ExtraIndexRule && f.File == "$PIP_EXTRA_INDEX_URL");
    }

    [Fact]
    public void UvToml_TwoIndexes_Fails()
    {
        Write("project/uv.toml", "[[index]]\nurl = \"http://127.0.0.1:4873/pypi/simple/\"\ndefault = true\n\n[[index]]\nname = \"other\"\nurl = \"https://other.example.test/simple/\"\n");
        var result = Run();
        Assert.Contains(result.Findings, f => f.RuleId == ClientConfigAudit.ExtraIndexRule && f.Line == 5);
    }

    [Fact]
    public void NuGetConfig_TwoSourcesNoMappingNoClear_FailsAndWarns()
    {
        Write("project/nuget.config", """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="gallery" value="https://nuget.example.test/v3/index.json" />
                <add key="internal" value="https://internal.example.test/v3/index.json" />
              </packageSources>
              <packageSourceCredentials>
                <internal>
                  <add key="Username" value="ci" />
                  <add key="ClearTextPassword" value="hunter2hunter2" />
                </internal>
              </packageSourceCredentials>
            </configuration>
            """);
        var result = Run(new Uri("http://127.0.0.1:4873"));
        Assert.Contains(result.Findings, f => f.RuleId == ClientConfigAudit.NuGetMappingRule && f.Fail && f.Line == 4);
        Assert.Contains(result.Findings, f => f.RuleId == ClientConfigAudit.BypassRule && f.Fix.Contains("<clear />", StringComparison.Ordinal)
            && f.Fix.Contains("http://127.0.0.1:4873/nuget/v3/index.json", StringComparison.Ordinal));
        var secret = Assert.Single(result.Findings, f => f.RuleId == ClientConfigAudit.PlaintextTokenRule);
        Assert.Contains("hunt****", secret.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NuGetConfig_ClearAndMapping_NoFindings()
    {
        Write("project/nuget.config", """
            <configuration>
              <packageSources>
                <clear />
                <add key="tollgate" value="http://127.0.0.1:4873/nuget/v3/index.json" />
                <add key="internal" value="https://internal.example.test/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="tollgate"><package pattern="*" /></packageSource>
                <packageSource key="internal"><package pattern="Acme.*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        var result = Run();
        Assert.Empty(result.Findings);
    }

    [Fact]
    public void NuGetConfig_NotXml_ReportedAsProblemNotPass()
    {
        Write("project/nuget.config", "<configuration><packageSources>");
        var result = Run();
        Assert.Single(result.Problems);
        Assert.Contains("not valid XML", result.Problems[0], StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
