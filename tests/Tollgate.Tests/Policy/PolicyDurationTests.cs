using Tollgate.Policy;

namespace Tollgate.Tests.Policy;

public sealed class PolicyDurationTests
{
    [Theory]
    [InlineData("30m", 0.5)]
    [InlineData("72h", 72)]
    [InlineData("3d", 72)]
    [InlineData("1w", 168)]
    [InlineData("1.5d", 36)]
    [InlineData("0", 0)]
    [InlineData("P3D", 72)]
    [InlineData("PT12H", 12)]
    [InlineData("P1W", 168)]
    [InlineData("P1DT12H", 36)]
    [InlineData("PT90M", 1.5)]
    [InlineData("p2d", 48)]
    public void TryParse_Valid_GivesHours(string text, double hours)
    {
        Assert.True(PolicyDuration.TryParse(text, out var duration, out var error), error);
        Assert.Equal(TimeSpan.FromHours(hours), duration);
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("1s", 1)]
    [InlineData("0s", 0)]
    [InlineData("90S", 90)]
    [InlineData("PT30S", 30)]
    [InlineData("PT1M30S", 90)]
    public void TryParse_Seconds_Exact(string text, int seconds)
    {
        Assert.True(PolicyDuration.TryParse(text, out var duration, out var error), error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Fact]
    public void TryParse_CapitalM_RefusedAsAmbiguous_NotReadAsMinutes()
    {
        Assert.False(PolicyDuration.TryParse("1M", out _, out var error));
        Assert.Contains("ambiguous", error, StringComparison.Ordinal);
        Assert.True(PolicyDuration.TryParse("1m", out var minute, out _));
        Assert.Equal(TimeSpan.FromMinutes(1), minute);
    }

    [Theory]
    [InlineData(30, "30s")]
    [InlineData(90, "90s")]
    [InlineData(120, "2m")]
    public void Format_Seconds_WritesPolicySyntax(int seconds, string expected) =>
        Assert.Equal(expected, PolicyDuration.Format(TimeSpan.FromSeconds(seconds)));

    [Theory]
    [InlineData("72x")]
    [InlineData("72")]
    [InlineData("h")]
    [InlineData("-1d")]
    [InlineData("3 days")]
    [InlineData("P1Y")]
    [InlineData("P1M")]
    [InlineData("1M")]
    [InlineData("PT")]
    [InlineData("P3H")]
    [InlineData("99999w")]
    public void TryParse_Invalid_Fails(string text)
    {
        Assert.False(PolicyDuration.TryParse(text, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void TryParse_IsoDays_AgreesWithXmlDurationParser()
    {
        // System.Xml implements the XML Schema duration type, which shares ISO 8601's day and time designators.
        foreach (var text in new[] { "P3D", "PT12H", "P1DT12H", "PT90M", "P2DT3H4M" })
        {
            Assert.True(PolicyDuration.TryParse(text, out var duration, out _));
            Assert.Equal(System.Xml.XmlConvert.ToTimeSpan(text), duration);
        }
    }

    [Theory]
    [InlineData(72, "72h")]
    [InlineData(168, "1w")]
    [InlineData(0.5, "30m")]
    [InlineData(0, "0")]
    public void Format_Duration_WritesPolicySyntax(double hours, string expected)
    {
        Assert.Equal(expected, PolicyDuration.Format(TimeSpan.FromHours(hours)));
    }
}
