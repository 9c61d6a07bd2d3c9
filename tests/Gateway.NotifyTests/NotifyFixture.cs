using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Orders;
using GroupPay.Testing;
using GroupPay.WeChatPay.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace GroupPay.Gateway.NotifyTests;

/// <summary>
/// The notify path as it runs in production, every part real and local: two silo processes clustered through a
/// Redis-protocol server, the gateway on a loopback port, and the sandbox WeChat Pay delivering notifies to it.
/// An Orleans client in the test sets up groups and reads them back, as an internal service would.
/// </summary>
public sealed class NotifyFixture : IAsyncLifetime
{
    public const string AppId = SandboxServer.AppId;
    public const string MchId = SandboxServer.MchId;
    public const string ApiKey = SandboxServer.ApiKey;

    private readonly ClusterIdentity _cluster = ClusterIdentity.Unique("gateway-notify");
    private readonly IReadOnlyDictionary<string, string?> _siloSettings;
    private readonly int _gatewayPort = FreePort.Get();
    private RedisServer _redis = null!;
    private SandboxServer _sandbox = null!;
    private WebApplication _gateway = null!;
    private ClusterClientHost _client = null!;

    public NotifyFixture()
        : this(new Dictionary<string, string?>())
    {
    }

    /// <param name="siloSettings">More environment for the silos (e.g. <c>Orders__RefundCheckAfter</c>).</param>
    /// <param name="embeddedStore">An embedded store of the fixture's own, which <see cref="RestartStoreAsync"/> restarts.</param>
    internal NotifyFixture(IReadOnlyDictionary<string, string?> siloSettings, bool embeddedStore = false)
    {
        _siloSettings = siloSettings;
        _embeddedStore = embeddedStore;
    }

    private readonly bool _embeddedStore;

    /// <summary>Restarts the store (grain state, reminders, membership, figures) with <paramref name="downtime"/>.</summary>
    public Task RestartStoreAsync(TimeSpan downtime) => _redis.RestartAsync(downtime);

    public List<SiloProcess> Silos { get; } = [];

    public HttpClient Gateway { get; } = new();

    public HttpClient Sandbox { get; } = new();

    public IClusterClient Client => _client.Client;

    /// <summary>The gateway's services (its meter factory, for the notify counters).</summary>
    public IServiceProvider GatewayServices => _gateway.Services;

    public string GatewayUrl => $"http://127.0.0.1:{_gatewayPort}";

    /// <summary>The store of grain state, membership and the figures.</summary>
    public string StoreConnectionString => _redis.ConnectionString;

    public string ServiceId => _cluster.ServiceId;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync(_embeddedStore);
        _sandbox = await SandboxServer.StartAsync("gateway-notify-tests-secret-000000");
        Sandbox.BaseAddress = _sandbox.Url;

        var merchant = new Dictionary<string, string?>
        {
            ["WeChatPay__BaseUrl"] = Sandbox.BaseAddress.ToString(),
            ["WeChatPay__NotifyUrl"] = GatewayUrl + "/wechatpay/notify",
            ["WeChatPay__RefundNotifyUrl"] = GatewayUrl + "/wechatpay/refund-notify",
            // Quick failure detection, so a killed silo is declared dead within seconds.
            ["Orleans__Membership__ProbeTimeout"] = "00:00:02",
            ["Orleans__Membership__NumMissedProbesLimit"] = "2",
        };
        foreach (var (key, value) in _siloSettings)
        {
            merchant[key] = value;
        }
        var silos = Enumerable.Range(0, 2).Select(_ => SiloProcess.StartAsync(new SiloProcessOptions
        {
            RedisConnectionString = _redis.ConnectionString,
            Cluster = _cluster,
            Environment = merchant,
        })).ToList();
        foreach (var silo in silos)
        {
            Silos.Add(await silo);
        }

