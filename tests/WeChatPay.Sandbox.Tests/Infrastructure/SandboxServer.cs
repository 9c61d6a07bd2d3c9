using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using GroupPay.WeChatPay.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

/// <summary>
/// One sandbox started in-process on a free loopback port, with helpers that speak its wire format the way a
/// merchant does: flat XML signed with <see cref="WeChatPayMessage.SignWith"/>. Each test starts its own, because
/// the clock and the faults are process-wide state of a sandbox.
/// </summary>
public sealed class SandboxServer : IAsyncDisposable
{
    public const string AppId = "wx2421b1c4370ec43b";
    public const string MchId = "10000100";
    public const string ApiKey = "192006250b4c09247ec02edce69f6a2d";
    public const string AppSecret = "test-app-secret-0123456789abcdef";
    public const string Alice = "o-sandbox-alice";
    public const string Bob = "o-sandbox-bob";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly WebApplication _app;

    private SandboxServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = baseAddress };
    }

    public Uri BaseAddress { get; }

    /// <summary>A client for the sandbox that does not follow redirects.</summary>
    public HttpClient Http { get; }

    /// <summary>The settings every test sandbox gets; <paramref name="overrides"/> replace or remove (null) them.</summary>
    public static Dictionary<string, string?> Settings(IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WeChatPay:AppId"] = AppId,
            ["WeChatPay:MchId"] = MchId,
            ["WeChatPay:ApiKey"] = ApiKey,
            ["WeChat:AppSecret"] = AppSecret,
            ["Sandbox:TimeScale"] = "0.001",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    /// <summary>Builds (does not start) a sandbox with <see cref="Settings"/>.</summary>
    public static WebApplication Build(IReadOnlyDictionary<string, string?>? overrides = null) =>
        SandboxApp.Create(["--environment=Testing", "--urls=http://127.0.0.1:0"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(Settings(overrides));
            builder.Logging.ClearProviders();
        });

    public static async Task<SandboxServer> StartAsync(IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var app = Build(overrides);
        await app.StartAsync();
        return new SandboxServer(app, new Uri(app.Urls.Single()));
    }

    public static string NewOutTradeNo() => "T" + Guid.NewGuid().ToString("N")[..20];

    public static string NewOutRefundNo() => "R" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>A signed request: appid, mch_id and nonce_str added unless given; sign_type added for HMAC-SHA256.</summary>
    public static WeChatPayMessage SignRequest(
        IEnumerable<KeyValuePair<string, string>> fields, WeChatPaySignType signType = WeChatPaySignType.Md5, string apiKey = ApiKey)
    {
        var message = new WeChatPayMessage(fields);
        if (!message.Contains("appid"))
        {
            message.Add("appid", AppId);
        }
        if (!message.Contains("mch_id"))
        {
            message.Add("mch_id", MchId);
        }
        if (!message.Contains("nonce_str"))
        {
            message.Add("nonce_str", WeChatPayNonce.Create());
        }
        if (signType == WeChatPaySignType.HmacSha256 && !message.Contains("sign_type"))
        {
            message.Add("sign_type", WeChatPaySignTypes.HmacSha256Name);
        }
        return message.SignWith(apiKey, signType);
    }

    /// <summary>POSTs raw bytes to a merchant API path and parses the XML answer.</summary>
    public async Task<WeChatPayMessage> PostRawAsync(string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        using var response = await Http.PostAsync(new Uri(path, UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return WeChatPayXml.Parse(await response.Content.ReadAsByteArrayAsync());
    }

    /// <summary>Sends <paramref name="request"/>; a SUCCESS answer must carry a valid signature of the same sign type.</summary>
    public async Task<WeChatPayMessage> PostAsync(string path, WeChatPayMessage request)
    {
        var response = await PostRawAsync(path, WeChatPayXml.SerializeToUtf8(request));
        if (response["return_code"] == "SUCCESS")
        {
            var signType = WeChatPaySignTypes.TryParse(request["sign_type"] ?? "MD5", out var parsed) ? parsed : WeChatPaySignType.Md5;
            Assert.True(response.HasValidSignature(ApiKey, signType), "the sandbox's answer is not signed with the request's sign type");
            Assert.Equal(request["appid"], response["appid"]);
            Assert.Equal(request["mch_id"], response["mch_id"]);
        }
        return response;
    }

    public Task<WeChatPayMessage> CallAsync(
        string path, IEnumerable<KeyValuePair<string, string>> fields, WeChatPaySignType signType = WeChatPaySignType.Md5) =>
        PostAsync(path, SignRequest(fields, signType));

    public static Dictionary<string, string> UnifiedOrderFields(
        string outTradeNo, long totalFee = 100, string? openid = Alice, string notifyUrl = "http://127.0.0.1:9/notify") => new()
        {
            ["body"] = "拼团-测试商品",
            ["out_trade_no"] = outTradeNo,
            ["total_fee"] = totalFee.ToString(CultureInfo.InvariantCulture),
            ["spbill_create_ip"] = "127.0.0.1",
            ["notify_url"] = notifyUrl,
            ["trade_type"] = "JSAPI",
            ["openid"] = openid ?? "",
            ["attach"] = "group-1",
        };

    public Task<WeChatPayMessage> UnifiedOrderAsync(
        string outTradeNo, long totalFee = 100, string openid = Alice, string notifyUrl = "http://127.0.0.1:9/notify",
        WeChatPaySignType signType = WeChatPaySignType.Md5) =>
        CallAsync("/pay/unifiedorder", UnifiedOrderFields(outTradeNo, totalFee, openid, notifyUrl), signType);

    /// <summary>Places an order and returns the JSAPI parameters the gateway would hand to the H5 page.</summary>
    public async Task<JsapiPayParameters> PrepayAsync(
        string outTradeNo, long totalFee = 100, string openid = Alice, string notifyUrl = "http://127.0.0.1:9/notify",
        WeChatPaySignType signType = WeChatPaySignType.Md5)
    {
        var response = await UnifiedOrderAsync(outTradeNo, totalFee, openid, notifyUrl, signType);
        AssertSuccess(response);
        return JsapiPayParameters.Create(AppId, response.GetRequired("prepay_id"), ApiKey, signType, DateTimeOffset.UtcNow);
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> CashierPayAsync(JsapiPayParameters parameters, string openid)
    {
        using var response = await Http.PostAsJsonAsync("/sandbox/cashier/pay", new
        {
            appId = parameters.AppId,
            timeStamp = parameters.TimeStamp,
            nonceStr = parameters.NonceStr,
            package = parameters.Package,
            signType = parameters.SignType,
            paySign = parameters.PaySign,
            openid,
        });
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>Orders and pays through the cashier; returns the transaction_id.</summary>
    public async Task<string> PlaceAndPayAsync(
        string outTradeNo, long totalFee = 100, string notifyUrl = "http://127.0.0.1:9/notify", WeChatPaySignType signType = WeChatPaySignType.Md5)
    {
        var parameters = await PrepayAsync(outTradeNo, totalFee, Alice, notifyUrl, signType);
        var (status, body) = await CashierPayAsync(parameters, Alice);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("get_brand_wcpay_request:ok", body.GetProperty("err_msg").GetString());
        return body.GetProperty("transactionId").GetString()!;
    }

    public Task<WeChatPayMessage> OrderQueryAsync(string outTradeNo) =>
        CallAsync("/pay/orderquery", [new("out_trade_no", outTradeNo)]);

    public Task<WeChatPayMessage> RefundAsync(string outTradeNo, string outRefundNo, long totalFee, long refundFee, string? notifyUrl = null) =>
        CallAsync("/secapi/pay/refund", new Dictionary<string, string>
        {
            ["out_trade_no"] = outTradeNo,
            ["out_refund_no"] = outRefundNo,
            ["total_fee"] = totalFee.ToString(CultureInfo.InvariantCulture),
            ["refund_fee"] = refundFee.ToString(CultureInfo.InvariantCulture),
            ["notify_url"] = notifyUrl ?? "",
        });

    public Task<WeChatPayMessage> RefundQueryAsync(string field, string value) => CallAsync("/pay/refundquery", [new(field, value)]);

    public Task<WeChatPayMessage> CloseOrderAsync(string outTradeNo) => CallAsync("/pay/closeorder", [new("out_trade_no", outTradeNo)]);

    /// <summary>POSTs a signed downloadbill request and returns the raw answer (a bill is not XML).</summary>
    public async Task<(byte[] Body, string? ContentType)> DownloadBillRawAsync(IEnumerable<KeyValuePair<string, string>> fields)
    {
        using var content = new ByteArrayContent(WeChatPayXml.SerializeToUtf8(SignRequest(fields)));
        using var response = await Http.PostAsync(new Uri("/pay/downloadbill", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsByteArrayAsync(), response.Content.Headers.ContentType?.ToString());
    }

    /// <summary>The sandbox clock's current time in China (UTC+8).</summary>
    public async Task<DateTimeOffset> ChinaNowAsync() =>
        (await GetJsonAsync("/sandbox/clock")).GetProperty("now").GetDateTimeOffset().ToOffset(WeChatPayTime.BeijingOffset);

    /// <summary>Moves the sandbox clock forward to <paramref name="day"/> at <paramref name="time"/>, China time.</summary>
    public async Task MoveClockToAsync(DateOnly day, TimeOnly time)
    {
        var target = new DateTimeOffset(day.ToDateTime(time), WeChatPayTime.BeijingOffset);
        var now = await ChinaNowAsync();
        Assert.True(target > now, $"the clock only moves forward; it is {now} and {target} was asked");
        await AdvanceClockAsync(target - now);
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<HttpResponseMessage> PostJsonAsync(string path, object body) =>
        await Http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(JsonSerializer.Serialize(body, Json), Encoding.UTF8, "application/json"));

    public Task<JsonElement> OrderAsync(string outTradeNo) => GetJsonAsync("/sandbox/orders/" + outTradeNo);

    public async Task SetFaultsAsync(object faults)
    {
        using var response = await PostJsonAsync("/sandbox/faults", faults);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public async Task AdvanceClockAsync(TimeSpan by)
    {
        using var response = await PostJsonAsync("/sandbox/clock/advance", new { seconds = by.TotalSeconds });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Polls the order until <paramref name="condition"/> holds (or fails after a generous deadline).</summary>
    public async Task<JsonElement> WaitForOrderAsync(string outTradeNo, Func<JsonElement, bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        JsonElement order;
        while (!condition(order = await OrderAsync(outTradeNo)))
        {
            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting for {what}; the order is now {order}");
            }
            await Task.Delay(10);
        }
        return order;
    }

    /// <summary>The order once no notify job is running for it any more (schedule acked, exhausted or cancelled).</summary>
    public Task<JsonElement> WaitForNotifiesSettledAsync(string outTradeNo) =>
        WaitForOrderAsync(outTradeNo, o => o.GetProperty("notifyJobsInFlight").GetInt32() == 0 && o.GetProperty("notifyAttempts").GetArrayLength() > 0,
            "the notify jobs to finish");

    public static JsonElement[] Attempts(JsonElement order) => [.. order.GetProperty("notifyAttempts").EnumerateArray()];

    public static void AssertSuccess(WeChatPayMessage response)
    {
        Assert.Equal("SUCCESS", response["return_code"]);
        Assert.True(response["result_code"] == "SUCCESS", $"expected result_code SUCCESS, got {response["err_code"]}: {response["err_code_des"]}");
    }

    public static void AssertFail(WeChatPayMessage response, string errCode)
    {
        Assert.Equal("SUCCESS", response["return_code"]);
        Assert.Equal("FAIL", response["result_code"]);
        Assert.Equal(errCode, response["err_code"]);
        Assert.False(string.IsNullOrEmpty(response["err_code_des"]));
    }

    /// <summary>A return-level failure: return_code FAIL with the message, no result_code, no sign.</summary>
    public static void AssertReturnFail(WeChatPayMessage response, string returnMsg)
    {
        Assert.Equal("FAIL", response["return_code"]);
        Assert.Equal(returnMsg, response["return_msg"]);
        Assert.Null(response["result_code"]);
        Assert.Null(response["sign"]);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
