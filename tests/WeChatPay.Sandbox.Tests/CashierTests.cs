using System.Net;
using System.Text.RegularExpressions;
using GroupPay.WeChatPay.Protocol;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary>The stand-in for WeixinJSBridge getBrandWCPayRequest, and what orderquery reports around it.</summary>
public sealed partial class CashierTests
{
    [Fact]
    public async Task OrderQueryReportsNotPayUntilTheCashierPaysThenSuccessWithThePaymentDetails()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var parameters = await sandbox.PrepayAsync(outTradeNo, totalFee: 2990);

        var before = await sandbox.OrderQueryAsync(outTradeNo);
        SandboxServer.AssertSuccess(before);
        Assert.Equal("NOTPAY", before["trade_state"]);
        Assert.Null(before["transaction_id"]);

        var (status, body) = await sandbox.CashierPayAsync(parameters, SandboxServer.Alice);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("get_brand_wcpay_request:ok", body.GetProperty("err_msg").GetString());
        var transactionId = body.GetProperty("transactionId").GetString();

        var after = await sandbox.OrderQueryAsync(outTradeNo);
        SandboxServer.AssertSuccess(after);
        Assert.Equal("SUCCESS", after["trade_state"]);
        Assert.Equal("支付成功", after["trade_state_desc"]);
        Assert.Equal(transactionId, after["transaction_id"]);
        Assert.Matches(TransactionIdPattern(), transactionId);
        Assert.Equal(SandboxServer.Alice, after["openid"]);
        Assert.Equal("JSAPI", after["trade_type"]);
        Assert.Equal("CFT", after["bank_type"]);
        Assert.Equal("2990", after["total_fee"]);
        Assert.Equal("2990", after["cash_fee"]);
        Assert.Equal("CNY", after["fee_type"]);
        Assert.Equal(outTradeNo, after["out_trade_no"]);
        Assert.Equal("group-1", after["attach"]);
        Assert.True(WeChatPayTime.TryParseCompact(after["time_end"], out _));
    }

    [Fact]
    public async Task OrderQueryFindsTheOrderByTransactionIdToo()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var transactionId = await sandbox.PlaceAndPayAsync(outTradeNo);

        var response = await sandbox.CallAsync("/pay/orderquery", [new("transaction_id", transactionId)]);

        SandboxServer.AssertSuccess(response);
        Assert.Equal(outTradeNo, response["out_trade_no"]);
    }

    [Fact]
    public async Task OrderQueryOfAnUnknownOrderIsOrderNotExist()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        SandboxServer.AssertFail(await sandbox.OrderQueryAsync(SandboxServer.NewOutTradeNo()), "ORDERNOTEXIST");
    }

    [Fact]
    public async Task CashierRefusesAPayerWhoIsNotTheOpenidThePrepayWasMadeFor()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var parameters = await sandbox.PrepayAsync(outTradeNo, openid: SandboxServer.Alice);

        var (status, body) = await sandbox.CashierPayAsync(parameters, SandboxServer.Bob);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("get_brand_wcpay_request:fail", body.GetProperty("err_msg").GetString());
        Assert.Equal("下单账号与支付账号不一致，请核实后再支付", body.GetProperty("err_desc").GetString());
        Assert.Equal("NOTPAY", (await sandbox.OrderQueryAsync(outTradeNo))["trade_state"]);
    }

    [Fact]
    public async Task CashierRefusesATamperedPaySign()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var parameters = await sandbox.PrepayAsync(SandboxServer.NewOutTradeNo());

        var (status, body) = await sandbox.CashierPayAsync(parameters with { TimeStamp = "1490840662" }, SandboxServer.Alice);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("支付验证签名失败", body.GetProperty("err_desc").GetString());
    }

    [Fact]
    public async Task CashierRefusesAPaySignWhoseSignTypeDiffersFromUnifiedOrders()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var md5 = await sandbox.PrepayAsync(SandboxServer.NewOutTradeNo(), signType: WeChatPaySignType.Md5);
        var hmac = JsapiPayParameters.Create(SandboxServer.AppId, md5.PrepayId!, SandboxServer.ApiKey, WeChatPaySignType.HmacSha256, DateTimeOffset.UtcNow);

        var (status, _) = await sandbox.CashierPayAsync(hmac, SandboxServer.Alice);

        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task CashierAcceptsAnHmacPaySignForAnHmacOrder()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        await sandbox.PlaceAndPayAsync(SandboxServer.NewOutTradeNo(), signType: WeChatPaySignType.HmacSha256);
    }

    [Fact]
    public async Task CashierRefusesAnUnknownPrepayId()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var parameters = JsapiPayParameters.Create(
            SandboxServer.AppId, "wx201410272009395522657a690389285100", SandboxServer.ApiKey, WeChatPaySignType.Md5, DateTimeOffset.UtcNow);

        var (status, _) = await sandbox.CashierPayAsync(parameters, SandboxServer.Alice);

        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task CashierRefusesAPrepayOlderThanTwoHours()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var parameters = await sandbox.PrepayAsync(SandboxServer.NewOutTradeNo());

        await sandbox.AdvanceClockAsync(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        var (status, body) = await sandbox.CashierPayAsync(parameters, SandboxServer.Alice);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("get_brand_wcpay_request:fail", body.GetProperty("err_msg").GetString());
    }

    [Fact]
    public async Task CashierPaysAPrepayJustInsideItsTwoHours()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var parameters = await sandbox.PrepayAsync(SandboxServer.NewOutTradeNo());

        await sandbox.AdvanceClockAsync(TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1));
        var (status, _) = await sandbox.CashierPayAsync(parameters, SandboxServer.Alice);

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task CashierRefusesToPayTheSameOrderTwice()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var parameters = await sandbox.PrepayAsync(SandboxServer.NewOutTradeNo());
        Assert.Equal(HttpStatusCode.OK, (await sandbox.CashierPayAsync(parameters, SandboxServer.Alice)).Status);

        var (status, _) = await sandbox.CashierPayAsync(parameters, SandboxServer.Alice);

        Assert.Equal(HttpStatusCode.Conflict, status);
    }

    [Fact]
    public async Task CashierPageShowsTheAmountAndBodyAndAPayButton()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var p = await sandbox.PrepayAsync(SandboxServer.NewOutTradeNo(), totalFee: 2990);
        var query = $"appId={p.AppId}&timeStamp={p.TimeStamp}&nonceStr={p.NonceStr}&package={Uri.EscapeDataString(p.Package)}" +
            $"&signType={p.SignType}&paySign={p.PaySign}&openid={SandboxServer.Alice}&returnUrl=%2Fgroups%2F1";

        using var response = await sandbox.Http.GetAsync(new Uri("/sandbox/cashier?" + query, UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("¥29.90", html, StringComparison.Ordinal);
        Assert.Contains("拼团-测试商品", html, StringComparison.Ordinal);
        Assert.Contains("id=\"pay\"", html, StringComparison.Ordinal);
        Assert.Contains("/sandbox/cashier/pay", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script src", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CashierPageOfAPaidOrderSaysPaidAndIsNeverCached()
    {
        // Issue 10, bug 8: Back to the cashier after paying showed "Order state: NOTPAY" and a Pay button.
        await using var sandbox = await SandboxServer.StartAsync();
        var p = await sandbox.PrepayAsync(SandboxServer.NewOutTradeNo(), totalFee: 2990);
        var query = $"appId={p.AppId}&timeStamp={p.TimeStamp}&nonceStr={p.NonceStr}&package={Uri.EscapeDataString(p.Package)}" +
            $"&signType={p.SignType}&paySign={p.PaySign}&openid={SandboxServer.Alice}&returnUrl=%2Fgroups%2F1";
        using var before = await sandbox.Http.GetAsync(new Uri("/sandbox/cashier?" + query, UriKind.Relative));
        Assert.Equal("no-store", before.Headers.CacheControl?.ToString());
        Assert.Contains("Order state: NOTPAY", await before.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await sandbox.CashierPayAsync(p, SandboxServer.Alice)).Status);

        using var after = await sandbox.Http.GetAsync(new Uri("/sandbox/cashier?" + query, UriKind.Relative));
        var html = await after.Content.ReadAsStringAsync();

        Assert.Equal("no-store", after.Headers.CacheControl?.ToString());
        Assert.Contains("Order state: SUCCESS", html, StringComparison.Ordinal);
        Assert.Contains("id=\"paid\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"pay\"", html, StringComparison.Ordinal);
        Assert.Contains("id=\"back\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CashierPageRefusesAReturnUrlThatIsNeitherLocalNorHttp()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var p = await sandbox.PrepayAsync(SandboxServer.NewOutTradeNo());

        using var response = await sandbox.Http.GetAsync(new Uri(
            $"/sandbox/cashier?package={Uri.EscapeDataString(p.Package)}&returnUrl=javascript%3Aalert(1)", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [GeneratedRegex("^42[0-9]{26}$")]
    private static partial Regex TransactionIdPattern();
}
