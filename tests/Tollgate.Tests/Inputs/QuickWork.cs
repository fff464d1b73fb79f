using System.Diagnostics;

namespace Tollgate.Tests.Inputs;

/// <summary>
/// Times work that must be quick (linear time, where a bug made it quadratic or exponential: seconds to minutes, or a
/// hang). When a run is over <see cref="Bound"/> it is timed once more and the faster run counts, so that a cold start
/// (the first call in the test process compiles the reader) or a pause of a loaded machine is not taken for a slow
/// reader: a slow input is slow again.
/// </summary>
internal static class QuickWork
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(2);

    /// <summary>Runs <paramref name="work"/> (once more when over <see cref="Bound"/>); the last result and the faster time.</summary>
    public static (T Result, TimeSpan Elapsed) Time<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var clock = Stopwatch.StartNew();
        var result = work();
        var elapsed = clock.Elapsed;
        if (elapsed > Bound)
        {
            clock.Restart();
            result = work();
            elapsed = clock.Elapsed < elapsed ? clock.Elapsed : elapsed;
        }
        return (result, elapsed);
    }

    /// <summary>Fails unless <paramref name="elapsed"/> is within <see cref="Bound"/>.</summary>
    public static void AssertQuick(TimeSpan elapsed) => Assert.True(elapsed < Bound, $"took {elapsed}, twice over {Bound.TotalSeconds:0} s");
}
