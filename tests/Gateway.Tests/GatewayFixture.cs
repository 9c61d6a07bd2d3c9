using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using GroupPay.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace GroupPay.Gateway.Tests;

/// <summary>
/// The gateway as it runs, every part real and local: two silo processes clustered through a Redis-protocol server,
/// the sandbox WeChat Pay + OAuth in this process on a loopback port, and the gateway (<see cref="GatewayHost"/>) on a
/// loopback port, where the sandbox delivers its notifies. Users sign in through the sandbox's OAuth pages, as a
/// browser would. More gateway instances (other settings, same cluster and Redis) start on demand.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string AppId = "wx2421b1c4370ec43b";
    public const string MchId = "10000100";
    public const string ApiKey = "192006250b4c09247ec02edce69f6a2d";
    public const string AppSecret = "gateway-tests-app-secret-00000000";
    public const string AdminKey = "gateway-tests-admin-key-000000";

    private static readonly string ContentRoot = typeof(GatewayFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "GroupPay.GatewayContentRoot").Value!;

    private readonly ClusterIdentity _cluster = ClusterIdentity.Unique("gateway-api");
    private readonly List<WebApplication> _gateways = [];
    private RedisServer _redis = null!;
    private SandboxServer _sandbox = null!;
    private ClusterClientHost _grains = null!;

    public List<SiloProcess> Silos { get; } = [];

    /// <summary>Where the silos (and gateways started with its settings) export traces.</summary>
    public OtlpCollector Collector { get; private set; } = null!;

    public Uri GatewayUrl { get; private set; } = null!;

    /// <summary>An Orleans client on the cluster, as an internal service (or a grain) calls it: raises operator items.</summary>
    public IClusterClient Grains => _grains.Client;

    public Uri SandboxUrl { get; private set; } = null!;

    public HttpClient Sandbox { get; } = new();

    /// <summary>Anonymous calls to the main gateway, no cookies kept.</summary>
    public HttpClient Anonymous { get; } = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        Collector = await OtlpCollector.StartAsync();
        _sandbox = await SandboxServer.StartAsync(AppSecret);
        SandboxUrl = _sandbox.Url;
        Sandbox.BaseAddress = SandboxUrl;

        // The main gateway's port is chosen first: the silos need its notify URL when they start.
        GatewayUrl = new Uri($"http://127.0.0.1:{FreePort.Get()}");
        var silos = Enumerable.Range(0, 2).Select(_ => SiloProcess.StartAsync(new SiloProcessOptions
        {
            RedisConnectionString = _redis.ConnectionString,
            Cluster = _cluster,
            Environment = new Dictionary<string, string?>(Collector.ExporterSettings)
            {
                ["WeChatPay__BaseUrl"] = SandboxUrl.ToString(),
                ["WeChatPay__NotifyUrl"] = new Uri(GatewayUrl, "/wechatpay/notify").ToString(),
                ["WeChatPay__RefundNotifyUrl"] = new Uri(GatewayUrl, "/wechatpay/refund-notify").ToString(),
                ["WeChatPay__RetryDelay"] = "00:00:00",
                ["WeChat__AppSecret"] = AppSecret,
                ["WeChat__ApiBaseUrl"] = SandboxUrl.ToString(),
                ["Stats__FlushInterval"] = "00:00:00.200",
                // Small enough for a test to reach (GroupApiTests).
                ["Orders__MaxAttemptsPerSlot"] = "4",
            },
        })).ToList();
        foreach (var silo in silos)
        {
            Silos.Add(await silo);
        }
        _grains = await ClusterClientHost.StartAsync(_redis.ConnectionString, _cluster);
        await StartGatewayAsync(GatewayUrl, new Dictionary<string, string?>());
        Anonymous.BaseAddress = GatewayUrl;
    }

    /// <summary>Another gateway instance on the same cluster and Redis (so the same data-protection key ring), with
    /// <paramref name="overrides"/> on top of the main gateway's settings (a null value unsets a key).</summary>
    public Task<Uri> StartGatewayAsync(IReadOnlyDictionary<string, string?> overrides, string environment = "Production") =>
        StartGatewayAsync(new Uri($"http://127.0.0.1:{FreePort.Get()}"), overrides, environment);

    /// <summary>The main gateway's services (its endpoints, options) as the running app has them.</summary>
    public IServiceProvider GatewayServices => _gateways[0].Services;

    /// <summary>The cluster the silos form, for an Orleans client the test builds itself (<c>AddGroupPayClient</c>).</summary>
    public IReadOnlyDictionary<string, string?> ClusterSettings => new Dictionary<string, string?>
    {
        ["ConnectionStrings:Redis"] = _redis.ConnectionString,
        ["Orleans:ClusterId"] = _cluster.ClusterId,
        ["Orleans:ServiceId"] = _cluster.ServiceId,
    };

    private async Task<Uri> StartGatewayAsync(Uri url, IReadOnlyDictionary<string, string?> overrides, string environment = "Production")
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = _redis.ConnectionString,
            ["Orleans:ClusterId"] = _cluster.ClusterId,
            ["Orleans:ServiceId"] = _cluster.ServiceId,
            ["WeChatPay:AppId"] = AppId,
            ["WeChatPay:MchId"] = MchId,
            ["WeChatPay:ApiKey"] = ApiKey,
            ["WeChatPay:BaseUrl"] = SandboxUrl.ToString(),
            ["WeChatPay:NotifyUrl"] = new Uri(GatewayUrl, "/wechatpay/notify").ToString(),
            ["WeChatPay:RefundNotifyUrl"] = new Uri(GatewayUrl, "/wechatpay/refund-notify").ToString(),
            ["WeChat:AppSecret"] = AppSecret,
            ["WeChat:OAuthBaseUrl"] = SandboxUrl.ToString(),
            ["WeChat:ApiBaseUrl"] = SandboxUrl.ToString(),
            ["Gateway:AdminKey"] = AdminKey,
            ["Gateway:StatsFlushInterval"] = "00:00:00.200",
            ["Gateway:RateLimit:PerUser"] = "100000",
            ["Gateway:RateLimit:PerIp"] = "100000",
            ["Gateway:RateLimit:AdminPerIp"] = "100000",
            ["Gateway:EventStreams:PerUser"] = "100000",
            ["Gateway:EventStreams:PerIp"] = "100000",
            // Required in Production; each instance is its own site.
            ["Gateway:PublicBaseUrl"] = url.ToString().TrimEnd('/'),
            // The tests' clients speak plain http, where .NET's CookieContainer never sends a Secure cookie
            // (FrontDoorTests checks the cookies are Secure with this unset).
            ["Gateway:SecureCookies"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }
        var address = url.ToString().TrimEnd('/');
        var gateway = GatewayHost.Create(["--urls", address, "--environment", environment, "--contentRoot", ContentRoot], builder =>
            builder.Configuration.AddInMemoryCollection(settings));
        _gateways.Add(gateway);
        await gateway.StartAsync();
        return url;
    }

    public static string NewUser() => "o-gw-" + Guid.NewGuid().ToString("N")[..12];

    public Browser NewBrowser(Uri? gateway = null) => new(gateway ?? GatewayUrl);

    /// <summary>Signs a new browser in through the sandbox's OAuth pages: login → authorize/confirm → callback.</summary>
    public async Task<Browser> SignInAsync(string? openid = null, Uri? gateway = null)
    {
        var browser = NewBrowser(gateway);
        browser.Openid = openid ?? NewUser();
        using var callback = await browser.AuthorizeAsync("/", browser.Openid);
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/", callback.Headers.Location?.OriginalString);
        return browser;
    }

    /// <summary>Defines a campaign through the admin API; its id.</summary>
    public async Task<string> DefineCampaignAsync(int groupSize = 3, long inviterRewardFen = 100, int stock = 100, int perUserLimit = 1)
    {
        var campaignId = "c" + Guid.NewGuid().ToString("N")[..10];
        using var request = AdminRequest(HttpMethod.Put, $"/admin/campaigns/{campaignId}", Campaign(groupSize, inviterRewardFen, stock, perUserLimit));
        using var response = await Anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return campaignId;
    }

    public static object Campaign(int groupSize = 3, long inviterRewardFen = 100, int stock = 100, int perUserLimit = 1) => new
    {
        title = "拼团 · 网关测试",
        soloPriceFen = 1990,
        groupPriceFen = 990,
        groupSize,
        windowMinutes = 60,
        holdMinutes = 15,
        stock,
        perUserLimit,
        inviterRewardFen,
        rewardFreezeMinutes = 10,
        virtualFill = false,
    };

    public static HttpRequestMessage AdminRequest(HttpMethod method, string path, object? body = null, string? key = AdminKey)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Add("X-Admin-Key", key);
        }
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        return request;
    }

    /// <summary>The payer confirms in the sandbox cashier (WeixinJSBridge's stand-in); the notify then reaches the gateway.</summary>
    public async Task PayAtCashierAsync(JsonElement payment, string openid)
    {
        using var response = await SandboxServer.PayAtCashierAsync(Sandbox, payment.GetProperty("jsapi"), openid);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Waits, bounded, for something that happens asynchronously (a notify, a stats flush).</summary>
    public static Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, int seconds = 30) =>
        Eventually.ValueAsync(read, done, TimeSpan.FromSeconds(seconds));

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.StopAsync();
            await gateway.DisposeAsync();
        }
        await _grains.DisposeAsync();
        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }
        await _sandbox.DisposeAsync();
        Sandbox.Dispose();
        Anonymous.Dispose();
        await Collector.DisposeAsync();
        await _redis.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}
