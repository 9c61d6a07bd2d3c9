using System.Net;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary>The sandbox's own JSON control API under /sandbox.</summary>
public sealed class SandboxControlTests
{
    [Fact]
    public async Task HealthAnswersOk()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        var health = await sandbox.GetJsonAsync("/sandbox/health");

        Assert.Equal("ok", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task TheClockMovesForwardByTheRequestedSecondsAndNeverBack()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(90));
        using var backwards = await sandbox.PostJsonAsync("/sandbox/clock/advance", new { seconds = -1 });

        Assert.Equal(HttpStatusCode.BadRequest, backwards.StatusCode);
        Assert.Equal(5400, (await sandbox.GetJsonAsync("/sandbox/clock")).GetProperty("offsetSeconds").GetDouble());
    }

    [Fact]
    public async Task AnUnknownOrderIsNotFound()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        using var response = await sandbox.Http.GetAsync(new Uri("/sandbox/orders/" + SandboxServer.NewOutTradeNo(), UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task TheOrderViewShowsStatePaymentRefundsAndNotifyAttempts()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var transactionId = await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 500, notifyUrl: receiver.PaymentUrl);
        var outRefundNo = SandboxServer.NewOutRefundNo();
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, outRefundNo, 500, 200, receiver.RefundUrl));
        await receiver.WaitForAsync(1, "/refund-notify");

        var order = await sandbox.WaitForNotifiesSettledAsync(outTradeNo);

        Assert.Equal("REFUND", order.GetProperty("tradeState").GetString());
        Assert.Equal(500, order.GetProperty("totalFee").GetInt64());
        Assert.Equal(SandboxServer.Alice, order.GetProperty("openid").GetString());
        Assert.Equal("MD5", order.GetProperty("signType").GetString());
        Assert.StartsWith("wx", order.GetProperty("prepay").GetProperty("prepayId").GetString(), StringComparison.Ordinal);
        Assert.Equal(transactionId, order.GetProperty("payment").GetProperty("transactionId").GetString());
        var refund = order.GetProperty("refunds")[0];
        Assert.Equal(outRefundNo, refund.GetProperty("outRefundNo").GetString());
        Assert.Equal("SUCCESS", refund.GetProperty("status").GetString());
        var kinds = SandboxServer.Attempts(order).Select(a => a.GetProperty("kind").GetString()).Order();
        Assert.Equal(["payment", "refund"], kinds);
    }
}
