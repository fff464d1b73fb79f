using Tollgate.Ecosystems.PyPI;

namespace Tollgate.Tests.PyPI;

/// <summary>PEP 508 dependency specifiers; cases follow the grammar and examples of PEP 508.</summary>
public sealed class PythonRequirementTests
{
    [Theory]
    [InlineData("requests", "requests", "", "", null, null)]
    [InlineData("requests==2.31.0", "requests", "", "==2.31.0", null, null)]
    [InlineData("requests [security,tests] >= 2.8.1, == 2.8.* ; python_version < \"2.7\"", "requests", "security,tests", ">= 2.8.1, == 2.8.*", null, "python_version < \"2.7\"")]
    [InlineData("name (>=1.0,<2.0) ; sys_platform == 'darwin'", "name", "", ">=1.0,<2.0", null, "sys_platform == 'darwin'")]
    [InlineData("pip @ https://github.invalid/pypa/pip/archive/1.3.1.zip#sha1=da9234ee", "pip", "", "", "https://github.invalid/pypa/pip/archive/1.3.1.zip#sha1=da9234ee", null)]
    [InlineData("name[quux, strange] @ git+https://git.invalid/x.git@v1 ; python_version<'2.7'", "name", "quux,strange", "", "git+https://git.invalid/x.git@v1", "python_version<'2.7'")]
    [InlineData("A.B-C_D~=1.4.2", "A.B-C_D", "", "~=1.4.2", null, null)]
    [InlineData("tomli>=2 ; python_version < '3.11'", "tomli", "", ">=2", null, "python_version < '3.11'")]
    public void TryParse_Pep508Forms_SplitsEveryPart(string text, string name, string extras, string specifier, string? url, string? marker)
    {
        Assert.True(PythonRequirement.TryParse(text, out var req, out var error, out _), error);
        Assert.Equal(name, req.Name);
        Assert.Equal(extras, string.Join(',', req.Extras));
        Assert.Equal(specifier, req.Specifier);
        Assert.Equal(url, req.Url);
        Assert.Equal(marker, req.Marker);
    }

    [Theory]
    [InlineData("requests = 2.31.0", 9)]
    [InlineData("-requests", 0)]
    [InlineData("requests[security", 8)]
    [InlineData("requests==1.0 ;", 15)]
    [InlineData("name @ ", 7)]
    public void TryParse_Malformed_ReportsOffset(string text, int offset)
    {
        Assert.False(PythonRequirement.TryParse(text, out _, out var error, out var at));
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Equal(offset, at);
    }

    [Theory]
    [InlineData("==1.0", "1.0")]
    [InlineData("===1.0+local", "1.0+local")]
    [InlineData("== 2.8.*", null)]
    [InlineData(">=1.0", null)]
    [InlineData("==1.0,!=1.1", null)]
    [InlineData("", null)]
    public void PinOf_Specifier_OnlyExactPinsAreVersions(string specifier, string? version) =>
        Assert.Equal(version, PythonRequirement.PinOf(specifier));
}
