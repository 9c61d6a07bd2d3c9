using System.Net.Http.Json;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Reconciliation;
using GroupPay.WeChatPay;
using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GroupPay.Grains.Tests;

/// <summary>A cluster and a sandbox of their own: the bills hold only what these tests did, and the schedule runs only
/// when a test ticks it.</summary>
public sealed class ReconciliationFixture : ClusterFixture
{
    private ServiceProvider? _client;

    protected override Dictionary<string, string?> MerchantSettings()
    {
        var settings = base.MerchantSettings();
        settings["Reconciliation:Enabled"] = "false";
        return settings;
    }

    /// <summary>The merchant's own WeChat Pay client, for orders GroupPay never made.</summary>
    public IWeChatPayClient WeChatPay => (_client ??= new ServiceCollection()
        .AddLogging()
        .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(MerchantSettings()).Build())
        .AddWeChatPay()
        .BuildServiceProvider()).GetRequiredService<IWeChatPayClient>();

    /// <summary>Moves both clocks forward to <paramref name="day"/> at <paramref name="time"/> China time at once (no
    /// reminder is due in between that matters to the test).</summary>
    public async Task JumpToAsync(DateOnly day, TimeOnly time)
    {
        var target = new DateTimeOffset(day.ToDateTime(time), WeChatPayTime.BeijingOffset);
        var clock = await Sandbox.GetFromJsonAsync<System.Text.Json.JsonElement>("/sandbox/clock");
        var wechatNow = clock.GetProperty("now").GetDateTimeOffset();
        Assert.True(target > wechatNow, $"the clocks only move forward; it is {wechatNow:O} and {target:O} was asked");
        (await Sandbox.PostAsJsonAsync("/sandbox/clock/advance", new { seconds = (int)Math.Ceiling((target - wechatNow).TotalSeconds) })).EnsureSuccessStatusCode();
        if (target > Time.GetUtcNow())
        {
            Time.Advance(target - Time.GetUtcNow());
        }
        await SyncClocksAsync();
    }

    /// <summary>Moves to a China day of its own (the next one, at 00:30) and returns it.</summary>
    public async Task<DateOnly> StartAFreshDayAsync()
    {
        var day = BillReconciler.DayOf(Time.GetUtcNow()).AddDays(1);
        await JumpToAsync(day, new TimeOnly(0, 30));
        return day;
    }

    public override async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}

/// <summary>The daily reconciliation on the real cluster against the sandbox's bill: a day of mixed traffic with injected
/// anomalies, reported exactly; reruns; the schedule.</summary>
public sealed class ReconciliationTests(ReconciliationFixture fixture) : IClassFixture<ReconciliationFixture>
{
    private const long Price = 990;

    private IOrderGrain Group(string groupId) => fixture.Client.GetGrain<IOrderGrain>(groupId);

    private IOperatorQueueGrain Queue => fixture.Client.GetGrain<IOperatorQueueGrain>(0);

    private static string Key(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private IReconciliationGrain Reconciliation(DateOnly day) => fixture.Client.GetGrain<IReconciliationGrain>(Key(day));

    private async Task<(string GroupId, string Leader, PaymentStarted Paid)> OpenAsync(string campaignId)
    {
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        var paid = await fixture.PayAsync(groupId, leader);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Open);
        return (groupId, leader, paid);
    }

