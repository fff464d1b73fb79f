using System.Net;
using System.Text.Json.Nodes;
using Tollgate.Server.Feeds.Npm;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// The feed applies scan's typosquat rule (TG1010) at download time, at the level the policy gives it: warn by default
/// (served, logged), <c>rules: { TG1010: fail }</c> refuses the name. Upstream data: the real <c>crossenv</c> packument,
/// the 2017 typosquat of <c>cross-env</c>.
/// </summary>
public sealed class TyposquatFeedTests
{
    private static async Task<JsonObject> Json(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    [Fact]
    public async Task Typosquat_ByDefault_IsServedWithAWarningInTheLog()
    {
        await using var env = await FeedEnvironment.StartAsync();
        var packument = await env.Http.GetAsync("crossenv");
        Assert.Equal(HttpStatusCode.OK, packument.StatusCode);
        Assert.Equal(["0.0.2-security"], (await Json(packument))["versions"]!.AsObject().Select(v => v.Key));
        var tarball = await env.Http.GetAsync("crossenv/-/crossenv-0.0.2-security.tgz");
        Assert.Equal(HttpStatusCode.OK, tarball.StatusCode);

        // Decisions reach the log through the background queue.
        await env.Feed.FlushAuditAsync();
        using var log = FeedAuditLog.Open(env.Storage, readOnly: true);
        var entry = Assert.Single(log.Query(new AuditQuery { Package = "crossenv" }), e => e.Request == "tarball");
        Assert.Equal("warned", entry.Verdict);
        Assert.Equal("TG1010", entry.Rule);
        Assert.Contains("cross-env", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Typosquat_AtLevelFail_IsRefusedAndOtherNamesAreNot()
    {
        await using var env = await FeedEnvironment.StartAsync(FeedEnvironment.DefaultPolicy + "\nrules:\n  TG1010: fail\n");
        var packument = await env.Http.GetAsync("crossenv");
        Assert.Equal(HttpStatusCode.NotFound, packument.StatusCode);
        Assert.Contains("TG1010", (await Json(packument))["error"]!.GetValue<string>(), StringComparison.Ordinal);
        var tarball = await env.Http.GetAsync("crossenv/-/crossenv-0.0.2-security.tgz");
        Assert.Equal(HttpStatusCode.Forbidden, tarball.StatusCode);
        Assert.Equal("TG1010", (await Json(tarball))["rule"]!.GetValue<string>());
        Assert.Empty(env.UpstreamRequestsFor("crossenv-0.0.2-security.tgz"));

        // The real client sees the refusal and installs nothing.
        var project = env.NewProject();
        var install = await env.RunNpm(project, "install", "crossenv", "--ignore-scripts");
        Assert.NotEqual(0, install.ExitCode);
        Assert.Null(install.Installed("crossenv"));
        Assert.Contains("TG1010", install.Output, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await env.Http.GetAsync("ms")).StatusCode);
    }
}
