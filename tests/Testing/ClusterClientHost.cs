using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace GroupPay.Testing;

/// <summary>
/// An Orleans client in the test process, as an internal service connects: Redis clustering with the cluster's
/// ClusterId/ServiceId, calls through the silos' gateways. Dispose stops it.
/// </summary>
public sealed class ClusterClientHost : IAsyncDisposable
{
    private ClusterClientHost(IHost host)
    {
        Host = host;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    public IHost Host { get; }

    public IClusterClient Client { get; }

    /// <summary>Connects to the cluster (its silos must be running). The gateway list is refreshed every second, so
    /// the client follows silos that stop and start during a test; <paramref name="configure"/> may change more.</summary>
    public static async Task<ClusterClientHost> StartAsync(
        string redisConnectionString,
        ClusterIdentity cluster,
        Action<IClientBuilder>? configure = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(redisConnectionString);
        ArgumentNullException.ThrowIfNull(cluster);
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redisConnectionString));
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1));
            configure?.Invoke(client);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new ClusterClientHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Host.StopAsync();
        }
        finally
        {
            Host.Dispose();
        }
    }
}
