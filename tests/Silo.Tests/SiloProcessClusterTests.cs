using GroupPay.Grains.Campaigns;
using GroupPay.Testing;
using Orleans.Configuration;

namespace GroupPay.Silo.Tests;

/// <summary>Two real silo processes clustered through Redis, called by an Orleans client in this process, the way an
/// internal service calls them.</summary>
public sealed class SiloProcessClusterTests(RedisServer redis) : IClassFixture<RedisServer>
{
    // Quick failure detection, so that a killed silo is declared dead within seconds instead of about a minute.
    private static readonly Dictionary<string, string?> QuickFailureDetection = new()
    {
        ["Orleans__Membership__ProbeTimeout"] = "00:00:02",
        ["Orleans__Membership__NumMissedProbesLimit"] = "2",
    };

    private static readonly CampaignDefinition Definition = new()
    {
        Title = "拼团 · 两人成团",
        SoloPriceFen = 1990,
        GroupPriceFen = 990,
        GroupSize = 2,
        Stock = 100,
        InviterRewardFen = 100,
    };

    [Fact]
    public async Task ClientReadsCampaignFromSurvivingSiloAfterTheSiloHostingItIsKilled()
    {
        var cluster = ClusterIdentity.Unique("two-silos");
        var starts = Enumerable.Range(0, 2).Select(_ => SiloProcess.StartAsync(new SiloProcessOptions
        {
            RedisConnectionString = redis.ConnectionString,
            Cluster = cluster,
            Environment = QuickFailureDetection,
        })).ToList();
        await using var first = await starts[0];
        await using var second = await starts[1];
        await using var client = await ClusterClientHost.StartAsync(redis.ConnectionString, cluster,
            c => c.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10)));

        var campaignId = "c-" + Guid.NewGuid().ToString("N");
        var campaign = client.Client.GetGrain<ICampaignGrain>(campaignId);
        await campaign.DefineAsync(Definition);

        // Kill whichever silo hosts the activation: the other one must reactivate it from the state in Redis.
        var host = await client.Client.GetGrain<IManagementGrain>(0).GetActivationAddress(campaign);
        Assert.NotNull(host);
        var (victim, survivor) = host.Endpoint.Port == first.Options.SiloPort ? (first, second) : (second, first);
        Assert.Equal(host.Endpoint.Port, victim.Options.SiloPort);
        await victim.KillAsync();

        CampaignView? view = null;
        var read = await Eventually.TrueAsync(async () =>
        {
            try
            {
                view = await campaign.GetAsync();
                return true;
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException)
            {
                return false; // The cluster has not yet declared the killed silo dead.
            }
        }, TimeSpan.FromSeconds(90));

        Assert.True(read, "the campaign could not be read after the kill. Survivor output:\n" + survivor.Output);
        Assert.NotNull(view);
        Assert.Equal(Definition with { StockShards = 1 }, view.Definition); // stored with the shares chosen for its stock
        Assert.Equal(campaignId, view.CampaignId);
        var newHost = await client.Client.GetGrain<IManagementGrain>(0).GetActivationAddress(campaign);
        Assert.Equal(survivor.Options.SiloPort, newHost?.Endpoint.Port);
        Assert.False(survivor.HasExited);
    }
}
