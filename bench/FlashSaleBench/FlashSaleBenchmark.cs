using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Orders;
using GroupPay.NotifyBench;

namespace GroupPay.FlashSaleBench;

/// <summary>Running maxima of the states that grow with the sale, sampled during the measured phase.</summary>
internal sealed class RunningMaxima
{
    public long Campaign { get; set; }

    public long Shard { get; set; }

    public string? ShardKey { get; set; }

    public long KolReferral { get; set; }

    public long Activations { get; set; }

    public long SiloResident { get; set; }

    public List<string> Timeline { get; } = [];
}

/// <summary>Sets up GroupPay, sells a warm-up campaign and then the measured one, and reports.</summary>
internal static class FlashSaleBenchmark
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(FlashSaleOptions options, CancellationToken cancellationToken)
    {
        var layout = Layout.Find();
        layout.RequireBuilt();
        var outDir = Path.GetFullPath(options.OutputDir
            ?? Path.Combine(layout.Root, ".data", "bench", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-flash-sale"));
        var logDir = Path.Combine(outDir, "logs");
        Directory.CreateDirectory(logDir);
        var tag = Convert.ToString(DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond % 1_000_000, 16).PadLeft(5, '0');
        var report = new StringBuilder();
        void Say(string line)
        {
            Console.WriteLine(line);
            report.AppendLine(line);
        }

        var idleCheck = MachineCpu.Read();
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var busyBefore = MachineCpu.Read().BusySince(idleCheck);
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        Say($"# GroupPay flash-sale benchmark — {DateTime.Now:yyyy-MM-dd HH:mm}");
        Say("");
        Say(string.Create(CultureInfo.InvariantCulture,
            $"Machine: {Environment.ProcessorCount} cores, {memory:0} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; busy before the run (other processes): {busyBefore:P0}; load average {LoadAverage()}"));
        Say(string.Create(CultureInfo.InvariantCulture,
            $"Sale: {options.Units:N0} units in groups of 2 ({options.Units / 2:N0} groups), {options.Concurrency} groups in flight (closed loop), at most {options.MaxPhase.TotalSeconds:0} s; warm-up sale of {options.WarmupUnits:N0} units first; inviter reward {options.RewardFen} fen; {(options.Kol ? "every link with the KOL's referral code" : "no referral codes (--no-kol)")}; {options.Silos} silo(s)"));
        Console.WriteLine($"Logs and results: {outDir}");

        // Every buyer comes from 127.0.0.1, so the per-IP limit (300/min by default: one NAT's worth of users) would
        // refuse the sale after a second; the per-user limit stays as deployed.
        var gatewaySettings = new Dictionary<string, string> { ["Gateway__RateLimit__PerIp"] = "1000000000" };
        var siloSettings = new Dictionary<string, string>();
        await using var store = await StoreServer.StartAsync(options.Store, Path.Combine(outDir, "store"), logDir, cancellationToken);
        Say($"Store: {store.Description}");
        var clock = Stopwatch.StartNew();
        await using var cluster = await GroupPayCluster.StartAsync(layout, store.ConnectionString, options.Silos, logDir, profile: false, cancellationToken,
            siloSettings, gatewaySettings);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  sandbox, {options.Silos} silo(s) and the gateway ready in {clock.Elapsed.TotalSeconds:0.0} s; gateway {cluster.GatewayUri}"));
        var probe = new StateProbe(store, cluster);

        using var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency + 16,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };

        var processes = new List<(string, Func<TimeSpan>)> { CpuSample.Self() };
        processes.AddRange(cluster.Processes.Select(p => (p.Name, (Func<TimeSpan>)(() => p.CpuTime))));
        processes.Add(("redis", () => store.Process.CpuTime));

        var maxima = new RunningMaxima();

        // Warm-up: a smaller sale with its own KOL and campaign, not measured.
        if (options.WarmupUnits > 0)
        {
            clock.Restart();
            var warmup = await SellAsync("warm-up", options.WarmupUnits, options.MaxPhase, new CallLatencies());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  warm-up: {warmup.Sale.Completed} groups in {warmup.Sale.Elapsed.TotalSeconds:0.0} s ({warmup.Sale.GroupsPerSecond:0.0}/s), {warmup.Sale.Failures} failed"));
            // Let the tiered JIT drain what the warm-up made hot, and the warm-up's effects settle.
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
        }

        var calls = new CallLatencies();
        var campaignId = "flash-" + tag;
        var siloBefore = await probe.SilosAsync();
        var usedBefore = await probe.UsedMemoryAsync();
        var keysBefore = await probe.KeyCountAsync();
        var measured = await SellAsync("measured", options.Units, options.MaxPhase, calls, sampling: true);
        var sale = measured.Sale;
        var cpu = measured.Cpu;
        var busy = measured.Busy;

        // After the last group: the stock confirmations (the completed groups' outbox effects) reach the shares.
        var grains = cluster.Client;
        var settle = Stopwatch.StartNew();
        CampaignView? view = null;
        while (settle.Elapsed < TimeSpan.FromSeconds(90))
        {
            view = await grains.GetGrain<ICampaignGrain>(campaignId).GetAsync(cancellationToken);
            if (view is not null && view.Sold >= sale.Completed * 2)
            {
                break;
            }
            await Task.Delay(500, cancellationToken);
        }
        var settled = settle.Elapsed;

        var siloAfter = await probe.SilosAsync();
        var usedAfter = await probe.UsedMemoryAsync();
        var keysAfter = await probe.KeyCountAsync();
        var kolSet = $"{GroupPayCluster.ServiceId}/referral/{measured.KolOpenid}/invitees";
        var (_, invited, pendingFen, grantedFen) = await measured.H5.RewardsAsync(measured.KolSession, cancellationToken);
        var inviteeBytes = await probe.MemoryUsageAsync(kolSet);
        Console.WriteLine("  scanning every key in Redis (grain states by type, the largest keys)…");
        var (states, otherKeys) = await probe.ScanAsync(options.TopStates, cancellationToken);

        // Every completed group is complete in its grain; the stranded ones are open with the leader's slot paid.
        var complete = 0;
        await Parallel.ForEachAsync(sale.CompletedGroups, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (g, ct) =>
        {
            if ((await grains.GetGrain<IOrderGrain>(g).GetAsync(null, ct)).Status == GroupStatus.Complete)
            {
                Interlocked.Increment(ref complete);
            }
        });
        var cpuTotalMs = cpu.Sum(c => c.Cpu.TotalMilliseconds);
        var perGroup = sale.Completed > 0 ? cpuTotalMs / sale.Completed : double.NaN;
        var capacity = Environment.ProcessorCount * sale.Elapsed.TotalSeconds;
        var ours = cpu.Sum(c => c.Cpu.TotalSeconds) / capacity;

        Say("");
        Say("## Throughput and cost");
        Say("");
        Say("| units | groups completed | seconds | groups/s | CPU ms per completed group (all processes) | machine busy | of it, other processes |");
        Say("|---:|---:|---:|---:|---:|---:|---:|");
        Say(string.Create(CultureInfo.InvariantCulture,
            $"| {options.Units:N0} | {sale.Completed:N0} | {sale.Elapsed.TotalSeconds:0.0} | **{sale.GroupsPerSecond:0.0}** | **{perGroup:0.00}** | {busy:P0} | {Math.Max(0, busy - ours):P0} |"));
        Say("");
        Say(string.Create(CultureInfo.InvariantCulture, $"Ended by: {(sale.SoldOut ? "sold out" : "the time limit (--max-seconds)")}; load average at the end {LoadAverage()}"));
        Say("CPU ms per completed group, by process: " + string.Join(", ", cpu.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Name} {c.Cpu.TotalMilliseconds / Math.Max(1, sale.Completed):0.000}"))));
        double? ratio = null;
        if (options.Baseline is { } baselinePath)
        {
            var baseline = JsonNode.Parse(await File.ReadAllTextAsync(baselinePath, cancellationToken))!;
            var basePerGroup = baseline["CpuMsPerGroup"]!.GetValue<double>();
            ratio = perGroup / basePerGroup;
            Say(string.Create(CultureInfo.InvariantCulture,
                $"**Against the baseline** ({baselinePath}: {baseline["Units"]} units, {basePerGroup:0.00} ms per group, {baseline["GroupsPerSecond"]} groups/s): CPU per completed group × **{ratio:0.00}** (target ≤ 1.2), groups/s × {sale.GroupsPerSecond / baseline["GroupsPerSecond"]!.GetValue<double>():0.00}"));
        }

        Say("");
        Say("## Latency of each call (every sample; ms)");
        Say("");
        Say("| call | count | p50 | p90 | p99 | max |");
        Say("|---|---:|---:|---:|---:|---:|");
        foreach (var call in Enum.GetValues<Call>())
        {
            var (count, p50, p90, p99, max) = calls.Summary(call);
            Say(string.Create(CultureInfo.InvariantCulture, $"| {CallLatencies.Describe(call)} | {count:N0} | {p50:0.00} | {p90:0.00} | {p99:0.00} | {max:0.0} |"));
        }
        if (calls.Failures.Count > 0 || sale.Failures > 0)
        {
            Say(string.Create(CultureInfo.InvariantCulture, $"Failed groups: {sale.Failures}: ") + string.Join("; ", measured.FailureKinds.Select(f => $"{f.Key} ×{f.Value}")));
        }

        Say("");
        Say("## Correctness");
        Say("");
        var sold = view?.Sold ?? -1;
        var reserved = view?.Reserved ?? -1;
        Say(string.Create(CultureInfo.InvariantCulture,
            $"- units sold (campaign, after {settled.TotalSeconds:0.0} s for the confirmations) {sold:N0} = groups completed × 2 = {sale.Completed * 2:N0}: {(sold == sale.Completed * 2 ? "yes" : "NO")}; stock {options.Units:N0}; sold + still reserved ({reserved:N0}) ≤ stock: {(sold + reserved <= options.Units ? "yes, no oversell" : "NO: OVERSOLD")}"));
        Say(string.Create(CultureInfo.InvariantCulture,
            $"- completed groups whose grain says complete: {complete:N0} of {sale.Completed:N0}; groups left open when the sale ended (leader paid, no unit for a joiner): {sale.StrandedGroups.Count} (their units stay reserved until the group's 24 h deadline fails it); buyers refused with units still shown and retried: {sale.SoldOutRetries}"));
        Say(string.Create(CultureInfo.InvariantCulture,
            $"- the KOL's invitees (GET /api/me/rewards as the KOL): {invited:N0}; buyers who paid: {sale.Leaders + sale.Joiners:N0} ({sale.Leaders:N0} leaders, {sale.Joiners:N0} joiners), {(options.Kol ? "every one through the KOL's link" : "none through a link (--no-kol)")}; target ≥ 100,000: {(invited >= 100_000 ? "met" : "not met")}; the KOL's rewards: {pendingFen:N0} fen pending, {grantedFen:N0} fen granted (the campaign's daily cap: 20 rewards; no freeze, so granted once the group completes). The invitees count every buyer bound through the link, including those refused when the units ran out"));

        Say("");
        Say("## State sizes");
        Say("");
        Say(string.Create(CultureInfo.InvariantCulture,
            $"Running maxima during the measured phase (sampled every {options.SampleEvery.TotalSeconds:0} s, serialized state `data`): campaign {maxima.Campaign:N0} B, largest stock share {maxima.Shard:N0} B ({maxima.ShardKey}), the KOL's referral state {maxima.KolReferral:N0} B; the KOL's invitee set (outside the state) {inviteeBytes / 1024.0:N0} KiB at the end"));
        Say("");
        Say("At the end, every stored grain state by type (largest first):");
        Say("");
        Say("| grain type | states | largest `data` B | its key | MEMORY USAGE B | mean `data` B | mean MEMORY USAGE B |");
        Say("|---|---:|---:|---|---:|---:|---:|");
        foreach (var t in states)
        {
            var top = t.Largest.Count > 0 ? t.Largest[0] : null;
            Say(string.Create(CultureInfo.InvariantCulture,
                $"| {t.GrainType} | {t.Keys:N0} | {top?.DataBytes:N0} | `{Shorten(top?.Key)}` | {top?.MemoryBytes:N0} | {(double)t.DataBytes / Math.Max(1, t.Keys):N0} | {(double)t.MemoryBytes / Math.Max(1, t.Keys):N0} |"));
        }
        var largestState = states.SelectMany(s => s.Largest).Select(s => s.DataBytes).DefaultIfEmpty(0).Max();
        var overall = Math.Max(largestState, Math.Max(maxima.Campaign, Math.Max(maxima.Shard, maxima.KolReferral)));
        Say("");
        Say(string.Create(CultureInfo.InvariantCulture, $"Largest grain state seen: {overall:N0} B; target no state above 64 KB: {(overall <= 64 * 1024 ? "met" : "NOT met")}"));
        Say("");
        Say("Largest keys that are not grain states (MEMORY USAGE): " + string.Join(", ", otherKeys.Take(6).Select(k => string.Create(CultureInfo.InvariantCulture, $"`{Shorten(k.Key)}` {k.MemoryBytes / 1024.0:N0} KiB"))));

        Say("");
        Say("## Memory");
        Say("");
        var groupsDelta = Math.Max(1, sale.Completed + sale.StrandedGroups.Count);
        Say(string.Create(CultureInfo.InvariantCulture,
            $"- Redis used_memory {usedAfter / 1048576.0:N0} MiB at the end ({usedBefore / 1048576.0:N0} MiB before the measured sale): {(usedAfter - usedBefore) / (double)groupsDelta:N0} B per group sold ({keysAfter - keysBefore:N0} keys added, {(keysAfter - keysBefore) / (double)groupsDelta:0.0} per group)"));
        var activeDelta = siloAfter.Activations - siloBefore.Activations;
        Say(string.Create(CultureInfo.InvariantCulture,
            $"- silo(s) resident {siloAfter.ResidentBytes / 1048576.0:N0} MiB with {siloAfter.Activations:N0} active grains at the end ({siloBefore.ResidentBytes / 1048576.0:N0} MiB, {siloBefore.Activations:N0} before the measured sale; at most {maxima.SiloResident / 1048576.0:N0} MiB, {maxima.Activations:N0} during it): {(activeDelta > 0 ? (siloAfter.ResidentBytes - siloBefore.ResidentBytes) / (double)activeDelta : double.NaN):N0} B per active grain added"));
        Say("- active grains by type at the end: " + string.Join(", ", siloAfter.ActivationsByType.OrderByDescending(p => p.Value).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:N0}"))));
        var collection = StateProbe.CollectionSettings(siloSettings);
        foreach (var line in collection)
        {
            Say("- " + line);
        }
        if (maxima.Timeline.Count > 0)
        {
            Say("");
            Say("Timeline (measured phase): seconds, groups completed, active grains, silo resident MiB, Redis used_memory MiB");
            Say("");
            Say("```");
            foreach (var line in maxima.Timeline)
            {
                Say(line);
            }
            Say("```");
        }

        await File.WriteAllTextAsync(Path.Combine(outDir, "results.md"), report.ToString(), CancellationToken.None);
        var json = new
        {
            options.Units,
            options.Concurrency,
            MaxPhaseSeconds = options.MaxPhase.TotalSeconds,
            options.WarmupUnits,
            options.RewardFen,
            options.Kol,
            Cores = Environment.ProcessorCount,
            Store = store.Description,
            EndedBy = sale.SoldOut ? "sold out" : "time limit",
            GroupsCompleted = sale.Completed,
            Seconds = Math.Round(sale.Elapsed.TotalSeconds, 3),
            GroupsPerSecond = Math.Round(sale.GroupsPerSecond, 2),
            CpuMsPerGroup = Math.Round(perGroup, 4),
            CpuMsPerGroupByProcess = cpu.ToDictionary(c => c.Name, c => Math.Round(c.Cpu.TotalMilliseconds / Math.Max(1, sale.Completed), 4)),
            BaselineRatio = ratio is null ? (double?)null : Math.Round(ratio.Value, 3),
            MachineBusy = Math.Round(busy, 3),
            OtherProcessesBusy = Math.Round(Math.Max(0, busy - ours), 3),
            Calls = Enum.GetValues<Call>().ToDictionary(c => c.ToString(), c =>
            {
                var (count, p50, p90, p99, max) = calls.Summary(c);
                return new { Count = count, P50Ms = Math.Round(p50, 3), P90Ms = Math.Round(p90, 3), P99Ms = Math.Round(p99, 3), MaxMs = Math.Round(max, 3) };
            }),
            sale.Failures,
            UnitsSold = sold,
            UnitsReserved = reserved,
            StrandedGroups = sale.StrandedGroups.Count,
            sale.SoldOutRetries,
            CompleteInGrain = complete,
            KolInvitees = invited,
            Buyers = sale.Leaders + sale.Joiners,
            RunningMaxBytes = new { maxima.Campaign, maxima.Shard, maxima.ShardKey, maxima.KolReferral },
            KolInviteeSetBytes = inviteeBytes,
            States = states.Select(s => new { s.GrainType, s.Keys, s.DataBytes, s.MemoryBytes, Largest = s.Largest.Select(l => new { l.Key, l.DataBytes, l.MemoryBytes }) }),
            LargestStateBytes = overall,
            OtherKeys = otherKeys.Select(k => new { k.Key, k.MemoryBytes }),
            RedisUsedMemoryBefore = usedBefore,
            RedisUsedMemoryAfter = usedAfter,
            RedisBytesPerGroup = Math.Round((usedAfter - usedBefore) / (double)groupsDelta, 1),
            SiloResidentBefore = siloBefore.ResidentBytes,
            SiloResidentAfter = siloAfter.ResidentBytes,
            ActivationsBefore = siloBefore.Activations,
            ActivationsAfter = siloAfter.Activations,
            ActivationsMax = maxima.Activations,
            BytesPerActiveGrain = activeDelta > 0 ? Math.Round((siloAfter.ResidentBytes - siloBefore.ResidentBytes) / (double)activeDelta, 1) : (double?)null,
            siloAfter.ActivationsByType,
            GrainCollection = collection,
        };
        await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), JsonSerializer.Serialize(json, Indented), CancellationToken.None);
        Console.WriteLine($"Written: {Path.Combine(outDir, "results.md")}, results.json, logs/");
        return sale.Failures > 0 || complete != sale.Completed || (view is not null && view.Sold + view.Reserved > options.Units) ? 1 : 0;

        // One sale: its campaign and KOL (signed in, their referral code from the H5 API), then the buyers.
        async Task<MeasuredSale> SellAsync(string name, int units, TimeSpan maxPhase, CallLatencies latencies, bool sampling = false)
        {
            var id = name == "warm-up" ? "warmup-" + tag : "flash-" + tag;
            var h5 = new H5Client(http, cluster.GatewayUri, cluster.SandboxUri, latencies);
            await FlashSale.DefineAsync(http, cluster.GatewayUri, GroupPayCluster.AdminKey, id, units, options.RewardFen, cancellationToken);
            var kol = $"o-kol-{name}-{tag}";
            var kolSession = await h5.SignInAsync(kol, cancellationToken);
            var (code, _, _, _) = await h5.RewardsAsync(kolSession, cancellationToken);
            var flash = new FlashSale(h5, http, cluster.GatewayUri, id, options.Kol ? code : null, name == "warm-up" ? "w" + tag : tag, options.Concurrency);
            Console.WriteLine($"  {name} sale: campaign {id}, {units:N0} units, the KOL {kol} (code {code})");

            using var stopSampling = new CancellationTokenSource();
            var start = CpuSample.Take(processes);
            var sampler = sampling ? SampleAsync(probe, id, kol, maxima, flash, stopSampling.Token) : Task.CompletedTask;
            var result = await flash.RunAsync(maxPhase, (done, elapsed) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {name}: {done:N0} groups in {elapsed.TotalSeconds:0} s ({done / elapsed.TotalSeconds:0.0}/s)")), cancellationToken);
            var end = CpuSample.Take(processes);
            await stopSampling.CancelAsync();
            await sampler;
            return new MeasuredSale(result, end.Since(start), end.Machine.BusySince(start.Machine), h5, kol, kolSession, flash.FailureKinds);
        }

        async Task SampleAsync(StateProbe p, string id, string kol, RunningMaxima max, FlashSale flash, CancellationToken stop)
        {
            var started = Stopwatch.StartNew();
            var n = 0;
            var shardKeys = Enumerable.Range(0, CampaignDefinition.MaxStockShards).Select(i => StateProbe.StateKey("stock-shard", $"{id}/{i}", "shard")).ToArray();
            var campaignKey = StateProbe.StateKey("campaign", id, "campaign");
            var kolKey = StateProbe.StateKey("referral", kol, "referral");
            while (true)
            {
                max.Campaign = Math.Max(max.Campaign, await p.DataBytesAsync(campaignKey));
                max.KolReferral = Math.Max(max.KolReferral, await p.DataBytesAsync(kolKey));
                var shards = await Task.WhenAll(shardKeys.Select(p.DataBytesAsync));
                for (var i = 0; i < shards.Length; i++)
                {
                    if (shards[i] > max.Shard)
                    {
                        max.Shard = shards[i];
                        max.ShardKey = shardKeys[i];
                    }
                }
                if (n++ % 5 == 0)
                {
                    var silo = await p.SilosAsync();
                    max.Activations = Math.Max(max.Activations, silo.Activations);
                    max.SiloResident = Math.Max(max.SiloResident, silo.ResidentBytes);
                    var used = await p.UsedMemoryAsync();
                    max.Timeline.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{started.Elapsed.TotalSeconds,6:0} {flash.Completed,9:N0} {silo.Activations,10:N0} {silo.ResidentBytes / 1048576.0,7:N0} {used / 1048576.0,7:N0}"));
                }
                if (stop.IsCancellationRequested)
                {
                    return; // the last sample was taken after the phase ended
                }
                try
                {
                    await Task.Delay(options.SampleEvery, stop);
                }
                catch (OperationCanceledException)
                {
                    n = 0; // the phase ended: one more sample, silos included
                }
            }
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string Shorten(string? key) => key is null ? "" : key.Length <= 80 ? key : key[..80] + "…";

    private sealed record MeasuredSale(
        SaleResult Sale, IReadOnlyList<(string Name, TimeSpan Cpu)> Cpu, double Busy, H5Client H5, string KolOpenid, string KolSession,
        IReadOnlyDictionary<string, int> FailureKinds);
}
