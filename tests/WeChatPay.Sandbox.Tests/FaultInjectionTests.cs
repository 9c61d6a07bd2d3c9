using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.WeChatPay.Protocol;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary>The faults under /sandbox/faults that exercise a merchant's idempotency and verification.</summary>
public sealed class FaultInjectionTests
{
    [Fact]
    public async Task DuplicateNotifiesAreDeliveredAgainAfterTheAcknowledgement()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        await sandbox.SetFaultsAsync(new { duplicateNotifies = 2 });
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, notifyUrl: receiver.PaymentUrl);

        var order = await sandbox.WaitForNotifiesSettledAsync(outTradeNo);

        Assert.Equal(["initial", "duplicate", "duplicate"], SandboxServer.Attempts(order).Select(a => a.GetProperty("trigger").GetString()));
        Assert.Equal(3, receiver.Received.Count);
        Assert.Single(receiver.Received.Select(r => r.Message["transaction_id"]).Distinct());
    }

    [Fact]
    public async Task DuplicateNotifiesApplyOnlyToTheNextPaidOrder()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        await sandbox.SetFaultsAsync(new { duplicateNotifies = 1 });
        var first = SandboxServer.NewOutTradeNo();
        var second = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(first, notifyUrl: receiver.PaymentUrl);
        await sandbox.PlaceAndPayAsync(second, notifyUrl: receiver.PaymentUrl);

        Assert.Equal(2, SandboxServer.Attempts(await sandbox.WaitForNotifiesSettledAsync(first)).Length);
        Assert.Single(SandboxServer.Attempts(await sandbox.WaitForNotifiesSettledAsync(second)));
    }

    [Fact]
    public async Task ConcurrentNotifiesArriveInParallel()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        receiver.HoldUntilInFlight(3);
        await sandbox.SetFaultsAsync(new { concurrentNotifies = 3 });
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, notifyUrl: receiver.PaymentUrl);

        var order = await sandbox.WaitForNotifiesSettledAsync(outTradeNo);

        Assert.Equal(3, receiver.MaxInFlight);
        var attempts = SandboxServer.Attempts(order);
        Assert.Equal(3, attempts.Length);
        Assert.All(attempts, a => Assert.Equal("concurrent", a.GetProperty("trigger").GetString()));
        Assert.All(attempts, a => Assert.True(a.GetProperty("acked").GetBoolean()));
    }

    [Fact]
    public async Task DroppedNotifiesCountAsFailedAttemptsAndTheScheduleDeliversLater()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        await sandbox.SetFaultsAsync(new { dropNotifies = 2 });
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, notifyUrl: receiver.PaymentUrl);

        var order = await sandbox.WaitForNotifiesSettledAsync(outTradeNo);

        var attempts = SandboxServer.Attempts(order);
        Assert.Equal([true, true, false], attempts.Select(a => a.GetProperty("dropped").GetBoolean()));
        Assert.Equal([false, false, true], attempts.Select(a => a.GetProperty("acked").GetBoolean()));
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task ADelayedNotifyIsNotSentBeforeItsDelay()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        await sandbox.SetFaultsAsync(new { notifyDelaySeconds = 3600 });
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, notifyUrl: receiver.PaymentUrl);

        var order = await sandbox.OrderAsync(outTradeNo);

        Assert.Equal("SUCCESS", order.GetProperty("tradeState").GetString());
        Assert.Equal(1, order.GetProperty("notifyJobsInFlight").GetInt32());
        Assert.Empty(SandboxServer.Attempts(order));
        Assert.Equal("SUCCESS", (await sandbox.OrderQueryAsync(outTradeNo))["trade_state"]);
    }

    [Fact]
    public async Task ACouponOnTheNextNotifyLowersCashFeeAndTheSignatureCoversTheCouponFields()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        await sandbox.SetFaultsAsync(new { couponOnNextNotify = new { couponFee = 10 } });
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 100, notifyUrl: receiver.PaymentUrl);

        var notify = (await receiver.WaitForAsync(1))[0].Message;

        Assert.True(notify.HasValidSignature(SandboxServer.ApiKey, WeChatPaySignType.Md5));
        Assert.Equal("100", notify["total_fee"]);
        Assert.Equal("90", notify["cash_fee"]);
        Assert.Equal("10", notify["coupon_fee"]);
        Assert.Equal("1", notify["coupon_count"]);
        Assert.Equal("10", notify["coupon_fee_0"]);
        Assert.False(string.IsNullOrEmpty(notify["coupon_id_0"]));
        Assert.Null(notify["coupon_type_0"]);
        var query = await sandbox.OrderQueryAsync(outTradeNo);
        Assert.Equal("90", query["cash_fee"]);
        Assert.Equal("10", query["coupon_fee"]);
    }

    [Fact]
    public async Task SystemErrorsAnswerTheNextCallsOfThatApiAndThenNormalService()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await sandbox.SetFaultsAsync(new { systemErrors = new { unifiedorder = 2 } });
        var outTradeNo = SandboxServer.NewOutTradeNo();

        SandboxServer.AssertFail(await sandbox.UnifiedOrderAsync(outTradeNo), "SYSTEMERROR");
        SandboxServer.AssertFail(await sandbox.UnifiedOrderAsync(outTradeNo), "SYSTEMERROR");
        SandboxServer.AssertFail(await sandbox.OrderQueryAsync(outTradeNo), "ORDERNOTEXIST");
        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync(outTradeNo));
    }

    [Fact]
    public async Task ASystemErrorOnRefundProcessesNothingAndTheRetryWithTheSameOutRefundNoRefundsOnce()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        await sandbox.SetFaultsAsync(new { systemErrors = new { refund = 1 } });
        var outRefundNo = SandboxServer.NewOutRefundNo();

        SandboxServer.AssertFail(await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 300), "SYSTEMERROR");
        SandboxServer.AssertFail(await sandbox.RefundQueryAsync("out_refund_no", outRefundNo), "REFUNDNOTEXIST");
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 300));

        Assert.Equal(300, (await sandbox.OrderAsync(outTradeNo)).GetProperty("refundedFee").GetInt64());
    }

    [Fact]
    public async Task ResettingFaultsDisarmsEveryFault()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await sandbox.SetFaultsAsync(new { dropNotifies = 3, systemErrors = new { orderquery = 5 }, refundsStayProcessing = true });

        using var response = await sandbox.Http.DeleteAsync(new Uri("/sandbox/faults", UriKind.Relative));
        var faults = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, faults.GetProperty("dropNotifies").GetInt32());
        Assert.Equal(0, faults.GetProperty("systemErrors").GetProperty("orderquery").GetInt32());
        Assert.False(faults.GetProperty("refundsStayProcessing").GetBoolean());
        SandboxServer.AssertFail(await sandbox.OrderQueryAsync(SandboxServer.NewOutTradeNo()), "ORDERNOTEXIST");
    }

    [Fact]
    public async Task NegativeFaultCountsAreRefusedAsValidationProblems()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        using var response = await sandbox.PostJsonAsync("/sandbox/faults", new { dropNotifies = -1 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
