using Xunit.Abstractions;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Referrals;

namespace GroupPay.Grains.Tests;

/// <summary>The split stock's rules without a cluster: the campaign grants, the shares reserve, nothing oversold.</summary>
public sealed class StockRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private static CampaignState Campaign(int stock, int shards)
    {
        var state = new CampaignState();
        CampaignStock.Define(state, ClusterFixture.Campaign(stock: stock) with { StockShards = shards });
        return state;
    }

    private static ShardStock Share(CampaignState campaign, int index, DateTimeOffset now)
    {
        var share = new ShardStock(new StockShardState());
        share.Apply(CampaignStock.Sync(campaign, index, share.Report(wantsMore: false), now));
        return share;
    }

    /// <summary>Reserves as a share's grain does: asks the campaign for units when it has none.</summary>
    private static bool Reserve(CampaignState campaign, ShardStock share, int index, string id, DateTimeOffset now)
    {
        var answer = share.Reserve(id, now);
        if (answer == ShardAnswer.NeedsUnits)
        {
            share.Apply(CampaignStock.Sync(campaign, index, share.Report(wantsMore: true), now));
            answer = share.Reserve(id, now);
        }
        return answer == ShardAnswer.Reserved;
    }

    [Fact]
    public void SharesNeverReserveMoreThanTheStockWhateverTheyDoAndEveryUnitCanBeSold()
    {
        var random = new Random(7);
        var campaign = Campaign(stock: 500, shards: 4);
        var shares = Enumerable.Range(0, 4).Select(i => Share(campaign, i, Now)).ToArray();
        var live = new List<(int Share, string Id)>();
        var sold = 0;
        for (var step = 0; step < 20_000; step++)
        {
            var now = Now.AddSeconds(step);
            var i = random.Next(4);
            switch (random.Next(10))
            {
                case < 6:
                    if (Reserve(campaign, shares[i], i, $"g{step}/0/1", now))
                    {
                        live.Add((i, $"g{step}/0/1"));
                    }
                    break;
                case < 8 when live.Count > 0:
                    var released = live[random.Next(live.Count)];
                    Assert.True(shares[released.Share].Release(released.Id));
                    live.Remove(released);
                    break;
                case 8 when live.Count > 0:
                    var confirmed = live[random.Next(live.Count)];
                    Assert.True(shares[confirmed.Share].Confirm(confirmed.Id));
                    live.Remove(confirmed);
                    sold++;
                    break;
                default:
                    // A sync with no wish: reports, and gives back free units when another share found the campaign empty.
                    shares[i].Apply(CampaignStock.Sync(campaign, i, shares[i].Report(wantsMore: false), now));
                    break;
            }
            Assert.True(live.Count + sold <= 500);
            Assert.True(shares.Sum(s => s.State.Granted - s.State.Returned) <= 500);
        }
        // Every share reports, then whatever is left is reserved: no unit is stranded at a share that no one asks.
        var t = Now.AddDays(1);
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 4; i++)
            {
                shares[i].Apply(CampaignStock.Sync(campaign, i, shares[i].Report(wantsMore: false), t));
            }
        }
        var extra = 0;
        for (var n = 0; n < 1_000; n++)
        {
            var i = n % 4;
            if (Reserve(campaign, shares[i], i, $"late{n}/0/1", t))
            {
                extra++;
            }
            shares[(i + 1) % 4].Apply(CampaignStock.Sync(campaign, (i + 1) % 4, shares[(i + 1) % 4].Report(wantsMore: false), t));
        }
        Assert.Equal(500, live.Count + sold + extra);
    }

    [Fact]
    public void AGrantWhoseAnswerWasLostIsAdoptedOnTheNextSyncNotGrantedAgainAsNew()
    {
        var campaign = Campaign(stock: 100, shards: 1);
        var share = new ShardStock(new StockShardState());
        var lost = CampaignStock.Sync(campaign, 0, share.Report(wantsMore: true), Now);
        Assert.Equal(25, lost.Granted);

        share.Apply(CampaignStock.Sync(campaign, 0, share.Report(wantsMore: false), Now));

        Assert.Equal(25, share.State.Granted);
        Assert.Equal(75, CampaignStock.Unallocated(campaign));
    }

    [Fact]
    public void ALoweredStockTakesBackTheSharesFreeUnitsButNotTheReservedOnes()
    {
        var campaign = Campaign(stock: 100, shards: 1);
        var share = Share(campaign, 0, Now);
        Assert.True(Reserve(campaign, share, 0, "g1/0/1", Now));
        CampaignStock.Define(campaign, campaign.Definition! with { Stock = 1 });

        share.Apply(CampaignStock.Sync(campaign, 0, share.Report(wantsMore: false), Now));
        share.Apply(CampaignStock.Sync(campaign, 0, share.Report(wantsMore: false), Now));

        Assert.Equal(0, share.Free);
        Assert.Equal(0, CampaignStock.Unallocated(campaign));
        Assert.False(Reserve(campaign, share, 0, "g2/0/1", Now));
    }

    [Fact]
    public void ReservationsMadeBeforeTheSplitAreGrantedToShareZeroAndTakenOverOnce()
    {
        var campaign = new CampaignState { Definition = ClusterFixture.Campaign(stock: 10) };
        campaign.Reservations["g1/0/1"] = new StockReservation("o1", Sold: false);
        campaign.Reservations["g2/0/1"] = new StockReservation("o2", Sold: true);
        CampaignStock.Split(campaign);
        var share = new ShardStock(new StockShardState());

        share.Apply(CampaignStock.Sync(campaign, 0, share.Report(wantsMore: false), Now));
        share.Apply(CampaignStock.Sync(campaign, 0, share.Report(wantsMore: false), Now));

        Assert.Equal((1, 1L, 0L), (share.State.Live.Count, share.State.Sold, share.Free));
        Assert.Empty(campaign.Reservations);
        Assert.Equal(8, CampaignStock.Unallocated(campaign));
        Assert.True(share.Release("g1/0/1"));
    }

    [Fact]
    public void AShareKeepsAtMostItsLimitOfLiveReservations()
    {
        var campaign = Campaign(stock: 100_000, shards: 1);
        var share = Share(campaign, 0, Now);
        for (var n = 0; n < ShardStock.MaxLive; n++)
        {
            Assert.True(Reserve(campaign, share, 0, $"g{n}/0/1", Now));
        }
        Assert.Equal(ShardAnswer.Full, share.Reserve("one-more/0/1", Now));
    }
}

