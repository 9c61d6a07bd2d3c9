using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Stats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace GroupPay.Grains.Tests;

public sealed class GroupTallyTests
{
    private static OrderState PaidState()
    {
        var state = new OrderState { CampaignId = "camp1", Revision = 4 };
        state.Counts[TallyField.Both(Counter.PaymentsPaid)] = 2;
        state.Attempts["gabcdefP1"] = new AttemptRecord
        {
            OutTradeNo = "gabcdefP1", MemberOpenid = "o-a", PayerOpenid = "o-a", AmountFen = 990,
            TransactionId = "4200000001", PaidAt = new DateTimeOffset(2026, 12, 1, 15, 59, 0, TimeSpan.Zero), Applied = true,
        };
        state.Attempts["gabcdefP2"] = new AttemptRecord
        {
            OutTradeNo = "gabcdefP2", MemberOpenid = "o-b", PayerOpenid = "o-b", AmountFen = 990,
            TransactionId = "4200000002", PaidAt = new DateTimeOffset(2026, 12, 1, 16, 1, 0, TimeSpan.Zero),
            Refund = RefundProgress.Accepted, RefundSequence = 2, RefundId = "5000002", RefundAcceptedAt = new DateTimeOffset(2026, 12, 1, 16, 2, 0, TimeSpan.Zero),
        };
        state.Attempts["gabcdefP3"] = new AttemptRecord { OutTradeNo = "gabcdefP3", MemberOpenid = "o-c", PayerOpenid = "o-c", AmountFen = 990 };
        return state;
    }

    [Fact]
    public void ATallyCarriesTheStoredCountsAndEveryPaymentAndRefundWeChatHasSeen()
    {
        var tally = GroupTally.Of("gabcdef", PaidState());

        Assert.Equal(("camp1", 4L, 2L), (tally.CampaignId, tally.Revision, tally.Counts["PaymentsPaid"]));
        Assert.Equal(
            [
                (LedgerEntryKind.Payment, "gabcdefP1", (string?)null, (string?)"4200000001"),
                (LedgerEntryKind.Payment, "gabcdefP2", null, "4200000002"),
                (LedgerEntryKind.Refund, "gabcdefP2", "gabcdefP2R2", "5000002"),
            ],
            tally.Ledger.Select(e => (e.Kind, e.OutTradeNo, e.OutRefundNo, e.TransactionId)));
        // China time: 15:59 UTC is 23:59 on the 1st, 16:01 UTC is 00:01 on the 2nd.
        Assert.Equal([new DateOnly(2026, 12, 1), new DateOnly(2026, 12, 2), new DateOnly(2026, 12, 2)], tally.Ledger.Select(e => RedisTallyStore.DayOf(e.At)));
    }

    [Fact]
    public void AWriteChangesTheFiguresByWhatItsStateCountsMoreThanTheStoredOneAndAddsOnlyNewLedgerEntries()
    {
        var state = PaidState();
        var first = CountedChanges.Between(null, GroupTally.Of("gabcdef", state))!;
        Assert.Equal(("camp1", "gabcdef"), first.NewGroup);
        Assert.Equal(
            [new CounterChange("*", Counter.PaymentsPaid, 2), new CounterChange("camp1", Counter.PaymentsPaid, 2)],
            first.Counters.OrderBy(c => c.Scope, StringComparer.Ordinal));
        Assert.Equal(3, first.Ledger.Count);

        var committed = GroupTally.Of("gabcdef", state);
        state.Revision = 9;
        Assert.Null(CountedChanges.Between(committed, GroupTally.Of("gabcdef", state))); // nothing counted changed

        state.Counts[TallyField.Both(Counter.PaymentsRefunded)] = 1;
        state.Counts[TallyField.Both(Counter.PaymentsPaid)] = 1; // a count can go down (a payment taken back)
        state.Attempts["gabcdefP1"].ExternalRefunds.Add(new ExternalRefundRecord { OutRefundNo = "console1", AmountFen = 990 });
        var next = CountedChanges.Between(committed, GroupTally.Of("gabcdef", state))!;
        Assert.Null(next.NewGroup);
        Assert.Equal(
            [("*", Counter.PaymentsPaid, -1L), ("*", Counter.PaymentsRefunded, 1L), ("camp1", Counter.PaymentsPaid, -1L), ("camp1", Counter.PaymentsRefunded, 1L)],
            next.Counters.Select(c => (c.Scope, c.Counter, c.Delta)).Order());
        Assert.Equal("console1", Assert.Single(next.Ledger).OutRefundNo);
    }

