using System.Globalization;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Referrals;
using Orleans.Configuration;
using StackExchange.Redis;

namespace GroupPay.NotifyBench;

/// <summary>A live attempt set up for path 3: its group, <c>out_trade_no</c>, amount and payer.</summary>
internal sealed record Attempt(string GroupId, string CampaignId, string OutTradeNo, long AmountFen, string PayerOpenid);

/// <summary>
/// GroupPay as deployed, every part its own process on 127.0.0.1: the WeChat Pay sandbox, N silos and the gateway,
/// all in Production with their settings in environment variables (as on Kubernetes), against the benchmark's store.
/// The benchmark itself connects as an Orleans client, as internal services do, to set up the attempts.
/// </summary>
internal sealed class GroupPayCluster : IAsyncDisposable
{
    private readonly List<ChildProcess> _silos;
    private readonly ChildProcess _sandbox;
    private readonly ChildProcess _gateway;
    private readonly IHost _client;

    private GroupPayCluster(ChildProcess sandbox, List<ChildProcess> silos, ChildProcess gateway, IHost client, Uri gatewayUri, Uri sandboxUri)
    {
        SandboxUri = sandboxUri;
        _sandbox = sandbox;
        _silos = silos;
        _gateway = gateway;
        _client = client;
        GatewayUri = gatewayUri;
    }

    /// <summary>The gateway's <c>X-Admin-Key</c> in the benchmark.</summary>
    public const string AdminKey = "bench-admin-key-0000000000";

    /// <summary>The cluster's ServiceId: the prefix of every key the grains store in Redis.</summary>
    public const string ServiceId = "grouppay-bench";

    public Uri GatewayUri { get; }

    public Uri SandboxUri { get; }

    /// <summary>The silo processes (their resident memory per active grain).</summary>
    public IReadOnlyList<ChildProcess> Silos => _silos;

    public Uri NotifyUri => new(GatewayUri, "/wechatpay/notify");

    public IClusterClient Client => _client.Services.GetRequiredService<IClusterClient>();

    /// <summary>The processes whose CPU time the report breaks down.</summary>
    public IEnumerable<ChildProcess> Processes => [_gateway, .. _silos, _sandbox];

    /// <summary>Starts the sandbox, <paramref name="siloCount"/> silos and the gateway. <paramref name="siloSettings"/> and
    /// <paramref name="gatewaySettings"/> are added to (and win over) each kind's environment, before the
    /// <c>BENCH_SILO_</c>/<c>BENCH_GATEWAY_</c> variables, which win over everything.</summary>
    public static async Task<GroupPayCluster> StartAsync(
        Layout layout, string redis, int siloCount, string logDir, bool profile, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? siloSettings = null, IReadOnlyDictionary<string, string>? gatewaySettings = null)
    {
        var sandboxPort = FreePort.Get();
        var gatewayPort = FreePort.Get();
        var sandboxUrl = $"http://127.0.0.1:{sandboxPort}";
        var gatewayUrl = $"http://127.0.0.1:{gatewayPort}";
        var clusterId = "bench-" + DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);

        var common = new Dictionary<string, string>
        {
            ["ConnectionStrings__Redis"] = redis,
            ["Orleans__ClusterId"] = clusterId,
            ["Orleans__ServiceId"] = ServiceId,
            ["WeChatPay__AppId"] = Merchant.AppId,
            ["WeChatPay__MchId"] = Merchant.MchId,
            ["WeChatPay__ApiKey"] = Merchant.ApiKey,
            ["WeChatPay__SignType"] = "MD5",
            ["WeChatPay__BaseUrl"] = sandboxUrl,
            ["WeChatPay__NotifyUrl"] = gatewayUrl + "/wechatpay/notify",
            ["WeChatPay__RefundNotifyUrl"] = gatewayUrl + "/wechatpay/refund-notify",
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            ["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled",
        };
        if (profile)
        {
            common[Profiling.PerfMapVariable] = "1";
            // JIT-compiled code in plain anonymous memory (not W^X double-mapped), where perf finds it in the maps.
            common["DOTNET_EnableWriteXorExecute"] = "0";
        }

        var sandbox = ChildProcess.Start("sandbox", "dotnet",
            [layout.SandboxDll, "--urls", sandboxUrl, "--contentRoot", Path.GetDirectoryName(layout.SandboxDll)!],
            Path.Combine(logDir, "sandbox.log"),
            new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["DOTNET_ENVIRONMENT"] = "Development" });

