using System.Collections.Immutable;
using Tollgate.Graph;

namespace Tollgate.Risk;

/// <summary>
/// The settings risk rules need, as plain data: the policy supplies the lists and patterns, the caller
/// supplies each ecosystem's configured default registry (npm's comes from <c>npm config get registry</c>).
/// Rules never assume a registry host of their own.
/// </summary>
public sealed record RiskContext
{
    /// <summary>No approved registries, no private names, no allowlist, no known default registries.</summary>
    public static RiskContext Empty { get; } = new();

    /// <summary>Registry URLs components may come from. Empty: every registry is accepted (TG1007 is silent).</summary>
    public ImmutableArray<string> ApprovedRegistries { get; init; } = [];

    /// <summary>True for names that belong to the organisation and must never come from a public registry.</summary>
    public Func<Component, bool> IsPrivateName { get; init; } = static _ => false;

    /// <summary>True for packages whose install scripts are known and accepted.</summary>
    public Func<Component, bool> IsInstallScriptAllowed { get; init; } = static _ => false;

    /// <summary>
    /// The registry each ecosystem installs from when the input names none. A registry component whose
    /// <see cref="Origin.Location"/> is null came from here.
    /// </summary>
    public ImmutableDictionary<Ecosystem, string> DefaultRegistries { get; init; } = ImmutableDictionary<Ecosystem, string>.Empty;

    /// <summary>
    /// The sources the package manager's own configuration allows for a package name (NuGet's packageSourceMapping),
    /// or null when it maps the name to no source in particular. A private name from a mapped source is not confusion.
    /// </summary>
    public Func<Component, IReadOnlyList<string>?> MappedSources { get; init; } = static _ => null;

    /// <summary>Where the rule documentation lives (docs/rules.md as a URL); findings link to <c>#tg1001</c> etc. Null: no link.</summary>
    public string? RulesDocumentationUri { get; init; }

    /// <summary>The URL the component was downloaded from, or its ecosystem's default registry when the input records none.</summary>
    internal string? EffectiveRegistry(Component component) =>
        component.Origin.Location ?? DefaultRegistries.GetValueOrDefault(component.Ecosystem);

    /// <summary>True when the policy lists approved registries and <paramref name="url"/> lies under one of them.</summary>
    internal bool IsApproved(string url) =>
        ApprovedRegistries.Any(approved => RegistryUrl.IsUnder(url, approved));

    /// <summary>
    /// Why a registry component with a private name counts as dependency confusion (TG1009), or null when it came
    /// from where private names may come from. With <see cref="ApprovedRegistries"/>: any registry not on the list.
    /// Without: the ecosystem's default registry (no recorded URL, or one under the configured default), and, when
    /// that default is not known, any recorded registry, since nothing shows it is a private one (fail closed).
    /// </summary>
    public string? ConfusionReason(Component component)
    {
        ArgumentNullException.ThrowIfNull(component);
        if (!component.Resolved || component.Origin.Kind != OriginKind.Registry || !IsPrivateName(component))
        {
            return null;
        }
        var url = EffectiveRegistry(component);
        if (!ApprovedRegistries.IsEmpty)
        {
            return url is null ? "the default registry, which is not approved"
                : IsApproved(url) ? null
                : RegistryUrl.Display(url) + ", which is not approved";
        }
        if (MappedSources(component) is { Count: > 0 } mapped)
        {
            var sources = string.Join(", ", mapped.Select(RegistryUrl.Display));
            return component.Origin.Location is null
                ? $"a source that was not recorded (the package folder has no .nupkg.metadata for it), so it cannot be shown to be the mapped source {sources}"
                : mapped.Any(m => RegistryUrl.IsSameSource(component.Origin.Location, m)) ? null
                : $"{RegistryUrl.Display(component.Origin.Location)}, not the source the package source mapping gives it ({sources})";
        }
        if (component.Ecosystem == Ecosystem.NuGet)
        {
            // NuGet has no single default source: a private id is shown to come from a private feed only by a mapping.
            return (component.Origin.Location is null ? "a source that was not recorded" : RegistryUrl.Display(component.Origin.Location))
                + " (no packageSourceMapping in nuget.config maps this id to a source, so it cannot be shown to be a private feed: map it, or list the feed under registries.approved)";
        }
        if (component.Origin.Location is null)
        {
            return "the default registry";
        }
        if (!DefaultRegistries.TryGetValue(component.Ecosystem, out var registry))
        {
            return RegistryUrl.Display(component.Origin.Location)
                + " (the default registry is not known, so this cannot be shown to be a private registry: list it under registries.approved)";
        }
        return RegistryUrl.IsUnder(component.Origin.Location, registry)
            ? RegistryUrl.Display(component.Origin.Location) + " (the default registry)"
            : null;
    }
}
