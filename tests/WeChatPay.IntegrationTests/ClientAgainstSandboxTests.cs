using System.Net;
using System.Text.Json;
using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.IntegrationTests;

/// <summary>The real client against the sandbox over loopback HTTP, with notifies delivered to a real
/// merchant endpoint. Tests in this class share one sandbox and run one at a time (faults are global).</summary>
public sealed class ClientAgainstSandboxTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private IWeChatPayClient Client => sandbox.Client;

    private MerchantReceiver Receiver => sandbox.Receiver;

    private Task<(UnifiedOrderRequest Order, JsapiPayParameters Jsapi)> PrepayAsync(string payer, long fen = 990) => sandbox.PrepayAsync(payer, fen);

    private Task<PaymentNotification> PaidAsync(string payer, long fen = 990) => sandbox.PaidAsync(payer, fen);

    [Fact]
    public async Task PrepayThenCashierPaymentDeliversASignedNotifyThatVerifies()
    {
        var (order, jsapi) = await PrepayAsync("o-sandbox-alice", 1290);
        Assert.True(jsapi.HasValidPaySign(SandboxFixture.ApiKey));
        Assert.Equal(TradeState.NotPay, (await Client.OrderQueryAsync(order.OutTradeNo)).GetValueOrThrow().TradeState);

        var paid = await sandbox.PayAtCashierAsync(jsapi, "o-sandbox-alice");
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal("get_brand_wcpay_request:ok", (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("err_msg").GetString());

        Assert.True(await SandboxFixture.EventuallyAsync(() => Receiver.Payments.Any(p => p.OutTradeNo == order.OutTradeNo)));
        var notify = Receiver.Payments.First(p => p.OutTradeNo == order.OutTradeNo);
        Assert.True(notify.IsSuccess);
        Assert.Equal(1290, notify.TotalFee);
        Assert.Equal("o-sandbox-alice", notify.OpenId);
        Assert.False(string.IsNullOrEmpty(notify.TransactionId));

        var query = (await Client.OrderQueryAsync(order.OutTradeNo)).GetValueOrThrow();
        Assert.Equal(TradeState.Success, query.TradeState);
        Assert.Equal(notify.TransactionId, query.TransactionId);
        Assert.Equal(1290, query.TotalFee);
        Assert.Equal("o-sandbox-alice", query.OpenId);
    }

    [Fact]
    public async Task AnHmacMerchantGetsHmacSignedAnswersAndNotifies()
    {
        await using var hmac = sandbox.CreateServices("HMAC-SHA256");
        var client = hmac.GetRequiredService<IWeChatPayClient>();
        var order = SandboxFixture.Order("o-sandbox-bob");
        var prepay = (await client.UnifiedOrderAsync(order)).GetValueOrThrow();
        var jsapi = client.CreateJsapiParameters(prepay.PrepayId);
        Assert.Equal("HMAC-SHA256", jsapi.SignType);

        (await sandbox.PayAtCashierAsync(jsapi, "o-sandbox-bob")).EnsureSuccessStatusCode();

        // The MD5-configured receiver still verifies: the notify names its own sign_type.
        Assert.True(await SandboxFixture.EventuallyAsync(() => Receiver.Payments.Any(p => p.OutTradeNo == order.OutTradeNo)));
        Assert.Equal(WeChatPaySignType.HmacSha256, Receiver.Payments.First(p => p.OutTradeNo == order.OutTradeNo).SignType);
    }

    [Fact]
    public async Task ReentryWithTheSameParametersReturnsTheSamePrepay()
    {
        var order = SandboxFixture.Order("o-sandbox-alice");
        var first = (await Client.UnifiedOrderAsync(order)).GetValueOrThrow();
        var again = (await Client.UnifiedOrderAsync(order)).GetValueOrThrow();
        Assert.Equal(first.PrepayId, again.PrepayId);

        var changed = await Client.UnifiedOrderAsync(order with { TotalFee = order.TotalFee + 1 });
        Assert.Equal(WeChatPayErrorKind.Business, changed.Error!.Kind);
        Assert.Contains(changed.Error.Code, new[] { WeChatPayErrorCode.InvalidRequest, WeChatPayErrorCode.OutTradeNoUsed });
    }

    [Fact]
    public async Task TheCashierRefusesAPayerOtherThanThePrepaysOpenid()
    {
        var (order, jsapi) = await PrepayAsync("o-sandbox-alice");

        var response = await sandbox.PayAtCashierAsync(jsapi, "o-sandbox-bob");

        Assert.False(response.IsSuccessStatusCode);
        Assert.Contains("下单账号与支付账号不一致", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(TradeState.NotPay, (await Client.OrderQueryAsync(order.OutTradeNo)).GetValueOrThrow().TradeState);
    }

    [Fact]
    public async Task TheCashierRefusesATamperedPaySign()
    {
        var (order, jsapi) = await PrepayAsync("o-sandbox-alice");

        var response = await sandbox.PayAtCashierAsync(jsapi with { PaySign = new string('0', 32) }, "o-sandbox-alice");

        Assert.False(response.IsSuccessStatusCode);
        Assert.Equal(TradeState.NotPay, (await Client.OrderQueryAsync(order.OutTradeNo)).GetValueOrThrow().TradeState);
    }

    [Fact]
    public async Task DuplicateNotifiesAllVerifyAndCarryTheSameTransaction()
    {
        await sandbox.SetFaultsAsync(new { duplicateNotifies = 2 });
        try
        {
            var (order, jsapi) = await PrepayAsync("o-sandbox-carol");
            (await sandbox.PayAtCashierAsync(jsapi, "o-sandbox-carol")).EnsureSuccessStatusCode();

            Assert.True(await SandboxFixture.EventuallyAsync(() => Receiver.Payments.Count(p => p.OutTradeNo == order.OutTradeNo) == 3));
            Assert.Single(Receiver.Payments.Where(p => p.OutTradeNo == order.OutTradeNo).Select(p => p.TransactionId).Distinct());
        }
        finally
        {
            await sandbox.ResetFaultsAsync();
        }
    }

    [Fact]
    public async Task ConcurrentNotifiesArriveTogether()
    {
        await sandbox.SetFaultsAsync(new { concurrentNotifies = 4 });
        try
        {
            var (order, jsapi) = await PrepayAsync("o-sandbox-carol");
            (await sandbox.PayAtCashierAsync(jsapi, "o-sandbox-carol")).EnsureSuccessStatusCode();

            Assert.True(await SandboxFixture.EventuallyAsync(() => Receiver.Payments.Count(p => p.OutTradeNo == order.OutTradeNo) >= 4));
        }
        finally
        {
            await sandbox.ResetFaultsAsync();
        }
    }

    [Fact]
    public async Task AFailedAcknowledgementIsRetriedUntilSuccess()
    {
        Interlocked.Exchange(ref Receiver.FailNext, 2);
        try
        {
            var notify = await PaidAsync("o-sandbox-alice");
            Assert.Equal("o-sandbox-alice", notify.OpenId);
        }
        finally
        {
            Interlocked.Exchange(ref Receiver.FailNext, 0);
        }
    }

    [Fact]
    public async Task ARefundSettlesAndItsNotifyDecrypts()
    {
        var paid = await PaidAsync("o-sandbox-bob", 2000);
        var request = new RefundRequest { OutTradeNo = paid.OutTradeNo, OutRefundNo = paid.OutTradeNo + "R", TotalFee = 2000, RefundFee = 2000 };

        var refund = (await Client.RefundAsync(request)).GetValueOrThrow();
        Assert.Equal(2000, refund.RefundFee);

        Assert.True(await SandboxFixture.EventuallyAsync(() => Receiver.Refunds.Any(r => r.OutRefundNo == request.OutRefundNo)));
        var notify = Receiver.Refunds.First(r => r.OutRefundNo == request.OutRefundNo);
        Assert.Equal(RefundStatus.Success, notify.Status);
        Assert.Equal(paid.OutTradeNo, notify.OutTradeNo);
        Assert.Equal(2000, notify.RefundFee);
        Assert.Equal(refund.RefundId, notify.RefundId);

        var query = (await Client.RefundQueryAsync(RefundQueryRequest.ByOutRefundNo(request.OutRefundNo))).GetValueOrThrow();
        Assert.Equal(RefundStatus.Success, query.Find(request.OutRefundNo)!.Status);
        Assert.Equal(TradeState.Refund, (await Client.OrderQueryAsync(paid.OutTradeNo)).GetValueOrThrow().TradeState);

        // The same out_refund_no is the same refund: retrying never refunds twice.
        var retried = (await Client.RefundAsync(request)).GetValueOrThrow();
        Assert.Equal(refund.RefundId, retried.RefundId);
        var again = (await Client.RefundQueryAsync(RefundQueryRequest.ByOutTradeNo(paid.OutTradeNo))).GetValueOrThrow();
        Assert.Single(again.Refunds);

        // Nothing is left to refund.
        var more = await Client.RefundAsync(request with { OutRefundNo = paid.OutTradeNo + "S", RefundFee = 1 });
        Assert.Equal(WeChatPayErrorKind.Business, more.Error!.Kind);
    }

    [Fact]
    public async Task ARefundLeftProcessingIsReportedSo()
    {
        await sandbox.SetFaultsAsync(new { refundsStayProcessing = true });
        try
        {
            var paid = await PaidAsync("o-sandbox-bob", 500);
            var request = new RefundRequest { OutTradeNo = paid.OutTradeNo, OutRefundNo = paid.OutTradeNo + "R", TotalFee = 500, RefundFee = 500 };
            (await Client.RefundAsync(request)).GetValueOrThrow();

            var query = (await Client.RefundQueryAsync(RefundQueryRequest.ByOutRefundNo(request.OutRefundNo))).GetValueOrThrow();
            Assert.Equal(RefundStatus.Processing, query.Find(request.OutRefundNo)!.Status);
            Assert.DoesNotContain(Receiver.Refunds, r => r.OutRefundNo == request.OutRefundNo);
        }
        finally
        {
            await sandbox.ResetFaultsAsync();
        }
    }

    [Fact]
    public async Task AnUnpaidOrderCanBeRefundedNever()
    {
        var (order, _) = await PrepayAsync("o-sandbox-alice");
        var refund = await Client.RefundAsync(new RefundRequest { OutTradeNo = order.OutTradeNo, OutRefundNo = order.OutTradeNo + "R", TotalFee = 990, RefundFee = 990 });
        Assert.Equal(WeChatPayErrorKind.Business, refund.Error!.Kind);
    }

    [Fact]
    public async Task CloseOrderFollowsTheFiveMinuteRuleAndBlocksPayment()
    {
        var (order, jsapi) = await PrepayAsync("o-sandbox-alice");

        var early = await Client.CloseOrderAsync(order.OutTradeNo);
        Assert.False(early.IsSuccess);
        Assert.False(early.Error!.IsRetryable && early.Error.Code == WeChatPayErrorCode.SystemError, "the 5-minute rule is not a transient error");

        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        Assert.True((await Client.CloseOrderAsync(order.OutTradeNo)).IsSuccess);
        Assert.Equal(TradeState.Closed, (await Client.OrderQueryAsync(order.OutTradeNo)).GetValueOrThrow().TradeState);

        var pay = await sandbox.PayAtCashierAsync(jsapi, "o-sandbox-alice");
        Assert.False(pay.IsSuccessStatusCode);
        var reentry = await Client.UnifiedOrderAsync(order);
        Assert.Equal(WeChatPayErrorCode.OrderClosed, reentry.Error!.Code);
    }

    [Fact]
    public async Task ClosingAPaidOrderSaysOrderPaid()
    {
        var paid = await PaidAsync("o-sandbox-carol");
        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(6));

        var close = await Client.CloseOrderAsync(paid.OutTradeNo);

        Assert.Equal(WeChatPayErrorCode.OrderPaid, close.Error!.Code);
    }

    [Fact]
    public async Task AnUnknownOrderIsReportedAsNotExisting()
    {
        var query = await Client.OrderQueryAsync("G" + Guid.NewGuid().ToString("N")[..20]);
        Assert.Equal(WeChatPayErrorCode.OrderNotExist, query.Error!.Code);
    }

    [Fact]
    public async Task TheClientRidesOutAnInjectedSystemError()
    {
        await sandbox.SetFaultsAsync(new { systemErrors = new { unifiedorder = 1 } });
        try
        {
            var prepay = await Client.UnifiedOrderAsync(SandboxFixture.Order("o-sandbox-alice"));
            Assert.True(prepay.IsSuccess, prepay.Error?.ToString());
        }
        finally
        {
            await sandbox.ResetFaultsAsync();
        }
    }

    [Fact]
    public async Task AnOrderPaidAfterItsPrepayExpiredIsRefused()
    {
        var (_, jsapi) = await PrepayAsync("o-sandbox-alice");
        await sandbox.AdvanceClockAsync(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(1));

        var pay = await sandbox.PayAtCashierAsync(jsapi, "o-sandbox-alice");

        Assert.False(pay.IsSuccessStatusCode);
    }
}
