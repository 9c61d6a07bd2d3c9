using GroupPay.Grains.Referrals;

namespace GroupPay.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ReferralGrainTests(ClusterFixture fixture)
{
    private IReferralGrain User(string openid) => fixture.Client.GetGrain<IReferralGrain>(openid);

    private async Task<string> CodeOf(string openid) => (await User(openid).GetProfileAsync()).ReferralCode;

    [Fact]
    public async Task ACodeResolvesToItsOwnerAndBindsOnce()
    {
        var (a, b, c) = (ClusterFixture.NewUser(), ClusterFixture.NewUser(), ClusterFixture.NewUser());
        var codeA = await CodeOf(a);
        Assert.Equal(codeA, await CodeOf(a));
        Assert.DoesNotContain(a, codeA, StringComparison.Ordinal);

        Assert.Equal(new InviterBinding(BindingOutcome.Bound, a), await User(b).BindInviterAsync(codeA));
        Assert.Equal(new InviterBinding(BindingOutcome.AlreadyBound, a), await User(b).BindInviterAsync(await CodeOf(c)));
        Assert.Equal(1, (await User(a).GetRewardsAsync()).InvitedCount);
    }

    [Fact]
    public async Task SelfReferralAndLoopsAreRefused()
    {
        var (a, b, c) = (ClusterFixture.NewUser(), ClusterFixture.NewUser(), ClusterFixture.NewUser());

        Assert.Equal(BindingOutcome.SelfReferral, (await User(a).BindInviterAsync(await CodeOf(a))).Outcome);
        Assert.Equal(BindingOutcome.Bound, (await User(b).BindInviterAsync(await CodeOf(a))).Outcome);
        Assert.Equal(BindingOutcome.Loop, (await User(a).BindInviterAsync(await CodeOf(b))).Outcome);
        Assert.Equal(BindingOutcome.Bound, (await User(c).BindInviterAsync(await CodeOf(b))).Outcome);
        Assert.Equal(BindingOutcome.Loop, (await User(a).BindInviterAsync(await CodeOf(c))).Outcome);
        Assert.Null(await User(a).GetInviterAsync());
        Assert.Equal(BindingOutcome.UnknownCode, (await User(ClusterFixture.NewUser()).BindInviterAsync("nosuchcode")).Outcome);
    }

    [Fact]
    public async Task AUserWhoHasPaidCanNoLongerBeBound()
    {
        var (a, b) = (ClusterFixture.NewUser(), ClusterFixture.NewUser());
        Assert.True((await User(b).RecordPaymentAsync("gpay00001P1", "c1")).FirstPayment);

        Assert.Equal(BindingOutcome.AlreadyPaid, (await User(b).BindInviterAsync(await CodeOf(a))).Outcome);
        Assert.False((await User(b).RecordPaymentAsync("gpay00001P2", "c1")).FirstPayment);
    }

    [Fact]
    public async Task RewardsAreIdempotentByPaymentAndCappedPerDay()
    {
        var inviter = ClusterFixture.NewUser();
        var now = fixture.Time.GetUtcNow();
        for (var i = 0; i < 3; i++)
        {
            await User(inviter).AddPendingRewardAsync(new RewardEntry($"p{i}", "c1", 100, DailyCap: 2, now));
        }
        await User(inviter).AddPendingRewardAsync(new RewardEntry("p0", "c1", 100, DailyCap: 2, now));

        var rewards = await User(inviter).GetRewardsAsync();
        Assert.Equal(200, rewards.PendingFen);
        Assert.Equal(["p1", "p0"], rewards.Rewards.Select(r => r.PaymentId)); // newest first

        await User(inviter).ReverseRewardAsync("p1");
        await User(inviter).ReverseRewardAsync("p1");
        await User(inviter).ScheduleGrantAsync("p0", now);
        rewards = await User(inviter).GetRewardsAsync();
        Assert.Equal((0, 100, 100), (rewards.PendingFen, rewards.GrantedFen, rewards.ReversedFen));
    }

    [Fact]
    public async Task TheDailyCapCountsByChinaDayNotUtcDay()
    {
        var inviter = ClusterFixture.NewUser();
        var china = TimeSpan.FromHours(8);
        // 23:30 and 00:30 China time: two China days, one UTC day (15:30 and 16:30 UTC on 1 December).
        await User(inviter).AddPendingRewardAsync(new RewardEntry("late", "c1", 100, DailyCap: 1, new DateTimeOffset(2026, 12, 1, 23, 30, 0, china)));
        await User(inviter).AddPendingRewardAsync(new RewardEntry("nextday", "c1", 100, DailyCap: 1, new DateTimeOffset(2026, 12, 2, 0, 30, 0, china)));
        // 07:00 and 09:00 China time on 3 December: one China day across UTC midnight (23:00 on the 2nd, 01:00 on the 3rd UTC).
        await User(inviter).AddPendingRewardAsync(new RewardEntry("morning", "c1", 100, DailyCap: 1, new DateTimeOffset(2026, 12, 3, 7, 0, 0, china)));
        await User(inviter).AddPendingRewardAsync(new RewardEntry("later", "c1", 100, DailyCap: 1, new DateTimeOffset(2026, 12, 3, 9, 0, 0, china)));

        var rewards = await User(inviter).GetRewardsAsync();
        Assert.Equal(["late", "morning", "nextday"], rewards.Rewards.Select(r => r.PaymentId).Order(StringComparer.Ordinal));
        Assert.Equal(300, rewards.PendingFen);
    }