        var silos = new List<ChildProcess>();
        for (var n = 1; n <= siloCount; n++)
        {
            var environment = new Dictionary<string, string>(common)
            {
                ["DOTNET_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                // Production against the sandbox, said so explicitly (docs/api.md §2).
                ["WeChatPay__AllowSandbox"] = "true",
                ["Orleans__SiloPort"] = FreePort.Get().ToString(CultureInfo.InvariantCulture),
                ["Orleans__GatewayPort"] = FreePort.Get().ToString(CultureInfo.InvariantCulture),
                // Every attempt gets its notify within the run: no orderquery reconciliation sweeps mid-measurement.
                ["Orders__ReconcileAfter"] = "01:00:00",
            };
            foreach (var (key, value) in GcPauseLog.Variables(Path.Combine(logDir, $"gc-silo{n}.csv")))
            {
                environment[key] = value;
            }
            foreach (var (key, value) in siloSettings ?? new Dictionary<string, string>())
            {
                environment[key] = value;
            }
            foreach (var (key, value) in Passed("BENCH_SILO_"))
            {
                environment[key] = value;
            }
            silos.Add(ChildProcess.Start($"silo {n}", "dotnet", [layout.SiloDll], Path.Combine(logDir, $"silo{n}.log"), environment,
                workingDirectory: Path.GetDirectoryName(layout.SiloDll)));
        }

        var gatewayEnvironment = new Dictionary<string, string>(common)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["WeChat__AppSecret"] = Merchant.AppSecret,
            ["WeChat__OAuthBaseUrl"] = sandboxUrl,
            ["WeChat__ApiBaseUrl"] = sandboxUrl,
            ["Gateway__PublicBaseUrl"] = gatewayUrl,
            ["Gateway__AdminKey"] = AdminKey,
            // Plain http on loopback: a Secure cookie would never come back.
            ["Gateway__SecureCookies"] = "false",
        };
        foreach (var (key, value) in GcPauseLog.Variables(Path.Combine(logDir, "gc-gateway.csv")))
        {
            gatewayEnvironment[key] = value;
        }
        foreach (var (key, value) in gatewaySettings ?? new Dictionary<string, string>())
        {
            gatewayEnvironment[key] = value;
        }
        foreach (var (key, value) in Passed("BENCH_GATEWAY_"))
        {
            gatewayEnvironment[key] = value;
        }

