using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GroupPay.NotifyBench;

/// <summary>One path's figures: the measured phase, who used the CPU, and what reached Redis.</summary>
internal sealed record PathReport(
    int Number,
    string Title,
    PhaseResult Measured,
    IReadOnlyList<(string Name, TimeSpan Cpu)> Cpu,
    double MachineBusy,
    IReadOnlyDictionary<string, long> RedisCommands,
    IReadOnlyList<string> Notes);

/// <summary>Runs the three paths one after the other on this machine and reports them side by side.</summary>
internal static class NotifyBenchmark
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var layout = Layout.Find();
        layout.RequireBuilt();
        var outDir = Path.GetFullPath(options.OutputDir
            ?? Path.Combine(layout.Root, ".data", "bench", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));
        var logDir = Path.Combine(outDir, "logs");
        Directory.CreateDirectory(logDir);
        var tag = Convert.ToString(DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond % 1_000_000, 16).PadLeft(5, '0');

        // Shared machines: say how busy it was before this run started anything.
        var idleCheck = MachineCpu.Read();
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var header = Header(options) + string.Create(CultureInfo.InvariantCulture,
            $"\nMachine busy before the run (other processes): {MachineCpu.Read().BusySince(idleCheck):P0}");
        Console.WriteLine(header);
        Console.WriteLine($"Logs and results: {outDir}");

        var reports = new List<PathReport>();
        await using (var store = await StoreServer.StartAsync(options.Store, Path.Combine(outDir, "store"), logDir, cancellationToken))
        {
            Console.WriteLine($"Store for paths 2 and 3: {store.Description} at {store.ConnectionString}");
            if (options.Paths.Contains(1))
            {
                reports.Add(await RunComparisonAsync(1, options, store, logDir, tag, cancellationToken));
            }
            if (options.Paths.Contains(2))
            {
                reports.Add(await RunComparisonAsync(2, options, store, logDir, tag, cancellationToken));
            }
            if (options.Paths.Contains(3))
            {
                reports.Add(await RunGroupPayAsync(options, layout, store, logDir, tag, cancellationToken));
            }
            header += $"\nStore (paths 2 and 3): {store.Description}";
        }

        var text = Summary(header, reports, options);
        Console.WriteLine();
        Console.WriteLine(text);
        await File.WriteAllTextAsync(Path.Combine(outDir, "results.md"), text, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), Json(reports, options), CancellationToken.None);
        Console.WriteLine($"Written: {Path.Combine(outDir, "results.md")}, results.json, logs/");
        return reports.Any(r => r.Measured.Failed > 0) ? 1 : 0;
    }

    /// <summary>Paths 1 and 2: the comparison server in its own process, the same load.</summary>
    private static async Task<PathReport> RunComparisonAsync(int number, BenchOptions options, StoreServer store, string logDir, string tag, CancellationToken cancellationToken)
    {
        var (kind, title) = number == 1
            ? ("parse", "ceiling: parse + verify, answer SUCCESS")
            : ("redis", "plain: parse + verify + one Redis HSET, answer SUCCESS");
        Console.WriteLine($"\nPath {number} — {title}");
        var port = FreePort.Get();
        List<string> arguments = [Layout.SelfDll, "serve", kind, "--port", port.ToString(CultureInfo.InvariantCulture)];
        if (number == 2)
        {
            arguments.AddRange(["--redis", store.ConnectionString]);
        }
        await using var server = ChildProcess.Start($"path {number} server", "dotnet", arguments, Path.Combine(logDir, $"path{number}-{kind}.log"),
            new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["DOTNET_ENVIRONMENT"] = "Production" });
        var baseUri = new Uri($"http://127.0.0.1:{port}");
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
        {
            await server.WaitUntilAsync(async () => (await http.GetAsync(new Uri(baseUri, "/health"), cancellationToken)).IsSuccessStatusCode,
                "/health answering", TimeSpan.FromSeconds(60), cancellationToken);
        }

        // Distinct orders, shaped like path 3's: {group id}P1, 990 fen, signed with the merchant key.
        var total = options.Warmup + options.Requests;
        var now = DateTimeOffset.UtcNow;
        var bodies = Enumerable.Range(0, total).Select(i =>
        {
            var groupId = (number == 1 ? "p" : "q") + tag + i.ToString("x6", CultureInfo.InvariantCulture);
            return Merchant.PaymentNotify(groupId + "P1", TransactionId(number, i), 990, $"o-bench-{tag}-{i}", groupId, now);
        }).ToArray();

        var processes = new List<(string, Func<TimeSpan>)> { CpuSample.Self(), ($"path {number} server", () => server.CpuTime) };
        if (number == 2)
        {
            processes.Add(("redis", () => store.Process.CpuTime));
        }
        var (measured, cpu, busy, commands) = await MeasureAsync(new Uri(baseUri, ComparisonServers.NotifyPath), bodies, options, processes, store, cancellationToken);
        await server.StopAsync(StopGrace);
        return new PathReport(number, title, measured, cpu, busy, commands, []);
    }

    /// <summary>What the live state costs after the setup: Redis memory, the reminders' one sorted set (one reminder per
    /// open group), and the silos' resident memory per live group.</summary>
    private static async Task<string> LiveStateAsync(StoreServer store, GroupPayCluster cluster, int groups)
    {
        var db = store.Admin.GetDatabase();
        const string Reminders = "grouppay-bench/reminders";
        var reminders = await db.SortedSetLengthAsync(Reminders);
        long? reminderBytes;
        try
        {
            reminderBytes = (long?)await db.ExecuteAsync("MEMORY", "USAGE", Reminders, "SAMPLES", "0");
        }
        catch (StackExchange.Redis.RedisException)
        {
            reminderBytes = null; // a server without MEMORY USAGE (Garnet)
        }
        var info = await store.Admin.GetServer(store.Admin.GetEndPoints()[0]).InfoAsync("memory");
        var used = info.SelectMany(g => g).FirstOrDefault(p => p.Key == "used_memory").Value;
        var silos = cluster.Processes.Where(p => p.Name.StartsWith("silo", StringComparison.Ordinal)).ToList();
        var rss = silos.Sum(p => ResidentBytes(p.Id));
        return string.Create(CultureInfo.InvariantCulture,
            $"live state: Redis used_memory {long.Parse(used ?? "0", CultureInfo.InvariantCulture) / 1048576.0:0} MiB; reminders {reminders} in one sorted set of {(reminderBytes ?? 0) / 1048576.0:0.0} MiB ({(reminders > 0 ? (reminderBytes ?? 0) / reminders : 0)} B each); silo RSS {rss / 1048576.0:0} MiB ({rss / Math.Max(1, groups)} B per live group, the referral grains included)");
    }

    /// <summary>VmRSS of a process (Linux), in bytes; 0 when unreadable.</summary>
    private static long ResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>Path 3: the real processes, one valid notify per live attempt.</summary>
    private static async Task<PathReport> RunGroupPayAsync(BenchOptions options, Layout layout, StoreServer store, string logDir, string tag, CancellationToken cancellationToken)
    {
        const string Title = "GroupPay: gateway -> OrderGrain (silos) -> durable state write, answer SUCCESS";
        Console.WriteLine($"\nPath 3 — {Title}");
        var notes = new List<string>();
        var clock = Stopwatch.StartNew();
        await using var cluster = await GroupPayCluster.StartAsync(layout, store.ConnectionString, options.Silos, logDir, options.Profile, cancellationToken);
        Console.WriteLine($"  sandbox, {options.Silos} silo(s) and the gateway ready in {clock.Elapsed.TotalSeconds:0.0} s; gateway {cluster.GatewayUri}");

        var total = options.Warmup + options.Requests;
        clock.Restart();
        Console.WriteLine($"  setting up {total} groups with a live attempt each (CreateAsync, RecordGroupAsync + GetProfileAsync as the gateway does, PayAsync → unifiedorder at the sandbox)…");
        var attempts = await cluster.CreateAttemptsAsync(tag, total, options.GroupsPerCampaign, options.SetupConcurrency, cancellationToken);
        var setup = clock.Elapsed;
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"setup: {total} groups in {(total + options.GroupsPerCampaign - 1) / options.GroupsPerCampaign} campaigns of {options.GroupsPerCampaign}, each CreateAsync, the leader's RecordGroupAsync + GetProfileAsync, PayAsync, in {setup.TotalSeconds:0.0} s ({total / setup.TotalSeconds:0}/s, {options.SetupConcurrency} concurrent)"));
        Console.WriteLine("  " + notes[^1]);
        notes.Add(await LiveStateAsync(store, cluster, total));
        Console.WriteLine("  " + notes[^1]);
        if (options.Heap)
        {
            foreach (var silo in cluster.Processes.Where(p => p.Name.StartsWith("silo", StringComparison.Ordinal)))
            {
                var heap = HeapBreakdown.Describe(silo.Id, total, top: 100);
                await File.WriteAllTextAsync(Path.Combine(logDir, "..", $"heap-{silo.Name.Replace(' ', '-')}.md"), heap, cancellationToken);
                notes.Add($"{silo.Name} after the setup, {heap}");
                Console.WriteLine("  " + notes[^1]);
            }
        }

        var now = DateTimeOffset.UtcNow;
        var bodies = attempts.Select((a, i) => Merchant.PaymentNotify(a.OutTradeNo, TransactionId(3, i), a.AmountFen, a.PayerOpenid, a.GroupId, now)).ToArray();
        // Let the setup's own background work (stats flush, reminder ticks) pass before measuring.
        await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);

        var processes = new List<(string, Func<TimeSpan>)> { CpuSample.Self() };
        processes.AddRange(cluster.Processes.Select(p => (p.Name, (Func<TimeSpan>)(() => p.CpuTime))));
        processes.Add(("redis", () => store.Process.CpuTime));
        var profile = options.Profile ? cluster.Processes.Where(p => p.Name != "sandbox").ToList() : null;
        var (measured, cpu, busy, commands, warmup, samples, table) =
            await MeasureWithWarmupAsync(cluster.NotifyUri, bodies, options, processes, store, cancellationToken, profile,
                Path.GetFullPath(Path.Combine(logDir, "..", "profile")));
        foreach (var (name, file) in GcLogs(logDir, options.Silos))
        {
            var pauses = GcPauseLog.Read(file, samples.Start.Utc, samples.End.Utc);
            var allocated = pauses.AllocatedPer(measured.Succeeded) is { } bytes
                ? string.Create(CultureInfo.InvariantCulture, $"; {bytes / 1024:0.0} KiB allocated per notify")
                : "";
            notes.Add($"runtime pauses in the measured phase, {name}: {pauses}{allocated}");
            Console.WriteLine("  " + notes[^1]);
        }
        if (options.Profile)
        {
            notes.Add("profiled run (perf sampling the gateway and the silos during the measured phase)");
        }
        if (table is not null)
        {
            notes.Add("where the CPU of each notify went (perf samples of the measured phase × each process's CPU per notify):\n" + table);
        }

        // The answer comes once the payment is durable; the outbox (the leader's referral record) and the reminder
        // follow in the grain's next turns. Wait for them too, and say how long that took.
        var used = warmup.SucceededItems.Concat(measured.SucceededItems).Select(i => attempts[i]).ToList();
        var settle = Stopwatch.StartNew();
        var pending = used.Select(a => a.PayerOpenid).ToList();
        while (settle.Elapsed < TimeSpan.FromMinutes(3))
        {
            pending = await cluster.PaymentsNotRecordedAsync(pending, cancellationToken);
            if (pending.Count == 0)
            {
                break;
            }
            await Task.Delay(250, cancellationToken);
        }
        var settled = settle.Elapsed;
        var afterSettle = CpuSample.Take(processes);
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"after the last answer, the effects behind the answers (the leaders' referral records) caught up in {settled.TotalSeconds:0.0} s ({used.Count - pending.Count}/{used.Count} recorded; the check's own reads included); counting that, {measured.Succeeded / (measured.Elapsed + settled).TotalSeconds:0}/s sustained"));
        Console.WriteLine("  " + notes[^1]);
        var withEffects = afterSettle.Since(samples.Start);
        notes.Add("CPU per notify including the work after the answer (measured phase + catch-up): "
            + string.Join(", ", withEffects.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Name} {c.Cpu.TotalMilliseconds / Math.Max(1, measured.Succeeded):0.000} ms"))));

        if (await store.SlowCommandsAsync() is { } slow)
        {
            notes.Add($"Redis since it started (setup, warm-up, measured phase, catch-up): {slow}");
            Console.WriteLine("  " + notes[^1]);
        }
        var open = await cluster.CountOpenAsync(used, cancellationToken);
        notes.Add($"check: {open} of the {used.Count} groups that got SUCCESS are open with their leader's slot paid");
        Console.WriteLine("  " + notes[^1]);
        return new PathReport(3, Title, measured, cpu, busy, commands, notes);
    }

    /// <summary>The pause logs the gateway and the silos write (bench/GcPauses, loaded by GroupPayCluster).</summary>
    private static IEnumerable<(string Name, string File)> GcLogs(string logDir, int silos) =>
        [("gateway", Path.Combine(logDir, "gc-gateway.csv")),
         .. Enumerable.Range(1, silos).Select(n => ($"silo {n}", Path.Combine(logDir, $"gc-silo{n}.csv")))];

    private static async Task<(PhaseResult Measured, IReadOnlyList<(string, TimeSpan)> Cpu, double Busy, IReadOnlyDictionary<string, long> Commands)> MeasureAsync(
        Uri uri, byte[][] bodies, BenchOptions options, List<(string, Func<TimeSpan>)> processes, StoreServer store, CancellationToken cancellationToken)
    {
        var (measured, cpu, busy, commands, _, _, _) = await MeasureWithWarmupAsync(uri, bodies, options, processes, store, cancellationToken);
        return (measured, cpu, busy, commands);
    }

    private static readonly TimeSpan SettleAfterWarmup = TimeSpan.FromSeconds(5);

    private static async Task<(PhaseResult Measured, IReadOnlyList<(string, TimeSpan)> Cpu, double Busy, IReadOnlyDictionary<string, long> Commands, PhaseResult Warmup, (CpuSample Start, CpuSample End) Samples, string? Profile)>
        MeasureWithWarmupAsync(Uri uri, byte[][] bodies, BenchOptions options, List<(string, Func<TimeSpan>)> processes, StoreServer store, CancellationToken cancellationToken,
            IReadOnlyList<ChildProcess>? profileTargets = null, string? profileDir = null)
    {
        using var load = new LoadGenerator(uri, options.Concurrency);
        // Every path starts with this process's heap compacted (path 3's setup leaves the most behind).
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var warmup = await load.RunAsync("warm-up", i => bodies[i], 0, options.Warmup, options.MaxPhase, cancellationToken);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  warm-up: {warmup.Succeeded} ok, {warmup.Failed} failed in {warmup.Elapsed.TotalSeconds:0.0} s ({warmup.PerSecond:0}/s)"));
        // The warm-up leaves the servers' tiered JIT with a backlog of hot methods to recompile (thousands in the
        // gateway: ASP.NET Core, Orleans, the Redis client); let it drain on an idle machine, as a service that has run
        // for a minute has, instead of timing it.
        await Task.Delay(SettleAfterWarmup, cancellationToken);

        var perf = profileTargets is null ? null : Profiling.FindPerf();
        if (profileTargets is not null && perf is null)
        {
            Console.WriteLine("  --profile: perf not found (apt-get install linux-perf); running unprofiled");
        }
        var profileLength = TimeSpan.FromSeconds(Math.Min(10, options.MaxPhase.TotalSeconds));
        var recording = perf is null ? default : Profiling.Start(perf, profileTargets!, profileLength, profileDir!);

        var commandsBefore = await store.CommandCountsAsync();
        var before = CpuSample.Take(processes);
        var measured = await load.RunAsync("measured", i => bodies[i], options.Warmup, options.Requests, options.MaxPhase, cancellationToken);
        var after = CpuSample.Take(processes);
        var commandsAfter = await store.CommandCountsAsync();
        string? profile = null;
        if (perf is not null)
        {
            foreach (var report in await Profiling.FinishAsync(perf, recording, profileTargets!, profileLength + TimeSpan.FromSeconds(30)))
            {
                Console.WriteLine("  profile: " + Path.GetFullPath(report));
            }
            profile = ProfileTable(await Profiling.BreakdownAsync(perf, recording.DataFile), profileTargets!, after.Since(before), measured.Succeeded);
            await File.WriteAllTextAsync(Path.Combine(profileDir!, "cpu-per-notify.md"), profile, CancellationToken.None);
        }
        var commands = commandsAfter
            .Select(c => (c.Key, Calls: c.Value - commandsBefore.GetValueOrDefault(c.Key)))
            .Where(c => c.Calls > 0 && c.Key is not "info")
            .OrderByDescending(c => c.Calls)
            .ToDictionary(c => c.Key, c => c.Calls);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  measured: {measured.Succeeded} ok, {measured.Failed} failed in {measured.Elapsed.TotalSeconds:0.00} s: {measured.PerSecond:0} notifies/s, p50 {measured.PercentileMs(50):0.00} ms, p99 {measured.PercentileMs(99):0.00} ms"));
        foreach (var (failure, n) in measured.Failures.Concat(warmup.Failures).Take(5))
        {
            Console.WriteLine($"    failure ×{n}: {failure}");
        }
        return (measured, after.Since(before), after.Machine.BusySince(before.Machine), commands, warmup, (before, after), profile);
    }

    /// <summary>A table in ms of CPU per notify: one row per category, one column per profiled process, and the sum.</summary>
    private static string ProfileTable(
        Dictionary<int, Dictionary<string, double>> shares, IReadOnlyList<ChildProcess> processes, IReadOnlyList<(string Name, TimeSpan Cpu)> cpu, int notifies)
    {
        var columns = processes
            .Select(p => (p.Name, Ms: cpu.FirstOrDefault(c => c.Name == p.Name).Cpu.TotalMilliseconds / Math.Max(1, notifies),
                Shares: shares.GetValueOrDefault(p.Id) ?? []))
            .ToList();
        var rows = columns.SelectMany(c => c.Shares.Keys).Distinct()
            .Select(category => (Category: category, Values: columns.Select(c => c.Shares.GetValueOrDefault(category) * c.Ms).ToList()))
            .OrderByDescending(r => r.Values.Sum())
            .ToList();
        var text = new StringBuilder();
        text.AppendLine("| CPU ms per notify | " + string.Join(" | ", columns.Select(c => c.Name)) + " | all |");
        text.AppendLine("|---|" + string.Concat(columns.Select(_ => "---:|")) + "---:|");
        foreach (var (category, values) in rows)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {category} | {string.Join(" | ", values.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)))} | {values.Sum():0.000} |"));
        }
        text.Append(string.Create(CultureInfo.InvariantCulture,
            $"| **total** | {string.Join(" | ", columns.Select(c => c.Ms.ToString("0.000", CultureInfo.InvariantCulture)))} | {columns.Sum(c => c.Ms):0.000} |"));
        return text.ToString();
    }

    private static string TransactionId(int path, int i) => "42000" + path.ToString(CultureInfo.InvariantCulture) + DateTime.UtcNow.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + i.ToString("D14", CultureInfo.InvariantCulture);

    private static string Header(BenchOptions options)
    {
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return string.Create(CultureInfo.InvariantCulture,
            $"""
            GroupPay notify benchmark — {DateTime.Now:yyyy-MM-dd HH:mm}
            Machine: {Environment.ProcessorCount} cores, {memory:0} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}
            Load: {options.Concurrency} concurrent connections (closed loop), warm-up {options.Warmup} then up to {options.Requests} measured requests (or {options.MaxPhase.TotalSeconds:0} s) per path; every process on 127.0.0.1
            """);
    }

    private static string Summary(string header, List<PathReport> reports, BenchOptions options)
    {
        var text = new StringBuilder();
        text.AppendLine(header).AppendLine();
        text.AppendLine("| path | notifies/s | p50 ms | p90 ms | p99 ms | max ms | ok | failed | seconds | machine busy | of it, other processes |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in reports)
        {
            var m = r.Measured;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Number}. {r.Title} | {m.PerSecond:N0} | {m.PercentileMs(50):0.00} | {m.PercentileMs(90):0.00} | {m.PercentileMs(99):0.00} | {m.PercentileMs(100):0.0} | {m.Succeeded} | {m.Failed} | {m.Elapsed.TotalSeconds:0.00} | {r.MachineBusy:P0} | {OtherShare(r):P0} |"));
        }
        var byNumber = reports.ToDictionary(r => r.Number, r => r.Measured.PerSecond);
        text.AppendLine();
        if (byNumber.TryGetValue(3, out var p3))
        {
            if (byNumber.TryGetValue(2, out var p2))
            {
                text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Ratio path 3 / path 2: {p3 / p2:0.00} (target ≥ 0.50)"));
            }
            if (byNumber.TryGetValue(1, out var p1))
            {
                text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Ratio path 3 / path 1: {p3 / p1:0.00}"));
            }
            var r3 = reports.Single(r => r.Number == 3).Measured;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"Path 3 target ≥ 4,000 notifies/s with p99 ≤ 50 ms: {(p3 >= 4000 && r3.PercentileMs(99) <= 50 ? "met" : "NOT met")} ({p3:N0}/s, p99 {r3.PercentileMs(99):0.0} ms)"));
        }
        if (byNumber.TryGetValue(2, out var q2) && byNumber.TryGetValue(1, out var q1))
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Ratio path 2 / path 1: {q2 / q1:0.00}"));
        }

        foreach (var r in reports)
        {
            text.AppendLine().AppendLine($"Path {r.Number} — {r.Title}");
            var ok = Math.Max(1, r.Measured.Succeeded);
            text.AppendLine("  CPU per notify in the measured phase (ms), by process: "
                + string.Join(", ", r.Cpu.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Name} {c.Cpu.TotalMilliseconds / ok:0.000}"))));
            if (r.RedisCommands.Count > 0)
            {
                text.AppendLine("  Redis commands per notify: "
                    + string.Join(", ", r.RedisCommands.Take(8).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} {(double)c.Value / ok:0.00}"))));
            }
            foreach (var note in r.Notes)
            {
                text.AppendLine("  " + note);
            }
            text.AppendLine("  latency histogram:");
            text.Append(r.Measured.Histogram());
        }
        return text.ToString();
    }

    /// <summary>The machine's busy share not explained by the benchmark's own processes (a shared machine's noise).</summary>
    private static double OtherShare(PathReport r)
    {
        var capacity = Environment.ProcessorCount * r.Measured.Elapsed.TotalSeconds;
        var ours = r.Cpu.Sum(c => c.Cpu.TotalSeconds) / capacity;
        return Math.Max(0, r.MachineBusy - ours);
    }

    private static string Json(List<PathReport> reports, BenchOptions options) =>
        JsonSerializer.Serialize(new
        {
            options.Concurrency,
            options.Warmup,
            options.Requests,
            MaxPhaseSeconds = options.MaxPhase.TotalSeconds,
            Cores = Environment.ProcessorCount,
            Paths = reports.Select(r => new
            {
                r.Number,
                r.Title,
                NotifiesPerSecond = Math.Round(r.Measured.PerSecond, 1),
                P50Ms = Math.Round(r.Measured.PercentileMs(50), 3),
                P90Ms = Math.Round(r.Measured.PercentileMs(90), 3),
                P99Ms = Math.Round(r.Measured.PercentileMs(99), 3),
                MaxMs = Math.Round(r.Measured.PercentileMs(100), 3),
                r.Measured.Succeeded,
                r.Measured.Failed,
                Seconds = Math.Round(r.Measured.Elapsed.TotalSeconds, 3),
                MachineBusy = Math.Round(r.MachineBusy, 3),
                OtherProcessesBusy = Math.Round(OtherShare(r), 3),
                CpuMsPerNotify = r.Cpu.ToDictionary(c => c.Name, c => Math.Round(c.Cpu.TotalMilliseconds / Math.Max(1, r.Measured.Succeeded), 4)),
                r.RedisCommands,
                r.Notes,
            }),
        }, Indented);
}
