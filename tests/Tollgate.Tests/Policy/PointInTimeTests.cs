using Tollgate.Policy;

namespace Tollgate.Tests.Policy;

public sealed class PointInTimeTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("24h", "2026-12-05T12:00:00Z")]
    [InlineData("7d", "2026-11-29T12:00:00Z")]
    [InlineData("P1D", "2026-12-05T12:00:00Z")]
    [InlineData(" 30m ", "2026-12-06T11:30:00Z")]
    [InlineData("2026-12-04", "2026-12-04T00:00:00Z")]
    [InlineData("2026-12-04T09:00:00Z", "2026-12-04T09:00:00Z")]
    [InlineData("2026-12-04T09:00", "2026-12-04T09:00:00Z")]
    [InlineData("2026-12-04T09:00:00+02:00", "2026-12-04T07:00:00Z")]
    public void TryParse_DurationBackOrTime_ThatInstant(string text, string expected)
    {
        Assert.True(PointInTime.TryParse(text, Now, out var at, out var error), error);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), at);
        Assert.Equal(TimeSpan.Zero, at.Offset);
    }

    [Theory]
    [InlineData(null, "needs a duration (24h, 7d) or a time")]
    [InlineData("  ", "needs a duration (24h, 7d) or a time")]
    [InlineData("yesterday", "'yesterday' is neither a duration nor a time")]
    [InlineData("2026-13-40", "'2026-13-40' is neither a duration nor a time")]
    [InlineData("-5d", "'-5d' is neither a duration nor a time")]
    public void TryParse_Neither_SaysWhatIsExpected(string? text, string message)
    {
        Assert.False(PointInTime.TryParse(text, Now, out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