/// <summary>The split stock in a cluster: concurrent holds over several shares, and a unit whose hold was never
/// stored coming back.</summary>
[Collection(ClusterCollection.Name)]
public sealed class StockTests(ClusterFixture fixture)
{
    private IOrderGrain Group(string id) => fixture.Client.GetGrain<IOrderGrain>(id);

    [Fact]
    public async Task ConcurrentStartsOverFourSharesTakeExactlyTheStockAndTheRestHearSoldOut()
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2, stock: 30) with { StockShards = 4 });

        var results = await Task.WhenAll(Enumerable.Range(0, 80).Select(async n =>
        {
            try
            {
                await Group(ClusterFixture.NewGroupId()).CreateAsync(new CreateGroup(campaignId, ClusterFixture.NewUser(), null));
                return "held";
            }
            catch (CampaignClosedException ex)
            {
                return ex.Message;
            }
        }));

        Assert.Equal(30, results.Count(r => r == "held"));
        Assert.All(results.Where(r => r != "held"), r => Assert.Equal("The campaign is sold out.", r));
        var campaign = (await fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync())!;
        Assert.Equal((30, 0, 0), (campaign.Reserved, campaign.Sold, campaign.RemainingStock));

        // The holds lapse: every unit goes back to its share and can be held again.
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(17));
        var released = await ClusterFixture.EventuallyAsync(() => fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync(), c => c!.Reserved == 0);
        Assert.Equal(30, released!.RemainingStock);
    }

    [Fact]
    public async Task AUnitReservedForAHoldThatWasNeverStoredComesBackWhenItsShareAsksTheGroup()
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(stock: 3));
        var shard = fixture.Client.GetGrain<IStockShardGrain>(IStockShardGrain.Key(campaignId, 0));
        // As when a silo dies between the reservation and the group's write: the unit is reserved, the group holds nothing.
        Assert.Equal(StockAnswer.Reserved, await shard.ReserveAsync(ClusterFixture.NewGroupId() + "/0/1"));
        Assert.Equal(1, (await shard.GetCountsAsync()).Reserved);

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(4));

        var counts = await ClusterFixture.EventuallyAsync(shard.GetCountsAsync, c => c.Reserved == 0);
        Assert.Equal((0, 0L), (counts.Reserved, counts.Sold));
        Assert.Equal(3, (await fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync())!.RemainingStock);
    }

    [Fact]
    public async Task TheLimitPerUserHoldsAcrossShares()
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2, stock: 100) with { StockShards = 8, PerUserLimit = 2 });
        var user = ClusterFixture.NewUser();
        for (var n = 0; n < 2; n++)
        {
            await Group(ClusterFixture.NewGroupId()).CreateAsync(new CreateGroup(campaignId, user, null));
        }

        var refused = await Assert.ThrowsAsync<CampaignClosedException>(() =>
            Group(ClusterFixture.NewGroupId()).CreateAsync(new CreateGroup(campaignId, user, null)));

        Assert.Equal("At most 2 per user.", refused.Message);
        Assert.Equal(2, (await fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync())!.Reserved);
    }
}

