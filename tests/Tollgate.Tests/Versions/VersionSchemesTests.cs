using NuGet.Versioning;
using Tollgate.Ecosystems;
using Tollgate.Graph;

namespace Tollgate.Tests.Versions;

public sealed class VersionSchemesTests
{
    [Theory]
    [InlineData(Ecosystem.Npm, "npm", "v1.2.3", "1.2.3")]
    [InlineData(Ecosystem.PyPI, "PyPI", "1.0.0-RC1", "1.0.0rc1")]
    [InlineData(Ecosystem.NuGet, "NuGet", "01.2.0", "1.2.0")]
    public void VersionSchemes_For_ParsesAndNormalises(Ecosystem ecosystem, string name, string text, string normalized)
    {
        var scheme = VersionSchemes.For(ecosystem);
        Assert.Equal(name, scheme.Name);
        Assert.True(scheme.TryParse(text, out var version));
        Assert.Equal(normalized, version.Normalized);
        Assert.Equal(text, version.Original);
    }

    [Theory]
    [InlineData(Ecosystem.Npm, "1.2.3", "^1.0.0", true)]
    [InlineData(Ecosystem.Npm, "2.0.0-beta", "^1.0.0 || >=2.0.0", false)]
    [InlineData(Ecosystem.Npm, "1.2.3", "not a range", false)]
    [InlineData(Ecosystem.PyPI, "1.4.7", "~=1.4.5", true)]
    [InlineData(Ecosystem.PyPI, "2.0rc1", ">=1.0", false)]
    [InlineData(Ecosystem.PyPI, "2.0rc1", ">=1.0rc1", true)]
    [InlineData(Ecosystem.NuGet, "1.5.0", "[1.0,2.0)", true)]
    [InlineData(Ecosystem.NuGet, "2.0.0", "[1.0,2.0)", false)]
    [InlineData(Ecosystem.NuGet, "3.0.0", "1.0", true)]
    public void VersionSchemes_Satisfies_UsesNativeRangeSyntax(Ecosystem ecosystem, string version, string range, bool expected)
    {
        var scheme = VersionSchemes.For(ecosystem);
        Assert.True(scheme.TryParse(version, out var v));
        Assert.Equal(expected, scheme.Satisfies(v, range));
    }

    [Fact]
    public void VersionSchemes_MixedSchemes_CompareThrows()
    {
        Assert.True(VersionSchemes.Npm.TryParse("1.0.0", out var npm));
        Assert.True(VersionSchemes.PyPI.TryParse("1.0.0", out var pypi));
        Assert.Throws<ArgumentException>(() => VersionSchemes.Npm.Compare(npm, pypi));
    }

    /// <summary>NuGet's reference is NuGet.Versioning itself: the wrapper must answer exactly as direct calls do.</summary>
    [Fact]
    public void NuGetScheme_RandomVersionsAndRanges_AgreeWithNuGetVersioning()
    {
        var random = new Random(99);
        string[] parts = ["0", "1", "2", "10", "01"];
        string[] tags = ["", "", "", "-alpha", "-beta.2", "-rc.1", "-RC.1", "+meta", "-alpha+meta"];
        string Version() => string.Join('.', Enumerable.Range(0, random.Next(1, 5)).Select(_ => parts[random.Next(parts.Length)])) + tags[random.Next(tags.Length)];
        string Range() => random.Next(6) switch
        {
            0 => Version(),
            1 => $"[{Version()},{Version()})",
            2 => $"({Version()},{Version()}]",
            3 => $"[{Version()}]",
            4 => $"(,{Version()})",
            _ => $"[{Version()},)",
        };
        var scheme = VersionSchemes.NuGet;
        int compared = 0, satisfied = 0;
        for (int i = 0; i < 3000; i++)
        {
            string a = Version(), b = Version(), r = Range();
            bool parsedA = scheme.TryParse(a, out var va);
            Assert.Equal(NuGetVersion.TryParse(a, out var na), parsedA);
            if (!parsedA || !scheme.TryParse(b, out var vb))
            {
                continue;
            }
            Assert.Equal(na!.ToNormalizedString(), va!.Normalized);
            Assert.Equal(Math.Sign(VersionComparer.Default.Compare(na, NuGetVersion.Parse(b))), Math.Sign(scheme.Compare(va, vb)));
            bool expected = VersionRange.TryParse(r, out var range) && range.Satisfies(na);
            Assert.Equal(expected, scheme.Satisfies(va, r));
            compared++;
            satisfied += expected ? 1 : 0;
        }
        Assert.True(compared > 1000 && satisfied > 100, $"too few cases exercised: {compared} compared, {satisfied} satisfied");
    }
}
