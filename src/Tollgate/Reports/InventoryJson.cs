using System.Text.Json;
using System.Text.Json.Serialization;
using Tollgate.Graph;
using Tollgate.Inventory;
using Tollgate.Sbom;

namespace Tollgate.Reports;

/// <summary>JSON for the inventory and SBOM-diff commands, documented in docs/cli.md.</summary>
public static class InventoryJson
{
    public static string Snapshots(IEnumerable<DeploymentSnapshot> snapshots) =>
        JsonSerializer.Serialize(new SnapshotList { Deployments = [.. snapshots.Select(SnapshotDto.From)] }, InventoryJsonContext.Default.SnapshotList);

    public static string Show(DeploymentSnapshot current, IEnumerable<DeploymentSnapshot> history, IEnumerable<InventoryComponent> components) =>
        JsonSerializer.Serialize(new DeploymentDetails
        {
            Deployment = SnapshotDto.From(current),
            History = [.. history.Select(SnapshotDto.From)],
            Components = [.. components.Select(InventoryComponentDto.From)],
        }, InventoryJsonContext.Default.DeploymentDetails);

    /// <summary>A page of an "affected" query's hits, with how many there are in all.</summary>
    public static string Affected(string query, AffectedPage page) =>
        JsonSerializer.Serialize(List(query, page, page.Hits.Select(AffectedDto.From)), InventoryJsonContext.Default.AffectedList);

    /// <summary>An advisory query's hits: each carries the advisory id that matched.</summary>
    public static string Affected(string query, AffectedPage page, IEnumerable<string> advisoryIds) =>
        JsonSerializer.Serialize(List(query, page, page.Hits.Zip(advisoryIds, (h, id) => { var dto = AffectedDto.From(h); dto.AdvisoryId = id; return dto; })),
            InventoryJsonContext.Default.AffectedList);

    private static AffectedList List(string query, AffectedPage page, IEnumerable<AffectedDto> hits) => new()
    {
        Query = query,
        Total = page.Total,
        Deployments = page.Deployments,
        Offset = page.Offset,
        NextOffset = page.NextOffset,
        Affected = [.. hits],
    };

    public static string Rescan(Tollgate.Inventory.RescanResult result) =>
        JsonSerializer.Serialize(new RescanResult
        {
            PackagesMatched = result.PackagesMatched,
            AffectedPackages = result.AffectedPackages,
            NewlyAffected = [.. result.NewlyAffected.Select(RescanHit.From)],
            Resolved = [.. result.Resolved.Select(r => new ResolvedHit { Deployment = r.Deployment, Purl = r.Purl, AdvisoryId = r.AdvisoryId })],
        }, InventoryJsonContext.Default.RescanResult);

    /// <summary>A page of recorded hits, newest found first (<c>tollgate inventory hits --format json</c>, <c>GET /api/v1/hits</c>).</summary>
    public static string Hits(DateTimeOffset? since, string? deployment, HitsPage page, RescanRun? lastRescan) =>
        JsonSerializer.Serialize(new HitList
        {
            Since = since,
            Deployment = deployment,
            Total = page.Total,
            Offset = page.Offset,
            NextOffset = page.NextOffset,
            LastRescan = lastRescan is null ? null : RescanRunDto.From(lastRescan),
            Hits = [.. page.Hits.Select(RescanHit.From)],
        }, InventoryJsonContext.Default.HitList);

    /// <summary>Reads a <see cref="Hits"/> document (a server's answer); null when it is not one.</summary>
    public static HitList? ReadHits(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, InventoryJsonContext.Default.HitList);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The recorded rescans, newest first (<c>GET /api/v1/rescan</c>).</summary>
    public static string Rescans(IEnumerable<RescanRun> runs) =>
        JsonSerializer.Serialize(new RescanRunList { Rescans = [.. runs.Select(RescanRunDto.From)] }, InventoryJsonContext.Default.RescanRunList);

