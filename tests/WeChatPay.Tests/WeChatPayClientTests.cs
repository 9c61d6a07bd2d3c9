using System.IO.Compression;
using System.Text;
using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Tests;

public sealed class WeChatPayClientTests : IAsyncLifetime
{
    private const string AppId = "wx2421b1c4370ec43b";
    private const string MchId = "10000100";
    private const string ApiKey = "192006250b4c09247ec02edce69f6a2d";

    private StubWeChatServer _server = null!;

    public async Task InitializeAsync() => _server = await StubWeChatServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private ServiceProvider Services(string signType = "MD5", string timeout = "00:00:05") =>
        new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["WeChatPay:AppId"] = AppId,
                ["WeChatPay:MchId"] = MchId,
                ["WeChatPay:ApiKey"] = ApiKey,
                ["WeChatPay:SignType"] = signType,
                ["WeChatPay:BaseUrl"] = _server.BaseUrl,
                ["WeChatPay:NotifyUrl"] = "https://shop.example/wechatpay/notify",
                ["WeChatPay:RefundNotifyUrl"] = "https://shop.example/wechatpay/refund-notify",
                ["WeChatPay:Timeout"] = timeout,
                ["WeChatPay:RetryDelay"] = "00:00:00.010",
            }).Build())
            .AddWeChatPay()
            .BuildServiceProvider();

    private static WeChatPayMessage Answer(WeChatPayMessage request, params (string Name, string Value)[] fields)
    {
        var answer = new WeChatPayMessage().Add("return_code", "SUCCESS").Add("return_msg", "OK")
            .Add("appid", AppId).Add("mch_id", MchId).Add("nonce_str", WeChatPayNonce.Create());
        foreach (var (name, value) in fields)
        {
            answer.Add(name, value);
        }
        var signType = request["sign_type"] == "HMAC-SHA256" ? WeChatPaySignType.HmacSha256 : WeChatPaySignType.Md5;
        return answer.SignWith(ApiKey, signType);
    }

    private static UnifiedOrderRequest Order(string outTradeNo = "G1234567890A1") => new()
    {
        OutTradeNo = outTradeNo,
        Body = "拼团-测试商品",
        TotalFee = 990,
        OpenId = "o-payer",
        SpbillCreateIp = "127.0.0.1",
    };

    [Fact]
    public async Task SendsASignedUnifiedOrderAndReturnsThePrepay()
    {
        _server.Respond = (req, _) => Task.FromResult(StubWeChatServer.Xml(Answer(req, ("result_code", "SUCCESS"), ("trade_type", "JSAPI"), ("prepay_id", "wx201410272009395522657a690389285100"))));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().UnifiedOrderAsync(Order());

        Assert.True(result.IsSuccess, result.Error?.ToString());
        Assert.Equal("wx201410272009395522657a690389285100", result.Value!.PrepayId);
        var (path, body) = Assert.Single(_server.Requests);
        Assert.Equal("pay/unifiedorder", path);
        var sent = WeChatPayXml.Parse(body);
        Assert.True(sent.HasValidSignature(ApiKey, WeChatPaySignType.Md5));
        Assert.Null(sent["sign_type"]);
        Assert.Equal(AppId, sent["appid"]);
        Assert.Equal(MchId, sent["mch_id"]);
        Assert.Equal("990", sent["total_fee"]);
        Assert.Equal("o-payer", sent["openid"]);
        Assert.Equal("JSAPI", sent["trade_type"]);
        Assert.Equal("https://shop.example/wechatpay/notify", sent["notify_url"]);
        Assert.Equal(32, sent["nonce_str"]!.Length);
    }

    [Fact]
    public async Task SignsWithHmacAndNamesTheSignTypeWhenConfigured()
    {
        _server.Respond = (req, _) => Task.FromResult(StubWeChatServer.Xml(Answer(req, ("result_code", "SUCCESS"), ("prepay_id", "wxp"))));
        await using var services = Services("HMAC-SHA256");

        var result = await services.GetRequiredService<IWeChatPayClient>().UnifiedOrderAsync(Order());

        Assert.True(result.IsSuccess, result.Error?.ToString());
        var sent = WeChatPayXml.Parse(Assert.Single(_server.Requests).Body);
        Assert.Equal("HMAC-SHA256", sent["sign_type"]);
        Assert.True(sent.HasValidSignature(ApiKey, WeChatPaySignType.HmacSha256));
        Assert.Equal("HMAC-SHA256", services.GetRequiredService<IWeChatPayClient>().CreateJsapiParameters("wxp").SignType);
    }

    [Fact]
    public async Task RetriesSystemErrorWithTheSameBytesThenReportsItRetryable()
    {
        _server.Respond = (req, _) => Task.FromResult(StubWeChatServer.Xml(Answer(req, ("result_code", "FAIL"), ("err_code", "SYSTEMERROR"), ("err_code_des", "系统错误"))));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().UnifiedOrderAsync(Order());

        Assert.Equal(WeChatPayErrorKind.Business, result.Error!.Kind);
        Assert.Equal(WeChatPayErrorCode.SystemError, result.Error.Code);
        Assert.True(result.Error.IsRetryable);
        Assert.Equal(3, _server.Requests.Count);
        Assert.Single(_server.Requests.Select(r => Convert.ToBase64String(r.Body)).Distinct());
    }

    [Fact]
    public async Task SucceedsWhenARetryIsAnswered()
    {
        _server.Respond = (req, n) => Task.FromResult(StubWeChatServer.Xml(n == 1
            ? Answer(req, ("result_code", "FAIL"), ("err_code", "BIZERR_NEED_RETRY"))
            : Answer(req, ("result_code", "SUCCESS"), ("out_refund_no", "R1"), ("out_trade_no", "G1"), ("refund_id", "5000"), ("refund_fee", "990"))));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().RefundAsync(new RefundRequest
        {
            OutTradeNo = "G1", OutRefundNo = "R1", TotalFee = 990, RefundFee = 990,
        });

        Assert.True(result.IsSuccess, result.Error?.ToString());
        Assert.Equal(new RefundResult("G1", "R1", "5000", 990, null), result.Value);
        Assert.Equal(2, _server.Requests.Count);
        Assert.All(_server.Requests, r => Assert.Equal("secapi/pay/refund", r.Path));
        Assert.Equal("https://shop.example/wechatpay/refund-notify", WeChatPayXml.Parse(_server.Requests.First().Body)["notify_url"]);
    }

    [Theory]
    [InlineData("ORDERPAID", WeChatPayErrorCode.OrderPaid)]
    [InlineData("ORDERCLOSED", WeChatPayErrorCode.OrderClosed)]
    [InlineData("OUT_TRADE_NO_USED", WeChatPayErrorCode.OutTradeNoUsed)]
    [InlineData("INVALID_REQUEST", WeChatPayErrorCode.InvalidRequest)]
    [InlineData("SOMETHING_NEW", WeChatPayErrorCode.Unknown)]
    public async Task MapsBusinessErrorsWithoutRetrying(string errCode, WeChatPayErrorCode expected)
    {
        _server.Respond = (req, _) => Task.FromResult(StubWeChatServer.Xml(Answer(req, ("result_code", "FAIL"), ("err_code", errCode))));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().UnifiedOrderAsync(Order());

        Assert.Equal(new WeChatPayError(WeChatPayErrorKind.Business, expected, errCode, null), result.Error);
        Assert.False(result.Error!.IsRetryable);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task RefusesAnAnswerWithAForgedSignature()
    {
        _server.Respond = (req, _) =>
        {
            var forged = new WeChatPayMessage(Answer(req, ("result_code", "SUCCESS"), ("prepay_id", "wxp")).Where(f => f.Key != "sign"))
                .SignWith("00000000000000000000000000000000", WeChatPaySignType.Md5);
            return Task.FromResult(StubWeChatServer.Xml(forged));
        };
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().UnifiedOrderAsync(Order());

        Assert.Equal(WeChatPayErrorKind.InvalidResponse, result.Error!.Kind);
        Assert.Equal(WeChatPayErrorCode.InvalidSignature, result.Error.Code);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task RefusesAnAnswerForAnotherMerchant()
    {
        _server.Respond = (req, _) =>
        {
            var other = new WeChatPayMessage(Answer(req, ("result_code", "SUCCESS"), ("prepay_id", "wxp")).Where(f => f.Key is not ("sign" or "mch_id")))
                .Add("mch_id", "999").SignWith(ApiKey, WeChatPaySignType.Md5);
            return Task.FromResult(StubWeChatServer.Xml(other));
        };
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().UnifiedOrderAsync(Order());

        Assert.Equal(WeChatPayErrorKind.InvalidResponse, result.Error!.Kind);
    }

    [Fact]
    public async Task ReportsReturnCodeFailAsACommunicationError()
    {
        _server.Respond = (_, _) => Task.FromResult(StubWeChatServer.Xml(new WeChatPayMessage().Add("return_code", "FAIL").Add("return_msg", "签名错误")));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().CloseOrderAsync("G1234567890A1");

        Assert.Equal(WeChatPayErrorKind.Communication, result.Error!.Kind);
        Assert.Equal("签名错误", result.Error.Message);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task RetriesHttpErrorsAndTimeouts()
    {
        _server.Respond = async (_, n) =>
        {
            if (n == 1)
            {
                return Results.StatusCode(502);
            }
            await Task.Delay(TimeSpan.FromSeconds(5), _server.Stopping);
            return Results.Ok();
        };
        await using var services = Services(timeout: "00:00:00.300");

        var result = await services.GetRequiredService<IWeChatPayClient>().OrderQueryAsync("G1234567890A1");

        Assert.Equal(WeChatPayErrorKind.Transport, result.Error!.Kind);
        Assert.Equal(WeChatPayErrorCode.Timeout, result.Error.Code);
        Assert.True(result.Error.IsRetryable);
        Assert.Equal(3, _server.Requests.Count);
    }

    [Fact]
    public async Task RefusesAMalformedAnswer()
    {
        _server.Respond = (_, _) => Task.FromResult(Results.Text("<html>gateway error</html>", "text/html"));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().OrderQueryAsync("G1234567890A1");

        Assert.Equal(WeChatPayErrorCode.MalformedResponse, result.Error!.Code);
    }

    [Fact]
    public async Task ReadsAPaidOrderQuery()
    {
        _server.Respond = (req, _) => Task.FromResult(StubWeChatServer.Xml(Answer(req,
            ("result_code", "SUCCESS"), ("trade_state", "SUCCESS"), ("out_trade_no", "G1"), ("transaction_id", "4200000001"),
            ("total_fee", "990"), ("cash_fee", "990"), ("openid", "o-payer"), ("time_end", "20261127103000"), ("trade_state_desc", "支付成功"))));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().OrderQueryAsync("G1");

        Assert.Equal(
            new OrderQueryResult(TradeState.Success, "支付成功", "G1", "4200000001", 990, 990, "o-payer", new DateTimeOffset(2026, 11, 27, 2, 30, 0, TimeSpan.Zero), null),
            result.Value);
        Assert.True(result.Value!.IsPaid);
    }

    [Fact]
    public async Task ReadsEveryRefundOfARefundQuery()
    {
        _server.Respond = (req, _) => Task.FromResult(StubWeChatServer.Xml(Answer(req,
            ("result_code", "SUCCESS"), ("out_trade_no", "G1"), ("total_fee", "990"), ("refund_count", "2"),
            ("out_refund_no_0", "R1"), ("refund_id_0", "5001"), ("refund_fee_0", "500"), ("refund_status_0", "SUCCESS"), ("refund_success_time_0", "2026-11-27 10:30:00"),
            ("out_refund_no_1", "R2"), ("refund_id_1", "5002"), ("refund_fee_1", "490"), ("refund_status_1", "PROCESSING"))));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().RefundQueryAsync(RefundQueryRequest.ByOutTradeNo("G1"));

        Assert.Equal(2, result.Value!.Refunds.Count);
        Assert.Equal(new RefundRecord("R1", "5001", 500, RefundStatus.Success, new DateTimeOffset(2026, 11, 27, 2, 30, 0, TimeSpan.Zero)), result.Value.Find("R1"));
        Assert.Equal(RefundStatus.Processing, result.Value.Find("R2")!.Status);
        Assert.Equal("G1", WeChatPayXml.Parse(_server.Requests.Single().Body)["out_trade_no"]);
    }

    [Fact]
    public async Task RefusesARefundQueryNamingTwoIds()
    {
        await using var services = Services();
        await Assert.ThrowsAsync<ArgumentException>(() => services.GetRequiredService<IWeChatPayClient>()
            .RefundQueryAsync(new RefundQueryRequest { OutRefundNo = "R1", OutTradeNo = "G1" }));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task PropagatesCancellation()
    {
        _server.Respond = async (_, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), _server.Stopping);
            return Results.Ok();
        };
        await using var services = Services();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            services.GetRequiredService<IWeChatPayClient>().OrderQueryAsync("G1", cts.Token));
    }

    [Fact]
    public async Task DownloadsAGzipBillAndParsesIt()
    {
        _server.Respond = (_, _) => Task.FromResult(Results.Bytes(Gzip(Encoding.UTF8.GetBytes(TradeBillParserTests.AllBill)), "application/octet-stream"));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().DownloadBillAsync(new DateOnly(2026, 11, 30));

        Assert.True(result.IsSuccess, result.Error?.ToString());
        Assert.Equal(new DateOnly(2026, 11, 30), result.Value!.BillDate);
        Assert.Equal(["g1a2b3P1", "g1a2b3P2", "g1a2b3P1"], result.Value.Rows.Select(r => r.OutTradeNo));
        Assert.Equal(new TradeBillSummary(3, 200_990, 1990, 0, 1194, 200_990, 1990), result.Value.Summary);
        var (path, body) = Assert.Single(_server.Requests);
        Assert.Equal("pay/downloadbill", path);
        var sent = WeChatPayXml.Parse(body);
        Assert.True(sent.HasValidSignature(ApiKey, WeChatPaySignType.Md5));
        Assert.Equal(("20261130", "ALL", "GZIP", AppId, MchId), (sent["bill_date"], sent["bill_type"], sent["tar_type"], sent["appid"], sent["mch_id"]));
    }

    [Fact]
    public async Task ReadsAnUncompressedBillOfTheAskedType()
    {
        _server.Respond = (_, _) => Task.FromResult(Results.Text(TradeBillParserTests.AllBill, "text/plain; charset=utf-8"));
        await using var services = Services(signType: "HMAC-SHA256");

        var result = await services.GetRequiredService<IWeChatPayClient>().DownloadBillAsync(new DateOnly(2026, 11, 30), TradeBillType.Refund);

        Assert.Equal(3, result.GetValueOrThrow().Rows.Count);
        var sent = WeChatPayXml.Parse(Assert.Single(_server.Requests).Body);
        Assert.Equal(("REFUND", "HMAC-SHA256"), (sent["bill_type"], sent["sign_type"]));
        Assert.True(sent.HasValidSignature(ApiKey, WeChatPaySignType.HmacSha256));
    }

    [Theory]
    [InlineData("No Bill Exist", "20002", WeChatPayErrorCode.NoBillExist)]
    [InlineData("NO Bill Exist", null, WeChatPayErrorCode.NoBillExist)]
    [InlineData("Bill Creating", null, WeChatPayErrorCode.BillCreating)]
    [InlineData("data format error", null, WeChatPayErrorCode.ParamError)]
    [InlineData("invalid bill_type", null, WeChatPayErrorCode.ParamError)]
    public async Task MapsABillFailureWithoutRetryingAndKeepsItsMessage(string returnMsg, string? errorCode, WeChatPayErrorCode expected)
    {
        _server.Respond = (_, _) => Task.FromResult(StubWeChatServer.Xml(
            new WeChatPayMessage().Add("return_code", "FAIL").Add("return_msg", returnMsg).Add("error_code", errorCode)));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().DownloadBillAsync(new DateOnly(2026, 11, 30));

        Assert.Equal(new WeChatPayError(WeChatPayErrorKind.Communication, expected, errorCode ?? returnMsg, returnMsg), result.Error);
        Assert.False(result.Error!.IsRetryable);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task RetriesABillSystemErrorWithTheSameBytes()
    {
        _server.Respond = (_, n) => n < 3
            ? Task.FromResult(StubWeChatServer.Xml(new WeChatPayMessage().Add("return_code", "FAIL").Add("return_msg", "SYSTEMERROR")))
            : Task.FromResult(Results.Text(TradeBillParserTests.AllBill, "text/plain"));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().DownloadBillAsync(new DateOnly(2026, 11, 30));

        Assert.True(result.IsSuccess, result.Error?.ToString());
        Assert.Equal(3, _server.Requests.Count);
        Assert.Single(_server.Requests.Select(r => Convert.ToBase64String(r.Body)).Distinct());
    }

    [Fact]
    public async Task RefusesABillThatIsNotABill()
    {
        _server.Respond = (_, _) => Task.FromResult(Results.Text("交易时间,something else\r\n`1\r\n", "text/plain"));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().DownloadBillAsync(new DateOnly(2026, 11, 30));

        Assert.Equal((WeChatPayErrorKind.InvalidResponse, WeChatPayErrorCode.MalformedResponse), (result.Error!.Kind, result.Error.Code));
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task RefusesABillLargerThanTheCapOnceDecompressed()
    {
        var huge = Gzip(new byte[WeChatPayClient.MaxBillBytes + 1]);
        _server.Respond = (_, _) => Task.FromResult(Results.Bytes(huge, "application/octet-stream"));
        await using var services = Services();

        var result = await services.GetRequiredService<IWeChatPayClient>().DownloadBillAsync(new DateOnly(2026, 11, 30));

        Assert.Equal(WeChatPayErrorCode.MalformedResponse, result.Error!.Code);
        Assert.Contains("uncompressed", result.Error.Message, StringComparison.Ordinal);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }

    [Fact]
    public void UsesOptionsFromTheContainer() =>
        Assert.Equal(AppId, Services().GetRequiredService<IOptions<WeChatPayOptions>>().Value.AppId);
}
