using System.Diagnostics.CodeAnalysis;

namespace Tollgate.Ecosystems.PyPI;

/// <summary>The PyPI version scheme: PEP 440 versions, ordering and specifier sets.</summary>
internal sealed class Pep440VersionScheme : IVersionScheme
{
    public string Name => "PyPI";

    public bool TryParse(string? text, [NotNullWhen(true)] out IComparableVersion? version)
    {
        bool ok = Pep440Version.TryParse(text, out var parsed);
        version = parsed;
        return ok;
    }

    public int Compare(IComparableVersion left, IComparableVersion right) =>
        VersionSchemes.Expect<Pep440Version>(left, Name).CompareTo(VersionSchemes.Expect<Pep440Version>(right, Name));

    public bool IsValidRange(string? rangeText) => Pep440SpecifierSet.TryParse(rangeText, out _);

    public bool Satisfies(IComparableVersion version, string rangeText) =>
        Pep440SpecifierSet.TryParse(rangeText, out var set) && set.Contains(VersionSchemes.Expect<Pep440Version>(version, Name));
}