    /// <summary>The <c>tollgate sbom diff --format json</c> document.</summary>
    public static string Diff(string oldFile, string newFile, SbomDiffResult diff, string? database) =>
        JsonSerializer.Serialize(new DiffResult
        {
            Old = oldFile,
            New = newFile,
            Summary = new DiffSummary
            {
                Added = diff.Count(ChangeKind.Added),
                Removed = diff.Count(ChangeKind.Removed),
                Upgraded = diff.Count(ChangeKind.Upgraded),
                Downgraded = diff.Count(ChangeKind.Downgraded),
                Changed = diff.Count(ChangeKind.Changed),
                NewFindings = diff.NewFindings?.Length,
                ResolvedFindings = diff.ResolvedFindings?.Length,
            },
            Changes = [.. diff.Changes.Select(c => new ChangeDto
            {
                Change = c.Kind.ToString().ToLowerInvariant(),
                Ecosystem = c.Ecosystem.ToOsvName(),
                Name = c.Name,
                OldVersions = [.. c.OldVersions],
                NewVersions = [.. c.NewVersions],
            })],
            Findings = diff.NewFindings is { } added && diff.ResolvedFindings is { } resolved
                ? new DiffFindings { Database = database, New = [.. added.Select(DiffFindingDto.From)], Resolved = [.. resolved.Select(DiffFindingDto.From)] }
                : null,
        }, InventoryJsonContext.Default.DiffResult);
}

public sealed class SnapshotList
{
    public List<SnapshotDto> Deployments { get; init; } = [];
}

public sealed class SnapshotDto
{
    public long Snapshot { get; init; }
    public required string Deployment { get; init; }
    public string? Version { get; init; }
    public string? Environment { get; init; }
    public DateTimeOffset AddedAt { get; init; }
    public int Components { get; init; }
    public bool Current { get; init; }

    public static SnapshotDto From(DeploymentSnapshot s) => new()
    {
        Snapshot = s.Id,
        Deployment = s.Deployment,
        Version = s.Version,
        Environment = s.Environment,
        AddedAt = s.AddedAt,
        Components = s.ComponentCount,
        Current = s.Current,
    };
}

public sealed class InventoryComponentDto
{
    public required string Purl { get; init; }
    public required string Ecosystem { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public bool Direct { get; init; }
    public List<string> Scopes { get; init; } = [];

    public static InventoryComponentDto From(InventoryComponent c) => new()
    {
        Purl = c.Purl,
        Ecosystem = c.Ecosystem.ToOsvName(),
        Name = c.Name,
        Version = c.Version,
        Direct = c.Direct,
        Scopes = GraphJson.ScopeNames(c.Scopes),
    };
}

public sealed class DeploymentDetails
{
    public required SnapshotDto Deployment { get; init; }
    public List<SnapshotDto> History { get; init; } = [];
    public List<InventoryComponentDto> Components { get; init; } = [];
}

public sealed class AffectedDto
{
    public required string Deployment { get; init; }
    public string? Environment { get; init; }
    public string? Version { get; init; }
    public long Snapshot { get; init; }
    public required InventoryComponentDto Component { get; init; }
    public List<string> Path { get; init; } = [];
    /// <summary>The advisory that matched, for advisory queries.</summary>
    public string? AdvisoryId { get; set; }

    public static AffectedDto From(AffectedDeployment a) => new()
    {
        Deployment = a.Deployment,
        Environment = a.Environment,
        Version = a.Version,
        Snapshot = a.SnapshotId,
        Component = InventoryComponentDto.From(a.Component),
        Path = [.. a.Path],
    };
}

public sealed class AffectedList
{
    public required string Query { get; init; }
    /// <summary>Every hit of the query; <see cref="Affected"/> holds those of this page.</summary>
    public int Total { get; init; }
    /// <summary>The distinct deployments of every hit.</summary>
    public int Deployments { get; init; }
    public int Offset { get; init; }
    /// <summary>The offset of the next page; null on the last.</summary>
    public int? NextOffset { get; init; }
    public List<AffectedDto> Affected { get; init; } = [];
}

public sealed class RescanHit
{
    public required string AdvisoryId { get; init; }
    /// <summary>none, low, medium, high or critical, as the matcher rated the advisory.</summary>
    public required string Severity { get; init; }
    public bool Malicious { get; init; }
    /// <summary>The lowest version that fixes it, when one is known.</summary>
    public string? FixedIn { get; init; }
    public string? Summary { get; init; }
    /// <summary>When a rescan first found this hit in the deployment.</summary>
    public DateTimeOffset FoundAt { get; init; }
    public required AffectedDto Hit { get; init; }

