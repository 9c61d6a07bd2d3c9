using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary>Payment notify content, WeChat's retry schedule and its strict reading of the acknowledgement.</summary>
public sealed class NotifyDeliveryTests
{
    [Fact]
    public async Task ThePaymentNotifyIsSignedAndCarriesThePaidOrder()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var transactionId = await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 2990, notifyUrl: receiver.PaymentUrl);

        var notify = (await receiver.WaitForAsync(1))[0].Message;

        Assert.True(notify.HasValidSignature(SandboxServer.ApiKey, WeChatPaySignType.Md5));
        Assert.Null(notify["sign_type"]);
        Assert.Equal("SUCCESS", notify["return_code"]);
        Assert.Equal("SUCCESS", notify["result_code"]);
        Assert.Equal(SandboxServer.AppId, notify["appid"]);
        Assert.Equal(SandboxServer.MchId, notify["mch_id"]);
        Assert.Equal(SandboxServer.Alice, notify["openid"]);
        Assert.Equal("N", notify["is_subscribe"]);
        Assert.Equal("JSAPI", notify["trade_type"]);
        Assert.Equal("CFT", notify["bank_type"]);
        Assert.Equal("2990", notify["total_fee"]);
        Assert.Equal("2990", notify["cash_fee"]);
        Assert.Equal("CNY", notify["fee_type"]);
        Assert.Equal(transactionId, notify["transaction_id"]);
        Assert.Equal(outTradeNo, notify["out_trade_no"]);
        Assert.Equal("group-1", notify["attach"]);
        Assert.True(WeChatPayTime.TryParseCompact(notify["time_end"], out _));
        Assert.Null(notify["coupon_fee"]);
    }

    [Fact]
    public async Task AnHmacOrdersNotifyDeclaresSignTypeAndIsSignedWithHmac()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        await sandbox.PlaceAndPayAsync(SandboxServer.NewOutTradeNo(), notifyUrl: receiver.PaymentUrl, signType: WeChatPaySignType.HmacSha256);

        var notify = (await receiver.WaitForAsync(1))[0].Message;

        Assert.Equal("HMAC-SHA256", notify["sign_type"]);
        Assert.True(notify.HasValidSignature(SandboxServer.ApiKey, WeChatPaySignType.HmacSha256));
        Assert.False(notify.HasValidSignature(SandboxServer.ApiKey, WeChatPaySignType.Md5));
    }

    [Fact]
    public async Task ANotifyIsRetriedUntilTheExactAcknowledgementAndThenNoMore()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        receiver.Script(NotifyReplyScript.Fail, NotifyReplyScript.Fail);
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, notifyUrl: receiver.PaymentUrl);

        var order = await sandbox.WaitForNotifiesSettledAsync(outTradeNo);

        var attempts = SandboxServer.Attempts(order);
        Assert.Equal([false, false, true], attempts.Select(a => a.GetProperty("acked").GetBoolean()));
        Assert.Equal([0, 1, 2], attempts.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.Equal(["initial", "retry", "retry"], attempts.Select(a => a.GetProperty("trigger").GetString()));
        Assert.Equal(3, receiver.Received.Count);
        Assert.Single(receiver.Received.Select(r => r.Message["nonce_str"]).Distinct());
    }

    public static TheoryData<int, string> RepliesThatAreNotAnAcknowledgement() => new()
    {
        { 200, WeChatPayNotifyReply.SuccessXml + "\n" },
        { 200, " " + WeChatPayNotifyReply.SuccessXml },
        { 200, "<xml>\n<return_code><![CDATA[SUCCESS]]></return_code>\n<return_msg><![CDATA[OK]]></return_msg>\n</xml>" },
        { 200, "<xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>" },
        { 200, "{\"code\":\"SUCCESS\",\"message\":\"OK\"}" },
        { 200, "ok" },
        { 200, "SUCCESS" },
        { 500, WeChatPayNotifyReply.SuccessXml },
        { 302, WeChatPayNotifyReply.SuccessXml },
    };

    [Theory]
    [MemberData(nameof(RepliesThatAreNotAnAcknowledgement))]
    public async Task AnythingButTheExactAcknowledgementKeepsTheNotifyBeingRetried(int status, string body)
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        receiver.DefaultReply = new NotifyReplyScript(status, body);
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, notifyUrl: receiver.PaymentUrl);

        await receiver.WaitForAsync(4);

        var attempts = SandboxServer.Attempts(await sandbox.OrderAsync(outTradeNo));
        Assert.True(attempts.Length >= 4);
        Assert.All(attempts, a => Assert.False(a.GetProperty("acked").GetBoolean()));
        Assert.Equal(status, attempts[0].GetProperty("httpStatus").GetInt32());
    }

    [Fact]
    public async Task AnUnreachableNotifyUrlIsRecordedAsAFailedAttemptAndRetried()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var receiver = await NotifyReceiver.StartAsync();
        var deadUrl = receiver.PaymentUrl;
        await receiver.DisposeAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, notifyUrl: deadUrl);

        var order = await sandbox.WaitForOrderAsync(outTradeNo, o => SandboxServer.Attempts(o).Length >= 2, "two failed attempts");

        var first = SandboxServer.Attempts(order)[0];
        Assert.False(first.GetProperty("acked").GetBoolean());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("httpStatus").ValueKind);
        Assert.False(string.IsNullOrEmpty(first.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task AReceiverSlowerThanTheNotifyTimeoutCountsAsAFailedAttempt()
    {
        await using var sandbox = await SandboxServer.StartAsync(new Dictionary<string, string?> { ["Sandbox:NotifyTimeout"] = "00:00:00.200" });
        await using var receiver = await NotifyReceiver.StartAsync();
        receiver.HoldUntilInFlight(1000); // never reached: each request is held for the receiver's 3 s cap
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, notifyUrl: receiver.PaymentUrl);

        var order = await sandbox.WaitForOrderAsync(outTradeNo, o => SandboxServer.Attempts(o).Length >= 1, "a timed-out attempt");

        var first = SandboxServer.Attempts(order)[0];
        Assert.False(first.GetProperty("acked").GetBoolean());
        Assert.Contains("no reply within", first.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheNotificationsListShowsEachAttemptWithItsOutcome()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        receiver.Script(NotifyReplyScript.Fail);
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, notifyUrl: receiver.PaymentUrl);
        await sandbox.WaitForNotifiesSettledAsync(outTradeNo);

        var list = await sandbox.GetJsonAsync("/sandbox/notifications?outTradeNo=" + outTradeNo);

        var attempts = list.EnumerateArray().ToList();
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a =>
        {
            Assert.Equal("payment", a.GetProperty("kind").GetString());
            Assert.Equal(receiver.PaymentUrl, a.GetProperty("url").GetString());
            Assert.Equal(200, a.GetProperty("httpStatus").GetInt32());
        });
        Assert.Equal([false, true], attempts.Select(a => a.GetProperty("acked").GetBoolean()));
    }

    [Fact]
    public async Task TheRedeliverEndpointSendsTheNotifyAgainNowAndReportsTheOutcome()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var transactionId = await sandbox.PlaceAndPayAsync(outTradeNo, notifyUrl: receiver.PaymentUrl);
        await sandbox.WaitForNotifiesSettledAsync(outTradeNo);

        using var response = await sandbox.PostJsonAsync($"/sandbox/orders/{outTradeNo}/notify", new { });
        var attempt = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("redeliver", attempt.GetProperty("trigger").GetString());
        Assert.True(attempt.GetProperty("acked").GetBoolean());
        var received = await receiver.WaitForAsync(2);
        Assert.All(received, r => Assert.Equal(transactionId, r.Message["transaction_id"]));
        Assert.True(received[1].Message.HasValidSignature(SandboxServer.ApiKey, WeChatPaySignType.Md5));
    }

    [Fact]
    public async Task TheRedeliverEndpointRefusesAnUnpaidOrder()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync(outTradeNo));

        using var response = await sandbox.PostJsonAsync($"/sandbox/orders/{outTradeNo}/notify", new { });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }
}
