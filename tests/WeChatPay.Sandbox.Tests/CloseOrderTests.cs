using System.Net;
using GroupPay.WeChatPay.Protocol;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

public sealed class CloseOrderTests
{
    private static Task<WeChatPayMessage> CloseAsync(SandboxServer sandbox, string outTradeNo) =>
        sandbox.CallAsync("/pay/closeorder", [new("out_trade_no", outTradeNo)]);

    [Fact]
    public async Task RefusesToCloseAnOrderYoungerThanFiveMinutes()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync(outTradeNo));
        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(4));

        var response = await CloseAsync(sandbox, outTradeNo);

        SandboxServer.AssertFail(response, "INVALID_REQUEST");
        Assert.Equal("订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟", response["err_code_des"]);
        Assert.Equal("NOTPAY", (await sandbox.OrderQueryAsync(outTradeNo))["trade_state"]);
    }

    [Fact]
    public async Task ClosesAnOrderAfterFiveMinutesAndQueryReportsClosed()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync(outTradeNo));
        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(5));

        SandboxServer.AssertSuccess(await CloseAsync(sandbox, outTradeNo));

        var query = await sandbox.OrderQueryAsync(outTradeNo);
        Assert.Equal("CLOSED", query["trade_state"]);
    }

    [Fact]
    public async Task ClosingTwiceIsOrderClosed()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync(outTradeNo));
        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(6));
        SandboxServer.AssertSuccess(await CloseAsync(sandbox, outTradeNo));

        SandboxServer.AssertFail(await CloseAsync(sandbox, outTradeNo), "ORDERCLOSED");
    }

    [Fact]
    public async Task ClosingAPaidOrderIsOrderPaid()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo);
        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(6));

        SandboxServer.AssertFail(await CloseAsync(sandbox, outTradeNo), "ORDERPAID");
    }

    [Fact]
    public async Task ClosingAnUnknownOrderIsOrderNotExist()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        SandboxServer.AssertFail(await CloseAsync(sandbox, SandboxServer.NewOutTradeNo()), "ORDERNOTEXIST");
    }

    [Fact]
    public async Task TheCashierRefusesToPayAClosedOrder()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var parameters = await sandbox.PrepayAsync(outTradeNo);
        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(6));
        SandboxServer.AssertSuccess(await CloseAsync(sandbox, outTradeNo));

        var (status, body) = await sandbox.CashierPayAsync(parameters, SandboxServer.Alice);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("get_brand_wcpay_request:fail", body.GetProperty("err_msg").GetString());
        Assert.Equal("CLOSED", (await sandbox.OrderQueryAsync(outTradeNo))["trade_state"]);
    }

    [Fact]
    public async Task TheControlApiPaysAClosedOrderOnlyWhenForcedModellingPaidAfterClose()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync(outTradeNo, notifyUrl: receiver.PaymentUrl));
        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(6));
        SandboxServer.AssertSuccess(await CloseAsync(sandbox, outTradeNo));

        using var unforced = await sandbox.PostJsonAsync($"/sandbox/orders/{outTradeNo}/pay", new { openid = SandboxServer.Alice });
        Assert.Equal(HttpStatusCode.Conflict, unforced.StatusCode);

        using var forced = await sandbox.PostJsonAsync($"/sandbox/orders/{outTradeNo}/pay", new { openid = SandboxServer.Alice, force = true });
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);

        Assert.Equal("SUCCESS", (await sandbox.OrderQueryAsync(outTradeNo))["trade_state"]);
        var order = await sandbox.OrderAsync(outTradeNo);
        Assert.True(order.GetProperty("payment").GetProperty("paidAfterClose").GetBoolean());
        var notify = (await receiver.WaitForAsync(1))[0].Message;
        Assert.Equal(outTradeNo, notify["out_trade_no"]);
        Assert.True(notify.HasValidSignature(SandboxServer.ApiKey, WeChatPaySignType.Md5));
    }
}