        IHost? client = null;
        ChildProcess? gateway = null;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await sandbox.WaitUntilAsync(async () => (await http.GetAsync(new Uri(sandboxUrl + "/sandbox/health"), cancellationToken)).IsSuccessStatusCode,
                "/sandbox/health answering", TimeSpan.FromSeconds(90), cancellationToken);
            foreach (var silo in silos)
            {
                await silo.WaitForLogAsync("GroupPay silo started", TimeSpan.FromSeconds(120), cancellationToken);
            }
            gateway = ChildProcess.Start("gateway", "dotnet",
                [layout.GatewayDll, "--urls", gatewayUrl, "--contentRoot", Path.GetDirectoryName(layout.GatewayDll)!],
                Path.Combine(logDir, "gateway.log"), gatewayEnvironment);
            await gateway.WaitUntilAsync(async () => (await http.GetAsync(new Uri(gatewayUrl + "/health/ready"), cancellationToken)).IsSuccessStatusCode,
                "/health/ready answering 200", TimeSpan.FromSeconds(120), cancellationToken);

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.UseOrleansClient(c =>
            {
                c.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
                c.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = ServiceId;
                });
            });
            client = builder.Build();
            await client.StartAsync(cancellationToken);
            return new GroupPayCluster(sandbox, silos, gateway, client, new Uri(gatewayUrl), new Uri(sandboxUrl));
        }
        catch
        {
            client?.Dispose();
            if (gateway is not null)
            {
                await gateway.DisposeAsync();
            }
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
            await sandbox.DisposeAsync();
            throw;
        }
    }

    /// <summary>Variables named <paramref name="prefix"/>X in this process's environment, as X (runtime or host settings
    /// for one kind of process, e.g. <c>BENCH_SILO_DOTNET_GCgen0size</c>).</summary>
    private static IEnumerable<(string Key, string Value)> Passed(string prefix) =>
        Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k.Length > prefix.Length)
            .Select(k => (k[prefix.Length..], Environment.GetEnvironmentVariable(k)!));

    /// <summary>
    /// <paramref name="count"/> groups, each with its leader's payment attempt live (CreateAsync, the gateway's calls
    /// to the leader's referral grain, then PayAsync: unifiedorder at the sandbox), spread over campaigns of <paramref name="perCampaign"/> groups.
    /// </summary>
    public async Task<Attempt[]> CreateAttemptsAsync(string tag, int count, int perCampaign, int concurrency, CancellationToken cancellationToken)
    {
        var campaigns = (count + perCampaign - 1) / perCampaign;
        await Parallel.ForEachAsync(Enumerable.Range(0, campaigns), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (c, _) => await Client.GetGrain<ICampaignGrain>(CampaignId(tag, c)).DefineAsync(new CampaignDefinition
            {
                Title = "Benchmark offer",
                SoloPriceFen = 1999,
                GroupPriceFen = 990,
                GroupSize = 2,
                WindowMinutes = 1440,
                HoldMinutes = 120,
                Stock = perCampaign,
                PerUserLimit = 1,
            }));

        var attempts = new Attempt[count];
        var done = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var groupId = "b" + tag + i.ToString("x6", CultureInfo.InvariantCulture);
                // Round-robin: concurrent calls (and, later, consecutive notifies) go to different campaign grains.
                var campaignId = CampaignId(tag, i % campaigns);
                var openid = $"o-bench-{tag}-{i}";
                var order = Client.GetGrain<IOrderGrain>(groupId);
                await order.CreateAsync(new CreateGroup(campaignId, openid, null));
                // What the gateway's POST /api/groups does next: the group goes on the leader's list (their referral
                // grain, written), then their share code is read.
                var leader = Client.GetGrain<IReferralGrain>(openid);
                await leader.RecordGroupAsync(groupId);
                await leader.GetProfileAsync(ct);
                var started = await order.PayAsync(new StartPayment(openid, null, "127.0.0.1", null));
                attempts[i] = new Attempt(groupId, campaignId, started.OutTradeNo, started.AmountFen, openid);
                var n = Interlocked.Increment(ref done);
                if (n % 5000 == 0)
                {
                    Console.WriteLine($"    {n} attempts live");
                }
            });
        return attempts;
    }

    /// <summary>Of <paramref name="payers"/>, those whose referral grain has not yet recorded their payment (the
    /// RecordLeaderPayer effect, run after the notify was answered): when none are left, the work behind the answers
    /// has caught up.</summary>
    public async Task<List<string>> PaymentsNotRecordedAsync(IReadOnlyList<string> payers, CancellationToken cancellationToken)
    {
        var missing = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(payers, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (openid, ct) =>
        {
            if (!(await Client.GetGrain<IReferralGrain>(openid).GetProfileAsync(ct)).HasPaid)
            {
                missing.Add(openid);
            }
        });
        return [.. missing];
    }

    /// <summary>How many of the groups are open with exactly one paid slot (what one applied notify does).</summary>
    public async Task<int> CountOpenAsync(IReadOnlyList<Attempt> attempts, CancellationToken cancellationToken)
    {
        var open = 0;
        await Parallel.ForEachAsync(attempts, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (a, ct) =>
        {
            var view = await Client.GetGrain<IOrderGrain>(a.GroupId).GetAsync(null, ct);
            if (view is { Status: GroupStatus.Open, PaidCount: 1 })
            {
                Interlocked.Increment(ref open);
            }
        });
        return open;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _client.StopAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or OrleansException)
        {
            // stopping anyway
        }
        _client.Dispose();
        await _gateway.DisposeAsync();
        foreach (var silo in Enumerable.Reverse(_silos))
        {
            await silo.DisposeAsync();
        }
        await _sandbox.DisposeAsync();
    }

    private static string CampaignId(string tag, int n) => $"bench-{tag}-{n}";
}
