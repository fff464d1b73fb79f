using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// Publishing private packages with hand-made publish bodies: the feed must take nothing from the body that decides
/// where a file goes, and must never replace or serve changed bytes of a published version.
/// </summary>
public sealed class PublishTests
{
    private static readonly byte[] Original = Encoding.UTF8.GetBytes("the original tarball of @acme/tool@1.0.0");

    /// <summary>
    /// An npm publish body as the npm client builds it; each part can be replaced to build the bodies an attacker
    /// would send.
    /// </summary>
    internal static JsonObject Body(string name, string versionKey, byte[] tarball, string? manifestVersion = null, string? attachment = null,
        string? distTarball = null)
    {
        var unscoped = name.Contains('/', StringComparison.Ordinal) ? name[(name.IndexOf('/', StringComparison.Ordinal) + 1)..] : name;
        var integrity = "sha512-" + Convert.ToBase64String(SHA512.HashData(tarball));
        return new JsonObject
        {
            ["_id"] = name,
            ["name"] = name,
            ["dist-tags"] = new JsonObject { ["latest"] = versionKey },
            ["versions"] = new JsonObject
            {
                [versionKey] = new JsonObject
                {
                    ["name"] = name,
                    ["version"] = manifestVersion ?? versionKey,
                    ["dist"] = new JsonObject
                    {
                        ["integrity"] = integrity,
                        ["shasum"] = Convert.ToHexStringLower(SHA1.HashData(tarball)),
                        ["tarball"] = distTarball ?? $"http://feed.invalid/{name}/-/{unscoped}-{versionKey}.tgz",
                    },
                },
            },
            ["_attachments"] = new JsonObject
            {
                [attachment ?? $"{name}-{versionKey}.tgz"] = new JsonObject
                {
                    ["content_type"] = "application/octet-stream",
                    ["data"] = Convert.ToBase64String(tarball),
                    ["length"] = tarball.Length,
                },
            },
        };
    }

    private static Task<HttpResponseMessage> Publish(FeedEnvironment env, string name, JsonObject body, string token = FeedEnvironment.Token) =>
        Publish(env.Http, name, body, token);

    internal static async Task<HttpResponseMessage> Publish(HttpClient http, string name, JsonObject body, string token = FeedEnvironment.Token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, name.Replace("/", "%2f", StringComparison.Ordinal))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    private static async Task<string> Error(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>();

    /// <summary>Every file under the test's folder outside the storage folder that the feed could have written.</summary>
    private static List<string> FilesOutsideStorage(FeedEnvironment env) =>
        Directory.EnumerateFiles(env.Folder, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(env.Storage + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Where(f => f.EndsWith(".tgz", StringComparison.Ordinal) || f.Contains("PWNED", StringComparison.Ordinal))
            .ToList();

    [Theory]
    // From private/@acme%2ftool/ four '..' reach the test's folder, next to the storage folder.
    [InlineData("1.0.1/../../../../escaped/PWNED")]
    [InlineData("1.0.1/../../../../../../tmp/x/PWNED")]
    [InlineData("../../../escaped")]
    [InlineData("1.0.0\\..\\..\\x")]
    [InlineData("1.0.0/x")]
    [InlineData("v1.0.0")]
    [InlineData(" 1.0.0")]
    [InlineData("1.0")]
    [InlineData("01.0.0")]
    [InlineData("1.0.0+build.1")]
    public async Task Publish_VersionKeyNotACanonicalSemVer_400AndNothingWritten(string version)
    {
        await using var env = await FeedEnvironment.StartAsync();
        var response = await Publish(env, "@acme/tool", Body("@acme/tool", version, Original));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("version", await Error(response), StringComparison.Ordinal);
        Assert.Empty(FilesOutsideStorage(env));
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "private", "@acme%2ftool")));
    }

