using GroupPay.Grains.Campaigns;
using GroupPay.Testing;

namespace GroupPay.Silo.Tests;

/// <summary>The development store: a silo hosts Garnet itself when nothing answers at its Redis endpoint.</summary>
public sealed class EmbeddedStoreTests : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("grouppay-embedded-").FullName;

    [Fact]
    public async Task SiloHostsGarnetSharesItWithSecondSiloAndKeepsStateAcrossRestartAndKill()
    {
        var cluster = ClusterIdentity.Unique("embedded");
        var options = new SiloProcessOptions
        {
            RedisConnectionString = "127.0.0.1:" + FreePort.Get(),
            Cluster = cluster,
            EnvironmentName = "Development",
            Environment = new Dictionary<string, string?>
            {
                ["Redis__Embedded"] = "true",
                ["Redis__DataDir"] = _dataDir,
            },
        };
        var campaignId = "c-" + Guid.NewGuid().ToString("N");
        var definition = new CampaignDefinition { Title = "persisted", SoloPriceFen = 500, GroupPriceFen = 300, GroupSize = 3, Stock = 10 };

        await using (var hosting = await SiloProcess.StartAsync(options))
        {
            Assert.Contains("embedded Garnet started at " + options.RedisConnectionString, hosting.Output, StringComparison.Ordinal);
            await using (var second = await SiloProcess.StartAsync(options with { SiloPort = FreePort.Get(), GatewayPort = FreePort.Get() }))
            {
                Assert.Contains("already answering at " + options.RedisConnectionString, second.Output, StringComparison.Ordinal);
                await using (var client = await ClusterClientHost.StartAsync(options.RedisConnectionString, cluster))
                {
                    await client.Client.GetGrain<ICampaignGrain>(campaignId).DefineAsync(definition);
                }
                Assert.Equal(0, await second.StopAsync());
            }
            Assert.Equal(0, await hosting.StopAsync());
            Assert.Contains("embedded Garnet at " + options.RedisConnectionString + " stopped", hosting.Output, StringComparison.Ordinal);
        }

        await using (var restarted = await SiloProcess.StartAsync(options))
        {
            Assert.Contains("embedded Garnet started at " + options.RedisConnectionString, restarted.Output, StringComparison.Ordinal);
            await using var reader = await ClusterClientHost.StartAsync(options.RedisConnectionString, cluster);
            var campaign = reader.Client.GetGrain<ICampaignGrain>(campaignId);
            // Stored with the number of stock shares chosen for it (one for 10 units).
            Assert.Equal(definition with { StockShards = 1 }, (await campaign.GetAsync())?.Definition);

            // A write acknowledged just before a crash is in the append-only file too.
            await campaign.DefineAsync(definition with { Stock = 7 });
            await restarted.KillAsync();
        }

        await using var afterKill = await SiloProcess.StartAsync(options);
        await using var client2 = await ClusterClientHost.StartAsync(options.RedisConnectionString, cluster);
        var view = await client2.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync();

        Assert.NotNull(view);
        Assert.Equal(definition with { Stock = 7, StockShards = 1 }, view.Definition);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }
}
