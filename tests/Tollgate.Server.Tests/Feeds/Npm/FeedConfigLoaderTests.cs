using Tollgate.Ecosystems.Npm;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

public sealed class FeedConfigLoaderTests
{
    [Fact]
    public void Parse_ValidConfig_ReadsEverySettingAndResolvesPaths()
    {
        var result = FeedConfigLoader.Parse("""
            listen: http://127.0.0.1:5000
            upstream: http://registry.invalid/npm/
            storage: cache
            sharedArtifacts: https://account.blob.invalid/tarballs
            policy: tollgate.yaml
            db: advisories.db
            dryRun: true
            packumentTtl: 10m
            packumentStaleWhileRevalidate: 30m
            backgroundRevalidations: 8
            upstreamTimeout: 1m
            vulnerabilities: warn
            maxPublishBytes: 1000
            maxPackumentBytes: 2000
            maxTarballBytes: 3000
            auditRetention: 90d
            tokens:
              - name: ci
                sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF
            """, "feed.yaml", "/srv/feed");
        Assert.Empty(result.Diagnostics);
        var o = result.Options!;
        Assert.Equal(new Uri("http://127.0.0.1:5000"), o.Listen);
        Assert.Equal(Path.GetFullPath("/srv/feed/cache"), o.Storage);
        Assert.Equal("https://account.blob.invalid/tarballs", o.SharedArtifacts);
        Assert.Equal(Path.GetFullPath("/srv/feed/tollgate.yaml"), o.Policy);
        Assert.True(o.DryRun);
        Assert.Equal(TimeSpan.FromMinutes(10), o.PackumentTtl);
        Assert.Equal(TimeSpan.FromMinutes(30), o.PackumentStaleWhileRevalidate);
        Assert.Equal(8, o.BackgroundRevalidations);
        Assert.Equal(VulnerabilityAction.Warn, o.Vulnerabilities);
        Assert.Equal(1000, o.MaxPublishBytes);
        Assert.Equal(2000, o.MaxPackumentBytes);
        Assert.Equal(3000, o.MaxTarballBytes);
        Assert.Equal(TimeSpan.FromDays(90), o.AuditRetention);
        Assert.Equal("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Assert.Single(o.Tokens).Sha256);
    }

    [Fact]
    public void Parse_SeveralMistakes_AllReportedWithLineAndColumn()
    {
        var result = FeedConfigLoader.Parse("""
            listen: not-a-url
            dryRun: maybe
            vulnerabilities: ignore
            colour: blue
            tokens:
              - name: ci
                token: plain-secret
            """, "feed.yaml", "/srv");
        Assert.Null(result.Options);
        Assert.Equal(["feed.yaml:1:9", "feed.yaml:2:9", "feed.yaml:3:18", "feed.yaml:4:1", "feed.yaml:6:5", "feed.yaml:7:5"],
            result.Diagnostics.Select(d => d.Location!.ToString()));
        Assert.Contains(result.Diagnostics, d => d.Message.Contains("plain text", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_TokenPackages_ReadsPatternsAndLocatesBadOnes()
    {
        var hash = new string('a', 64);
        var good = FeedConfigLoader.Parse($"""
            tokens:
              - name: team
                sha256: {hash}
                packages: [ "@acme/*", "@other/cli@^2" ]
              - name: admin
                sha256: {hash}
            """, "feed.yaml", "/srv");
        Assert.Empty(good.Diagnostics);
        Assert.Equal(["@acme/*", "@other/cli@^2"], good.Options!.Tokens[0].Packages.Select(p => p.Text));
        Assert.True(good.Options.Tokens[1].Packages.IsEmpty);

        var bad = FeedConfigLoader.Parse($"""
            tokens:
              - name: team
                sha256: {hash}
                packages: [ "@acme/ x", "pkg:pypi/requests" ]
              - name: other
                sha256: {hash}
                packages: "@acme/*"
            """, "feed.yaml", "/srv");
        Assert.Null(bad.Options);
        Assert.Equal(["feed.yaml:4:17", "feed.yaml:4:29", "feed.yaml:7:15"], bad.Diagnostics.Select(d => d.Location!.ToString()));
    }

    [Theory]
    [InlineData("auditRetention: soon")]
    [InlineData("auditRetention: 0")]
    [InlineData("maxTarballBytes: -1")]
    [InlineData("maxPackumentBytes: 64MiB")]
    [InlineData("backgroundRevalidations: 0")]
    [InlineData("backgroundRevalidations: 257")]
    [InlineData("backgroundRevalidations: many")]
    public void Parse_BadLimitOrRetention_ErrorAtTheValue(string line)
    {
        var result = FeedConfigLoader.Parse(line, "feed.yaml", "/srv");
        Assert.Null(result.Options);
        Assert.Equal("feed.yaml:1:" + (line.IndexOf(':', StringComparison.Ordinal) + 3), Assert.Single(result.Diagnostics).Location!.ToString());
    }

    [Fact]
    public void Parse_NoBackgroundRevalidations_FourByDefault() =>
        Assert.Equal(4, FeedConfigLoader.Parse("dryRun: false", "feed.yaml", "/srv").Options!.BackgroundRevalidations);

    [Theory]
    [InlineData("", 60)]
    [InlineData("packumentStaleWhileRevalidate: 2h", 120)]
    [InlineData("packumentStaleWhileRevalidate: 0.5m", 0.5)]
    [InlineData("packumentStaleWhileRevalidate: PT90S", 1.5)]
    [InlineData("packumentStaleWhileRevalidate: 0", 0)]
    [InlineData("packumentStaleWhileRevalidate: PT0S", 0)]
    public void Parse_PackumentStaleWhileRevalidate_DurationOrOneHourByDefault(string line, double minutes)
    {
        var result = FeedConfigLoader.Parse(line, "feed.yaml", "/srv");
        Assert.Empty(result.Diagnostics);
        Assert.Equal(TimeSpan.FromMinutes(minutes), result.Options!.PackumentStaleWhileRevalidate);
    }

    [Theory]
    [InlineData("packumentStaleWhileRevalidate: -5m", "'-5m' is not a number followed by a unit")]
    [InlineData("packumentStaleWhileRevalidate: soon", "'soon' is not a number followed by a unit")]
    [InlineData("packumentStaleWhileRevalidate: 0y", "'0y' has unknown unit 'y'")]
    [InlineData("packumentStaleWhileRevalidate: 30", "'30' has no unit")]
    [InlineData("packumentStaleWhileRevalidate: [1h]", "'packumentStaleWhileRevalidate' needs a single value")]
    public void Parse_BadPackumentStaleWhileRevalidate_ErrorAtTheValue(string line, string message)
    {
        var result = FeedConfigLoader.Parse(line, "feed.yaml", "/srv");
        Assert.Null(result.Options);
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal("feed.yaml:1:32", error.Location!.ToString());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BrokenYaml_OneSyntaxError()
    {
        var result = FeedConfigLoader.Parse("listen: [unclosed\n", "feed.yaml", "/srv");
        Assert.Null(result.Options);
        Assert.Single(result.Diagnostics);
    }
}

public sealed class FeedHostTests
{
    [Fact]
    public void Create_NoUpstreamAndNoNpm_ErrorNamesTheFix()
    {
        var storage = Directory.CreateTempSubdirectory("tollgate-feed-").FullName;
        try
        {
            var start = FeedHost.Create(new FeedOptions { Storage = storage, Database = Path.Combine(storage, "none.db") }, npmRegistry: () => null);
            Assert.Null(start.Host);
            Assert.Contains(start.Problems, p => p.Message.Contains("no upstream registry", StringComparison.Ordinal) && p.Hint!.Contains("--upstream", StringComparison.Ordinal));
            // An explicitly named advisory database that does not exist is an error too, reported in the same run.
            Assert.Contains(start.Problems, p => p.Message.Contains("none.db", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(storage, recursive: true);
        }
    }

    [Fact]
    public void NpmRegistryConfig_Read_MatchesTheNpmClient()
    {
        // The reference is the npm client itself: whatever it is configured with here.
        var start = new System.Diagnostics.ProcessStartInfo("npm", "config get registry") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var npm = System.Diagnostics.Process.Start(start)!;
        var expected = npm.StandardOutput.ReadToEnd().Trim();
        npm.WaitForExit();
        Assert.Equal(NpmRegistryConfig.WithSlash(new Uri(expected)), NpmRegistryConfig.Read());
    }
}

public sealed class FeedStorageTests
{
    [Theory]
    [InlineData("ms", "..")]
    [InlineData("ms", "../../x.tgz")]
    [InlineData("ms", "a/b.tgz")]
    [InlineData("ms", "a\\b.tgz")]
    [InlineData("../ms", "ms-1.0.0.tgz")]
    [InlineData("@a/../../b", "b-1.0.0.tgz")]
    public void TarballFile_PartThatLeavesItsFolder_Refused(string name, string file)
    {
        var root = Directory.CreateTempSubdirectory("tollgate-storage-").FullName;
        try
        {
            var storage = new FeedStorage(root);
            Assert.Throws<StoragePathException>(() => storage.TarballFile(name, file));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void PrivateTarballFile_IsNameAndVersionOnly()
    {
        var root = Directory.CreateTempSubdirectory("tollgate-storage-").FullName;
        try
        {
            var storage = new FeedStorage(root);
            Assert.Equal(Path.Combine(root, "private", "@acme%2ftool", "tool-1.0.0-rc.1.tgz"), storage.PrivateTarballFile("@acme/tool", NpmVersion.Parse("1.0.0-rc.1")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