    [Fact]
    public async Task Publish_ManifestVersionDiffersFromKey_400()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var response = await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Original, manifestVersion: "1.0.1"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("1.0.1", await Error(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("@acme/Tool")]
    [InlineData("@acme/to~ol")]
    [InlineData("@acme/to(ol)")]
    public async Task Publish_NameNotValidForNewPackages_400(string name)
    {
        await using var env = await FeedEnvironment.StartAsync();
        var response = await Publish(env, name, Body(name, "1.0.0", Original));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(name, await Error(response), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "private")) && Directory.EnumerateFileSystemEntries(Path.Combine(env.Storage, "private")).Any());
    }

    [Fact]
    public async Task Publish_VersionWhoseFileNameReachesPublishedTarball_RefusedAndOriginalServed()
    {
        await using var env = await FeedEnvironment.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Original))).StatusCode);

        var replaced = await Publish(env, "@acme/tool", Body("@acme/tool", "9.9.9/../tool-1.0.0", Encoding.UTF8.GetBytes("replaced")));

        Assert.Equal(HttpStatusCode.BadRequest, replaced.StatusCode);
        var served = await env.Http.GetAsync("@acme/tool/-/tool-1.0.0.tgz");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(Original, await served.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Publish_NewVersionWithTarballUrlOfPublishedVersion_PublishedTarballKept()
    {
        await using var env = await FeedEnvironment.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Original))).StatusCode);
        var newer = Encoding.UTF8.GetBytes("the tarball of @acme/tool@2.0.0");

        var response = await Publish(env, "@acme/tool", Body("@acme/tool", "2.0.0", newer, distTarball: "http://feed.invalid/@acme/tool/-/tool-1.0.0.tgz"));

        // The body's dist.tarball decides nothing: 2.0.0 is stored under its own name and 1.0.0 keeps its bytes.
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(Original, await (await env.Http.GetAsync("@acme/tool/-/tool-1.0.0.tgz")).Content.ReadAsByteArrayAsync());
        Assert.Equal(newer, await (await env.Http.GetAsync("@acme/tool/-/tool-2.0.0.tgz")).Content.ReadAsByteArrayAsync());
        var packument = JsonNode.Parse(await env.Http.GetStringAsync("@acme/tool"))!;
        Assert.Equal(env.Registry + "@acme/tool/-/tool-2.0.0.tgz", packument["versions"]!["2.0.0"]!["dist"]!["tarball"]!.GetValue<string>());
    }

    [Fact]
    public async Task Publish_AttachmentNamedForAnotherVersion_400()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var response = await Publish(env, "@acme/tool", Body("@acme/tool", "2.0.0", Original, attachment: "@acme/tool-1.0.0.tgz"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("@acme/tool-2.0.0.tgz", await Error(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("@acme/tool-1.0.0.tgz")]
    [InlineData("other.tgz")]
    [InlineData("../tool-1.0.0.tgz")]
    public async Task Publish_PublishedVersionAgain_409WhateverTheAttachmentName(string attachment)
    {
        await using var env = await FeedEnvironment.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Original))).StatusCode);

        var again = await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Encoding.UTF8.GetBytes("replaced"), attachment: attachment));

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(Original, await (await env.Http.GetAsync("@acme/tool/-/tool-1.0.0.tgz")).Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Publish_DistTagNamingNoVersion_400AndNothingWritten()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var body = Body("@acme/tool", "1.0.0", Original);
        body["dist-tags"] = new JsonObject { ["latest"] = "1.0.0", ["next"] = "../../x" };

        var response = await Publish(env, "@acme/tool", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'next'", await Error(response), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "private", "@acme%2ftool")));
    }

    [Fact]
    public async Task Publish_TarballStoredButPackumentLost_409UnlessSameBytes()
    {
        await using var env = await FeedEnvironment.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Original))).StatusCode);
        var folder = Path.Combine(env.Storage, "private", "@acme%2ftool");
        // As a publish interrupted between the two writes would leave it: the tarball without its packument entry.
        File.Delete(Path.Combine(folder, "packument.json"));

        var replaced = await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Encoding.UTF8.GetBytes("replaced")));
        var retried = await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Original));

        Assert.Equal(HttpStatusCode.Conflict, replaced.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(Original, await File.ReadAllBytesAsync(Path.Combine(folder, "tool-1.0.0.tgz")));
    }

    [Fact]
    public async Task Publish_StoredPackumentUnreadable_500AndNothingReplaced()
    {
        await using var env = await FeedEnvironment.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Original))).StatusCode);
        var packument = Path.Combine(env.Storage, "private", "@acme%2ftool", "packument.json");
        await File.WriteAllTextAsync(packument, "{ not json");

        var response = await Publish(env, "@acme/tool", Body("@acme/tool", "2.0.0", Original));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("{ not json", await File.ReadAllTextAsync(packument));
    }

    [Fact]
    public async Task Tarball_PrivateStoredFileChanged_500WithReasonAndBytesNotServed()
    {
        await using var env = await FeedEnvironment.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Original))).StatusCode);
        var stored = Directory.EnumerateFiles(Path.Combine(env.Storage, "private", "@acme%2ftool"), "*.tgz").Single();
        await File.WriteAllTextAsync(stored, "changed on disk after the publish");

        var response = await env.Http.GetAsync("@acme/tool/-/tool-1.0.0.tgz");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("integrity", text, StringComparison.Ordinal);
        Assert.DoesNotContain("changed on disk", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_TokenScopedToOtherNames_403AndMatchingName_201()
    {
        const string TeamToken = "tollgate-team-token-51c0";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(TeamToken)));
        var config = FeedConfigLoader.Parse($"""
            tokens:
              - name: team
                sha256: {hash}
                packages: [ "@acme/lib-*" ]
            """, "feed.yaml", "/srv");
        Assert.True(config.Options is not null, string.Join("\n", config.Diagnostics));
        await using var env = await FeedEnvironment.StartAsync(configure: o => o with { Tokens = config.Options.Tokens });

        var refused = await Publish(env, "@acme/tool", Body("@acme/tool", "1.0.0", Original), TeamToken);
        var allowed = await Publish(env, "@acme/lib-core", Body("@acme/lib-core", "1.0.0", Original), TeamToken);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("team", await Error(refused), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(env.Storage, "private", "@acme%2ftool")));
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
    }
}
