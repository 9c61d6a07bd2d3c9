using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Diagnostics.Metrics;
using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace GroupPay.Gateway.NotifyTests;

/// <summary>The notify endpoints replayed with real XML, and fed by the sandbox, against a real cluster.</summary>
public sealed class NotifyEndpointTests(NotifyFixture fixture) : IClassFixture<NotifyFixture>
{
    private const string Success = WeChatPayNotifyReply.SuccessXml;

    private static byte[] Xml(WeChatPayMessage message) => WeChatPayXml.SerializeToUtf8(message);

    private static byte[] Signed(WeChatPayMessage message) => Xml(message.SignWith(NotifyFixture.ApiKey, WeChatPaySignType.Md5));

    private Task<GroupView> GroupAsync(string groupId) => fixture.Client.GetGrain<IOrderGrain>(groupId).GetAsync(null);

    private static void AssertFail((HttpStatusCode Status, string Body) reply)
    {
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("FAIL", WeChatPayXml.Parse(reply.Body)["return_code"]);
    }

    [Fact]
    public async Task AValidNotifyIsAppliedAndAnsweredWithTheExactSuccessDocument()
    {
        var (groupId, leader, attempt) = await fixture.PendingGroupAsync();

        var reply = await fixture.PostNotifyAsync(Signed(NotifyFixture.PaymentNotify(attempt.OutTradeNo, attempt.AmountFen, leader)));

        Assert.Equal((HttpStatusCode.OK, Success), reply);
        var group = await GroupAsync(groupId);
        Assert.Equal((GroupStatus.Open, 1), (group.Status, group.PaidCount));
    }

    [Fact]
    public async Task EveryNotifyIsCountedByKindAndOutcome()
    {
        using var counted = new MetricCollector<long>(
            fixture.GatewayServices.GetRequiredService<IMeterFactory>(), GatewayTelemetry.MeterName, "grouppay.wechatpay.notifies");
        var (_, leader, attempt) = await fixture.PendingGroupAsync();
        var notify = NotifyFixture.PaymentNotify(attempt.OutTradeNo, attempt.AmountFen, leader);

        await fixture.PostNotifyAsync(Signed(notify));
        await fixture.PostNotifyAsync(Signed(notify));
        await fixture.PostNotifyAsync(Xml(notify.SignWith("00000000000000000000000000000000", WeChatPaySignType.Md5)));
        await fixture.PostNotifyAsync("<!DOCTYPE xml [<!ENTITY x \"y\">]><xml>&x;</xml>"u8.ToArray());
        await fixture.PostNotifyAsync(Signed(NotifyFixture.PaymentNotify(attempt.OutTradeNo + "9", attempt.AmountFen, leader)));
        await fixture.PostNotifyAsync(Signed(NotifyFixture.PaymentNotify("not-one-of-ours", attempt.AmountFen, leader)));

        Assert.Equal(
            [("payment", "applied"), ("payment", "duplicate"), ("payment", "bad-signature"), ("payment", "dtd-prohibited"),
                ("payment", "notify-rejected"), ("payment", "unknown-order")],
            counted.GetMeasurementSnapshot().Select(m => (m.Tags["kind"] as string, m.Tags["outcome"] as string)));
        Assert.All(counted.GetMeasurementSnapshot(), m => Assert.Equal(1, m.Value));
    }