        _gateway = GatewayHost.Create(["--urls", GatewayUrl, "--environment", "Production"], builder =>
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Redis"] = _redis.ConnectionString,
                ["Orleans:ClusterId"] = _cluster.ClusterId,
                ["Orleans:ServiceId"] = _cluster.ServiceId,
                ["WeChatPay:AppId"] = AppId,
                ["WeChatPay:MchId"] = MchId,
                ["WeChatPay:ApiKey"] = ApiKey,
                ["WeChatPay:BaseUrl"] = Sandbox.BaseAddress.ToString(),
                ["WeChatPay:NotifyUrl"] = GatewayUrl + "/wechatpay/notify",
                ["WeChatPay:RefundNotifyUrl"] = GatewayUrl + "/wechatpay/refund-notify",
                ["WeChat:AppSecret"] = "gateway-notify-tests-secret-000000",
                ["Gateway:PublicBaseUrl"] = GatewayUrl, // required in Production
                ["Logging:LogLevel:Default"] = "Warning",
            }));
        await _gateway.StartAsync();
        Gateway.BaseAddress = new Uri(GatewayUrl);

        _client = await ClusterClientHost.StartAsync(_redis.ConnectionString, _cluster,
            c => c.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10)));
    }

    /// <summary>A campaign, a group whose leader started paying: the attempt a notify can pay.</summary>
    public async Task<(string GroupId, string Leader, PaymentStarted Attempt)> PendingGroupAsync(int groupSize = 3)
    {
        var campaignId = "c" + Guid.NewGuid().ToString("N")[..10];
        await Client.GetGrain<ICampaignGrain>(campaignId).DefineAsync(new CampaignDefinition
        {
            Title = "拼团 · 网关测试",
            SoloPriceFen = 1990,
            GroupPriceFen = 990,
            GroupSize = groupSize,
            Stock = 100,
        });
        var groupId = "g" + Guid.NewGuid().ToString("N")[..12];
        var leader = "o-gw-" + Guid.NewGuid().ToString("N")[..10];
        var group = Client.GetGrain<IOrderGrain>(groupId);
        await group.CreateAsync(new CreateGroup(campaignId, leader, null));
        var attempt = await group.PayAsync(new StartPayment(leader, null, "127.0.0.1", null));
        return (groupId, leader, attempt);
    }

    /// <summary>A payment notify as WeChat sends it for <paramref name="outTradeNo"/>, signed with the merchant key.</summary>
    public static WeChatPayMessage PaymentNotify(string outTradeNo, long totalFee, string openid, string? transactionId = null) =>
        new WeChatPayMessage()
            .Add("appid", AppId)
            .Add("bank_type", "CFT")
            .Add("cash_fee", totalFee)
            .Add("fee_type", "CNY")
            .Add("is_subscribe", "N")
            .Add("mch_id", MchId)
            .Add("nonce_str", WeChatPayNonce.Create())
            .Add("openid", openid)
            .Add("out_trade_no", outTradeNo)
            .Add("result_code", "SUCCESS")
            .Add("return_code", "SUCCESS")
            .Add("time_end", WeChatPayTime.FormatCompact(DateTimeOffset.UtcNow))
            .Add("total_fee", totalFee)
            .Add("trade_type", "JSAPI")
            .Add("transaction_id", transactionId ?? "4200" + Random.Shared.NextInt64(100_000_000_000_000, 999_999_999_999_999));

    public async Task<(System.Net.HttpStatusCode Status, string Body)> PostNotifyAsync(byte[] body, string path = "/wechatpay/notify")
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("text/xml");
        using var response = await Gateway.PostAsync(path, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task<HttpResponseMessage> PayAtCashierAsync(PaymentStarted started, string openid) =>
        SandboxServer.PayAtCashierAsync(Sandbox, started.Jsapi, openid);

    /// <summary>Waits, bounded; reads that fail (the cluster settling after a silo died) are read again.</summary>
    public static Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, int seconds = 30) =>
        Eventually.ValueAsync(read, done, TimeSpan.FromSeconds(seconds), retryFailures: true);

    /// <summary>Kills <paramref name="silo"/> and starts another silo with its settings in its place.</summary>
    public async Task RestartAsync(SiloProcess silo)
    {
        await silo.KillAsync();
        Silos.Remove(silo);
        await silo.DisposeAsync();
        Silos.Add(await SiloProcess.StartAsync(silo.Options with { SiloPort = FreePort.Get(), GatewayPort = FreePort.Get() }));
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _gateway.StopAsync();
        await _gateway.DisposeAsync();
        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }
        await _sandbox.DisposeAsync();
        Gateway.Dispose();
        Sandbox.Dispose();
        await _redis.DisposeAsync();
    }
}
