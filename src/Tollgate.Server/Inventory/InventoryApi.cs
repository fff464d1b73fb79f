using System.Collections.Immutable;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Tollgate.Advisories;
using Tollgate.Graph;
using Tollgate.Inputs;
using Tollgate.Inventory;
using Tollgate.Reports;
using Tollgate.Sbom;

namespace Tollgate.Server.Inventory;

/// <summary>An answer to an "affected" question: a page of hits (with the advisory id of each for an advisory query), or an error.</summary>
internal sealed record AffectedAnswer(AffectedPage? Page, IReadOnlyList<string>? AdvisoryIds, string? Error, int Status = StatusCodes.Status200OK);

/// <summary>
/// The inventory API under <c>/api/v1</c>: JSON documents as <c>tollgate inventory --format json</c> prints them
/// (docs/cli.md), over the core <see cref="InventoryStore"/>, opened per request so requests run side by side.
/// </summary>
internal sealed class InventoryApi(InventoryServerOptions options, TimeProvider time, Rescanner rescanner)
{
    private const string Json = "application/json";
    private readonly EntraTokens? _entra = options.Entra is { } entra ? new EntraTokens(entra) : null;

    internal static string ToolVersion { get; } =
        (typeof(InventoryApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>Opens the store for one request.</summary>
    internal InventoryStore Open() => InventoryStore.Open(options.Store, mustExist: true);

    /// <summary>
    /// Every request needs a scope: writes (POST) need a write token; reads need a read or write token, or none when
    /// anonymous reads are allowed. A bearer value that is not a known token is refused even for anonymous reads.
    /// </summary>
    public async Task Authorize(HttpContext context, RequestDelegate next)
    {
        var write = !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method);
        TokenScope? scope = options.AllowAnonymousRead ? TokenScope.Read : null;
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            var bearer = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
            scope = bearer is not null && options.Tokens.Find(bearer) is { } token ? token.Scope : null;
            if (scope is null && bearer is not null && _entra is not null && _entra.LooksLikeJwt(bearer))
            {
                var (entraScope, status, error) = await _entra.ValidateAsync(bearer, context.RequestAborted).ConfigureAwait(false);
                if (entraScope is null)
                {
                    await Refuse(context, status, error!).ConfigureAwait(false);
                    return;
                }
                scope = entraScope;
            }
            if (scope is null)
            {
                await Refuse(context, StatusCodes.Status401Unauthorized, "the bearer token is not a known API token" + (_entra is null ? "" : " nor an Entra ID access token")).ConfigureAwait(false);
                return;
            }
        }
        if (scope is null || (write && header.Length == 0))
        {
            await Refuse(context, StatusCodes.Status401Unauthorized, "this server needs an API token: send 'Authorization: Bearer TOKEN'").ConfigureAwait(false);
            return;
        }
        if (write && scope != TokenScope.Write)
        {
            await Refuse(context, StatusCodes.Status403Forbidden, "this request changes the inventory and needs a token with the write scope").ConfigureAwait(false);
            return;
        }
        await next(context).ConfigureAwait(false);
    }

