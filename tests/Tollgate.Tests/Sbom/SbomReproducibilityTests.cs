using Tollgate.Sbom;
using Tollgate.Tests.Cli;

namespace Tollgate.Tests.Sbom;

/// <summary>SOURCE_DATE_EPOCH: the same input gives byte-identical SBOMs, through the writers and through the CLI.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class SbomReproducibilityTests
{
    [Theory]
    [MemberData(nameof(SbomInputs.All), MemberType = typeof(SbomInputs))]
    public void Writers_FixedOptions_TwoRunsAreByteIdentical(string input)
    {
        var options = SbomWriterSchemaTests.Fixed;
        // Two independent reads: the writers must not depend on the order the readers happened to produce.
        var first = SbomInputs.Graph(input);
        var second = SbomInputs.Graph(input);

        Assert.Equal(CycloneDxWriter.Write(first, options), CycloneDxWriter.Write(second, options));
        Assert.Equal(SpdxWriter.Write(first, options with { SpecVersion = "2.3" }), SpdxWriter.Write(second, options with { SpecVersion = "2.3" }));
        Assert.Contains("\"timestamp\": \"2023-11-14T22:13:20Z\"", CycloneDxWriter.Write(first, options), StringComparison.Ordinal);
    }

    [Fact]
    public void Writers_NotReproducible_SerialNumbersDiffer()
    {
        // The control: without SOURCE_DATE_EPOCH each document gets a fresh serial number and namespace.
        var graph = SbomInputs.Graph("npm/mcp-filesystem");
        var options = SbomWriterSchemaTests.Fixed with { Reproducible = false };

        Assert.NotEqual(CycloneDxWriter.Write(graph, options), CycloneDxWriter.Write(graph, options));
        Assert.NotEqual(SpdxWriter.Write(graph, options with { SpecVersion = "2.3" }), SpdxWriter.Write(graph, options with { SpecVersion = "2.3" }));
    }

    [Fact]
    public void FromEnvironment_SourceDateEpoch_FixesTimeAndMakesIdsContentDerived()
    {
        var previous = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        try
        {
            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", "1700000000");
            var options = SbomOptions.FromEnvironment(SbomFormat.CycloneDx, null, "1.0.0", "p", TimeProvider.System);
            Assert.True(options.Reproducible);
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), options.Timestamp);
            Assert.Equal("1.6", options.SpecVersion);

            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", null);
            Assert.False(SbomOptions.FromEnvironment(SbomFormat.Spdx, null, "1.0.0", "p", TimeProvider.System).Reproducible);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", previous);
        }
    }

    [Theory]
    [InlineData("cyclonedx")]
    [InlineData("spdx")]
    public void SbomCommand_SourceDateEpoch_TwoRunsAreByteIdentical(string format)
    {
        var previous = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        try
        {
            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", "1700000000");
            var path = SbomInputs.PathOf("examples/mcp-server-npm");
            var first = CliRunner.Run("sbom", path, "--format", format);
            var second = CliRunner.Run("sbom", path, "--format", format);

            Assert.True(first.ExitCode == 0, first.Stderr);
            Assert.Equal(first.Stdout, second.Stdout);
            Assert.Contains("2023-11-14T22:13:20Z", first.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", previous);
        }
    }
}

/// <summary>Tests that set process environment variables run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "process environment";
}
