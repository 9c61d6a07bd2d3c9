using System.Net.Http.Json;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Stats;
using GroupPay.Silo;
using GroupPay.Testing;
using GroupPay.WeChatPay;
using GroupPay.WeChatPay.Notifications;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Reminders;
using Orleans.TestingHost;

namespace GroupPay.Grains.Tests;

/// <summary>
/// Two in-process silos on the real Orleans runtime with Redis-protocol storage and reminders, the sandbox
/// WeChat Pay over loopback HTTP, a notify forwarder standing in for the gateway, and one fake clock that
/// drives the grains and their reminders. Tests share it and use fresh keys.
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    public const string AppId = SandboxServer.AppId;
    public const string MchId = SandboxServer.MchId;
    public const string ApiKey = SandboxServer.ApiKey;
    public const string AppSecret = "grain-tests-app-secret-0000000000";

    private readonly string _serviceId = "grouppay-test-" + Guid.NewGuid().ToString("N")[..8];
    private RedisServer _redis = null!;
    private SandboxServer _sandbox = null!;
    private NotifyForwarder _forwarder = null!;
    private ServiceProvider _merchant = null!;

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    /// <summary>The Redis-protocol server holding grain state and reminders.</summary>
    public string RedisConnectionString => _redis.ConnectionString;

    public HttpClient Sandbox { get; } = new();

    /// <summary>The Redis-protocol server the silos store state and reminders in.</summary>
    public string StoreConnectionString => _redis.ConnectionString;

    public string ServiceId => _serviceId;

    /// <summary>The store the silos' grain storage and reminders use (an outage test gives them one of its own).</summary>
    protected virtual string StoreConnection(string redis) => redis;

    public virtual async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        WeChatPayNotifyParser? parser = null;
        _forwarder = await NotifyForwarder.StartAsync(() => Client, () => parser!);
        _sandbox = await SandboxServer.StartAsync(AppSecret, new Dictionary<string, string?>
        {
            ["Sandbox:TimeScale"] = "0.0005",
            // Where WeChat sends the notifies of refunds made in the merchant console (set in the merchant platform).
            ["Sandbox:RefundNotifyUrl"] = _forwarder.BaseUrl + "/wechatpay/refund-notify",
        });
        Sandbox.BaseAddress = _sandbox.Url;

        _merchant = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(MerchantSettings()).Build())
            .AddWeChatPay()
            .BuildServiceProvider();
        parser = _merchant.GetRequiredService<WeChatPayNotifyParser>();

        Cluster = await StartClusterAsync();
    }

    /// <summary>The merchant's and the silos' settings (a fixture of its own may add to them).</summary>
    protected virtual Dictionary<string, string?> MerchantSettings() => new()
    {
        ["WeChatPay:AppId"] = AppId,
        ["WeChatPay:MchId"] = MchId,
        ["WeChatPay:ApiKey"] = ApiKey,
        ["WeChatPay:BaseUrl"] = Sandbox.BaseAddress!.ToString(),
        ["WeChatPay:NotifyUrl"] = _forwarder.BaseUrl + "/wechatpay/notify",
        ["WeChatPay:RefundNotifyUrl"] = _forwarder.BaseUrl + "/wechatpay/refund-notify",
        ["WeChatPay:RetryDelay"] = "00:00:00",
        ["WeChat:AppSecret"] = AppSecret,
        ["WeChat:ApiBaseUrl"] = Sandbox.BaseAddress!.ToString(),
        ["Stats:FlushInterval"] = "00:00:00.200",
        // Every read of a campaign sums its shares now (tests read the counts right after changing them).
        ["Stock:ViewCache"] = "00:00:00",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    private async Task<InProcessTestCluster> StartClusterAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ServiceId = _serviceId;
        builder.ConfigureSiloHost((_, host) => host.Configuration.AddInMemoryCollection(MerchantSettings()));
        builder.ConfigureSilo((_, silo) =>
        {
            var store = StoreConnection(_redis.ConnectionString);
            silo.UseGroupPayRedis(store);
            var services = silo.Services;
            services.AddSingleton<TimeProvider>(Time);
            services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
            services.AddKeyedSingleton<TimeProvider>(Orleans.Runtime.TimeProviderNames.Grains, Time);
            services.AddKeyedSingleton<TimeProvider>(ReminderTimeProviderNames.Reminders, Time);
            services.AddGroupPayGrainServices();
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>Stops every silo and starts a new cluster on the same storage and reminders.</summary>
    public async Task RestartClusterAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        Cluster = await StartClusterAsync();
    }

    /// <summary>
    /// Moves time for the sandbox (the 5-minute close rule, prepay expiry) and then for the grains, a minute at a
    /// time: Orleans' reminder service re-arms its timers as time passes, so one large jump would fire only the
    /// first of them.
    /// </summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        (await Sandbox.PostAsJsonAsync("/sandbox/clock/advance", new { seconds = (int)Math.Ceiling(by.TotalSeconds) })).EnsureSuccessStatusCode();
        var step = TimeSpan.FromMinutes(1);
        for (var left = by; left > TimeSpan.Zero; left -= step)
        {
            Time.Advance(left < step ? left : step);
            await Task.Delay(30);
        }
        await SyncClocksAsync();
    }

    /// <summary>The sandbox's clock runs on real time (plus what tests advanced it by) while the grains' fake clock
    /// stands still between advances: brings the fake clock up to WeChat's, so time_end and the grains' times agree as
    /// they do in production.</summary>
    public async Task SyncClocksAsync()
    {
        var clock = await Sandbox.GetFromJsonAsync<System.Text.Json.JsonElement>("/sandbox/clock");
        var wechatNow = clock.GetProperty("now").GetDateTimeOffset();
        if (wechatNow > Time.GetUtcNow())
        {
            Time.Advance(wechatNow - Time.GetUtcNow());
        }
    }

    public async Task<string> DefineCampaignAsync(CampaignDefinition? definition = null)
    {
        var id = "c" + Guid.NewGuid().ToString("N")[..10];
        await Client.GetGrain<ICampaignGrain>(id).DefineAsync(definition ?? Campaign());
        return id;
    }

    public static CampaignDefinition Campaign(int groupSize = 3, int stock = 100) => new()
    {
        Title = "拼团测试商品",
        SoloPriceFen = 1990,
        GroupPriceFen = 990,
        GroupSize = groupSize,
        WindowMinutes = 60,
        HoldMinutes = 15,
        Stock = stock,
        PerUserLimit = 1,
        InviterRewardFen = 100,
        RewardFreezeMinutes = 10,
    };

    public static string NewGroupId() => "g" + Guid.NewGuid().ToString("N")[..12];

    public static string NewUser() => "o-test-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The payer confirms the payment in the sandbox cashier (WeixinJSBridge's stand-in).</summary>
    public async Task<HttpResponseMessage> PayAtCashierAsync(PaymentStarted started, string openid)
    {
        await SyncClocksAsync();
        return await SandboxServer.PayAtCashierAsync(Sandbox, started.Jsapi, openid);
    }

    /// <summary>Starts a payment and pays it at the cashier; the notify then flows to the grain.</summary>
    public async Task<PaymentStarted> PayAsync(string groupId, string payer, int? slot = null, string? referralCode = null)
    {
        var started = await Client.GetGrain<IOrderGrain>(groupId).PayAsync(new StartPayment(payer, slot, "127.0.0.1", referralCode));
        (await PayAtCashierAsync(started, payer)).EnsureSuccessStatusCode();
        return started;
    }

    public async Task SetFaultsAsync(object faults) =>
        (await Sandbox.PostAsJsonAsync("/sandbox/faults", faults)).EnsureSuccessStatusCode();

    public async Task ResetFaultsAsync() => (await Sandbox.DeleteAsync("/sandbox/faults")).EnsureSuccessStatusCode();

    public Task<GroupView> GroupAsync(string groupId, string? viewer = null) => Client.GetGrain<IOrderGrain>(groupId).GetAsync(viewer);

    public Task<GrowthStats> StatsAsync(string scope) => Client.GetGrain<IStatsGrain>(0).GetAsync(scope);

    /// <summary>Waits, bounded, for something that happens asynchronously (a notify, a reminder, a flush).</summary>
    public static Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, int seconds = 20) =>
        Eventually.ValueAsync(read, done, TimeSpan.FromSeconds(seconds));

    public virtual async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await _forwarder.DisposeAsync();
        await _merchant.DisposeAsync();
        await _sandbox.DisposeAsync();
        Sandbox.Dispose();
        await _redis.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