    [Fact]
    public async Task DuplicateAndConcurrentNotifiesAreAllAcknowledgedAndAppliedOnce()
    {
        var (groupId, leader, attempt) = await fixture.PendingGroupAsync();
        var body = Signed(NotifyFixture.PaymentNotify(attempt.OutTradeNo, attempt.AmountFen, leader));

        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => fixture.PostNotifyAsync(body)));
        var late = await fixture.PostNotifyAsync(body);

        Assert.All(replies.Append(late), r => Assert.Equal((HttpStatusCode.OK, Success), r));
        var group = await GroupAsync(groupId);
        Assert.Equal((GroupStatus.Open, 1), (group.Status, group.PaidCount));
    }

    [Fact]
    public async Task AForgedSignatureIsRefusedAndChangesNothing()
    {
        var (groupId, leader, attempt) = await fixture.PendingGroupAsync();
        var forged = NotifyFixture.PaymentNotify(attempt.OutTradeNo, attempt.AmountFen, leader).SignWith("00000000000000000000000000000000", WeChatPaySignType.Md5);

        AssertFail(await fixture.PostNotifyAsync(Xml(forged)));
        AssertFail(await fixture.PostNotifyAsync(Xml(NotifyFixture.PaymentNotify(attempt.OutTradeNo, attempt.AmountFen, leader))));

        Assert.Equal(GroupStatus.Pending, (await GroupAsync(groupId)).Status);
    }

    [Fact]
    public async Task AWrongAmountIsRefusedEvenWhenProperlySigned()
    {
        var (groupId, leader, attempt) = await fixture.PendingGroupAsync();

        AssertFail(await fixture.PostNotifyAsync(Signed(NotifyFixture.PaymentNotify(attempt.OutTradeNo, attempt.AmountFen - 1, leader))));

        Assert.Equal(GroupStatus.Pending, (await GroupAsync(groupId)).Status);
        // The genuine notify still applies afterwards.
        Assert.Equal(Success, (await fixture.PostNotifyAsync(Signed(NotifyFixture.PaymentNotify(attempt.OutTradeNo, attempt.AmountFen, leader)))).Body);
    }

    [Fact]
    public async Task AnotherMerchantsNotifyIsRefused()
    {
        var (groupId, leader, attempt) = await fixture.PendingGroupAsync();
        var other = new WeChatPayMessage(NotifyFixture.PaymentNotify(attempt.OutTradeNo, attempt.AmountFen, leader).Where(f => f.Key != "mch_id")).Add("mch_id", "99999999");

        AssertFail(await fixture.PostNotifyAsync(Signed(other)));

        Assert.Equal(GroupStatus.Pending, (await GroupAsync(groupId)).Status);
    }

    [Fact]
    public async Task AnUnknownOrderIsRefusedAndReportedToTheOperatorQueue()
    {
        var (unknownGroup, notOurs) = ("g" + Guid.NewGuid().ToString("N")[..12] + "P1", "NOT-OURS-" + Guid.NewGuid().ToString("N")[..8]);
        AssertFail(await fixture.PostNotifyAsync(Signed(NotifyFixture.PaymentNotify(unknownGroup, 990, "o-x", "4200000000000000000000000301"))));
        AssertFail(await fixture.PostNotifyAsync(Signed(NotifyFixture.PaymentNotify(notOurs, 990, "o-x", "4200000000000000000000000302"))));

        var queue = fixture.Client.GetGrain<IOperatorQueueGrain>(0);
        var first = await queue.GetAsync($"notify:{unknownGroup}:4200000000000000000000000301");
        var second = await queue.GetAsync($"notify:{notOurs}:4200000000000000000000000302");
        Assert.Equal((OperatorItemKind.NotifyAnomaly, 990L), (first!.Kind, first.AmountFen));
        Assert.Equal((OperatorItemKind.NotifyAnomaly, (string?)null), (second!.Kind, second.GroupId));
    }

    [Fact]
    public async Task HostileOrBrokenBodiesAreRefused()
    {
        var (groupId, _, attempt) = await fixture.PendingGroupAsync();
        var dtd = $"<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><return_code>SUCCESS</return_code><out_trade_no>{attempt.OutTradeNo}</out_trade_no><attach>&xxe;</attach></xml>";

        AssertFail(await fixture.PostNotifyAsync(Encoding.UTF8.GetBytes(dtd)));
        AssertFail(await fixture.PostNotifyAsync(Encoding.UTF8.GetBytes("<xml><return_code>SUCCESS")));
        AssertFail(await fixture.PostNotifyAsync(Encoding.UTF8.GetBytes("{\"return_code\":\"SUCCESS\"}")));
        AssertFail(await fixture.PostNotifyAsync([]));
        AssertFail(await fixture.PostNotifyAsync(Encoding.UTF8.GetBytes("<xml><a>" + new string('x', 70 * 1024) + "</a></xml>")));
        AssertFail(await fixture.PostNotifyAsync(Encoding.UTF8.GetBytes("<!DOCTYPE x><xml/>"), "/wechatpay/refund-notify"));

        Assert.Equal(GroupStatus.Pending, (await GroupAsync(groupId)).Status);
    }

    [Fact]
    public async Task AForgedRefundNotifyIsRefused()
    {
        var (_, _, attempt) = await fixture.PendingGroupAsync();
        var info = WeChatPayXml.Serialize(
        [
            new("out_trade_no", attempt.OutTradeNo), new("out_refund_no", attempt.OutTradeNo + "R"),
            new("total_fee", "990"), new("refund_fee", "990"), new("refund_status", "SUCCESS"),
        ], "root");
        var forged = new WeChatPayMessage().Add("return_code", "SUCCESS").Add("appid", NotifyFixture.AppId).Add("mch_id", NotifyFixture.MchId)
            .Add("nonce_str", "n").Add("req_info", RefundNotifyCipher.Encrypt(info, "ffffffffffffffffffffffffffffffff"));

        AssertFail(await fixture.PostNotifyAsync(Xml(forged), "/wechatpay/refund-notify"));
    }

    [Fact]
    public async Task TheSandboxsNotifyFlowsThroughTheGatewayToTheGroup()
    {
        var (groupId, leader, attempt) = await fixture.PendingGroupAsync();

        (await fixture.PayAtCashierAsync(attempt, leader)).EnsureSuccessStatusCode();

        var group = await NotifyFixture.EventuallyAsync(() => GroupAsync(groupId), g => g.Status == GroupStatus.Open);
        Assert.Equal(GroupStatus.Open, group.Status);
        // The sandbox records a delivery once it has read the answer, just after the grain applied it.
        var attempts = await NotifyFixture.EventuallyAsync(
            () => fixture.Sandbox.GetFromJsonAsync<JsonElement>($"/sandbox/notifications?outTradeNo={attempt.OutTradeNo}"),
            n => n.EnumerateArray().Any(a => a.GetProperty("acked").GetBoolean()));
        Assert.Contains(attempts.EnumerateArray(), a => a.GetProperty("acked").GetBoolean());
    }

    [Fact]
    public async Task ASecondPaymentForTheSameSlotIsRefundedAndItsRefundNotifyApplied()
    {
        var (groupId, leader, _) = await fixture.PendingGroupAsync();
        var group = fixture.Client.GetGrain<IOrderGrain>(groupId);
        var (first, second) = ("o-gw-f1-" + Guid.NewGuid().ToString("N")[..6], "o-gw-f2-" + Guid.NewGuid().ToString("N")[..6]);
        var firstAttempt = await group.PayAsync(new StartPayment(first, 0, "127.0.0.1", null));
        var secondAttempt = await group.PayAsync(new StartPayment(second, 0, "127.0.0.1", null));

        (await fixture.PayAtCashierAsync(firstAttempt, first)).EnsureSuccessStatusCode();
        await NotifyFixture.EventuallyAsync(() => GroupAsync(groupId), g => g.Status == GroupStatus.Open);
        (await fixture.PayAtCashierAsync(secondAttempt, second)).EnsureSuccessStatusCode();

        var notifications = await NotifyFixture.EventuallyAsync(
            () => fixture.Sandbox.GetFromJsonAsync<JsonElement>($"/sandbox/notifications?outTradeNo={secondAttempt.OutTradeNo}"),
            n => n.EnumerateArray().Any(a => a.GetProperty("kind").GetString() == "refund" && a.GetProperty("acked").GetBoolean()));
        Assert.Contains(notifications.EnumerateArray(), a => a.GetProperty("kind").GetString() == "refund" && a.GetProperty("acked").GetBoolean());
        Assert.Equal(1, (await GroupAsync(groupId)).PaidCount);
        Assert.NotEqual(leader, first);
    }
}