    public static RescanHit From(FoundHit h) => new()
    {
        AdvisoryId = h.AdvisoryId,
        Severity = h.Finding.Severity.ToName(),
        Malicious = h.Finding.Malicious,
        FixedIn = h.Finding.FixedIn,
        Summary = h.Finding.Summary.Length == 0 ? null : h.Finding.Summary,
        FoundAt = h.FoundAt,
        Hit = AffectedDto.From(h.Hit),
    };
}

public sealed class HitList
{
    /// <summary>The lower bound of the found times asked for; null: every recorded hit.</summary>
    public DateTimeOffset? Since { get; init; }
    public string? Deployment { get; init; }
    public int Total { get; init; }
    public int Offset { get; init; }
    public int? NextOffset { get; init; }
    /// <summary>The newest rescan: hits are as of then; null when none has run (then nothing is known, not "nothing affected").</summary>
    public RescanRunDto? LastRescan { get; init; }
    public List<RescanHit> Hits { get; init; } = [];
}

public sealed class RescanRunDto
{
    public DateTimeOffset At { get; init; }
    /// <summary>The deployment rescanned alone (after an upload); null for every deployment.</summary>
    public string? Deployment { get; init; }
    public string? DatabaseVersion { get; init; }
    /// <summary>Package versions with at least one hit.</summary>
    public int AffectedPackages { get; init; }
    public int NewHits { get; init; }
    public int ResolvedHits { get; init; }

    public static RescanRunDto From(RescanRun r) => new()
    {
        At = r.At,
        Deployment = r.Deployment,
        DatabaseVersion = r.DatabaseVersion,
        AffectedPackages = r.AffectedPackages,
        NewHits = r.NewHits,
        ResolvedHits = r.ResolvedHits,
    };
}

public sealed class RescanRunList
{
    public List<RescanRunDto> Rescans { get; init; } = [];
}

public sealed class ResolvedHit
{
    public required string Deployment { get; init; }
    public required string Purl { get; init; }
    public required string AdvisoryId { get; init; }
}

public sealed class RescanResult
{
    public int PackagesMatched { get; init; }
    public int AffectedPackages { get; init; }
    public List<RescanHit> NewlyAffected { get; init; } = [];
    public List<ResolvedHit> Resolved { get; init; } = [];
}

public sealed class ChangeDto
{
    public required string Change { get; init; }
    public required string Ecosystem { get; init; }
    public required string Name { get; init; }
    public List<string> OldVersions { get; init; } = [];
    public List<string> NewVersions { get; init; } = [];
}

public sealed class DiffResult
{
    public required string Old { get; init; }
    public required string New { get; init; }
    public required DiffSummary Summary { get; init; }
    public List<ChangeDto> Changes { get; init; } = [];
    /// <summary>Null when no advisory database was read.</summary>
    public DiffFindings? Findings { get; init; }
}

public sealed class DiffSummary
{
    public int Added { get; init; }
    public int Removed { get; init; }
    public int Upgraded { get; init; }
    public int Downgraded { get; init; }
    public int Changed { get; init; }
    public int? NewFindings { get; init; }
    public int? ResolvedFindings { get; init; }
}

public sealed class DiffFindings
{
    public string? Database { get; init; }
    public List<DiffFindingDto> New { get; init; } = [];
    public List<DiffFindingDto> Resolved { get; init; } = [];
}

public sealed class DiffFindingDto
{
    public required string Id { get; init; }
    public List<string> Aliases { get; init; } = [];
    public required string Kind { get; init; }
    public required string Severity { get; init; }
    public required string Purl { get; init; }
    public required string Ecosystem { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Summary { get; init; }
    public List<string> FixedIn { get; init; } = [];

    public static DiffFindingDto From(FindingChange change)
    {
        var f = change.Finding;
        return new DiffFindingDto
        {
            Id = f.Id,
            Aliases = [.. f.Aliases],
            Kind = f.Kind.ToString().ToLowerInvariant(),
            Severity = f.Severity.ToName(),
            Purl = f.Component.Purl.ToString(),
            Ecosystem = f.Component.Ecosystem.ToOsvName(),
            Name = f.Component.Name,
            Version = f.Component.Version,
            Summary = f.Summary,
            FixedIn = [.. f.FixedIn],
        };
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SnapshotList))]
[JsonSerializable(typeof(DeploymentDetails))]
[JsonSerializable(typeof(AffectedList))]
[JsonSerializable(typeof(RescanResult))]
[JsonSerializable(typeof(HitList))]
[JsonSerializable(typeof(RescanRunList))]
[JsonSerializable(typeof(DiffResult))]
internal sealed partial class InventoryJsonContext : JsonSerializerContext;
