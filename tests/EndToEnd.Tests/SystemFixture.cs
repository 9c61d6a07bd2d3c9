using System.Globalization;
using GroupPay.Testing;

namespace GroupPay.EndToEnd.Tests;

/// <summary>
/// The whole system as separate processes on loopback, as the one-command run wires it: a Redis-protocol server,
/// the sandbox WeChat Pay (merchant API, OAuth, cashier, notifies), two silos and a gateway.
/// </summary>
public sealed class SystemFixture : IAsyncLifetime
{
    public const string AdminKey = "e2e-admin-key-0123456789";
    public const string AppSecret = "e2e-app-secret-0123456789abcdef";

    private static readonly Dictionary<string, string?> Merchant = new()
    {
        ["WeChatPay__AppId"] = "wx2421b1c4370ec43b",
        ["WeChatPay__MchId"] = "10000100",
        ["WeChatPay__ApiKey"] = "192006250b4c09247ec02edce69f6a2d",
        ["WeChatPay__SignType"] = "MD5",
    };

    private readonly ClusterIdentity _cluster = ClusterIdentity.Unique("e2e");
    private RedisServer _redis = null!;

    public ChildProcess SandboxProcess { get; private set; } = null!;

    public ChildProcess GatewayProcess { get; private set; } = null!;

    public List<SiloProcess> Silos { get; } = [];

    public Uri SandboxUrl { get; } = Loopback(FreePort.Get());

    public Uri GatewayUrl { get; } = Loopback(FreePort.Get());

    /// <summary>The store of the cluster (for an Orleans client of the test's own).</summary>
    public string RedisConnectionString => _redis.ConnectionString;

    public ClusterIdentity Cluster => _cluster;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();

        SandboxProcess = ChildProcess.Start("sandbox", BuiltAssemblies.Sandbox, ["--urls", SandboxUrl.ToString()], With(Merchant, new()
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["WeChat__AppSecret"] = AppSecret,
            ["Sandbox__TimeScale"] = "0.001",
            ["Sandbox__RefundSettleDelay"] = "00:00:00.500",
            ["Sandbox__RefundNotifyUrl"] = new Uri(GatewayUrl, "/wechatpay/refund-notify").ToString(),
        }));
        await SandboxProcess.WaitForHttpAsync(new Uri(SandboxUrl, "/sandbox/health"), TimeSpan.FromSeconds(60));

        var weChat = With(Merchant, new()
        {
            ["WeChatPay__BaseUrl"] = SandboxUrl.ToString(),
            ["WeChatPay__NotifyUrl"] = new Uri(GatewayUrl, "/wechatpay/notify").ToString(),
            ["WeChatPay__RefundNotifyUrl"] = new Uri(GatewayUrl, "/wechatpay/refund-notify").ToString(),
            ["WeChat__AppSecret"] = AppSecret,
            ["WeChat__ApiBaseUrl"] = SandboxUrl.ToString(),
        });
        var silos = Enumerable.Range(0, 2).Select(_ => SiloProcess.StartAsync(new SiloProcessOptions
        {
            RedisConnectionString = _redis.ConnectionString,
            Cluster = _cluster,
            // The shipped failure detection (docs/availability.md): a killed silo is declared dead within seconds.
            Environment = With(weChat, new()
            {
                ["Stats__FlushInterval"] = "00:00:00.500",
            }),
        })).ToList();
        foreach (var silo in silos)
        {
            Silos.Add(await silo);
        }

        // The project folder is the content root, as ./run.sh has it: the H5 page's wwwroot lives there.
        var gatewayContentRoot = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(BuiltAssemblies.Gateway)!, "..", "..", ".."));
        GatewayProcess = ChildProcess.Start("gateway", BuiltAssemblies.Gateway, ["--urls", GatewayUrl.ToString(), "--contentRoot", gatewayContentRoot], With(weChat, new()
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Redis"] = _redis.ConnectionString,
            ["Orleans__ClusterId"] = _cluster.ClusterId,
            ["Orleans__ServiceId"] = _cluster.ServiceId,
            ["WeChat__AppSecret"] = AppSecret,
            ["WeChat__OAuthBaseUrl"] = SandboxUrl.ToString(),
            ["WeChat__ApiBaseUrl"] = SandboxUrl.ToString(),
            ["Gateway__PublicBaseUrl"] = GatewayUrl.ToString(),
            // Plain http on loopback: the test clients' cookie jars never send a Secure cookie back.
            ["Gateway__SecureCookies"] = "false",
            ["Gateway__AdminKey"] = AdminKey,
            ["Gateway__RateLimit__PerUser"] = "1000",
            ["Gateway__RateLimit__PerIp"] = "10000",
            ["Gateway__StatsFlushInterval"] = "00:00:00.500",
        }));
        await GatewayProcess.WaitForHttpAsync(new Uri(GatewayUrl, "/health/ready"), TimeSpan.FromSeconds(90));
    }

    public Browser NewBrowser() => new(GatewayUrl, SandboxUrl);

    private static Uri Loopback(int port) => new($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");

    private static Dictionary<string, string?> With(Dictionary<string, string?> a, Dictionary<string, string?> b)
    {
        var all = new Dictionary<string, string?>(a);
        foreach (var (key, value) in b)
        {
            all[key] = value;
        }
        return all;
    }

    public async Task DisposeAsync()
    {
        await GatewayProcess.DisposeAsync();
        foreach (var silo in Silos)
        {
            await silo.DisposeAsync();
        }
        await SandboxProcess.DisposeAsync();
        await _redis.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<SystemFixture>
{
    public const string Name = "system";
}
