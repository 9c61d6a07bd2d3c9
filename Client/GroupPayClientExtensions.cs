using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace GroupPay.Client;

/// <summary>
/// Joins a GroupPay cluster as an Orleans client (docs/clients.md): the gateway does it, and so does any internal
/// service of the shop that calls the grains. Reads, like the silos:
/// <list type="bullet">
/// <item><c>ConnectionStrings:Redis</c> (env <c>ConnectionStrings__Redis</c>), the Redis the silos register in; default <c>localhost:6379</c>;</item>
/// <item><c>Orleans:ClusterId</c> (env <c>Orleans__ClusterId</c>), default <c>grouppay-dev</c>;</item>
/// <item><c>Orleans:ServiceId</c> (env <c>Orleans__ServiceId</c>), default <c>grouppay</c>.</item>
/// </list>
/// </summary>
public static class GroupPayClientExtensions
{
    public const string RedisKey = "ConnectionStrings:Redis";
    public const string ClusterIdKey = "Orleans:ClusterId";
    public const string ServiceIdKey = "Orleans:ServiceId";

    public const string DefaultRedis = "localhost:6379";
    public const string DefaultClusterId = "grouppay-dev";
    public const string DefaultServiceId = "grouppay";

    /// <summary>Registers the Orleans client (<see cref="IClusterClient"/>, <see cref="IGrainFactory"/>) on the host,
    /// connected through Redis clustering with the cluster's ids; <paramref name="configure"/> may add more (a
    /// connection retry filter, activity propagation). The client connects when the host starts and stops with it.</summary>
    /// <remarks>The connection string is parsed when the client starts: a malformed one fails the host's start.</remarks>
    public static TBuilder AddGroupPayClient<TBuilder>(this TBuilder builder, Action<IClientBuilder>? configure = null)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var settings = GroupPayClientSettings.From(builder.Configuration);
        builder.UseOrleansClient(client =>
        {
            client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(settings.Redis));
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            configure?.Invoke(client);
        });
        return builder;
    }
}

/// <summary>The settings <see cref="GroupPayClientExtensions.AddGroupPayClient"/> reads, with their defaults.</summary>
public sealed record GroupPayClientSettings(string Redis, string ClusterId, string ServiceId)
{
    public static GroupPayClientSettings From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return new(
            Text(configuration[GroupPayClientExtensions.RedisKey], GroupPayClientExtensions.DefaultRedis),
            Text(configuration[GroupPayClientExtensions.ClusterIdKey], GroupPayClientExtensions.DefaultClusterId),
            Text(configuration[GroupPayClientExtensions.ServiceIdKey], GroupPayClientExtensions.DefaultServiceId));
    }

    private static string Text(string? value, string fallback) => string.IsNullOrWhiteSpace(value) ? fallback : value;
}
