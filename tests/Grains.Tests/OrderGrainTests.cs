using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Referrals;

namespace GroupPay.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class OrderGrainTests(ClusterFixture fixture)
{
    private IOrderGrain Group(string groupId) => fixture.Client.GetGrain<IOrderGrain>(groupId);

    private async Task<(string CampaignId, string GroupId, string Leader)> OpenGroupAsync(CampaignDefinition? campaign = null)
    {
        var campaignId = await fixture.DefineCampaignAsync(campaign);
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        await fixture.PayAsync(groupId, leader);
        var opened = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Open);
        Assert.Equal(GroupStatus.Open, opened.Status);
        return (campaignId, groupId, leader);
    }

    private async Task<JsonElement> SandboxOrderAsync(string outTradeNo) =>
        await fixture.Sandbox.GetFromJsonAsync<JsonElement>($"/sandbox/orders/{outTradeNo}");

    [Fact]
    public async Task AGroupOfThreeCompletesAndItsInviterEarnsRewardsThatAreGrantedAfterTheFreeze()
    {
        var (campaignId, groupId, leader) = await OpenGroupAsync();
        var code = (await fixture.Client.GetGrain<IReferralGrain>(leader).GetProfileAsync()).ReferralCode;
        var friends = new[] { ClusterFixture.NewUser(), ClusterFixture.NewUser() };

        foreach (var friend in friends)
        {
            await fixture.PayAsync(groupId, friend, referralCode: code);
        }

        var complete = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId, friends[0]), g => g.Status == GroupStatus.Complete);
        Assert.Equal(GroupStatus.Complete, complete.Status);
        Assert.Equal(3, complete.PaidCount);
        Assert.Equal(1, complete.MySlot);
        Assert.All(complete.Slots, s => Assert.Equal(SlotStatus.Paid, s.Status));

        var inviter = fixture.Client.GetGrain<IReferralGrain>(leader);
        var pending = await ClusterFixture.EventuallyAsync(inviter.GetRewardsAsync, r => r.PendingFen == 200);
        Assert.Equal(200, pending.PendingFen);
        Assert.Equal(2, pending.InvitedCount);
        Assert.Equal(0, pending.GrantedFen);

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(11));
        var granted = await ClusterFixture.EventuallyAsync(inviter.GetRewardsAsync, r => r.GrantedFen == 200);
        Assert.Equal(200, granted.GrantedFen);
        Assert.Equal(0, granted.PendingFen);

        var stats = await ClusterFixture.EventuallyAsync(() => fixture.StatsAsync(campaignId), s => s.GroupsCompleted == 1 && s.NewUsers == 2);
        Assert.Equal((3, 3, 1, 1, 0), (stats.PaymentsCreated, stats.PaymentsPaid, stats.GroupsOpened, stats.GroupsCompleted, stats.GroupsFailed));
        Assert.Equal((1, 2, 2, 2), (stats.SeedUsers, stats.NewUsers, stats.Joined, stats.Paid));
        Assert.Equal(1.0, stats.PaymentSuccessRate);
        var campaign = await ClusterFixture.EventuallyAsync(
            () => fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync(), c => c!.Sold == 3);
        Assert.Equal((0, 3), (campaign!.Reserved, campaign.Sold));
    }

    [Fact]
    public async Task AFriendPaysTheLeadersShareAndASecondPaymentForTheSameSlotIsRefunded()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        var (first, second) = (ClusterFixture.NewUser(), ClusterFixture.NewUser());
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));

        var firstAttempt = await Group(groupId).PayAsync(new StartPayment(first, 0, "127.0.0.1", null));
        var secondAttempt = await Group(groupId).PayAsync(new StartPayment(second, 0, "127.0.0.1", null));
        Assert.NotEqual(firstAttempt.OutTradeNo, secondAttempt.OutTradeNo);
        (await fixture.PayAtCashierAsync(firstAttempt, first)).EnsureSuccessStatusCode();
        var opened = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId, leader), g => g.Status == GroupStatus.Open);
        Assert.Equal(GroupStatus.Open, opened.Status);
        Assert.True(opened.Slots[0].PaidOnBehalf);
        Assert.True(opened.Slots[0].IsMine);
        // Members are named by a tag, never an openid: the leader's last four characters; free slots by nothing.
        Assert.Equal(leader[^4..], opened.Slots[0].MemberTag);
        Assert.DoesNotContain(opened.Slots, s => s.MemberTag is { Length: > 4 } tag && !tag.StartsWith("sandbox:", StringComparison.Ordinal));
        Assert.All(opened.Slots.Where(s => s.Status == SlotStatus.Free), s => Assert.Null(s.MemberTag));

        (await fixture.PayAtCashierAsync(secondAttempt, second)).EnsureSuccessStatusCode();

        var refunded = await ClusterFixture.EventuallyAsync(
            () => SandboxOrderAsync(secondAttempt.OutTradeNo),
            o => o.GetProperty("refunds").GetArrayLength() == 1 && o.GetProperty("refunds")[0].GetProperty("status").GetString() == "SUCCESS");
        var refund = Assert.Single(refunded.GetProperty("refunds").EnumerateArray());
        Assert.Equal(990, refund.GetProperty("refundFee").GetInt64());
        Assert.Equal(0, (await SandboxOrderAsync(firstAttempt.OutTradeNo)).GetProperty("refunds").GetArrayLength());
        var group = await fixture.GroupAsync(groupId);
        Assert.Equal(1, group.PaidCount);
        Assert.Equal(SlotStatus.Paid, group.Slots[0].Status);
        // Bug 6: the second payer, who holds no slot, sees the refund of the payment that was not needed.
        var seenBySecond = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId, second), g => g.MyRefunds.Any(r => r.Refunded));
        Assert.Equal(new MyRefundView(990, Refunded: true, Unused: true), Assert.Single(seenBySecond.MyRefunds));
        Assert.Null(seenBySecond.MySlot);
        Assert.Empty((await fixture.GroupAsync(groupId, first)).MyRefunds);
        Assert.Empty((await fixture.GroupAsync(groupId, leader)).MyRefunds);
        Assert.Empty((await fixture.GroupAsync(groupId)).MyRefunds);
    }

    [Fact]
    public async Task PayingOnBehalfOfYourOwnSlotIsRefused()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));

        var ex = await Assert.ThrowsAsync<OwnSlotOnBehalfException>(() => Group(groupId).PayAsync(new StartPayment(leader, 0, "127.0.0.1", null)));
        Assert.Equal("own-slot-on-behalf", ex.Code);
    }

    [Fact]
    public async Task ManyPayersRacingForTheLastSlotLeaveExactlyOneHolder()
    {
        var (_, groupId, _) = await OpenGroupAsync(ClusterFixture.Campaign(groupSize: 2));
        var racers = Enumerable.Range(0, 12).Select(_ => ClusterFixture.NewUser()).ToList();

        var outcomes = await Task.WhenAll(racers.Select(async racer =>
        {
            try
            {
                return (racer, started: await Group(groupId).PayAsync(new StartPayment(racer, null, "127.0.0.1", null)), error: (string?)null);
            }
            catch (GroupPayException ex)
            {
                return (racer, started: (PaymentStarted?)null, error: ex.Code);
            }
        }));

        var winner = Assert.Single(outcomes, o => o.started is not null);
        Assert.All(outcomes.Where(o => o.started is null), o => Assert.Equal("group-full", o.error));
        (await fixture.PayAtCashierAsync(winner.started!, winner.racer)).EnsureSuccessStatusCode();
        var complete = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Complete);
        Assert.Equal(2, complete.PaidCount);
    }

    [Fact]
    public async Task DuplicateAndConcurrentNotifiesAreAppliedOnce()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        await fixture.SetFaultsAsync(new { duplicateNotifies = 2, concurrentNotifies = 4 });
        try
        {
            var started = await fixture.PayAsync(groupId, leader);
            var acked = await ClusterFixture.EventuallyAsync(
                () => fixture.Sandbox.GetFromJsonAsync<JsonElement>($"/sandbox/notifications?outTradeNo={started.OutTradeNo}"),
                n => n.EnumerateArray().Count(a => a.GetProperty("acked").GetBoolean()) >= 6);
            Assert.True(acked.EnumerateArray().Count(a => a.GetProperty("acked").GetBoolean()) >= 6);

            var again = await Group(groupId).ApplyPaymentAsync(new PaymentNotice(
                started.OutTradeNo, (await SandboxOrderAsync(started.OutTradeNo)).GetProperty("payment").GetProperty("transactionId").GetString()!, 990, leader, null));
            Assert.Equal(PaymentDisposition.Duplicate, again.Disposition);
        }
        finally
        {
            await fixture.ResetFaultsAsync();
        }
        var group = await fixture.GroupAsync(groupId);
        Assert.Equal((GroupStatus.Open, 1), (group.Status, group.PaidCount));
        var stats = await ClusterFixture.EventuallyAsync(() => fixture.StatsAsync(campaignId), s => s.PaymentsPaid == 1);
        Assert.Equal(1, stats.PaymentsPaid);
    }

    [Fact]
    public async Task ANotifyWithAWrongAmountIsRefusedAndChangesNothing()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        var started = await Group(groupId).PayAsync(new StartPayment(leader, null, "127.0.0.1", null));
        var before = await fixture.GroupAsync(groupId, leader);

        await Assert.ThrowsAsync<NotifyRejectedException>(() =>
            Group(groupId).ApplyPaymentAsync(new PaymentNotice(started.OutTradeNo, "4200000000000000000000000001", 1, leader, null)));
        await Assert.ThrowsAsync<NotifyRejectedException>(() =>
            Group(groupId).ApplyPaymentAsync(new PaymentNotice(started.OutTradeNo + "9", "4200000000000000000000000002", 990, leader, null)));
        await Assert.ThrowsAsync<NotifyRejectedException>(() =>
            Group(groupId).ApplyPaymentAsync(new PaymentNotice(started.OutTradeNo, "4200000000000000000000000003", 990, "o-someone-else", null)));

        var after = await fixture.GroupAsync(groupId, leader);
        Assert.Equal(before with { Slots = after.Slots, MyRefunds = after.MyRefunds }, after);
        Assert.Equal(before.Slots, after.Slots);
        Assert.Equal(before.MyRefunds, after.MyRefunds);
        Assert.Equal(GroupStatus.Pending, after.Status);
    }

    [Fact]
    public async Task AnUnpaidHoldLapsesAndItsStockComesBack()
    {
        var (campaignId, groupId, _) = await OpenGroupAsync();
        var friend = ClusterFixture.NewUser();
        var campaign = fixture.Client.GetGrain<ICampaignGrain>(campaignId);
        var joined = await Group(groupId).JoinAsync(friend, null);
        Assert.Equal(SlotStatus.Held, joined.Slots[1].Status);
        // The leader's paid unit stays reserved until the group completes; the friend's hold reserves another.
        Assert.Equal((2, 0), ((await campaign.GetAsync())!.Reserved, (await campaign.GetAsync())!.Sold));

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(16));

        var freed = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId, friend), g => g.Slots[1].Status == SlotStatus.Free);
        Assert.Equal(SlotStatus.Free, freed.Slots[1].Status);
        Assert.Null(freed.MySlot);
        var released = await ClusterFixture.EventuallyAsync(() => campaign.GetAsync(), c => c!.Reserved == 1);
        Assert.Equal((1, 0), (released!.Reserved, released.Sold));
    }

    [Fact]
    public async Task AGroupThatMissesItsDeadlineFailsAndEveryPayerIsRefundedExactlyOnce()
    {
        var (campaignId, groupId, leader) = await OpenGroupAsync();
        var code = (await fixture.Client.GetGrain<IReferralGrain>(leader).GetProfileAsync()).ReferralCode;
        var friend = ClusterFixture.NewUser();
        var friendPayment = await fixture.PayAsync(groupId, friend, referralCode: code);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.PaidCount == 2);
        var inviter = fixture.Client.GetGrain<IReferralGrain>(leader);
        await ClusterFixture.EventuallyAsync(inviter.GetRewardsAsync, r => r.PendingFen == 100);

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(61));

        var failed = await ClusterFixture.EventuallyAsync(
            () => fixture.GroupAsync(groupId),
            g => g.Status == GroupStatus.Failed && g.Slots.Count(s => s.Status == SlotStatus.Refunded) == 2);
        Assert.Equal(GroupStatus.Failed, failed.Status);
        Assert.Equal([SlotStatus.Refunded, SlotStatus.Refunded, SlotStatus.Free], failed.Slots.Select(s => s.Status));
        Assert.Equal(new MyRefundView(990, Refunded: true, Unused: false), Assert.Single((await fixture.GroupAsync(groupId, friend)).MyRefunds));

        var order = await SandboxOrderAsync(friendPayment.OutTradeNo);
        var refund = Assert.Single(order.GetProperty("refunds").EnumerateArray());
        Assert.Equal("SUCCESS", refund.GetProperty("status").GetString());
        Assert.Equal(990, order.GetProperty("refundedFee").GetInt64());

        var rewards = await ClusterFixture.EventuallyAsync(inviter.GetRewardsAsync, r => r.ReversedFen == 100);
        Assert.Equal((0, 0, 100), (rewards.PendingFen, rewards.GrantedFen, rewards.ReversedFen));
        var stock = await ClusterFixture.EventuallyAsync(() => fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync(), c => c!.Sold == 0);
        Assert.Equal((0, 0), (stock!.Sold, stock.Reserved));
        var stats = await ClusterFixture.EventuallyAsync(() => fixture.StatsAsync(campaignId), s => s.GroupsFailed == 1);
        Assert.Equal(1, stats.GroupsFailed);
    }

    [Fact]
    public async Task ARefundWhoseNotifyNeverComesIsConfirmedByRefundQuery()
    {
        var (_, groupId, leader) = await OpenGroupAsync();
        await fixture.SetFaultsAsync(new { dropNotifies = 1000 });
        try
        {
            await fixture.AdvanceAsync(TimeSpan.FromMinutes(63));

            var refunded = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId, leader), g => g.Slots[0].Status == SlotStatus.Refunded);
            Assert.Equal((GroupStatus.Failed, SlotStatus.Refunded), (refunded.Status, refunded.Slots[0].Status));
            var notifies = await fixture.Sandbox.GetFromJsonAsync<JsonElement>($"/sandbox/notifications?outTradeNo={TradeNumbers.OutTradeNo(groupId, 1)}");
            Assert.DoesNotContain(notifies.EnumerateArray(), n => n.GetProperty("kind").GetString() == "refund" && n.GetProperty("acked").GetBoolean());
        }
        finally
        {
            await fixture.ResetFaultsAsync();
        }
    }

    [Fact]
    public async Task WithVirtualFillAGroupCompletesAtItsDeadline()
    {
        var (_, groupId, _) = await OpenGroupAsync(ClusterFixture.Campaign() with { VirtualFill = true });

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(61));

        var complete = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Complete);
        Assert.Equal(GroupStatus.Complete, complete.Status);
        Assert.Equal([SlotStatus.Paid, SlotStatus.Virtual, SlotStatus.Virtual], complete.Slots.Select(s => s.Status));
    }

    [Fact]
    public async Task APaymentWhoseNotifyNeverComesIsFoundByReconciliation()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        await fixture.SetFaultsAsync(new { dropNotifies = 1000 });
        try
        {
            await fixture.PayAsync(groupId, leader);
            Assert.Equal(GroupStatus.Pending, (await fixture.GroupAsync(groupId)).Status);

            await fixture.AdvanceAsync(TimeSpan.FromMinutes(4));

            var opened = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Open);
            Assert.Equal(GroupStatus.Open, opened.Status);
        }
        finally
        {
            await fixture.ResetFaultsAsync();
        }
    }

    [Fact]
    public async Task ALatePaymentOnAClosedAttemptIsRefunded()
    {
        var (_, groupId, _) = await OpenGroupAsync();
        var friend = ClusterFixture.NewUser();
        var started = await Group(groupId).PayAsync(new StartPayment(friend, null, "127.0.0.1", null));

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(16));
        var closed = await ClusterFixture.EventuallyAsync(() => SandboxOrderAsync(started.OutTradeNo), o => o.GetProperty("tradeState").GetString() == "CLOSED");
        Assert.Equal("CLOSED", closed.GetProperty("tradeState").GetString());

        (await fixture.Sandbox.PostAsJsonAsync($"/sandbox/orders/{started.OutTradeNo}/pay", new { openid = friend, force = true })).EnsureSuccessStatusCode();

        var refunded = await ClusterFixture.EventuallyAsync(
            () => SandboxOrderAsync(started.OutTradeNo),
            o => o.GetProperty("refunds").GetArrayLength() == 1 && o.GetProperty("refunds")[0].GetProperty("status").GetString() == "SUCCESS");
        Assert.Equal(990, refunded.GetProperty("refundedFee").GetInt64());
        var group = await fixture.GroupAsync(groupId, friend);
        Assert.Equal((1, null), (group.PaidCount, group.MySlot));
    }

    [Fact]
    public async Task ACampaignNeverSellsMoreThanItsStock()
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2, stock: 3));
        var leaders = Enumerable.Range(0, 10).Select(_ => (ClusterFixture.NewGroupId(), ClusterFixture.NewUser())).ToList();

        var results = await Task.WhenAll(leaders.Select(async l =>
        {
            try
            {
                await Group(l.Item1).CreateAsync(new CreateGroup(campaignId, l.Item2, null));
                return true;
            }
            catch (CampaignClosedException)
            {
                return false;
            }
        }));

        Assert.Equal(3, results.Count(r => r));
        var campaign = await fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync();
        Assert.Equal((3, 0), (campaign!.Reserved, campaign.RemainingStock));
    }

    [Fact]
    public async Task JoiningAGroupWhoseLeaderHasNotPaidIsRefused()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, ClusterFixture.NewUser(), null));

        var ex = await Assert.ThrowsAsync<GroupClosedException>(() => Group(groupId).JoinAsync(ClusterFixture.NewUser(), null));
        Assert.Equal("group-closed", ex.Code);
        await Assert.ThrowsAsync<UnknownGroupException>(() => Group(ClusterFixture.NewGroupId()).GetAsync(null));
    }

    [Fact]
    public async Task AskingAgainWhileTheAttemptIsLiveReturnsTheSameAttempt()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));

        var first = await Group(groupId).PayAsync(new StartPayment(leader, null, "127.0.0.1", null));
        var again = await Group(groupId).PayAsync(new StartPayment(leader, null, "127.0.0.1", null));

        Assert.Equal(first.OutTradeNo, again.OutTradeNo);
        Assert.Equal(first.Jsapi.Package, again.Jsapi.Package);
        Assert.Equal(groupId, TradeNumbers.GroupIdOf(first.OutTradeNo));
    }
}
