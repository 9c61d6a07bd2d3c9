using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace GroupPay.Grains.Tests;

/// <summary>Every path that touches money settles by itself or lands in the operator queue: refunds WeChat closes,
/// refuses or cannot pay out, refunds made in the merchant console, notifies that cannot be applied, and payments
/// around a hold's expiry or the deadline.</summary>
[Collection(ClusterCollection.Name)]
public sealed class MoneyPathTests(ClusterFixture fixture)
{
    private IOrderGrain Group(string groupId) => fixture.Client.GetGrain<IOrderGrain>(groupId);

    private IOperatorQueueGrain Queue => fixture.Client.GetGrain<IOperatorQueueGrain>(0);

    private async Task<JsonElement> SandboxOrderAsync(string outTradeNo) =>
        await fixture.Sandbox.GetFromJsonAsync<JsonElement>($"/sandbox/orders/{outTradeNo}");

    private async Task<(string CampaignId, string GroupId, string Leader, PaymentStarted LeaderPayment)> OpenGroupAsync(int groupSize = 3)
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: groupSize));
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        var paid = await fixture.PayAsync(groupId, leader);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Open);
        return (campaignId, groupId, leader, paid);
    }

    /// <summary>Fails the group (its deadline passes) with <paramref name="faults"/> armed for the refund of
    /// <paramref name="payment"/> alone (other tests' groups fail at the same time).</summary>
    private async Task FailWithFaultsAsync(PaymentStarted payment, object faults)
    {
        await fixture.SetFaultsAsync(new { refundFaultsFor = payment.OutTradeNo });
        await fixture.SetFaultsAsync(faults);
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(62));
    }

    [Fact]
    public async Task ARefundThatWillNotSettleShowsOnTheOutboxAndRefundGauges()
    {
        var (_, groupId, leader, paid) = await OpenGroupAsync();
        var collectors = fixture.Cluster.Silos.Select(silo => silo.ServiceProvider.GetRequiredService<IMeterFactory>()).SelectMany(meters => new[]
        {
            new MetricCollector<int>(meters, OutboxMetrics.MeterName, OutboxMetrics.EffectsPendingName),
            new MetricCollector<int>(meters, OutboxMetrics.MeterName, OutboxMetrics.RefundsUnsettledName),
        }).ToList();
        var ages = fixture.Cluster.Silos.Select(silo => new MetricCollector<double>(silo.ServiceProvider.GetRequiredService<IMeterFactory>(), OutboxMetrics.MeterName, OutboxMetrics.OldestEffectAgeName)).ToList();
        try
        {
            // WeChat accepts the refund and it stays PROCESSING: GroupPay keeps looking, and it does not settle.
            await FailWithFaultsAsync(paid, new { refundsStayProcessing = true });
            await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId, leader), g => g.Status == GroupStatus.Failed, seconds: 40);
            await fixture.AdvanceAsync(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(5));

            long Sum(string name) => collectors.Where(c => c.Instrument!.Name == name).Sum(c =>
            {
                c.RecordObservableInstruments();
                return c.LastMeasurement?.Value ?? 0;
            });
            Assert.True(Sum(OutboxMetrics.RefundsUnsettledName) >= 1);
            Assert.True(Sum(OutboxMetrics.EffectsPendingName) >= 1);
            var oldest = ages.Max(a =>
            {
                a.RecordObservableInstruments();
                return a.LastMeasurement?.Value ?? 0;
            });
            Assert.True(oldest > 0, $"oldest effect age {oldest}");
        }
        finally
        {
            await fixture.ResetFaultsAsync();
            collectors.ForEach(c => c.Dispose());
            ages.ForEach(a => a.Dispose());
        }
    }

    [Fact]
    public async Task AClosedRefundIsAskedAgainUnderTheNextNumberAndThePayerIsRefundedOnce()
    {
        var (_, groupId, leader, paid) = await OpenGroupAsync();
        try
        {
            await FailWithFaultsAsync(paid, new { refundOutcomes = new { refundClose = 1 } });

            var refunded = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId, leader), g => g.Slots[0].Status == SlotStatus.Refunded, seconds: 40);
            Assert.Equal((GroupStatus.Failed, SlotStatus.Refunded), (refunded.Status, refunded.Slots[0].Status));
        }
        finally
        {
            await fixture.ResetFaultsAsync();
        }
        var order = await SandboxOrderAsync(paid.OutTradeNo);
        var refunds = order.GetProperty("refunds").EnumerateArray()
            .Select(r => (r.GetProperty("outRefundNo").GetString(), r.GetProperty("status").GetString())).ToList();
        Assert.Equal([(paid.OutTradeNo + "R1", "REFUNDCLOSE"), (paid.OutTradeNo + "R2", "SUCCESS")], refunds);
        Assert.Equal(990, order.GetProperty("refundedFee").GetInt64());
    }

    [Fact]
    public async Task ARefundWeChatRefusesForGoodGoesToTheOperatorQueueAndAnOperatorsRetryRefundsIt()
    {
        var (campaignId, groupId, leader, paid) = await OpenGroupAsync();
        var itemId = "refund:" + paid.OutTradeNo;
        try
        {
            await FailWithFaultsAsync(paid, new { refundErrors = new { code = "NOTENOUGH", count = 1 } });

            var item = await ClusterFixture.EventuallyAsync(() => Queue.GetAsync(itemId), i => i is not null, seconds: 40);
            Assert.Equal((OperatorItemKind.RefundRefused, OperatorItemStatus.Open, groupId, 990L), (item!.Kind, item.Status, item.GroupId, item.AmountFen));
            Assert.Contains("NOTENOUGH", item.LastAnswer, StringComparison.Ordinal);
            Assert.Contains(item.Tried, t => t.Contains(paid.OutTradeNo + "R1", StringComparison.Ordinal));
        }
        finally
        {
            await fixture.ResetFaultsAsync();
        }
        // Not retried in silence meanwhile: the slot waits for the operator, but the unit is back in stock already.
        Assert.Equal(SlotStatus.Refunding, (await fixture.GroupAsync(groupId, leader)).Slots[0].Status);
        Assert.Equal(0, (await SandboxOrderAsync(paid.OutTradeNo)).GetProperty("refunds").GetArrayLength());
        var stock = await ClusterFixture.EventuallyAsync(() => fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync(), c => c!.Reserved == 0);
        Assert.Equal(0, stock!.Reserved);

        await Queue.RetryAsync(itemId, "ops-alice", "merchant balance topped up");

        var refunded = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId, leader), g => g.Slots[0].Status == SlotStatus.Refunded, seconds: 40);
        Assert.Equal(SlotStatus.Refunded, refunded.Slots[0].Status);
        var settled = await ClusterFixture.EventuallyAsync(() => Queue.GetAsync(itemId), i => i!.Status == OperatorItemStatus.Resolved);
        Assert.Equal(["raised", "retried", "settled"], settled!.Actions.Select(a => a.Action));
        Assert.Equal("ops-alice", settled.Actions[1].Actor);
        var order = await SandboxOrderAsync(paid.OutTradeNo);
        Assert.Equal(paid.OutTradeNo + "R2", Assert.Single(order.GetProperty("refunds").EnumerateArray()).GetProperty("outRefundNo").GetString());
    }

    [Fact]
    public async Task ARefundWeChatCannotPayOutIsAnAbnormalItemForTheMerchantConsole()
    {
        var (_, groupId, leader, paid) = await OpenGroupAsync();
        try
        {
            await FailWithFaultsAsync(paid, new { refundOutcomes = new { change = 1 } });

            var item = await ClusterFixture.EventuallyAsync(() => Queue.GetAsync("refund:" + paid.OutTradeNo), i => i is not null, seconds: 40);
            Assert.Equal(OperatorItemKind.RefundAbnormal, item!.Kind);
            Assert.Equal("CHANGE", item.LastAnswer);
        }
        finally
        {
            await fixture.ResetFaultsAsync();
        }
        Assert.Equal(SlotStatus.Refunding, (await fixture.GroupAsync(groupId, leader)).Slots[0].Status);
    }

    [Fact]
    public async Task ARefundMadeInTheMerchantConsoleIsTakenInAndFreesTheSlot()
    {
        var (campaignId, groupId, _, _) = await OpenGroupAsync();
        var friend = ClusterFixture.NewUser();
        var friendPayment = await fixture.PayAsync(groupId, friend);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.PaidCount == 2);

        (await fixture.Sandbox.PostAsJsonAsync($"/sandbox/orders/{friendPayment.OutTradeNo}/console-refund", new { })).EnsureSuccessStatusCode();

        var group = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId, friend), g => g.PaidCount == 1);
        Assert.Equal((GroupStatus.Open, SlotStatus.Free, (int?)null), (group.Status, group.Slots[1].Status, group.MySlot));
        var stock = await ClusterFixture.EventuallyAsync(() => fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync(), c => c!.Reserved == 1);
        Assert.Equal(1, stock!.Reserved);
        // The freed slot can be taken again.
        var next = await Group(groupId).JoinAsync(ClusterFixture.NewUser(), null);
        Assert.Equal(SlotStatus.Held, next.Slots[1].Status);
    }

    [Fact]
    public async Task AnAuthenticPaymentReportForAnotherAmountIsRefusedAndRecordedForAnOperator()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        var started = await Group(groupId).PayAsync(new StartPayment(leader, null, "127.0.0.1", null));
        var forged = new PaymentNotice(started.OutTradeNo, "4200000000000000000000000201", 1, leader, null);

        await Assert.ThrowsAsync<NotifyRejectedException>(() => Group(groupId).ApplyPaymentAsync(forged));
        await Assert.ThrowsAsync<NotifyRejectedException>(() => Group(groupId).ApplyPaymentAsync(forged));

        var item = await ClusterFixture.EventuallyAsync(() => Queue.GetAsync($"notify:{started.OutTradeNo}:4200000000000000000000000201"), i => i is not null);
        Assert.Equal((OperatorItemKind.NotifyAnomaly, 1L, 1), (item!.Kind, item.AmountFen, item.Reports));
        Assert.Equal(GroupStatus.Pending, (await fixture.GroupAsync(groupId)).Status);
    }

    [Fact]
    public async Task APaymentTakenBeforeItsHoldLapsedIsKeptThoughItsNotifyComesAfterTheExpiry()
    {
        var (_, groupId, _, _) = await OpenGroupAsync();
        var friend = ClusterFixture.NewUser();
        var started = await Group(groupId).PayAsync(new StartPayment(friend, null, "127.0.0.1", null));

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(20));

        var applied = await Group(groupId).ApplyPaymentAsync(
            new PaymentNotice(started.OutTradeNo, "4200000000000000000000000202", 990, friend, started.ExpiresAt - TimeSpan.FromSeconds(10)));
        Assert.Equal(PaymentDisposition.Applied, applied.Disposition);
        Assert.Equal(SlotStatus.Paid, (await fixture.GroupAsync(groupId, friend)).Slots[1].Status);
    }

    [Fact]
    public async Task APaymentTakenJustBeforeTheHoldLapsedWhoseNotifyNeverComesIsKeptByTheLastOrderquery()
    {
        var (_, groupId, _, _) = await OpenGroupAsync();
        var friend = ClusterFixture.NewUser();
        var started = await Group(groupId).PayAsync(new StartPayment(friend, null, "127.0.0.1", null));
        await fixture.AdvanceAsync(started.ExpiresAt - fixture.Time.GetUtcNow() - TimeSpan.FromSeconds(20));
        // The group's orderquery at the expiry finds it unpaid (the payment is on its way: the grains' clock runs ahead
        // of WeChat's here) and sets its last look at the hold plus the grace, when the hold lapses.
        fixture.Time.Advance(TimeSpan.FromSeconds(30));
        await fixture.Client.GetGrain<IOrderEffects>(groupId).DrainAsync();
        await fixture.GroupAsync(groupId);
        await fixture.SetFaultsAsync(new { dropNotifies = 1000 });
        try
        {
            // WeChat takes it before the expiry; its notify never comes.
            (await fixture.PayAtCashierAsync(started, friend)).EnsureSuccessStatusCode();

            // Past the hold plus the grace: the slot waits for that last orderquery, which finds the payment.
            await fixture.AdvanceAsync(TimeSpan.FromMinutes(3));

            var kept = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId, friend), g => g.Slots[1].Status == SlotStatus.Paid, seconds: 40);
            Assert.Equal(SlotStatus.Paid, kept.Slots[1].Status);
            var payment = (await Group(groupId).GetPaymentsAsync()).Payments.Single(p => p.OutTradeNo == started.OutTradeNo);
            Assert.Equal((true, PaymentRefundStatus.None), (payment.Kept, payment.RefundStatus));
        }
        finally
        {
            await fixture.ResetFaultsAsync();
        }
    }

    [Fact]
    public async Task NoJoinAndNoPaymentTakenAfterTheDeadlineCompletesAGroup()
    {
        var (_, groupId, _, _) = await OpenGroupAsync(groupSize: 2);
        var friend = ClusterFixture.NewUser();
        var started = await Group(groupId).PayAsync(new StartPayment(friend, null, "127.0.0.1", null));
        var deadline = (await fixture.GroupAsync(groupId)).Deadline!.Value;
        // The hold never outlasts the deadline: WeChat refuses payment after it too.
        Assert.True(started.ExpiresAt <= deadline, $"{started.ExpiresAt:O} > {deadline:O}");

        await fixture.AdvanceAsync(deadline - fixture.Time.GetUtcNow() + TimeSpan.FromSeconds(20));

        await Assert.ThrowsAsync<GroupClosedException>(() => Group(groupId).JoinAsync(ClusterFixture.NewUser(), null));
        var late = await Group(groupId).ApplyPaymentAsync(
            new PaymentNotice(started.OutTradeNo, "4200000000000000000000000203", 990, friend, deadline + TimeSpan.FromMinutes(2)));
        Assert.Equal(PaymentDisposition.Refunding, late.Disposition);
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(1));
        var failed = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Failed, seconds: 40);
        Assert.Equal(GroupStatus.Failed, failed.Status);
    }
}
