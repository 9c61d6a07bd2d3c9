using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Stats;
using GroupPay.Silo;
using GroupPay.Testing;

namespace GroupPay.Grains.Tests;

/// <summary>A cluster whose grain storage and reminders live in an embedded Garnet of its own, which a test stops
/// (every connection refused, as when Redis dies) and starts again on the same port and data.</summary>
public sealed class StoreOutageFixture : ClusterFixture
{
    private readonly StoppableStore _store = new();

    protected override string StoreConnection(string redis) => _store.Connection;

    public void StopStore() => _store.Stop();

    public void StartStore() => _store.Start();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _store.Remove();
    }
}

/// <summary>An embedded Garnet that a test stops (every connection refused, as when Redis dies) and starts again on the
/// same port and data.</summary>
public sealed class StoppableStore
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("grouppay-outage-").FullName;
    private readonly int _port = FreePort.Get();
    private readonly Lock _gate = new();
    private EmbeddedGarnet? _store;

    /// <summary>Starts the store (once: silos are configured in parallel) and names it.</summary>
    public string Connection
    {
        get
        {
            Start();
            return "127.0.0.1:" + _port;
        }
    }

    public void Stop()
    {
        lock (_gate)
        {
            _store?.Dispose();
            _store = null;
        }
    }

    public void Start()
    {
        lock (_gate)
        {
            _store ??= EmbeddedGarnet.Start(_port, _dataDir);
        }
    }

    /// <summary>Stops the store and deletes its data.</summary>
    public void Remove()
    {
        Stop();
        Directory.Delete(_dataDir, recursive: true);
    }
}

/// <summary>A failed write is a failed operation: the caller hears the failure, and nothing later sees, counts or
/// acknowledges the change that was not stored.</summary>
public sealed class StoreFailureTests(StoreOutageFixture fixture) : IClassFixture<StoreOutageFixture>
{
    private IOrderGrain Group(string groupId) => fixture.Client.GetGrain<IOrderGrain>(groupId);

    /// <summary>Calls <paramref name="call"/> until the store answers again (failures while it reconnects are retried).</summary>
    private static Task<T> OnceTheStoreIsBackAsync<T>(Func<Task<T>> call) where T : class =>
        Eventually.ValueAsync<T?>(
            async () =>
            {
                try
                {
                    return await call();
                }
                catch (Exception ex) when (ex is not GroupPayException)
                {
                    return null;
                }
            },
            result => result is not null,
            TimeSpan.FromSeconds(60))!;

    private async Task WhileTheStoreIsDownAsync(Func<Task> call)
    {
        fixture.StopStore();
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(call);
        }
        finally
        {
            fixture.StartStore();
        }
    }

    private async Task<(string CampaignId, string GroupId, string Leader)> OpenGroupAsync(CampaignDefinition campaign)
    {
        var campaignId = await fixture.DefineCampaignAsync(campaign);
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        var started = await Group(groupId).PayAsync(new StartPayment(leader, null, "127.0.0.1", null));
        await Group(groupId).ApplyPaymentAsync(new PaymentNotice(started.OutTradeNo, "4200000000000000000000000100", 990, leader, null));
        return (campaignId, groupId, leader);
    }

    [Fact]
    public async Task APaymentWhoseWriteFailedIsAppliedByWeChatsRetryInsteadOfCountedAsADuplicate()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        var started = await Group(groupId).PayAsync(new StartPayment(leader, null, "127.0.0.1", null));
        var notice = new PaymentNotice(started.OutTradeNo, "4200000000000000000000000101", 990, leader, null);

        await WhileTheStoreIsDownAsync(() => Group(groupId).ApplyPaymentAsync(notice));

        // WeChat's retry of the same notify: the first answer that succeeds must be the one that applied (and stored)
        // the payment, never a "duplicate" of a change that was only ever in memory.
        Assert.Equal(new PaymentApplied(PaymentDisposition.Applied, GroupStatus.Open), await OnceTheStoreIsBackAsync(() => Group(groupId).ApplyPaymentAsync(notice)));
        Assert.Equal(PaymentDisposition.Duplicate, (await Group(groupId).ApplyPaymentAsync(notice)).Disposition);

        // Counted once: the failed write counted nothing, and the figures are what the stored group says.
        var stored = await Group(groupId).GetCountsAsync();
        Assert.Equal((1, 1, 1), (stored.Counts["PaymentsCreated"], stored.Counts["PaymentsPaid"], stored.Counts["GroupsOpened"]));
        var recount = await ClusterFixture.EventuallyAsync(() => fixture.Client.GetGrain<IStatsGrain>(0).RecountAsync(campaignId), r => r.Matches);
        Assert.Equal(1, recount.Groups);
        var stats = await fixture.StatsAsync(campaignId);
        Assert.Equal((1, 1, 1), (stats.PaymentsCreated, stats.PaymentsPaid, stats.GroupsOpened));
    }

    [Fact]
    public async Task AJoinWhoseWriteFailedLeavesTheSlotFreeForTheNextJoiner()
    {
        var (_, groupId, _) = await OpenGroupAsync(ClusterFixture.Campaign(groupSize: 2));
        var (first, second) = (ClusterFixture.NewUser(), ClusterFixture.NewUser());

        await WhileTheStoreIsDownAsync(() => Group(groupId).JoinAsync(first, null));

        var view = await OnceTheStoreIsBackAsync(() => Group(groupId).GetAsync(first));
        Assert.Equal((SlotStatus.Free, (int?)null), (view.Slots[1].Status, view.MySlot));
        var joined = await Group(groupId).JoinAsync(second, null);
        Assert.Equal((SlotStatus.Held, (int?)1), (joined.Slots[1].Status, joined.MySlot));
    }
}

/// <summary>The stock's side of a hold that was never stored: its reservation id comes back for another user.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ReservationTakeoverTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AReservationIdReusedIsOneUnitAndAUsersLimitIsFreedOnceTheGroupSaysItDoesNotHoldIt()
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(stock: 5));
        var shard = fixture.Client.GetGrain<IStockShardGrain>(IStockShardGrain.Key(campaignId, 0));
        var first = ClusterFixture.NewUser();

        Assert.Equal(StockAnswer.Reserved, await shard.ReserveAsync("nosuchgroup1/1/1"));
        Assert.Equal(StockAnswer.Reserved, await shard.ReserveAsync("nosuchgroup1/1/1"));
        Assert.Equal(1, (await fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync())!.Reserved);

        // The first user's limit counts a hold its group never stored: refused while it may still be in flight, freed
        // once it is old enough to ask the group, which does not hold it.
        var limit = fixture.Client.GetGrain<IStockLimitGrain>(IStockLimitGrain.Key(campaignId, first));
        Assert.True(await limit.TakeAsync("nosuchgroup1/1/1", 1));
        Assert.False(await limit.TakeAsync("nosuchgroup2/0/1", 1));
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(3));
        Assert.True(await limit.TakeAsync("nosuchgroup2/0/1", 1));
    }
}