    [Fact]
    public async Task AnInviteeAddedTwiceCountsOnce()
    {
        var inviter = ClusterFixture.NewUser();
        await User(inviter).AddInviteeAsync("o-friend-1");
        await User(inviter).AddInviteeAsync("o-friend-2");
        await User(inviter).AddInviteeAsync("o-friend-1");
        await fixture.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await User(inviter).AddInviteeAsync("o-friend-2");

        Assert.Equal(2, (await User(inviter).GetRewardsAsync()).InvitedCount);
    }

    [Fact]
    public async Task RewardsPageNewestFirstWithTheWholeLedgersTotals()
    {
        var inviter = ClusterFixture.NewUser();
        var now = fixture.Time.GetUtcNow();
        for (var i = 0; i < 45; i++)
        {
            await User(inviter).AddPendingRewardAsync(new RewardEntry($"p{i:d2}", "c1", 100, DailyCap: 1000, now));
        }
        // The oldest reward is on no page the state keeps: reversing it, and its payment again, still find it.
        await User(inviter).ReverseRewardAsync("p00");
        await User(inviter).AddPendingRewardAsync(new RewardEntry("p00", "c1", 100, DailyCap: 1000, now));
        await User(inviter).ReverseRewardAsync("unknown-payment");

        var first = await User(inviter).GetRewardsAsync();
        Assert.Equal([.. Enumerable.Range(25, 20).Reverse().Select(i => $"p{i:d2}")], first.Rewards.Select(r => r.PaymentId));
        Assert.Equal((4400L, 0L, 100L), (first.PendingFen, first.GrantedFen, first.ReversedFen));
        var second = await User(inviter).GetRewardPageAsync(20, first.Next);
        Assert.Equal([.. Enumerable.Range(5, 20).Reverse().Select(i => $"p{i:d2}")], second.Rewards.Select(r => r.PaymentId));
        var last = await User(inviter).GetRewardPageAsync(20, second.Next);
        Assert.Equal(["p04", "p03", "p02", "p01", "p00"], last.Rewards.Select(r => r.PaymentId));
        Assert.Equal(RewardStatus.Reversed, last.Rewards[^1].Status);
        Assert.Null(last.Next);
        Assert.Equal((4400L, 100L), (last.PendingFen, last.ReversedFen));

        // A page larger than the state keeps comes from the ledger, in the same order.
        var all = await User(inviter).GetRewardPageAsync(ReferralLimits.MaxRewardPage, null);
        Assert.Equal([.. Enumerable.Range(0, 45).Reverse().Select(i => $"p{i:d2}")], all.Rewards.Select(r => r.PaymentId));
        Assert.Null(all.Next);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => User(inviter).GetRewardPageAsync(ReferralLimits.MaxRewardPage + 1, null));
    }

    [Fact]
    public async Task OnlyTheRewardsWhoseGrantTimeCameAreGranted()
    {
        var inviter = ClusterFixture.NewUser();
        var now = fixture.Time.GetUtcNow();
        foreach (var id in (string[])["soon", "later", "now", "never"])
        {
            await User(inviter).AddPendingRewardAsync(new RewardEntry(id, "c1", 100, DailyCap: 10, now));
        }
        await User(inviter).ScheduleGrantAsync("soon", now + TimeSpan.FromMinutes(2));
        await User(inviter).ScheduleGrantAsync("later", now + TimeSpan.FromHours(2));
        await User(inviter).ScheduleGrantAsync("now", now);
        await User(inviter).ScheduleGrantAsync("now", now + TimeSpan.FromHours(3)); // scheduled once
        Assert.Equal((300L, 100L), Totals(await User(inviter).GetRewardsAsync()));

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(4));
        var rewards = await ClusterFixture.EventuallyAsync(User(inviter).GetRewardsAsync, r => r.GrantedFen == 200);
        Assert.Equal((200L, 200L), Totals(rewards));
        Assert.Equal(
            [("never", RewardStatus.Pending), ("now", RewardStatus.Granted), ("later", RewardStatus.Pending), ("soon", RewardStatus.Granted)],
            rewards.Rewards.Select(r => (r.PaymentId, r.Status)));

        await User(inviter).ReverseRewardAsync("later"); // leaves the grant set too
        var reversed = await User(inviter).GetRewardsAsync();
        Assert.Equal((100L, 200L, 100L), (reversed.PendingFen, reversed.GrantedFen, reversed.ReversedFen));
    }

    private static (long Pending, long Granted) Totals(RewardSummary summary) => (summary.PendingFen, summary.GrantedFen);

    [Fact]
    public async Task AUsersGroupsAreListedMostRecentFirstOnceEach()
    {
        var user = ClusterFixture.NewUser();
        Assert.Empty(await User(user).GetGroupsAsync());

        await User(user).RecordGroupAsync("group000001");
        await User(user).RecordGroupAsync("group000002");
        await User(user).RecordGroupAsync("group000001");
        await User(user).RecordGroupAsync("group000001");

        Assert.Equal(["group000001", "group000002"], await User(user).GetGroupsAsync());
    }

    [Fact]
    public async Task AUsersGroupListKeepsOnlyTheMostRecent()
    {
        var user = ClusterFixture.NewUser();
        for (var i = 0; i < ReferralLimits.MaxGroups + 2; i++)
        {
            await User(user).RecordGroupAsync($"group{i:d6}");
        }

        var groups = await User(user).GetGroupsAsync();
        Assert.Equal(ReferralLimits.MaxGroups, groups.Count);
        Assert.Equal($"group{ReferralLimits.MaxGroups + 1:d6}", groups[0]);
        Assert.DoesNotContain("group000001", groups);
    }
}