    [Fact]
    public void AUsersSeedCountsInTheCampaignOrTheShopAsItsFieldSays()
    {
        var changes = new CountedChanges()
            .AddCounts("campA", null, new Dictionary<string, long> { [TallyField.CampaignOnly(Counter.SeedUsers)] = 1, [TallyField.Both(Counter.NewUsers)] = 1 })
            .AddCounts(StatsScope.Total, null, new Dictionary<string, long> { [TallyField.TotalOnly(Counter.SeedUsers)] = 1 });
        Assert.Equal(
            [("*", Counter.SeedUsers, 1L), ("*", Counter.NewUsers, 1L), ("campA", Counter.SeedUsers, 1L), ("campA", Counter.NewUsers, 1L)],
            changes.Counters.Select(c => (c.Scope, c.Counter, c.Delta)).Order());
    }

    [Fact]
    public void ARefundThatSettledThoughItsAcceptanceWasNeverHeardIsInTheLedgerDatedWhenItWasSent()
    {
        var state = PaidState();
        var attempt = state.Attempts["gabcdefP1"];
        var sent = new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero);
        attempt.RequestRefund(sent);
        attempt.RefundSentAt = sent; // the refund call timed out after WeChat took it
        Assert.DoesNotContain(GroupTally.Of("gabcdef", state).Ledger, e => e.OutRefundNo == "gabcdefP1R1");

        attempt.MarkRefunded(); // its notify said SUCCESS
        var refund = Assert.Single(GroupTally.Of("gabcdef", state).Ledger, e => e.OutRefundNo == "gabcdefP1R1");
        Assert.Equal(sent, refund.At);
    }

    [Theory]
    [InlineData("PaymentsPaid", Counter.PaymentsPaid, true, true)]
    [InlineData("c:SeedUsers", Counter.SeedUsers, true, false)]
    [InlineData("t:SeedUsers", Counter.SeedUsers, false, true)]
    public void AFieldNamesItsCounterAndScopes(string field, Counter counter, bool inCampaign, bool inTotal) =>
        Assert.Equal((counter, inCampaign, inTotal), TallyField.Parse(field));
}