/// <summary>A cluster of its own, since its test kills a silo.</summary>
public sealed class SiloKillFixture : ClusterFixture;

/// <summary>Stock under concurrent holds while a silo is killed: never oversold, and once the shares have asked the
/// groups, exactly the stored holds are reserved (nothing leaked by the holds whose write died with the silo).</summary>
public sealed class StockSiloKillTests(SiloKillFixture fixture, ITestOutputHelper output) : IClassFixture<SiloKillFixture>
{
    [Fact]
    public async Task ConcurrentHoldsWithASiloKilledNeitherOversellNorLeak()
    {
        const int stock = 200;
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2, stock: stock) with { StockShards = 4 });
        var groups = Enumerable.Range(0, 120).Select(_ => ClusterFixture.NewGroupId()).ToList();

        var starts = groups.Select(async (groupId, n) =>
        {
            await Task.Delay(n * 5);
            try
            {
                await fixture.Client.GetGrain<IOrderGrain>(groupId).CreateAsync(new CreateGroup(campaignId, ClusterFixture.NewUser(), null));
                return "held";
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Sold out, or lost with the silo: what is stored is what counts below.
                return ex.GetType().Name;
            }
        }).ToList();
        await Task.Delay(250);
        await fixture.Cluster.KillSiloAsync(fixture.Cluster.Silos[1]);
        var outcomes = await Task.WhenAll(starts);
        output.WriteLine(string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Key} {g.Count()}")));

        var reservedBefore = (await fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync())!.Reserved;
        // The shares ask the groups about reservations they have not heard of for CheckAfter.
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(5));
        var campaign = fixture.Client.GetGrain<ICampaignGrain>(campaignId);
        var held = 0;
        foreach (var groupId in groups)
        {
            try
            {
                var view = await fixture.Client.GetGrain<IOrderGrain>(groupId).GetAsync(null);
                held += view.Slots.Count(s => s.Status == SlotStatus.Held);
            }
            catch (UnknownGroupException)
            {
            }
        }
        output.WriteLine($"held {held}, reserved before the checks ran {reservedBefore}");
        Assert.InRange(held, 1, stock);
        var reserved = await ClusterFixture.EventuallyAsync(() => campaign.GetAsync(), c => c!.Reserved == held, seconds: 60);
        Assert.Equal(held, reserved!.Reserved);

        // The holds lapse: the whole stock is free again.
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(15));
        var free = await ClusterFixture.EventuallyAsync(() => campaign.GetAsync(), c => c!.Reserved == 0, seconds: 60);
        Assert.Equal(stock, free!.RemainingStock);
    }
}

/// <summary>What a group start leaves active: the group and its leader, not the one-call grains it used (a user's limit
/// in the campaign, the leader's new referral code), which every collection would otherwise trace for Orleans' idle
/// age (bench/README.md, "The notify path with many live groups").</summary>
[Collection(ClusterCollection.Name)]
public sealed class OneCallGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AStartLeavesNeitherTheUsersLimitNorTheLeadersNewCodeActive()
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2, stock: 10));
        var leader = ClusterFixture.NewUser();
        var groupId = ClusterFixture.NewGroupId();

        await fixture.Client.GetGrain<IOrderGrain>(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        var code = (await fixture.Client.GetGrain<IReferralGrain>(leader).GetProfileAsync()).ReferralCode;

        var management = fixture.Client.GetGrain<IManagementGrain>(0);
        var limit = GrainId.Create("stock-limit", IStockLimitGrain.Key(campaignId, leader));
        var codeGrain = GrainId.Create("referral-code", code);
        var active = await ClusterFixture.EventuallyAsync(
            async () => (await management.GetActiveGrains(limit.Type)).Concat(await management.GetActiveGrains(codeGrain.Type)).ToHashSet(),
            ids => !ids.Contains(limit) && !ids.Contains(codeGrain));
        Assert.DoesNotContain(limit, active);
        Assert.DoesNotContain(codeGrain, active);
        Assert.Contains(GrainId.Create("order", groupId), await management.GetActiveGrains(GrainType.Create("order")));

        // Deactivated, not forgotten: the limit still counts the hold and the code still names its owner.
        Assert.False(await fixture.Client.GetGrain<IStockLimitGrain>(IStockLimitGrain.Key(campaignId, leader)).TakeAsync("another/0/1", 1));
        Assert.Equal(leader, await fixture.Client.GetGrain<IReferralCodeGrain>(code).ResolveAsync());
    }
}
