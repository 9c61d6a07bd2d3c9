using GroupPay.Grains;
using GroupPay.Grains.Ledger;
using GroupPay.WeChatPay;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

namespace GroupPay.Silo;

/// <summary>
/// The silo wiring that the host (<c>Program.cs</c>) and the grain tests (<c>InProcessTestCluster</c>) share, so
/// both run the grains against the very same storage, reminders and services.
/// </summary>
public static class GroupPaySiloBuilder
{
    /// <summary>The OpenTelemetry <c>service.name</c> of a silo's traces and metrics, unless <c>OTEL_SERVICE_NAME</c> names another.</summary>
    public const string ServiceName = "grouppay-silo";

    /// <summary>
    /// Grain storage <see cref="GrainStorage.Name"/> and the reminder table in Redis (not clustering: see
    /// <see cref="UseGroupPayRedisClustering"/>). State is written with Orleans' own binary serializer: version
    /// tolerant through the <c>[Id]</c>s and <c>[Alias]</c>es every persisted type carries, compact, and free of CLR
    /// type names, so renaming a class or namespace does not orphan stored state.
    /// </summary>
    public static ISiloBuilder UseGroupPayRedis(this ISiloBuilder silo, string redisConnectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrEmpty(redisConnectionString);
        silo.AddRedisGrainStorage(GrainStorage.Name, options => options.Configure<Serializer>((o, serializer) =>
        {
            o.ConfigurationOptions = StorageConnection(redisConnectionString);
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        // The groups and users: the same Redis and layout, with what their states count committed in the same script.
        silo.Services.AddGrainStorage(GrainStorage.Counted, (sp, name) => new CountedGrainStorage(name, redisConnectionString,
            sp.GetRequiredService<Serializer>(),
            sp.GetRequiredService<IOptions<TallyStoreOptions>>(), sp.GetRequiredService<IOptions<ClusterOptions>>()));
        silo.UseRedisReminderService(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redisConnectionString));
        // The figures are read where the counted states write them.
        silo.Services.Configure<TallyStoreOptions>(o => o.ConnectionString = redisConnectionString);
        return silo;
    }

    /// <summary>The grain-state connection: its replies complete on the .NET thread pool, where the grain turns that
    /// await them run anyway, instead of on the client's own socket threads (one thread hop less per state write).</summary>
    private static ConfigurationOptions StorageConnection(string redisConnectionString)
    {
        var options = ConfigurationOptions.Parse(redisConnectionString);
        options.SocketManager = SocketManager.ThreadPool;
        return options;
    }

    /// <summary>Cluster membership in Redis: silos and clients with the same ClusterId/ServiceId find each other.</summary>
    public static ISiloBuilder UseGroupPayRedisClustering(this ISiloBuilder silo, string redisConnectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrEmpty(redisConnectionString);
        return silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redisConnectionString));
    }

    /// <summary>
    /// What the grains are constructed with: <see cref="TimeProvider.System"/> (unless a <see cref="TimeProvider"/>,
    /// e.g. a fake one, is already registered), the WeChat Pay client (<c>AddWeChatPay()</c>: <c>WeChatPay:*</c>; the official account's, <c>WeChat:*</c>, for the JS-SDK ticket)
    /// bound and validated at start; a client registered before this call wins), and the grains' own services
    /// (<c>AddGroupPayGrains()</c>: the figures' store, the <c>Orders:*</c> timings).
    /// Call it after <c>UseOrleans</c>: hosted services stop in reverse order.
    /// </summary>
    public static IServiceCollection AddGroupPayGrainServices(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddWeChatPay();
        services.AddWeChatOfficialAccount();
        services.AddGroupPayGrains();
        return services;
    }

}
