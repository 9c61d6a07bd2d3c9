using System.Text.RegularExpressions;
using GroupPay.WeChatPay.Protocol;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

public sealed partial class UnifiedOrderTests
{
    [Fact]
    public async Task AnswersWithAPrepayIdShapedLikeWeChats()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        var response = await sandbox.UnifiedOrderAsync(SandboxServer.NewOutTradeNo());

        SandboxServer.AssertSuccess(response);
        Assert.Equal("JSAPI", response["trade_type"]);
        Assert.Matches(PrepayIdPattern(), response["prepay_id"]);
        Assert.Equal(32, response["nonce_str"]!.Length);
    }

    [Fact]
    public async Task RecordsTheTraceContextTheCallCarried()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        const string TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        var request = SandboxServer.SignRequest(SandboxServer.UnifiedOrderFields(outTradeNo));
        using var content = new ByteArrayContent(WeChatPayXml.SerializeToUtf8(request));
        using var call = new HttpRequestMessage(HttpMethod.Post, "/pay/unifiedorder") { Content = content };
        call.Headers.Add("traceparent", TraceParent);

        using var response = await sandbox.Http.SendAsync(call);
        SandboxServer.AssertSuccess(WeChatPayXml.Parse(await response.Content.ReadAsByteArrayAsync()));
        var plain = SandboxServer.NewOutTradeNo();
        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync(plain));

        Assert.Equal(TraceParent, (await sandbox.OrderAsync(outTradeNo)).GetProperty("traceParent").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await sandbox.OrderAsync(plain)).GetProperty("traceParent").ValueKind);
    }

    [Theory]
    [InlineData("body")]
    [InlineData("out_trade_no")]
    [InlineData("total_fee")]
    [InlineData("spbill_create_ip")]
    [InlineData("notify_url")]
    [InlineData("trade_type")]
    public async Task RefusesAMissingRequiredFieldWithLackParams(string field)
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo());
        fields.Remove(field);

        var response = await sandbox.CallAsync("/pay/unifiedorder", fields);

        SandboxServer.AssertFail(response, "LACK_PARAMS");
        Assert.Contains(field, response["err_code_des"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0.12")]
    [InlineData("-1")]
    [InlineData("1e3")]
    [InlineData("9999999999")]
    public async Task RefusesATotalFeeThatIsNotAPositiveWholeNumberOfFen(string totalFee)
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo());
        fields["total_fee"] = totalFee;

        var response = await sandbox.CallAsync("/pay/unifiedorder", fields);

        SandboxServer.AssertFail(response, "PARAM_ERROR");
        Assert.Equal("total_fee参数格式错误", response["err_code_des"]);
    }

    [Theory]
    [InlineData("12345")]
    [InlineData("order 123456")]
    [InlineData("订单号123456")]
    [InlineData("order#123456")]
    [InlineData("T123456789012345678901234567890123")]
    public async Task RefusesAnOutTradeNoOutsideWeChatsCharsetOrLength(string outTradeNo)
    {
        await using var sandbox = await SandboxServer.StartAsync();

        SandboxServer.AssertFail(await sandbox.CallAsync("/pay/unifiedorder", SandboxServer.UnifiedOrderFields(outTradeNo)), "INVALID_REQUEST");
    }

    [Fact]
    public async Task AcceptsAnOutTradeNoUsingEveryAllowedPunctuationMark()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync("a_b-c|d*e" + Guid.NewGuid().ToString("N")[..8]));
    }

    [Fact]
    public async Task RefusesJsapiWithoutAnOpenid()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        var response = await sandbox.CallAsync("/pay/unifiedorder", SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo(), openid: null));

        SandboxServer.AssertFail(response, "LACK_PARAMS");
        Assert.Contains("openid", response["err_code_des"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://merchant.example/notify?order=1")]
    [InlineData("/wechatpay/notify")]
    [InlineData("ftp://merchant.example/notify")]
    public async Task RefusesANotifyUrlThatIsNotAnAbsoluteHttpUrlWithoutQuery(string notifyUrl)
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo(), notifyUrl: notifyUrl);

        SandboxServer.AssertFail(await sandbox.CallAsync("/pay/unifiedorder", fields), "INVALID_REQUEST");
    }

    [Theory]
    [InlineData("body", 129)]
    [InlineData("attach", 128)]
    public async Task RefusesTextLongerThanWeChatAllows(string field, int length)
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo());
        fields[field] = new string('商', length);

        SandboxServer.AssertFail(await sandbox.CallAsync("/pay/unifiedorder", fields), "INVALID_REQUEST");
    }

    [Fact]
    public async Task RefusesABodyWithAnEmojiBecauseWeChatTakesOnlyThreeByteUtf8()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo());
        fields["body"] = "拼团🎉";

        SandboxServer.AssertFail(await sandbox.CallAsync("/pay/unifiedorder", fields), "INVALID_REQUEST");
    }

    [Fact]
    public async Task RefusesATimeExpireThatIsNotYyyyMMddHHmmss()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo());
        fields["time_expire"] = "2030-01-01 00:00:00";

        SandboxServer.AssertFail(await sandbox.CallAsync("/pay/unifiedorder", fields), "INVALID_REQUEST");
    }

    [Fact]
    public async Task ReentryWithIdenticalParametersReturnsTheSamePrepayId()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();

        var first = await sandbox.UnifiedOrderAsync(outTradeNo);
        var again = await sandbox.UnifiedOrderAsync(outTradeNo, signType: WeChatPaySignType.HmacSha256);

        SandboxServer.AssertSuccess(again);
        Assert.Equal(first["prepay_id"], again["prepay_id"]);
    }

    [Fact]
    public async Task ReentryWithADifferentAmountIsRefused()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync(outTradeNo, totalFee: 100));

        var response = await sandbox.UnifiedOrderAsync(outTradeNo, totalFee: 101);

        SandboxServer.AssertFail(response, "INVALID_REQUEST");
        Assert.StartsWith("订单重入时，要求参数值与原请求一致", response["err_code_des"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReentryAfterThePrepayLifetimeMintsANewPrepayId()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var first = await sandbox.UnifiedOrderAsync(outTradeNo);

        await sandbox.AdvanceClockAsync(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        var again = await sandbox.UnifiedOrderAsync(outTradeNo);

        SandboxServer.AssertSuccess(again);
        Assert.NotEqual(first["prepay_id"], again["prepay_id"]);
    }

    [Fact]
    public async Task ReentryOfAPaidOrderIsOrderPaid()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo);

        SandboxServer.AssertFail(await sandbox.UnifiedOrderAsync(outTradeNo), "ORDERPAID");
    }

    [Fact]
    public async Task ReentryOfAClosedOrderIsOrderClosed()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync(outTradeNo));
        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(6));
        SandboxServer.AssertSuccess(await sandbox.CallAsync("/pay/closeorder", [new("out_trade_no", outTradeNo)]));

        SandboxServer.AssertFail(await sandbox.UnifiedOrderAsync(outTradeNo), "ORDERCLOSED");
    }

    [GeneratedRegex("^wx[0-9]{14}[0-9a-f]{20}$")]
    private static partial Regex PrepayIdPattern();
}