/// <summary>The counted grain storage against a real Redis-protocol server: a state and what it counts are stored
/// together or not at all, in the layout of Orleans' own Redis grain storage.</summary>
[Collection(ClusterCollection.Name)]
public sealed class CountedGrainStorageTests(ClusterFixture fixture) : IAsyncDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();
    private CountedGrainStorage? _storage;
    private RedisTallyStore? _figures;

    private (CountedGrainStorage Storage, RedisTallyStore Figures) Store(string serviceId)
    {
        var cluster = Options.Create(new ClusterOptions { ServiceId = serviceId });
        var options = Options.Create(new TallyStoreOptions { ConnectionString = fixture.StoreConnectionString });
        _storage = new CountedGrainStorage("counted", fixture.StoreConnectionString,
            _services.GetRequiredService<Serializer>(), options, cluster);
        _figures = new RedisTallyStore(options, cluster);
        return (_storage, _figures);
    }

    [Fact]
    public async Task AWriteCommitsWhatItCountsWithTheStateAndAStaleOneCommitsNothing()
    {
        var (storage, figures) = Store("counted-test-" + Guid.NewGuid().ToString("N")[..8]);
        var groupId = GrainId.Create("order", "gcounted1");
        var at = new DateTimeOffset(2026, 11, 30, 17, 0, 0, TimeSpan.Zero); // 01:00 on 1 December in China
        var tally = new GroupTally("gcounted1", "camp", 1, new Dictionary<string, long> { [TallyField.Both(Counter.PaymentsPaid)] = 1 },
            [new LedgerEntry(LedgerEntryKind.Payment, "gcounted1", "gcounted1P1", null, "4200000001", 990, at)]);
        var written = new GrainState<OrderState>(new OrderState { CampaignId = "camp", Uncommitted = CountedChanges.Between(null, tally) });
        await storage.WriteStateAsync("order", groupId, written);

        // Another activation's write over the state this one has not read: refused, and nothing of it counted.
        var stale = new GrainState<OrderState>(new OrderState { CampaignId = "camp", Uncommitted = CountedChanges.Between(null, tally) }) { ETag = "not-the-stored-one" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("order", groupId, stale));
        var fresh = new GrainState<OrderState>(new OrderState { CampaignId = "camp", Uncommitted = CountedChanges.Between(null, tally) });
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("order", groupId, fresh)); // none expected, one is stored

        // The next change, over the stored state: counted by its difference.
        var completed = tally with { Counts = new Dictionary<string, long> { [TallyField.Both(Counter.PaymentsPaid)] = 3, [TallyField.Both(Counter.GroupsCompleted)] = 1 } };
        written.State!.Uncommitted = CountedChanges.Between(tally, completed);
        await storage.WriteStateAsync("order", groupId, written);

        var campaign = await figures.ReadCountersAsync("camp");
        Assert.Equal((3L, 1L), (campaign[Counter.PaymentsPaid], campaign[Counter.GroupsCompleted]));
        Assert.Equal(3L, (await figures.ReadCountersAsync(StatsScope.Total))[Counter.PaymentsPaid]);
        Assert.Equal(["gcounted1"], await figures.CampaignGroupsAsync("camp").ToListAsync());
        Assert.Equal(tally.Ledger, await figures.ReadDayAsync(new DateOnly(2026, 12, 1)));
        Assert.Empty(await figures.ReadDayAsync(new DateOnly(2026, 11, 30)));

        var read = new GrainState<OrderState>();
        await storage.ReadStateAsync("order", groupId, read);
        Assert.Equal((true, written.ETag, "camp"), (read.RecordExists, read.ETag, read.State!.CampaignId));
        Assert.Null(read.State!.Uncommitted);
    }

    [Fact]
    public async Task AWritesOtherKeysAreAppliedWithTheStateAndARefusedWriteAppliesNone()
    {
        var serviceId = "counted-test-" + Guid.NewGuid().ToString("N")[..8];
        var (storage, _) = Store(serviceId);
        var userId = GrainId.Create("referral", "o-writes");
        static CountedChanges Writes(string member) => new CountedChanges()
            .Write(new StoreWrite(StoreCommand.HashSet, "referral/o-writes/rewards", member, "v-" + member))
            .Write(new StoreWrite(StoreCommand.SortedSetAdd, "referral/o-writes/order", "1", member))
            .Write(new StoreWrite(StoreCommand.HashIncrement, "referral/o-writes/day/2026-12-01", "c1", "1"));
        var written = new GrainState<Referrals.ReferralState>(new Referrals.ReferralState { Uncommitted = Writes("p1") });
        await storage.WriteStateAsync("referral", userId, written);
        var stale = new GrainState<Referrals.ReferralState>(new Referrals.ReferralState { Uncommitted = Writes("p2") }) { ETag = "not-the-stored-one" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("referral", userId, stale));
        written.State!.Uncommitted = new CountedChanges().Write(new StoreWrite(StoreCommand.SortedSetRemove, "referral/o-writes/order", "p1"));
        await storage.WriteStateAsync("referral", userId, written);

        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(fixture.StoreConnectionString);
        var db = redis.GetDatabase();
        var prefix = serviceId + "/referral/o-writes/";
        Assert.Equal([("p1", "v-p1")], (await db.HashGetAllAsync(prefix + "rewards")).Select(e => (e.Name.ToString(), e.Value.ToString())));
        Assert.Equal(0, await db.SortedSetLengthAsync(prefix + "order"));
        Assert.Equal(1, (long)await db.HashGetAsync(prefix + "day/2026-12-01", "c1"));
        Assert.NotNull(await db.KeyTimeToLiveAsync(prefix + "day/2026-12-01"));
    }

    [Fact]
    public async Task ItReadsWhatOrleansRedisGrainStorageWrote()
    {
        // A campaign's state is written by Orleans' own provider; the counted one reads the same key and fields.
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(stock: 7));
        var (storage, _) = Store(fixture.ServiceId);
        var read = new GrainState<Campaigns.CampaignState>();
        await storage.ReadStateAsync("campaign", GrainId.Create("campaign", campaignId), read);
        Assert.True(read.RecordExists);
        Assert.Equal(7, read.State!.Definition!.Stock);
    }

    public async ValueTask DisposeAsync()
    {
        if (_storage is not null)
        {
            await _storage.DisposeAsync();
        }
        if (_figures is not null)
        {
            await _figures.DisposeAsync();
        }
        await _services.DisposeAsync();
    }
}

