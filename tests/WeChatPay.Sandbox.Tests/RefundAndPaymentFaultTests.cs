using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.WeChatPay.Protocol;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary>The faults and control calls for refunds that do not end well, refund refusals, payments racing a close,
/// console refunds and forged notifies.</summary>
public sealed class RefundAndPaymentFaultTests
{
    private static WeChatPayMessage Details(ReceivedNotify notify) =>
        WeChatPayXml.Parse(RefundNotifyCipher.Decrypt(notify.Message.GetRequired("req_info"), SandboxServer.ApiKey), rootName: "root");

    private static JsonElement Refund(JsonElement order, string outRefundNo) =>
        order.GetProperty("refunds").EnumerateArray().Single(r => r.GetProperty("outRefundNo").GetString() == outRefundNo);

    [Fact]
    public async Task AClosedRefundIsReportedAndNotifiedAsRefundCloseAndANewNumberMayRefundTheMoney()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        await sandbox.SetFaultsAsync(new { refundOutcomes = new { refundClose = 1 } });
        var closed = await sandbox.RefundAsync(outTradeNo, "RCLOSED1", 300, 300, receiver.RefundUrl);

        var notify = Details((await receiver.WaitForAsync(1, "/refund-notify"))[0]);

        Assert.Equal(("REFUNDCLOSE", null, "RCLOSED1"), (notify["refund_status"], notify["success_time"], notify["out_refund_no"]));
        var query = await sandbox.RefundQueryAsync("out_refund_no", "RCLOSED1");
        Assert.Equal("REFUNDCLOSE", query["refund_status_0"]);
        Assert.Null(query["refund_success_time_0"]);
        Assert.Equal(0, (await sandbox.OrderAsync(outTradeNo)).GetProperty("refundedFee").GetInt64());
        var again = await sandbox.RefundAsync(outTradeNo, "RCLOSED1", 300, 300, receiver.RefundUrl);
        SandboxServer.AssertSuccess(again);
        Assert.Equal(closed["refund_id"], again["refund_id"]);
        var retry = await sandbox.RefundAsync(outTradeNo, "RRETRY1", 300, 300, receiver.RefundUrl);
        SandboxServer.AssertSuccess(retry);
        Assert.NotEqual(closed["refund_id"], retry["refund_id"]);
        var order = await sandbox.WaitForOrderAsync(outTradeNo, o => Refund(o, "RRETRY1").GetProperty("status").GetString() == "SUCCESS", "the retry");
        Assert.Equal(300, order.GetProperty("refundedFee").GetInt64());
        Assert.Equal("REFUNDCLOSE", Refund(order, "RCLOSED1").GetProperty("status").GetString());
        SandboxServer.AssertFail(await sandbox.RefundAsync(outTradeNo, "RTOOMUCH", 300, 1), "ERROR");
    }

    [Fact]
    public async Task AnAbnormalRefundEndsChangeAndGivesNothingBack()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        await sandbox.SetFaultsAsync(new { refundOutcomes = new { change = 1 } });
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, "RCHANGE1", 300, 200, receiver.RefundUrl));

        var notify = Details((await receiver.WaitForAsync(1, "/refund-notify"))[0]);

        Assert.Equal("CHANGE", notify["refund_status"]);
        Assert.Equal("CHANGE", (await sandbox.RefundQueryAsync("out_refund_no", "RCHANGE1"))["refund_status_0"]);
        var order = await sandbox.OrderAsync(outTradeNo);
        Assert.Equal(0, order.GetProperty("refundedFee").GetInt64());
        Assert.Equal(0, (await sandbox.GetJsonAsync("/sandbox/faults")).GetProperty("refundOutcomes").GetProperty("change").GetInt32());
    }

    [Fact]
    public async Task InjectedRefundErrorsAnswerWithWeChatsCodeAndRecordNothing()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        await sandbox.SetFaultsAsync(new { refundErrors = new { code = "NOTENOUGH", count = 2 } });
        var shown = (await sandbox.GetJsonAsync("/sandbox/faults")).GetProperty("refundErrors");

        var first = await sandbox.RefundAsync(outTradeNo, "RERR1", 300, 300);
        var second = await sandbox.RefundAsync(outTradeNo, "RERR1", 300, 300);
        var query = await sandbox.RefundQueryAsync("out_refund_no", "RERR1");
        var third = await sandbox.RefundAsync(outTradeNo, "RERR1", 300, 300);

        Assert.Equal(("NOTENOUGH", 2), (shown.GetProperty("code").GetString(), shown.GetProperty("count").GetInt32()));
        SandboxServer.AssertFail(first, "NOTENOUGH");
        Assert.Equal("基本账户余额不足，请充值后重新发起", first["err_code_des"]);
        SandboxServer.AssertFail(second, "NOTENOUGH");
        SandboxServer.AssertFail(query, "REFUNDNOTEXIST");
        SandboxServer.AssertSuccess(third);
    }

    [Fact]
    public async Task RefundFaultsForOneOrderLeaveOtherOrdersRefundsAlone()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var (target, other) = (SandboxServer.NewOutTradeNo(), SandboxServer.NewOutTradeNo());
        await sandbox.PlaceAndPayAsync(target, totalFee: 300);
        await sandbox.PlaceAndPayAsync(other, totalFee: 300);
        await sandbox.SetFaultsAsync(new { refundFaultsFor = target, refundErrors = new { code = "NOTENOUGH", count = 1 } });

        var otherRefund = await sandbox.RefundAsync(other, "RONLY1", 300, 300);
        var targetRefund = await sandbox.RefundAsync(target, "RONLY2", 300, 300);

        SandboxServer.AssertSuccess(otherRefund);
        SandboxServer.AssertFail(targetRefund, "NOTENOUGH");
        Assert.Equal(target, (await sandbox.GetJsonAsync("/sandbox/faults")).GetProperty("refundFaultsFor").GetString());
    }

    [Theory]
    [InlineData("USER_ACCOUNT_ABNORMAL")]
    [InlineData("TRADE_OVERDUE")]
    [InlineData("ERROR")]
    [InlineData("INVALID_REQ_TOO_MUCH")]
    [InlineData("BIZERR_NEED_RETRY")]
    [InlineData("FREQUENCY_LIMITED")]
    public async Task EachInjectableRefundErrorIsAnswered(string code)
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo);
        await sandbox.SetFaultsAsync(new { refundErrors = new { code, count = 1 } });

        SandboxServer.AssertFail(await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 100, 100), code);
    }

    [Theory]
    [InlineData("""{"refundErrors":{"code":"SYSTEMERROR","count":1}}""")]
    [InlineData("""{"refundErrors":{"count":1}}""")]
    [InlineData("""{"refundErrors":{"code":"NOTENOUGH","count":-1}}""")]
    [InlineData("""{"refundOutcomes":{"refundClose":-1}}""")]
    [InlineData("""{"payOnClose":-1}""")]
    public async Task RefusesInvalidNewFaults(string json)
    {
        await using var sandbox = await SandboxServer.StartAsync();

        using var response = await sandbox.Http.PostAsync(new Uri("/sandbox/faults", UriKind.Relative),
            new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task ResettingFaultsDisarmsTheNewFaults()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await sandbox.SetFaultsAsync(new { refundOutcomes = new { refundClose = 2, change = 1 }, refundErrors = new { code = "ERROR", count = 3 }, payOnClose = 4 });

        using var response = await sandbox.Http.DeleteAsync(new Uri("/sandbox/faults", UriKind.Relative));
        var faults = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(0, faults.GetProperty("refundOutcomes").GetProperty("refundClose").GetInt32());
        Assert.Equal(0, faults.GetProperty("refundOutcomes").GetProperty("change").GetInt32());
        Assert.Equal(JsonValueKind.Null, faults.GetProperty("refundErrors").ValueKind);
        Assert.Equal(0, faults.GetProperty("payOnClose").GetInt32());
    }

    [Fact]
    public async Task PayOnClosePaysTheUnpaidOrderFirstSoTheCloseIsOrderPaidAndTheNotifyArrives()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var racing = SandboxServer.NewOutTradeNo();
        var calm = SandboxServer.NewOutTradeNo();
        await sandbox.PrepayAsync(racing, 100, SandboxServer.Alice, receiver.PaymentUrl);
        await sandbox.PrepayAsync(calm, 100, SandboxServer.Alice, receiver.PaymentUrl);
        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(6));
        await sandbox.SetFaultsAsync(new { payOnClose = 1 });

        var closeRacing = await sandbox.CloseOrderAsync(racing);
        var closeCalm = await sandbox.CloseOrderAsync(calm);

        SandboxServer.AssertFail(closeRacing, "ORDERPAID");
        SandboxServer.AssertSuccess(closeCalm);
        var notify = (await receiver.WaitForAsync(1))[0].Message;
        Assert.Equal((racing, "100", SandboxServer.Alice), (notify["out_trade_no"], notify["total_fee"], notify["openid"]));
        Assert.True(notify.HasValidSignature(SandboxServer.ApiKey, WeChatPaySignType.Md5));
        Assert.Equal("SUCCESS", (await sandbox.OrderQueryAsync(racing))["trade_state"]);
        Assert.Equal("CLOSED", (await sandbox.OrderQueryAsync(calm))["trade_state"]);
    }

    [Fact]
    public async Task AConsoleRefundRefundsWhatIsLeftUnderWeChatsOwnNumberAndNotifiesTheConfiguredUrl()
    {
        await using var receiver = await NotifyReceiver.StartAsync();
        await using var sandbox = await SandboxServer.StartAsync(new Dictionary<string, string?> { ["Sandbox:RefundNotifyUrl"] = receiver.RefundUrl });
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, "RAPI1", 300, 100));

        using var response = await sandbox.PostJsonAsync($"/sandbox/orders/{outTradeNo}/console-refund", new { });
        var refund = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var refundId = refund.GetProperty("refundId").GetString();
        Assert.Equal((refundId, 200, "PROCESSING"), (refund.GetProperty("outRefundNo").GetString(), refund.GetProperty("refundFee").GetInt64(), refund.GetProperty("status").GetString()));
        var notifies = await receiver.WaitForAsync(2, "/refund-notify");
        var console = Assert.Single(notifies.Select(Details), d => d["refund_id"] == refundId);
        Assert.Equal(("VENDOR_PLATFORM", refundId, "200", "SUCCESS"), (console["refund_request_source"], console["out_refund_no"], console["refund_fee"], console["refund_status"]));
        var order = await sandbox.OrderAsync(outTradeNo);
        Assert.Equal("VENDOR_PLATFORM", Refund(order, refundId!).GetProperty("requestSource").GetString());
        Assert.Equal("API", Refund(order, "RAPI1").GetProperty("requestSource").GetString());
        Assert.Equal(300, order.GetProperty("refundedFee").GetInt64());
        using var nothingLeft = await sandbox.PostJsonAsync($"/sandbox/orders/{outTradeNo}/console-refund", new { });
        Assert.Equal(HttpStatusCode.Conflict, nothingLeft.StatusCode);
    }

    [Fact]
    public async Task AConsoleRefundOfAnUnpaidOrderOrOfMoreThanIsLeftIsAConflict()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var unpaid = SandboxServer.NewOutTradeNo();
        var paid = SandboxServer.NewOutTradeNo();
        await sandbox.PrepayAsync(unpaid);
        await sandbox.PlaceAndPayAsync(paid, totalFee: 100);

        using var ofUnpaid = await sandbox.PostJsonAsync($"/sandbox/orders/{unpaid}/console-refund", new { });
        using var tooMuch = await sandbox.PostJsonAsync($"/sandbox/orders/{paid}/console-refund", new { refundFee = 101 });
        using var partial = await sandbox.PostJsonAsync($"/sandbox/orders/{paid}/console-refund", new { refundFee = 40 });
        using var unknown = await sandbox.PostJsonAsync($"/sandbox/orders/{SandboxServer.NewOutTradeNo()}/console-refund", new { });

        Assert.Equal(HttpStatusCode.Conflict, ofUnpaid.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, tooMuch.StatusCode);
        Assert.Equal(40, (await partial.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("refundFee").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task ARedeliveredNotifyCanCarryAnotherAmountAndPayerSignedCorrectly()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300, notifyUrl: receiver.PaymentUrl);
        await receiver.WaitForAsync(1);

        using var forged = await sandbox.PostJsonAsync($"/sandbox/orders/{outTradeNo}/notify", new { totalFee = 1, openid = "o-mallory" });
        using var plain = await sandbox.Http.PostAsync(new Uri($"/sandbox/orders/{outTradeNo}/notify", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        var received = await receiver.WaitForAsync(3);
        var forgedNotify = received[1].Message;
        Assert.True(forgedNotify.HasValidSignature(SandboxServer.ApiKey, WeChatPaySignType.Md5));
        Assert.Equal(("1", "1", "o-mallory"), (forgedNotify["total_fee"], forgedNotify["cash_fee"], forgedNotify["openid"]));
        Assert.Equal(("300", SandboxServer.Alice), (received[2].Message["total_fee"], received[2].Message["openid"]));
        var order = await sandbox.OrderAsync(outTradeNo);
        Assert.Equal((300, SandboxServer.Alice), (order.GetProperty("totalFee").GetInt64(), order.GetProperty("payment").GetProperty("payerOpenid").GetString()));
    }

    [Fact]
    public async Task AForgedNotifyWithANonPositiveAmountIsRefused()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo);

        using var response = await sandbox.PostJsonAsync($"/sandbox/orders/{outTradeNo}/notify", new { totalFee = 0 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
