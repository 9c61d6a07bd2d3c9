using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Stats;
using GroupPay.Testing;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

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
    public void TwoTalliesOfTheSameFactsAreTheSameWhateverTheirRevision()
    {
        var state = PaidState();
        var before = GroupTally.Of("gabcdef", state);
        state.Revision = 9;
        Assert.True(GroupTally.Of("gabcdef", state).SameFactsAs(before));

        state.Counts[TallyField.Both(Counter.PaymentsRefunded)] = 1;
        Assert.False(GroupTally.Of("gabcdef", state).SameFactsAs(before));
        var refunded = GroupTally.Of("gabcdef", state);
        state.Attempts["gabcdefP1"].ExternalRefunds.Add(new ExternalRefundRecord { OutRefundNo = "console1", AmountFen = 990 });
        Assert.False(GroupTally.Of("gabcdef", state).SameFactsAs(refunded));
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

/// <summary>The figures' store against a real Redis-protocol server: each group's tally applies once per revision, as
/// the difference from what the group contributed before.</summary>
[Collection(ClusterCollection.Name)]
public sealed class TallyStoreTests(ClusterFixture fixture) : IAsyncDisposable
{
    private readonly RedisTallyStore _store = new(
        Options.Create(new TallyStoreOptions { ConnectionString = fixture.StoreConnectionString }),
        Options.Create(new ClusterOptions { ServiceId = "tally-test-" + Guid.NewGuid().ToString("N")[..8] }));

    private static GroupTally Tally(string groupId, string campaign, long revision, params (string Field, long Value)[] counts) =>
        new(groupId, campaign, revision, counts.ToDictionary(c => c.Field, c => c.Value), []);

    [Fact]
    public async Task ATallyDeliveredTwiceOrLateIsCountedOnce()
    {
        var paid = TallyField.Both(Counter.PaymentsPaid);
        Assert.Equal(1, await _store.ApplyAsync([Tally("g1", "camp", 1, (paid, 1))]));
        Assert.Equal(0, await _store.ApplyAsync([Tally("g1", "camp", 1, (paid, 1))]));
        Assert.Equal(1, await _store.ApplyAsync([Tally("g1", "camp", 3, (paid, 2), (TallyField.Both(Counter.GroupsCompleted), 1))]));
        Assert.Equal(0, await _store.ApplyAsync([Tally("g1", "camp", 2, (paid, 7))])); // older than what was applied
        Assert.Equal(1, await _store.ApplyAsync([Tally("g2", "camp", 1, (paid, 1))]));

        var campaign = await _store.ReadCountersAsync("camp");
        Assert.Equal((3L, 1L), (campaign[Counter.PaymentsPaid], campaign[Counter.GroupsCompleted]));
        Assert.Equal(3L, (await _store.ReadCountersAsync(StatsScope.Total))[Counter.PaymentsPaid]);
        Assert.Equal(3L, (await _store.ReadGroupAsync("g1"))!.Value.Revision);
        Assert.Equal(["g1", "g2"], (await _store.CampaignGroupsAsync("camp").ToListAsync()).Order());
    }

    [Fact]
    public async Task ASeedUserCountsInTheCampaignOrTheShopAsItsFieldSays()
    {
        await _store.ApplyAsync(
        [
            Tally("user:o-1/campA", "campA", 1, (TallyField.CampaignOnly(Counter.SeedUsers), 1), (TallyField.Both(Counter.NewUsers), 1)),
            Tally("user:o-1/*", StatsScope.Total, 1, (TallyField.TotalOnly(Counter.SeedUsers), 1)),
            Tally("user:o-2/campA", "campA", 1, (TallyField.CampaignOnly(Counter.SeedUsers), 1)),
        ]);

        var campaign = await _store.ReadCountersAsync("campA");
        var total = await _store.ReadCountersAsync(StatsScope.Total);
        Assert.Equal((2L, 1L), (campaign[Counter.SeedUsers], campaign[Counter.NewUsers]));
        Assert.Equal((1L, 1L), (total[Counter.SeedUsers], total[Counter.NewUsers]));
        Assert.Empty(await _store.CampaignGroupsAsync("campA").ToListAsync()); // users are not groups
    }

    [Fact]
    public async Task TheLedgerKeepsEachPaymentAndRefundOnItsChinaDayOnce()
    {
        var at = new DateTimeOffset(2026, 11, 30, 17, 0, 0, TimeSpan.Zero); // 01:00 on 1 December in China
        LedgerEntry payment = new(LedgerEntryKind.Payment, "g1", "g1P1", null, "4200000001", 990, at);
        LedgerEntry refund = new(LedgerEntryKind.Refund, "g1", "g1P1", "g1P1R1", "5000001", 990, at.AddHours(1));
        await _store.ApplyAsync([new GroupTally("g1", "camp", 1, new Dictionary<string, long>(), [payment])]);
        await _store.ApplyAsync([new GroupTally("g1", "camp", 2, new Dictionary<string, long>(), [payment, refund])]);

        var day = await _store.ReadDayAsync(new DateOnly(2026, 12, 1));
        Assert.Equal([payment, refund], day.OrderBy(e => e.Kind));
        Assert.Empty(await _store.ReadDayAsync(new DateOnly(2026, 11, 30)));
    }

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}

/// <summary>A cluster whose figures live in a store of their own, which a test stops while the groups' own store
/// works: the groups store their changes, and delivering what they count fails until it comes back.</summary>
public sealed class TallyOutageFixture : ClusterFixture
{
    private readonly StoppableStore _tallies = new();

    protected override string TallyConnection(string store) => _tallies.Connection;

    public void StopTallies() => _tallies.Stop();

    public void StartTallies() => _tallies.Start();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _tallies.Remove();
    }
}