    private static Task Refuse(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }
        return context.Response.WriteAsJsonAsync(new ApiError(message), ApiJsonContext.Default.ApiError);
    }

    public void Map(WebApplication app)
    {
        var api = app.MapGroup("/api/v1");
        api.MapPost("/deployments/{deployment}/sboms", Upload)
            .WithSummary("Upload an SBOM (the request body: CycloneDX or SPDX JSON) as the deployment's current snapshot; environment, version and commit are query fields.");
        api.MapGet("/deployments", () => Guard(() => { using var s = Open(); return Ok(InventoryJson.Snapshots(s.List())); }))
            .WithSummary("Every deployment with its current snapshot.");
        api.MapGet("/deployments/{deployment}", (string deployment) => Guard(() => Show(deployment, null)))
            .WithSummary("A deployment: its snapshot history and the components of its current snapshot.");
        api.MapGet("/deployments/{deployment}/snapshots", (string deployment) => Guard(() =>
        {
            using var s = Open();
            var history = s.History(deployment);
            return history.Count == 0 ? NotFound(deployment) : Ok(InventoryJson.Snapshots(history));
        })).WithSummary("The snapshots of a deployment, newest first.");
        api.MapGet("/deployments/{deployment}/snapshots/{snapshot:long}", (string deployment, long snapshot) => Guard(() => Show(deployment, snapshot)))
            .WithSummary("One snapshot of a deployment with its components.");
        api.MapGet("/deployments/{deployment}/diff", (string deployment, long old, long @new) => Guard(() =>
        {
            var diff = Diff(deployment, old, @new);
            return diff is null ? NotFound(deployment, $"snapshots {old} and {@new}")
                : Ok(InventoryJson.Diff($"snapshot {old}", $"snapshot {@new}", new SbomDiffResult(diff.Value, null, null), null));
        })).WithSummary("What changed between two snapshots of a deployment (old and new are snapshot ids).");
        api.MapGet("/affected", (string q, int? offset, int? limit) => Guard(() =>
        {
            var answer = Affected(q, new Paging(offset ?? 0, limit is > 0 ? limit : 100));
            return answer.Error is { } error ? Results.Json(new ApiError(error), ApiJsonContext.Default.ApiError, statusCode: answer.Status)
                : Ok(answer.AdvisoryIds is { } ids ? InventoryJson.Affected(q, answer.Page!, ids) : InventoryJson.Affected(q, answer.Page!));
        })).WithSummary("Current deployments affected by an advisory id or alias, a purl, NAME, NAME@VERSION or NAME@RANGE, with the dependency path.");
        api.MapPost("/rescan", async (CancellationToken cancellationToken) =>
        {
            try
            {
                var outcome = await rescanner.RescanAllAsync(cancellationToken).ConfigureAwait(false);
                return outcome.Error is { } error
                    ? Results.Json(new ApiError(error), ApiJsonContext.Default.ApiError, statusCode: StatusCodes.Status503ServiceUnavailable)
                    : Ok(InventoryJson.Rescan(outcome.Result!));
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                return StoreUnavailable(e);
            }
        }).WithSummary("Match every current deployment against the advisory database again and return what became affected or resolved since the last rescan. "
            + "The server also does this by itself when the advisory database changes (`tollgate db update`).");
        api.MapGet("/rescan", () => Guard(() => { using var s = Open(); return Ok(InventoryJson.Rescans(s.Rescans(20))); }))
            .WithSummary("The newest rescans (of every deployment, or of one after its upload), newest first: when, and how many hits they found and resolved.");
        api.MapGet("/hits", (string? since, string? deployment, int? offset, int? limit) => Guard(() =>
        {
            DateTimeOffset? from = null;
            if (since is not null)
            {
                if (!Tollgate.Policy.PointInTime.TryParse(since, time.GetUtcNow(), out var parsed, out var error))
                {
                    return Results.Json(new ApiError("since " + error), ApiJsonContext.Default.ApiError, statusCode: StatusCodes.Status400BadRequest);
                }
                from = parsed;
            }
            using var s = Open();
            var (page, last) = s.HitsAsOfLastRescan(from, deployment, new Paging(Math.Max(0, offset ?? 0), limit is > 0 ? limit : 100));
            return Ok(InventoryJson.Hits(from, deployment, page, last));
        })).WithSummary("Advisory hits in current deployments that rescans recorded, newest found first, each with the time it was first found; "
            + "since: a duration back from now (24h, 7d) or a time (2026-12-04T09:00:00Z). lastRescan is null when no rescan has run (then nothing is known).");
    }

    private async Task<IResult> Upload(HttpContext context, string deployment, string? environment, string? version, string? commit)
    {
        if (deployment.Length == 0 || deployment.Length > 200)
        {
            return Results.Json(new ApiError("a deployment name is 1 to 200 characters"), ApiJsonContext.Default.ApiError, statusCode: StatusCodes.Status400BadRequest);
        }
        // The SBOM readers read files; the body goes to a private temporary file that is always deleted.
        var path = Path.Combine(Path.GetTempPath(), $"tollgate-upload-{Guid.NewGuid():N}.json");
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await context.Request.Body.CopyToAsync(file, context.RequestAborted).ConfigureAwait(false);
            }
            var diagnostics = new DiagnosticBag();
            var graph = SbomReader.Read(path, diagnostics);
            if (diagnostics.HasErrors)
            {
                var problems = diagnostics.Items.Where(d => d.Severity == DiagnosticSeverity.Error)
                    .Select(d => $"{(d.Location is { Line: > 0 } at ? $"line {at.Line}{(at.Column > 0 ? $", column {at.Column}" : "")}: " : "")}{d.Message}");
                return Results.Json(new ApiError("the body is not a readable CycloneDX or SPDX JSON SBOM; nothing was stored: " + string.Join("; ", problems)),
                    ApiJsonContext.Default.ApiError, statusCode: StatusCodes.Status400BadRequest);
            }
            var failed = Guard(() =>
            {
                using var s = Open();
                var source = commit is { Length: > 0 } ? $"upload (commit {commit})" : "upload";
                return s.Add(graph, deployment, version, environment, source, time.GetUtcNow());
            }, out var added);
            if (added is null)
            {
                return failed!;
            }
            // The new snapshot's hits, found now rather than at the next rescan; without an advisory database it stays
            // "not checked" on the dashboard until one is there.
            await rescanner.RescanDeploymentAsync(deployment, context.RequestAborted).ConfigureAwait(false);
            return Results.Text(InventoryJson.Snapshots([added]), Json, statusCode: StatusCodes.Status201Created);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private IResult Show(string deployment, long? snapshotId)
    {
        using var s = Open();
        var history = s.History(deployment);
        var snapshot = snapshotId is { } id ? history.FirstOrDefault(h => h.Id == id) : history.FirstOrDefault(h => h.Current);
        return snapshot is null ? NotFound(deployment, snapshotId is null ? null : $"snapshot {snapshotId}")
            : Ok(InventoryJson.Show(snapshot, history, s.Components(snapshot.Id)));
    }

    /// <summary>The package changes between two snapshots of one deployment, or null when either is not one of its snapshots.</summary>
    internal ImmutableArray<PackageChange>? Diff(string deployment, long oldId, long newId)
    {
        using var s = Open();
        var ids = s.History(deployment).Select(h => h.Id).ToHashSet();
        if (!ids.Contains(oldId) || !ids.Contains(newId))
        {
            return null;
        }
        return SbomDiff.Compare(Graph(s.Components(oldId)), Graph(s.Components(newId)));
    }

    /// <summary>A snapshot's components as a graph without edges (the inventory keeps paths, not edges), for the diff and SBOM writers.</summary>
    internal static DependencyGraph Graph(IEnumerable<InventoryComponent> components) =>
        new(components.Select(c => new Component
        {
            Ecosystem = c.Ecosystem,
            Name = c.Name,
            Version = c.Version,
            Purl = PackageUrl.TryParse(c.Purl, out var purl) ? purl : PackageUrl.For(c.Ecosystem, c.Name, c.Version),
            Direct = c.Direct,
            Scopes = c.Scopes,
        }), [], [], ImmutableArray<Diagnostic>.Empty);

    /// <summary>Answers an "affected" query; advisory ids need the advisory database.</summary>
    internal AffectedAnswer Affected(string text, Paging paging)
    {
        if (!AffectedQuery.TryParse(text, out var query, out var error))
        {
            return new AffectedAnswer(null, null, error, StatusCodes.Status400BadRequest);
        }
        if (query!.AdvisoryId is { } id)
        {
            if (!AdvisoryStore.TryOpen(TollgateHome.DatabasePath(options.AdvisoryDatabase), out var advisories, out var dbError))
            {
                return new AffectedAnswer(null, null, dbError.Message, StatusCodes.Status503ServiceUnavailable);
            }
            using (advisories)
            {
                using var s = Open();
                var result = InventoryAdvisories.Affected(s, advisories, id, null, paging);
                return result.Advisories.Count == 0
                    ? new AffectedAnswer(null, null, $"no advisory {id} in the server's advisory database (as an id or alias)", StatusCodes.Status404NotFound)
                    : new AffectedAnswer(result.Page, [.. result.Hits.Select(h => h.AdvisoryId)], null);
            }
        }
        if (query.ConstraintIsInvalid)
        {
            return new AffectedAnswer(null, null, $"'{query.Constraint}' is neither a version nor a range (npm: <1.6.0; PyPI: <2.32; NuGet: [,13.0.1))", StatusCodes.Status400BadRequest);
        }
        using var store = Open();
        return new AffectedAnswer(store.Affected(query.Ecosystem, query.Name!, query.Matches, paging), null, null);
    }

    private static IResult Ok(string json) => Results.Text(json, Json);

    private static IResult NotFound(string deployment, string? what = null) =>
        Results.Json(new ApiError(what is null ? $"no deployment named '{deployment}'" : $"deployment '{deployment}' has no {what}"),
            ApiJsonContext.Default.ApiError, statusCode: StatusCodes.Status404NotFound);

    /// <summary>Like <see cref="Guard(Func{IResult})"/> for a handler that returns a value: null result and the 503 when the store fails.</summary>
    internal static IResult? Guard<T>(Func<T> handler, out T? value) where T : class
    {
        try
        {
            value = handler();
            return null;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            value = null;
            return StoreUnavailable(e);
        }
    }

    /// <summary>What a failing store (a PostgreSQL server down, an unreadable file) throws, as opposed to a bug.</summary>
    private static bool IsStoreFailure(Exception e) =>
        e is System.Data.Common.DbException or InvalidOperationException or IOException or UnauthorizedAccessException;

    private static IResult StoreUnavailable(Exception e) =>
        Results.Json(new ApiError($"inventory store: {e.Message}"), ApiJsonContext.Default.ApiError, statusCode: StatusCodes.Status503ServiceUnavailable);

    /// <summary>A store that fails (a PostgreSQL server down) is a 503 with its message, not a stack trace.</summary>
    internal static IResult Guard(Func<IResult> handler)
    {
        try
        {
            return handler();
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            return StoreUnavailable(e);
        }
    }
}

/// <summary>The body of every API error.</summary>
internal sealed record ApiError(string Error);

[System.Text.Json.Serialization.JsonSerializable(typeof(ApiError))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class ApiJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
