using GroupPay.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.TestingHost;
using StackExchange.Redis;

namespace GroupPay.Silo.Tests;

/// <summary>An in-process cluster configured with <see cref="GroupPaySiloBuilder"/>, as the grain tests use it,
/// against the test Redis (GROUPPAY_TEST_REDIS, else an embedded Garnet).</summary>
public sealed class WiringCluster : IAsyncLifetime
{
    public RedisServer Redis { get; } = new();

    public ClusterIdentity Identity { get; } = ClusterIdentity.Unique("wiring");

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Redis.InitializeAsync();
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ClusterId = Identity.ClusterId;
        builder.Options.ServiceId = Identity.ServiceId;
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) =>
        {
            host.Configuration.AddInMemoryCollection(SiloProcessOptions.DemoWeChatPay
                .ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value));
            host.Services.AddGroupPayGrainServices();
        });
        builder.ConfigureSilo((_, silo) => silo.UseGroupPayRedis(Redis.ConnectionString));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

public sealed class SiloWiringTests(WiringCluster fixture) : IClassFixture<WiringCluster>
{
    [Fact]
    public async Task StoresGrainStateInRedisWithOrleansBinarySerializer()
    {
        var key = "state-" + Guid.NewGuid().ToString("N");
        await fixture.Cluster.Client.GetGrain<IProbeGrain>(key).SaveAsync("拼团 state");

        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var keys = new List<RedisKey>();
        await foreach (var k in server.KeysAsync(pattern: fixture.Identity.ServiceId + "*" + key + "*"))
        {
            keys.Add(k);
        }
        var storageKey = Assert.Single(keys);
        byte[]? data = await redis.GetDatabase().HashGetAsync(storageKey, "data");

        Assert.NotNull(data);
        Assert.NotEqual((byte)'{', data[0]);
        var serializer = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();
        var stored = serializer.Deserialize<ProbeState>(data);
        Assert.Equal("拼团 state", Assert.IsType<ProbeState>(stored).Text);
    }

    [Fact]
    public async Task ReadsStateBackFromRedisAfterDeactivation()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>("reload-" + Guid.NewGuid().ToString("N"));
        await grain.SaveAsync("kept");

        await fixture.Cluster.DeactivateAsync(grain);

        Assert.Equal("kept", (await grain.LoadAsync()).Text);
    }

    [Fact]
    public async Task FiresReminderKeptInRedisReminderTable()
    {
        var grain = fixture.Cluster.Client.GetGrain<IProbeGrain>("reminder-" + Guid.NewGuid().ToString("N"));

        await grain.RemindOnceAsync(TimeSpan.FromSeconds(1));

        var fired = await Eventually.TrueAsync(async () => (await grain.LoadAsync()).Reminders > 0, TimeSpan.FromSeconds(60));
        Assert.True(fired, "the reminder did not fire");
        Assert.Equal(1, (await grain.LoadAsync()).Reminders);
    }
}
