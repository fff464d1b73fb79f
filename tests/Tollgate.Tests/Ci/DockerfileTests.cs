using System.Text.RegularExpressions;

namespace Tollgate.Tests.Ci;

/// <summary>
/// The Dockerfile cannot be built here (no container registry), so its structure is checked: bases pinned by digest,
/// a non-root user, exec-form entry point, nothing fetched and piped into a shell, and only /data and /tmp written.
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly string[] Lines = Instructions(File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "Dockerfile")));

    /// <summary>Instructions with continuation lines joined and comments dropped.</summary>
    private static string[] Instructions(string text) =>
        [.. text.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))];

    [Fact]
    public void EveryBase_IsPinnedByDigest()
    {
        var from = Lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();

        Assert.Equal(2, from.Count);
        Assert.All(from, l => Assert.Matches(PinnedFrom(), l));
        Assert.Contains("-chiseled@sha256:", from[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void FinalStage_RunsAsNonRootWithAnExecFormEntryPoint()
    {
        var final = Lines.SkipWhile(l => l != Lines.Last(x => x.StartsWith("FROM ", StringComparison.Ordinal))).ToList();
        var user = Assert.Single(final, l => l.StartsWith("USER ", StringComparison.Ordinal));

        Assert.Matches(@"^USER [1-9][0-9]*(:[1-9][0-9]*)?$", user);
        Assert.Matches(@"^ENTRYPOINT \[""", Assert.Single(final, l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal)));
        // No shell in a chiseled image: no RUN in the final stage.
        Assert.DoesNotContain(final, l => l.StartsWith("RUN ", StringComparison.Ordinal));
        Assert.Contains(final, l => l.StartsWith("ENV TOLLGATE_HOME=/data", StringComparison.Ordinal));
        Assert.Contains(final, l => l.Contains("--chown=1654:1654", StringComparison.Ordinal) && l.EndsWith(" /data", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_RestoresLockedAndFetchesNothingIntoAShell()
    {
        Assert.Contains(Lines, l => l.Contains("RestoreLockedMode=true", StringComparison.Ordinal));
        Assert.DoesNotContain(Lines, l => l.StartsWith("ADD ", StringComparison.Ordinal));
        Assert.DoesNotContain(Lines, l => PipeToShell().IsMatch(l));
    }

    [GeneratedRegex(@"^FROM \S+:[\w.-]+@sha256:[0-9a-f]{64}( AS \w+)?$")]
    private static partial Regex PinnedFrom();

    [GeneratedRegex(@"(curl|wget)[^|]*\|\s*(ba|z)?sh")]
    private static partial Regex PipeToShell();
}
