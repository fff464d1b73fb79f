using System.Text;
using Tollgate.Ecosystems.PyPI;

namespace Tollgate.Tests.PyPI;

/// <summary>The simple-API page reader on hand-made malformed and edge-case pages (real pages are read in the feed's tests).</summary>
public sealed class SimplePageTests
{
    private static readonly Uri Page = new("http://127.0.0.1:1/simple/demo/");

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"files\": {}}")]
    [InlineData("{\"meta\": {\"api-version\": \"1.1\"}}")]
    [InlineData("{\"files\": [{\"filename\": \"demo-1.0.tar.gz\", \"url\": \"demo-1.0.tar.gz\", \"hashes\": []}]}")]
    [InlineData("{\"files\": [], \"files\": []}")]
    public void Read_MalformedJsonPage_NullNeverAnException(string body)
    {
        Assert.Null(SimplePage.Read(Encoding.UTF8.GetBytes(body), SimplePage.JsonMediaType, Page, "demo"));
    }

    [Fact]
    public void Read_NoMediaType_TellsJsonFromHtmlByTheBody()
    {
        var json = "  {\"files\": [{\"filename\": \"demo-1.0.tar.gz\", \"url\": \"../../files/demo-1.0.tar.gz\", \"hashes\": {\"sha256\": \""
            + new string('A', 64) + "\"}, \"yanked\": \"bad\"}]}";
        var html = "<a href=\"../../files/demo-1.0.tar.gz#sha256=" + new string('b', 64) + "\" data-yanked=\"\">demo-1.0.tar.gz</a>";

        var fromJson = SimplePage.Read(Encoding.UTF8.GetBytes(json), null, Page, "demo")!;
        var fromHtml = SimplePage.Read(Encoding.UTF8.GetBytes(html), null, Page, "demo")!;

        var file = Assert.Single(fromJson.Files);
        Assert.Equal(new string('a', 64), file.Sha256);
        Assert.Equal("bad", file.Yanked);
        Assert.Equal("http://127.0.0.1:1/files/demo-1.0.tar.gz", file.Url.AbsoluteUri);
        file = Assert.Single(fromHtml.Files);
        Assert.Equal(new string('b', 64), file.Sha256);
        Assert.Equal("", file.Yanked);
        Assert.Equal("http://127.0.0.1:1/files/demo-1.0.tar.gz", file.Url.AbsoluteUri);
    }

    [Fact]
    public void Facts_FilesOfOneRelease_YankedOnlyWhenEveryFileIsAndAsOldAsTheFirst()
    {
        var early = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        SimpleFile File(string name, string? yanked, DateTimeOffset? at) =>
            new(name, new Uri(Page, name), new string('c', 64), null, yanked, null, at, null);
        var page = new SimplePage("demo", [
            File("demo-1.0.tar.gz", "bad build", early.AddDays(1)),
            File("demo-1.0-py3-none-any.whl", null, early),
            File("demo-1.1.tar.gz", "bad build", early.AddDays(2)),
        ], []);

        var facts = PyPIIndexClient.Facts(page);

        Assert.Equal(["1.0", "1.1"], facts.Versions.Select(v => v.Version));
        Assert.False(facts.Versions[0].Yanked);
        Assert.Equal(early, facts.Versions[0].Published);
        Assert.True(facts.Versions[0].HasWheels);
        Assert.True(facts.Versions[1].Yanked);
        Assert.Equal("bad build", facts.Versions[1].YankReason);
        Assert.False(facts.Versions[1].HasWheels);
        Assert.NotEmpty(facts.Versions[1].InstallScripts!.Value);
    }
}
