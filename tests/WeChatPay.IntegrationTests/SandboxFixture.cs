using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;
using GroupPay.WeChatPay.Sandbox;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace GroupPay.WeChatPay.IntegrationTests;

/// <summary>
/// The sandbox WeChat Pay on a loopback port, a merchant notify receiver on another, and the real client
/// wired to both, the way the grains and the gateway will be.
/// </summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public const string AppId = "wx2421b1c4370ec43b";
    public const string MchId = "10000100";
    public const string ApiKey = "192006250b4c09247ec02edce69f6a2d";
    public const string AppSecret = "integration-test-app-secret-000000";

    private WebApplication _sandbox = null!;
    private readonly List<ServiceProvider> _providers = [];

    internal MerchantReceiver Receiver { get; private set; } = null!;

    public string SandboxUrl { get; private set; } = "";

    public HttpClient Http { get; } = new();

    public IWeChatPayClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _sandbox = SandboxApp.Create(["--urls", "http://127.0.0.1:0", "--environment", "Production"], builder =>
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["WeChatPay:AppId"] = AppId,
                ["WeChatPay:MchId"] = MchId,
                ["WeChatPay:ApiKey"] = ApiKey,
                ["WeChat:AppSecret"] = AppSecret,
                ["Sandbox:TimeScale"] = "0.001",
                ["Logging:LogLevel:Default"] = "Warning",
            }));
        await _sandbox.StartAsync();
        SandboxUrl = _sandbox.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Http.BaseAddress = new Uri(SandboxUrl);

        // The receiver verifies with the merchant's parser, which needs the receiver's own URLs: resolved lazily.
        WeChatPayNotifyParser? parser = null;
        Receiver = await MerchantReceiver.StartAsync(() => parser!);
        var md5 = CreateServices("MD5");
        parser = md5.GetRequiredService<WeChatPayNotifyParser>();
        Client = md5.GetRequiredService<IWeChatPayClient>();
    }

    /// <summary>A client and notify parser for the merchant, signing with <paramref name="signType"/>.</summary>
    public ServiceProvider CreateServices(string signType)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["WeChatPay:AppId"] = AppId,
            ["WeChatPay:MchId"] = MchId,
            ["WeChatPay:ApiKey"] = ApiKey,
            ["WeChatPay:SignType"] = signType,
            ["WeChatPay:BaseUrl"] = SandboxUrl,
            ["WeChatPay:RetryDelay"] = "00:00:00.010",
            ["WeChatPay:NotifyUrl"] = Receiver.BaseUrl + "/wechatpay/notify",
            ["WeChatPay:RefundNotifyUrl"] = Receiver.BaseUrl + "/wechatpay/refund-notify",
        }).Build();
        var provider = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(configuration)
            .AddWeChatPay()
            .BuildServiceProvider();
        _providers.Add(provider);
        return provider;
    }

    public static UnifiedOrderRequest Order(string payer, long fen = 990) => new()
    {
        OutTradeNo = "G" + Guid.NewGuid().ToString("N")[..20],
        Body = "拼团-集成测试",
        TotalFee = fen,
        OpenId = payer,
        SpbillCreateIp = "127.0.0.1",
    };

    /// <summary>An order placed with <see cref="Client"/> and its JSAPI parameters.</summary>
    public async Task<(UnifiedOrderRequest Order, JsapiPayParameters Jsapi)> PrepayAsync(string payer, long fen = 990)
    {
        var order = Order(payer, fen);
        var prepay = await Client.UnifiedOrderAsync(order);
        Assert.True(prepay.IsSuccess, prepay.Error?.ToString());
        return (order, Client.CreateJsapiParameters(prepay.Value!.PrepayId));
    }

    /// <summary>An order placed, paid at the cashier, and its notify as the merchant verified it.</summary>
    public async Task<PaymentNotification> PaidAsync(string payer, long fen = 990)
    {
        var (order, jsapi) = await PrepayAsync(payer, fen);
        (await PayAtCashierAsync(jsapi, payer)).EnsureSuccessStatusCode();
        Assert.True(await EventuallyAsync(() => Receiver.Payments.Any(p => p.OutTradeNo == order.OutTradeNo)));
        return Receiver.Payments.First(p => p.OutTradeNo == order.OutTradeNo);
    }

    /// <summary>The payer confirms in the cashier (WeixinJSBridge's stand-in).</summary>
    public Task<HttpResponseMessage> PayAtCashierAsync(JsapiPayParameters jsapi, string openid) =>
        Http.PostAsJsonAsync("/sandbox/cashier/pay", new
        {
            jsapi.AppId,
            jsapi.TimeStamp,
            jsapi.NonceStr,
            jsapi.Package,
            jsapi.SignType,
            jsapi.PaySign,
            openid,
        });

    public async Task SetFaultsAsync(object faults) =>
        (await Http.PostAsJsonAsync("/sandbox/faults", faults)).EnsureSuccessStatusCode();

    public async Task ResetFaultsAsync() => (await Http.DeleteAsync("/sandbox/faults")).EnsureSuccessStatusCode();

    public async Task AdvanceClockAsync(TimeSpan by) =>
        (await Http.PostAsJsonAsync("/sandbox/clock/advance", new { seconds = (int)by.TotalSeconds })).EnsureSuccessStatusCode();

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; notifies arrive asynchronously.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, int seconds = 10)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return true;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }
        if (Receiver is not null)
        {
            await Receiver.DisposeAsync();
        }
        await _sandbox.StopAsync();
        await _sandbox.DisposeAsync();
    }
}
