using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.Grains.Orders;
using GroupPay.WeChatPay.Sandbox;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GroupPay.Testing;

/// <summary>
/// The WeChat Pay sandbox in the test process on a free loopback port (real HTTP, the real wire format), serving the
/// demo merchant, with WeChat's delays scaled down so notify retries and refund settlement take milliseconds.
/// </summary>
public sealed class SandboxServer : IAsyncDisposable
{
    public const string AppId = "wx2421b1c4370ec43b";
    public const string MchId = "10000100";
    public const string ApiKey = "192006250b4c09247ec02edce69f6a2d";

    private readonly WebApplication _app;

    private SandboxServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>The payer confirms in the sandbox cashier (WeixinJSBridge's stand-in), with the six JSAPI fields as the
    /// gateway's JSON carries them (<c>appId</c>, <c>timeStamp</c>, …) and the payer's openid.</summary>
    public static Task<HttpResponseMessage> PayAtCashierAsync(HttpClient sandbox, JsonElement jsapi, string openid)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        return sandbox.PostAsJsonAsync("/sandbox/cashier/pay", new
        {
            appId = jsapi.GetProperty("appId").GetString(),
            timeStamp = jsapi.GetProperty("timeStamp").GetString(),
            nonceStr = jsapi.GetProperty("nonceStr").GetString(),
            package = jsapi.GetProperty("package").GetString(),
            signType = jsapi.GetProperty("signType").GetString(),
            paySign = jsapi.GetProperty("paySign").GetString(),
            openid,
        });
    }

    /// <summary>The same with the JSAPI fields as a grain returned them.</summary>
    public static Task<HttpResponseMessage> PayAtCashierAsync(HttpClient sandbox, JsapiParameters jsapi, string openid) =>
        PayAtCashierAsync(sandbox, JsonSerializer.SerializeToElement(jsapi, JsonSerializerOptions.Web), openid);

    /// <summary>Starts it; <paramref name="settings"/> (<c>Section:Key</c>) override the defaults.</summary>
    public static async Task<SandboxServer> StartAsync(string appSecret, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["WeChatPay:AppId"] = AppId,
            ["WeChatPay:MchId"] = MchId,
            ["WeChatPay:ApiKey"] = ApiKey,
            ["WeChat:AppSecret"] = appSecret,
            ["Sandbox:TimeScale"] = "0.001",
            ["Sandbox:RefundSettleDelay"] = "00:00:00.200",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }
        var app = SandboxApp.Create(["--urls", "http://127.0.0.1:0", "--environment", "Production"], builder =>
            builder.Configuration.AddInMemoryCollection(configuration));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SandboxServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
