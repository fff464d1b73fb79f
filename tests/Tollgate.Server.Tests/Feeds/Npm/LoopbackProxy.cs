using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Transforms;

namespace Tollgate.Server.Tests.Feeds.Npm;

/// <summary>
/// A reverse proxy on a free loopback port (YARP, as an ingress would be) sending requests to several feed instances
/// in turn. Like an ingress it sets X-Forwarded-Proto/-Host/-For and sends the instance's own Host.
/// </summary>
internal sealed class LoopbackProxy : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackProxy(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Http = new HttpClient { BaseAddress = address };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    /// <summary>The proxy's URL with a trailing slash, as npm wants a registry.</summary>
    public string Registry => Address.AbsoluteUri.TrimEnd('/') + "/";

    public static async Task<LoopbackProxy> StartAsync(params Uri[] destinations)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "feed", ClusterId = "instances", Match = new RouteMatch { Path = "{**rest}" } }],
            [new ClusterConfig
            {
                ClusterId = "instances",
                LoadBalancingPolicy = LoadBalancingPolicies.RoundRobin,
                Destinations = destinations.Select((d, i) => (Key: $"instance{i}", Value: new DestinationConfig { Address = d.AbsoluteUri }))
                    .ToDictionary(p => p.Key, p => p.Value),
            }])
            // As an ingress does, forward the path as the client sent it: YARP's default rebuilds it from the decoded
            // path and turns the %2f of a scoped npm name into %252f (dotnet/yarp#1419).
            .AddTransforms(transforms => transforms.AddRequestTransform(context =>
            {
                var raw = context.HttpContext.Features.Get<IHttpRequestFeature>()!.RawTarget;
                context.ProxyRequest.RequestUri = new Uri(context.DestinationPrefix.TrimEnd('/') + raw);
                return ValueTask.CompletedTask;
            }));
        var app = builder.Build();
        app.MapReverseProxy();
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return new LoopbackProxy(app, address);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
    }
}
