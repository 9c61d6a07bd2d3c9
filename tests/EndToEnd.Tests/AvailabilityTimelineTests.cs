using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using GroupPay.Testing;
using GroupPay.WeChatPay.Protocol;
using Xunit.Abstractions;

namespace GroupPay.EndToEnd.Tests;

/// <summary>A test that runs only when <c>GROUPPAY_CHAOS=1</c> (minutes long; it also measures, so it is left out of the
/// default run, where no timing is ever asserted).</summary>
public sealed class AvailabilityFactAttribute : FactAttribute
{
    public const string Variable = "GROUPPAY_CHAOS";

    public AvailabilityFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
        {
            Skip = $"availability timeline: set {Variable}=1 (about three minutes)";
        }
    }
}

/// <summary>
/// Issue 11's availability targets, measured on the shipped settings (docs/availability.md): two silos and a gateway as
/// real processes; a signed-in H5 read, a pay and a signed notify every 200 ms through the gateway. Then a silo is
/// SIGKILLed (reads succeed again within 3 s, no read longer than 5 s), a silo is frozen with SIGSTOP (within 20 s,
/// no read longer than 5 s), and every silo is killed and one started again (serving within 20 s of its start). Pays
/// and notifies are bounded by the gateway's response timeout, which is above a pay's WeChat budget (<see cref="PayBound"/>).
/// Each phase's timeline is written to the test output.
/// </summary>
public sealed class AvailabilityTimelineTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(5);

    /// <summary>Gateway:Cluster:ResponseTimeout's default (12 s, GatewayClusterOptions) and up to 2 s of Orleans'
    /// response-timeout timer slack (docs/availability.md).</summary>
    private static readonly TimeSpan PayBound = TimeSpan.FromSeconds(12 + 2);
    private readonly SystemFixture _system = new();
    private ClusterClientHost _client = null!;

    public async Task InitializeAsync()
    {
        await _system.InitializeAsync();
        _client = await ClusterClientHost.StartAsync(_system.RedisConnectionString, _system.Cluster);
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _system.DisposeAsync();
    }

    [AvailabilityFact]
    public async Task ReadsRecoverWithinTheTargetsAndNoRequestHangs()
    {
        var campaignId = "avail" + Guid.NewGuid().ToString("N")[..8];
        using var admin = _system.NewBrowser();
        var (defined, _) = await admin.PutJsonAsync($"/admin/campaigns/{campaignId}", new
        {
            title = "拼团 · availability", soloPriceFen = 1990, groupPriceFen = 990, groupSize = 2, windowMinutes = 60,
            holdMinutes = 15, stock = 1000, perUserLimit = 1, inviterRewardFen = 0, rewardFreezeMinutes = 10, virtualFill = false,
        }, SystemFixture.AdminKey);
        Assert.Equal(HttpStatusCode.OK, defined);

        // Group A: read and notified (its leader's payment, applied once, then repeated as WeChat repeats). Group B: paid
        // (the same live attempt, asked for again and again).
        using var reader = _system.NewBrowser();
        await reader.SignInAsync("o-avail-reader-" + Guid.NewGuid().ToString("N")[..8]);
        var groupA = await CreateGroupAsync(reader, campaignId);
        var attempt = await reader.StartPaymentAsync(groupA);
        var notify = Notify(attempt.GetProperty("outTradeNo").GetString()!, attempt.GetProperty("amountFen").GetInt64(), reader.Openid!);
        using var payer = _system.NewBrowser();
        await payer.SignInAsync("o-avail-payer-" + Guid.NewGuid().ToString("N")[..8]);
        var groupB = await CreateGroupAsync(payer, campaignId);

        using var http = new HttpClient { BaseAddress = _system.GatewayUrl, Timeout = TimeSpan.FromSeconds(60) };
        await using var load = new Load(
            read: () => reader.SendAsync(HttpMethod.Get, $"/api/groups/{groupA}"),
            pay: () => payer.SendAsync(HttpMethod.Post, $"/api/groups/{groupB}/pay"),
            notify: async () =>
            {
                using var content = new ByteArrayContent(notify) { Headers = { ContentType = new("text/xml") } };
                using var response = await http.PostAsync("/wechatpay/notify", content);
                var body = await response.Content.ReadAsStringAsync();
                return response.StatusCode == HttpStatusCode.OK && body.Contains("<return_code><![CDATA[SUCCESS]]></return_code>", StringComparison.Ordinal)
                    ? 200
                    : body.Contains("FAIL", StringComparison.Ordinal) ? 599 : (int)response.StatusCode;
            });
        await load.SteadyAsync(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60));
        var report = new StringBuilder();

        // 1. SIGKILL the silo that hosts group A.
        var victim = await HostOfAsync(groupA);
        var killed = load.Mark();
        await victim.KillAsync();
        await load.SteadyAsync(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60));
        var kill = load.Timeline("SIGKILL of the silo hosting the group", killed);
        report.AppendLine(kill.ToString());
        await ReplaceAsync(victim);
        await load.SteadyAsync(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60));

        // 2. SIGSTOP the silo that hosts group A (a hung host: no TCP reset).
        victim = await HostOfAsync(groupA);
        var frozen = load.Mark();
        await victim.FreezeAsync();
        await load.SteadyAsync(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(90));
        var freeze = load.Timeline("SIGSTOP of the silo hosting the group", frozen);
        report.AppendLine(freeze.ToString());
        await victim.KillAsync();
        await ReplaceAsync(victim);
        await load.SteadyAsync(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(60));

        // 3. Every silo crashes at once; one starts again at once.
        var silos = _system.Silos.ToList();
        foreach (var silo in silos)
        {
            await silo.KillAsync();
        }
        var starting = load.Mark();
        var first = Stopwatch.StartNew();
        var restarted = await SiloProcess.StartAsync(silos[0].Options with { SiloPort = FreePort.Get(), GatewayPort = FreePort.Get() });
        var joined = first.Elapsed;
        foreach (var silo in silos)
        {
            _system.Silos.Remove(silo);
            await silo.DisposeAsync();
        }
        _system.Silos.Add(restarted);
        await load.SteadyAsync(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(120));
        var crash = load.Timeline("full-cluster crash, one silo started again at once", starting);
        report.AppendLine(crash.ToString());
        report.AppendLine(CultureInfo.InvariantCulture, $"  the restarted silo logged '{Silo.SiloHost.StartedMessage}' {joined.TotalSeconds:F1} s after its start");
        output.WriteLine(report.ToString());

        // The targets (issue 11), as outcomes of the timelines.
        Assert.True(kill.ReadsBackAfter <= TimeSpan.FromSeconds(3), report.ToString());
        Assert.True(kill.LongestRead <= Hang, report.ToString());
        Assert.True(kill.Longest <= PayBound, report.ToString());
        Assert.True(freeze.ReadsBackAfter <= TimeSpan.FromSeconds(20), report.ToString());
        Assert.True(freeze.LongestRead <= Hang, report.ToString());
        Assert.True(freeze.Longest <= PayBound, report.ToString());
        Assert.True(crash.ReadsBackAfter <= TimeSpan.FromSeconds(20), report.ToString());
        Assert.Equal(0, kill.Other + freeze.Other + crash.Other);
    }

    private static async Task<string> CreateGroupAsync(Browser leader, string campaignId)
    {
        var (status, group) = await leader.PostJsonAsync("/api/groups", new { campaignId });
        Assert.True(status == HttpStatusCode.Created, $"create: {(int)status} {group}");
        return group.GetProperty("groupId").GetString()!;
    }

    private async Task<SiloProcess> HostOfAsync(string groupId)
    {
        var group = _client.Client.GetGrain<Grains.Orders.IOrderGrain>(groupId);
        var address = await Eventually.ValueAsync(
            async () =>
            {
                await group.GetAsync(null);
                return await _client.Client.GetGrain<IManagementGrain>(0).GetActivationAddress(group);
            },
            a => a is not null && _system.Silos.Any(s => s.Options.SiloPort == a.Endpoint.Port),
            TimeSpan.FromSeconds(30),
            retryFailures: true);
        return _system.Silos.Single(s => s.Options.SiloPort == address!.Endpoint.Port);
    }

    /// <summary>Takes <paramref name="gone"/> out of the cluster's list and starts a silo with its settings on new ports.</summary>
    private async Task ReplaceAsync(SiloProcess gone)
    {
        _system.Silos.Remove(gone);
        await gone.DisposeAsync();
        _system.Silos.Add(await SiloProcess.StartAsync(gone.Options with { SiloPort = FreePort.Get(), GatewayPort = FreePort.Get() }));
    }

    private static byte[] Notify(string outTradeNo, long totalFee, string openid) =>
        WeChatPayXml.SerializeToUtf8(new WeChatPayMessage()
            .Add("appid", "wx2421b1c4370ec43b")
            .Add("bank_type", "CFT")
            .Add("cash_fee", totalFee)
            .Add("fee_type", "CNY")
            .Add("is_subscribe", "N")
            .Add("mch_id", "10000100")
            .Add("nonce_str", WeChatPayNonce.Create())
            .Add("openid", openid)
            .Add("out_trade_no", outTradeNo)
            .Add("result_code", "SUCCESS")
            .Add("return_code", "SUCCESS")
            .Add("time_end", WeChatPayTime.FormatCompact(DateTimeOffset.UtcNow))
            .Add("total_fee", totalFee)
            .Add("trade_type", "JSAPI")
            .Add("transaction_id", "4200" + Random.Shared.NextInt64(100_000_000_000_000, 999_999_999_999_999))
            .SignWith("192006250b4c09247ec02edce69f6a2d", WeChatPaySignType.Md5));

    /// <summary>One read, one pay and one notify started every <see cref="Tick"/>, whether or not the earlier ones have
    /// answered (a hung request hides nothing); every request recorded with its start, and its duration and status
    /// once answered.</summary>
    private sealed class Load : IAsyncDisposable
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly ConcurrentQueue<Request> _requests = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _driver;

        public Load(Func<Task<int>> read, Func<Task<int>> pay, Func<Task<int>> notify)
        {
            _driver = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(Tick);
                try
                {
                    while (await timer.WaitForNextTickAsync(_stop.Token))
                    {
                        Start("read", read);
                        Start("pay", pay);
                        Start("notify", notify);
                    }
                }
                catch (OperationCanceledException)
                {
                    // stopped
                }
            });
        }

        public TimeSpan Mark() => _clock.Elapsed;

        /// <summary>Waits until the reads started over a <paramref name="window"/> (after now) that ended a second ago
        /// all answered 200.</summary>
        public async Task SteadyAsync(TimeSpan window, TimeSpan timeout)
        {
            var since = _clock.Elapsed;
            var until = since + timeout;
            while (_clock.Elapsed < until)
            {
                await Task.Delay(Tick);
                var to = _clock.Elapsed - TimeSpan.FromSeconds(1);
                var recent = _requests.Where(r => r.Kind == "read" && r.Start >= since && r.Start > to - window && r.Start <= to).ToList();
                if (recent.Count >= window / Tick / 2 && recent.All(r => r.Status == 200))
                {
                    return;
                }
            }
            throw new TimeoutException($"reads did not settle within {timeout}:\n{string.Join('\n', _requests.TakeLast(45))}");
        }

        public Timeline Timeline(string name, TimeSpan from)
        {
            // Requests in flight at the event count too: those are the ones that used to hang.
            var after = _requests.Where(r => r.Start >= from - Hang && r.Status is not null).OrderBy(r => r.Start).ToList();
            var reads = after.Where(r => r.Kind == "read" && r.Start >= from).ToList();
            var lastFailed = reads.LastOrDefault(r => r.Status != 200);
            var back = lastFailed is null ? from : reads.FirstOrDefault(r => r.Start > lastFailed.Start)?.Start ?? _clock.Elapsed;
            return new Timeline(
                name,
                ReadsBackAfter: back - from,
                Longest: after.Max(r => r.Duration),
                LongestRead: after.Where(r => r.Kind == "read").Select(r => r.Duration).DefaultIfEmpty(TimeSpan.Zero).Max(),
                Counts: [.. after.Where(r => r.Start >= from).GroupBy(r => (r.Kind, r.Status!.Value)).OrderBy(g => g.Key).Select(g => $"{g.Key.Kind} {Name(g.Key.Value)}: {g.Count()}")],
                LongestByKind: [.. after.GroupBy(r => r.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Max(r => r.Duration).TotalSeconds:F2} s")],
                FirstFailure: after.Where(r => r.Start >= from && r.Status != 200).Select(r => r.Start - from).DefaultIfEmpty(TimeSpan.Zero).Min(),
                Other: after.Count(r => r.Start >= from && r.Status is not (200 or 503 or 599)));
        }

        private static string Name(int status) => status switch
        {
            200 => "ok",
            503 => "503 unavailable",
            599 => "FAIL",
            0 => "no answer",
            _ => status.ToString(CultureInfo.InvariantCulture),
        };

        private void Start(string kind, Func<Task<int>> send)
        {
            var request = new Request(kind, _clock.Elapsed);
            _requests.Enqueue(request);
            request.Task = Task.Run(async () =>
            {
                int status;
                try
                {
                    status = await send();
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    status = 0;
                }
                request.Duration = _clock.Elapsed - request.Start;
                request.Status = status;
            });
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _driver;
            await Task.WhenAll(_requests.Select(r => r.Task).OfType<Task>());
            _stop.Dispose();
        }
    }

    private sealed class Request(string kind, TimeSpan start)
    {
        public string Kind { get; } = kind;

        public TimeSpan Start { get; } = start;

        public TimeSpan Duration { get; set; }

        public int? Status { get; set; }

        public Task? Task { get; set; }

        public override string ToString() => $"{Start.TotalSeconds,7:F2} s {Kind,-6} {Status?.ToString(CultureInfo.InvariantCulture) ?? "…"} in {Duration.TotalSeconds:F2} s";
    }

    private sealed record Timeline(string Name, TimeSpan ReadsBackAfter, TimeSpan Longest, TimeSpan LongestRead, List<string> Counts, List<string> LongestByKind, TimeSpan FirstFailure, int Other)
    {
        public override string ToString() =>
            $"{Name}: H5 reads succeed again {ReadsBackAfter.TotalSeconds:F1} s after it (first failure at {FirstFailure.TotalSeconds:+0.0;-0.0} s); " +
            $"longest request {Longest.TotalSeconds:F2} s ({string.Join(", ", LongestByKind)}); from then on: {string.Join(", ", Counts)}";
    }
}

internal static class BrowserRequests
{
    /// <summary>A request with the browser's cookies; its status code (the body is read and dropped).</summary>
    public static async Task<int> SendAsync(this Browser browser, HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Post)
        {
            request.Content = JsonContent.Create(new { });
        }
        using var response = await browser.Http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return (int)response.StatusCode;
    }
}