/// <summary>The figures are what the stored groups and users say, at every moment: no delivery to lose, nothing to
/// converge (the run: a killed silo's last counts were lost for good).</summary>
[Collection(ClusterCollection.Name)]
public sealed class FiguresCommittedWithStateTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AGroupsFiguresAreItsStoredCountsThroughRedeliveredNotifiesAndDeactivation()
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2));
        var inviter = ClusterFixture.NewUser();
        var code = (await fixture.Client.GetGrain<Referrals.IReferralGrain>(inviter).GetProfileAsync()).ReferralCode;
        var groupId = ClusterFixture.NewGroupId();
        var group = fixture.Client.GetGrain<IOrderGrain>(groupId);
        var (leader, friend) = (ClusterFixture.NewUser(), ClusterFixture.NewUser());

        await group.CreateAsync(new CreateGroup(campaignId, leader, null));
        await fixture.PayAsync(groupId, leader);
        await ClusterFixture.EventuallyAsync(() => group.GetAsync(null), g => g.Status == GroupStatus.Open);
        var paid = Assert.Single((await group.GetPaymentsAsync()).Payments);
        var notice = new PaymentNotice(paid.OutTradeNo, paid.TransactionId, paid.AmountFen, leader, paid.PaidAt);
        // WeChat delivers the same notify again, to this activation and to a fresh one: counted once.
        Assert.Equal(PaymentDisposition.Duplicate, (await group.ApplyPaymentAsync(notice)).Disposition);
        await fixture.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(PaymentDisposition.Duplicate, (await group.ApplyPaymentAsync(notice)).Disposition);
        await fixture.PayAsync(groupId, friend, referralCode: code);
        await ClusterFixture.EventuallyAsync(() => group.GetAsync(null), g => g.Status == GroupStatus.Complete);

        var stored = await group.GetCountsAsync();
        Assert.Equal(
            [("GroupsCompleted", 1L), ("GroupsOpened", 1L), ("Joined", 1L), ("Paid", 1L), ("PaymentsCreated", 2L), ("PaymentsPaid", 2L)],
            stored.Counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value)));
        // The group's own counts are in the figures the moment its write is; the seed and the new user follow with the
        // users' writes (the group's outbox calls their grains after the answer).
        var stats = await ClusterFixture.EventuallyAsync(() => fixture.StatsAsync(campaignId), s => s is { SeedUsers: 1, NewUsers: 1 });
        Assert.Equal(new GrowthStats(PaymentsCreated: 2, PaymentsPaid: 2, GroupsOpened: 1, GroupsCompleted: 1, GroupsFailed: 0, SeedUsers: 1,
            NewUsers: 1, LinkOpened: 0, Joined: 1, Paid: 1, PaymentsRefunded: 0), stats);

        var recount = await fixture.Client.GetGrain<IStatsGrain>(0).RecountAsync(campaignId);
        Assert.True(recount.Matches, string.Join(", ", recount.Counters));
        Assert.Equal(1, recount.Groups);
    }
}