/// <summary>Every figure converges to what the stored groups say, whatever was lost on the way (the run: a
/// killed silo's last counts were lost for good).</summary>
public sealed class FiguresConvergenceTests(TallyOutageFixture fixture) : IClassFixture<TallyOutageFixture>
{
    [Fact]
    public async Task FiguresLostInDeliveryAndInDeactivatedGrainsConvergeToTheStoredGroups()
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2));
        var inviter = ClusterFixture.NewUser();
        var code = (await fixture.Client.GetGrain<Referrals.IReferralGrain>(inviter).GetProfileAsync()).ReferralCode;
        var groupId = ClusterFixture.NewGroupId();
        var group = fixture.Client.GetGrain<IOrderGrain>(groupId);
        var (leader, friend) = (ClusterFixture.NewUser(), ClusterFixture.NewUser());

        fixture.StopTallies();
        try
        {
            // The whole group while the figures cannot be reached: every change is stored, every delivery fails.
            await group.CreateAsync(new CreateGroup(campaignId, leader, null));
            await fixture.PayAsync(groupId, leader);
            await ClusterFixture.EventuallyAsync(() => group.GetAsync(null), g => g.Status == GroupStatus.Open);
            await fixture.PayAsync(groupId, friend, referralCode: code);
            await ClusterFixture.EventuallyAsync(() => group.GetAsync(null), g => g.Status == GroupStatus.Complete);

            // What was in memory goes (as in a crash): only the stored outboxes know what is still to deliver.
            await Task.Delay(500);
            await fixture.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        }
        finally
        {
            fixture.StartTallies();
        }

        var stored = await group.GetCountsAsync();
        Assert.Equal(
            [("GroupsCompleted", 1L), ("GroupsOpened", 1L), ("Joined", 1L), ("Paid", 1L), ("PaymentsCreated", 2L), ("PaymentsPaid", 2L)],
            stored.Counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value)));

        // The retries come due (the outbox's backoff, then the reminder or any drain): the figures become exactly the
        // stored ones, and the seed and new user that only the users' grains know arrive with the same retries.
        var stats = fixture.Client.GetGrain<IStatsGrain>(0);
        var converged = await Eventually.ValueAsync(
            async () =>
            {
                await fixture.AdvanceAsync(TimeSpan.FromMinutes(1));
                await fixture.Client.GetGrain<IOrderEffects>(groupId).DrainAsync();
                try
                {
                    return await stats.GetAsync(campaignId);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    return null; // the store is still reconnecting
                }
            },
            s => s is { GroupsCompleted: 1, SeedUsers: 1, NewUsers: 1 },
            TimeSpan.FromSeconds(90));
        Assert.Equal(new GrowthStats(PaymentsCreated: 2, PaymentsPaid: 2, GroupsOpened: 1, GroupsCompleted: 1, GroupsFailed: 0, SeedUsers: 1,
            NewUsers: 1, LinkOpened: 0, Joined: 1, Paid: 1, PaymentsRefunded: 0), converged);

        var recount = await stats.RecountAsync(campaignId);
        Assert.True(recount.Matches, string.Join(", ", recount.Counters));
        Assert.Equal((1, 0), (recount.Groups, recount.GroupsBehindCount));
    }
}