    private async Task<PaymentStarted> JoinAndPayAsync(string groupId, int paidAfter)
    {
        var paid = await fixture.PayAsync(groupId, ClusterFixture.NewUser());
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.PaidCount == paidAfter);
        return paid;
    }

    private async Task<GroupPayments> PaymentsWhenAsync(string groupId, Func<GroupPayments, bool> done)
    {
        var payments = await ClusterFixture.EventuallyAsync(() => Group(groupId).GetPaymentsAsync(), done, seconds: 60);
        Assert.True(done(payments), $"group {groupId}: " + string.Join("; ", payments.Payments.Select(p => $"{p.OutTradeNo} {p.RefundStatus} [{string.Join(",", p.Refunds.Select(r => r.OutRefundNo + (r.Succeeded ? " ok" : "")))}]")));
        return payments;
    }

    private async Task ConsoleRefundAsync(string outTradeNo, long? fee = null)
    {
        object body = fee is { } refundFee ? new { refundFee } : new { };
        (await fixture.Sandbox.PostAsJsonAsync($"/sandbox/orders/{outTradeNo}/console-refund", body)).EnsureSuccessStatusCode();
    }

    /// <summary>Waits until the ledger of <paramref name="day"/> holds <paramref name="entries"/> entries: groups deliver
    /// theirs after their state is stored, through their outbox.</summary>
    private async Task LedgerHoldsAsync(DateOnly day, int entries)
    {
        var ledger = await ClusterFixture.EventuallyAsync(
            () => fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IPaymentLedger>().ReadDayAsync(day), l => l.Count >= entries, seconds: 60);
        Assert.True(ledger.Count >= entries, string.Join("; ", ledger.Select(e => $"{e.Kind} {e.OutTradeNo} {e.OutRefundNo} {e.At:O}")));
    }

    private async Task<IReadOnlyList<OperatorItem>> ReconciliationItemsAsync(DateOnly day, OperatorItemStatus status)
    {
        var page = await Queue.ListAsync(new OperatorItemQuery(status, OperatorItemKind.ReconciliationMismatch, OperatorItemRules.MaxPageSize));
        return [.. page.Items.Where(i => i.ItemId.StartsWith($"recon:{Key(day)}:", StringComparison.Ordinal)).OrderBy(i => i.ItemId, StringComparer.Ordinal)];
    }

    [Fact]
    public async Task ADayOfMixedTrafficMatchesTheBillAndReportsTheInjectedAnomaliesAndOnlyThose()
    {
        var day = await fixture.StartAFreshDayAsync();
        var pairs = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2));
        var trios = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 3));

        // A: completes (two payments kept).
        var a = await OpenAsync(pairs);
        await JoinAndPayAsync(a.GroupId, 2);
        // B: fails at its deadline, its leader refunded (R1).
        var b = await OpenAsync(trios);
        // C: a friend pays the leader's share, a second friend's payment for the same slot supersedes it; the first is
        // refunded, then the group fails and the second is refunded too.
        var cGroup = ClusterFixture.NewGroupId();
        await Group(cGroup).CreateAsync(new CreateGroup(pairs, ClusterFixture.NewUser(), null));
        var cFirst = await Group(cGroup).PayAsync(new StartPayment(ClusterFixture.NewUser(), 0, "127.0.0.1", null));
        var cSecondPayer = ClusterFixture.NewUser();
        var cSecond = await Group(cGroup).PayAsync(new StartPayment(cSecondPayer, 0, "127.0.0.1", null));
        (await fixture.PayAtCashierAsync(cSecond, cSecondPayer)).EnsureSuccessStatusCode();
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(cGroup), g => g.Status == GroupStatus.Open);
        (await fixture.Sandbox.PostAsJsonAsync($"/sandbox/orders/{cFirst.OutTradeNo}/pay", new { force = true })).EnsureSuccessStatusCode();
        await PaymentsWhenAsync(cGroup, p => p.Payments.Count == 2);
        // D: fails; WeChat closes its refund (REFUNDCLOSE) and the next number succeeds.
        var d = await OpenAsync(trios);
        // E: a friend's payment refunded in full in the merchant console (taken in), then the group fails.
        var e = await OpenAsync(trios);
        var eFriend = await JoinAndPayAsync(e.GroupId, 2);
        await ConsoleRefundAsync(eFriend.OutTradeNo);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(e.GroupId), g => g.PaidCount == 1);
        // Anomaly 1: F completes, then part of a payment is refunded in the merchant console.
        var f = await OpenAsync(pairs);
        var fFriend = await JoinAndPayAsync(f.GroupId, 2);
        await ConsoleRefundAsync(fFriend.OutTradeNo, 300);
        await PaymentsWhenAsync(f.GroupId, p => p.Payments.Any(x => x.Refunds.Count == 1));
        // Anomaly 2: WeChat takes money for an order of A that GroupPay never made (its notify is refused).
        var stray = TradeNumbers.OutTradeNo(a.GroupId, 9);
        var prepay = await fixture.WeChatPay.UnifiedOrderAsync(new UnifiedOrderRequest
        {
            OutTradeNo = stray, Body = "拼团测试商品", TotalFee = Price, OpenId = ClusterFixture.NewUser(), SpbillCreateIp = "127.0.0.1",
        });
        Assert.True(prepay.IsSuccess, prepay.Error?.ToString());
        (await fixture.Sandbox.PostAsJsonAsync($"/sandbox/orders/{stray}/pay", new { })).EnsureSuccessStatusCode();
        // Anomaly 3: GroupPay takes a payment WeChat never took (as a forged notify would have it).
        var gGroup = ClusterFixture.NewGroupId();
        var gLeader = ClusterFixture.NewUser();
        await Group(gGroup).CreateAsync(new CreateGroup(pairs, gLeader, null));
        var gStarted = await Group(gGroup).PayAsync(new StartPayment(gLeader, null, "127.0.0.1", null));
        await Group(gGroup).ApplyPaymentAsync(new PaymentNotice(gStarted.OutTradeNo, "4200000000000000000000777001", Price, gLeader, fixture.Time.GetUtcNow()));

        // The deadlines pass: B, C, D, E and G fail and are refunded (D's first refund closed by WeChat).
        try
        {
            await fixture.SetFaultsAsync(new { refundFaultsFor = d.Paid.OutTradeNo });
            await fixture.SetFaultsAsync(new { refundOutcomes = new { refundClose = 1 } });
            await fixture.AdvanceAsync(TimeSpan.FromMinutes(63));
            await PaymentsWhenAsync(d.GroupId, p => p.Payments.Single().RefundStatus == PaymentRefundStatus.Refunded);
        }
        finally
        {
            await fixture.ResetFaultsAsync();
        }
        foreach (var groupId in new[] { b.GroupId, cGroup, e.GroupId })
        {
            await PaymentsWhenAsync(groupId, p => p.Payments.All(x => x.RefundStatus == PaymentRefundStatus.Refunded));
        }
        await PaymentsWhenAsync(gGroup, p => p.Payments.Single().RefundStatus == PaymentRefundStatus.NeedsAttention);
        Assert.Equal(day, BillReconciler.DayOf(fixture.Time.GetUtcNow()));
        // GroupPay's 11 payments; refunds B, C×2, D's R2, E's console refund and E's leader, F's 300 (and D's R1 when its
        // revision was delivered before the next one replaced it).
        await LedgerHoldsAsync(day, 18);

        // The bill is published the next morning.
        await fixture.JumpToAsync(day.AddDays(1), new TimeOnly(10, 5));
        var report = await Reconciliation(day).RunAsync();

        // Payments: A×2, B, C×2, D, E×2, F×2 and the stray one at WeChat; GroupPay has G's instead of the stray one.
        // Refunds that return money: B, C×2, D's R2, E's console refund and E's leader, F's 300 (D's R1 returned nothing).
        // Fees at 0.6 %: 6 per payment, −6 per full refund, −2 on 300.
        Assert.Equal(new DayTotals(11, 11 * Price, 7, 6 * Price + 300, 11 * 6 - 6 * 6 - 2), report.Bill);
        Assert.Equal(11 * Price - (6 * Price + 300) - 28, report.Bill.NetFen);
        Assert.Equal(new DayTotals(11, 11 * Price, 7, 6 * Price + 300, 28), report.GroupPay);
        Assert.Equal(
            [(MismatchKind.PaymentUnknown, stray, (string?)null), (MismatchKind.PaymentPartlyRefunded, fFriend.OutTradeNo, null), (MismatchKind.MissingFromBill, gStarted.OutTradeNo, null)],
            report.Mismatches.Select(m => (m.Kind, m.OutTradeNo, m.OutRefundNo)).OrderBy(m => m.Kind));
        Assert.False(report.Clean);
        Assert.True(report.BillExists);
        Assert.Equal(3, report.MismatchCount);
        Assert.Equal(1, report.CountsByKind[MismatchKind.PaymentUnknown]);
        var stored = await Reconciliation(day).GetAsync();
        Assert.Equal((report.RanAt, report.Bill, report.GroupPay, report.Runs), (stored!.RanAt, stored.Bill, stored.GroupPay, stored.Runs));
        Assert.Equal(report.Mismatches, stored.Mismatches);

        var items = await ReconciliationItemsAsync(day, OperatorItemStatus.Open);
        Assert.Equal(
            [$"recon:{Key(day)}:missing-from-bill:{gStarted.OutTradeNo}", $"recon:{Key(day)}:payment-partly-refunded:{fFriend.OutTradeNo}", $"recon:{Key(day)}:payment-unknown:{stray}"],
            items.Select(i => i.ItemId));
        var unknown = items.Single(i => i.ItemId.Contains("payment-unknown", StringComparison.Ordinal));
        Assert.Equal((a.GroupId, stray, Price), (unknown.GroupId, unknown.OutTradeNo, unknown.AmountFen));

        // A rerun updates the same items; the rest of F's payment refunded in the console changes what is wrong with it.
        var rerun = await Reconciliation(day).RunAsync();
        Assert.Equal((2, 3), (rerun.Runs, rerun.MismatchCount));
        Assert.All(await ReconciliationItemsAsync(day, OperatorItemStatus.Open), i => Assert.Equal(2, i.Reports));
        await ConsoleRefundAsync(fFriend.OutTradeNo, Price - 300);
        await PaymentsWhenAsync(f.GroupId, p => p.Payments.Any(x => x.Refunds.Count == 2));

        var third = await Reconciliation(day).RunAsync();

        Assert.Equal(
            [(MismatchKind.PaymentUnknown, stray), (MismatchKind.PaymentNotSettled, fFriend.OutTradeNo), (MismatchKind.MissingFromBill, gStarted.OutTradeNo)],
            third.Mismatches.Select(m => (m.Kind, m.OutTradeNo)).OrderBy(m => m.Kind));
        var settled = Assert.Single(await ReconciliationItemsAsync(day, OperatorItemStatus.Resolved));
        Assert.Equal(($"recon:{Key(day)}:payment-partly-refunded:{fFriend.OutTradeNo}", "settled"), (settled.ItemId, settled.Actions[^1].Action));
        Assert.Equal(3, (await ReconciliationItemsAsync(day, OperatorItemStatus.Open)).Count);
    }

    [Fact]
    public async Task ACleanDaySaysSo()
    {
        var day = await fixture.StartAFreshDayAsync();
        var pairs = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2));
        var a = await OpenAsync(pairs);
        await JoinAndPayAsync(a.GroupId, 2);
        await LedgerHoldsAsync(day, 2);
        await fixture.JumpToAsync(day.AddDays(1), new TimeOnly(10, 5));

        var report = await Reconciliation(day).RunAsync();

        Assert.True(report.Clean);
        Assert.Empty(report.Mismatches);
        Assert.Equal(new DayTotals(2, 2 * Price, 0, 0, 12), report.Bill);
        Assert.Equal(report.Bill, report.GroupPay);
        Assert.Empty(await ReconciliationItemsAsync(day, OperatorItemStatus.Open));
    }

    [Fact]
    public async Task ADayIsNotReconciledBeforeItsBillIsOut()
    {
        var day = await fixture.StartAFreshDayAsync();
        await Assert.ThrowsAsync<BillNotReadyException>(() => Reconciliation(day).RunAsync());
        await fixture.JumpToAsync(day.AddDays(1), new TimeOnly(8, 0));
        await Assert.ThrowsAsync<BillNotReadyException>(() => Reconciliation(day).RunAsync());
        Assert.Null(await Reconciliation(day).GetAsync());
    }

    [Fact]
    public async Task TheScheduleRunsADayOnceItsBillIsDueRetriesAndRaisesADayItCannotHaveInTime()
    {
        var schedule = fixture.Client.GetGrain<IReconciliationScheduleGrain>(0);
        var day = await fixture.StartAFreshDayAsync();
        var pairs = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2));
        await OpenAsync(pairs);
        var itemId = $"recon:{Key(day)}:bill-unavailable";
        try
        {
            await fixture.SetFaultsAsync(new { systemErrors = new { downloadbill = 10_000 } });

            await fixture.JumpToAsync(day.AddDays(1), new TimeOnly(9, 30));
            var early = await schedule.TickAsync();
            Assert.DoesNotContain(early.Pending, p => p.Day == day);
            Assert.DoesNotContain(day, early.Reconciled);

            await fixture.JumpToAsync(day.AddDays(1), new TimeOnly(10, 30));
            var failing = Assert.Single((await schedule.TickAsync()).Pending, p => p.Day == day);
            Assert.Equal((1, false), (failing.Tries, failing.Escalated));
            Assert.Contains("SystemError", failing.LastAnswer, StringComparison.Ordinal);
            Assert.Null(await Queue.GetAsync(itemId));

            await fixture.JumpToAsync(day.AddDays(1), new TimeOnly(18, 30));
            var late = Assert.Single((await schedule.TickAsync()).Pending, p => p.Day == day);
            Assert.Equal((2, true), (late.Tries, late.Escalated));
            var item = await Queue.GetAsync(itemId);
            Assert.Equal((OperatorItemKind.ReconciliationMismatch, OperatorItemStatus.Open), (item!.Kind, item.Status));
        }
        finally
        {
            await fixture.ResetFaultsAsync();
        }

        var done = await schedule.TickAsync();

        Assert.Contains(day, done.Reconciled);
        Assert.DoesNotContain(done.Pending, p => p.Day == day);
        Assert.True((await Reconciliation(day).GetAsync())!.Clean);
        Assert.Equal(OperatorItemStatus.Resolved, (await Queue.GetAsync(itemId))!.Status);
        // A day already reconciled is not run again.
        await schedule.TickAsync();
        Assert.Equal(1, (await Reconciliation(day).GetAsync())!.Runs);
    }
}

/// <summary>The silo starts the daily schedule by itself.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ReconciliationScheduleStartTests(ClusterFixture fixture)
{
    [Fact]
    public async Task EverySiloStartsTheDailySchedule()
    {
        var schedule = await ClusterFixture.EventuallyAsync(() => fixture.Client.GetGrain<IReconciliationScheduleGrain>(0).GetAsync(), s => s.StartedAt is not null);
        Assert.NotNull(schedule.StartedAt);
    }
}
