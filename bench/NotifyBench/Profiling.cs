using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace GroupPay.NotifyBench;

/// <summary>
/// CPU profile of the gateway and the silos with Linux perf (Debian's linux-perf): samples on CPU only, JIT-compiled
/// methods named through the runtime's perf maps (<c>DOTNET_PerfMapEnabled=1</c>, set on those processes when
/// profiling). Writes <c>perf.data</c> and text reports: CPU by process, by module, and the top methods per process.
/// </summary>
internal static partial class Profiling
{
    public const string PerfMapVariable = "DOTNET_PerfMapEnabled";

    public static string? FindPerf() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "perf"))
            .FirstOrDefault(File.Exists);

    /// <summary>Starts sampling <paramref name="processes"/> for <paramref name="duration"/>; it stops by itself.</summary>
    public static (ChildProcess Recorder, string DataFile) Start(string perf, IReadOnlyList<ChildProcess> processes, TimeSpan duration, string dir)
    {
        Directory.CreateDirectory(dir);
        var data = Path.Combine(dir, "perf.data");
        var recorder = ChildProcess.Start("perf record", perf,
        [
            "record", "-F", "499", "-g", "-o", data,
            "-p", string.Join(',', processes.Select(p => p.Id.ToString(CultureInfo.InvariantCulture))),
            "--", "sleep", duration.TotalSeconds.ToString("0", CultureInfo.InvariantCulture),
        ], Path.Combine(dir, "perf-record.log"));
        return (recorder, data);
    }

    /// <summary>Waits for the recorder, then writes the reports (all processes by thread kind and module; then each
    /// process's modules and top methods); returns their paths.</summary>
    public static async Task<List<string>> FinishAsync(string perf, (ChildProcess Recorder, string DataFile) recording, IReadOnlyList<ChildProcess> processes, TimeSpan wait)
    {
        var (recorder, data) = recording;
        var until = DateTime.UtcNow + wait;
        while (!recorder.HasExited && DateTime.UtcNow < until)
        {
            await Task.Delay(200);
        }
        await recorder.StopAsync(TimeSpan.FromSeconds(15));
        if (!File.Exists(data))
        {
            return [$"no perf data (see {recorder.LogPath})"];
        }
        var dir = Path.GetDirectoryName(data)!;
        var reports = new List<string>();
        var all = Path.Combine(dir, "cpu-all.txt");
        await File.WriteAllTextAsync(all, await ReportAsync(perf, data, "comm,dso", null, "0.3"));
        reports.Add(all);
        foreach (var process in processes)
        {
            var file = Path.Combine(dir, $"cpu-{process.Name.Replace(' ', '-')}.txt");
            var pid = process.Id.ToString(CultureInfo.InvariantCulture);
            await File.WriteAllTextAsync(file,
                $"== {process.Name} (pid {pid}): by module ==\n" + await ReportAsync(perf, data, "dso", pid, "0.5")
                + $"\n== {process.Name} (pid {pid}): by method (self) ==\n" + await ReportAsync(perf, data, "dso,sym", pid, "0.2"));
            reports.Add(file);
        }
        return reports;
    }

    /// <summary>Where each process's CPU went, by what the sampled stack was doing (the rules below, first match wins):
    /// process id → (category → share of that process's samples).</summary>
    public static async Task<Dictionary<int, Dictionary<string, double>>> BreakdownAsync(string perf, string data)
    {
        var start = new ProcessStartInfo(perf) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["script", "-i", data, "-F", "comm,pid,tid,ip,sym,dso"])
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var counts = new Dictionary<int, Dictionary<string, int>>();
        string? thread = null;
        var pid = 0;
        var frames = new List<string>();
        void Flush()
        {
            if (thread is null)
            {
                return;
            }
            var category = Categorize(thread, frames);
            var perProcess = counts.TryGetValue(pid, out var c) ? c : counts[pid] = [];
            perProcess[category] = perProcess.GetValueOrDefault(category) + 1;
            thread = null;
            frames.Clear();
        }
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                Flush();
            }
            else if (line[0] is '\t' or ' ')
            {
                frames.Add(line.Trim());
            }
            else if (SampleHeader().Match(line) is { Success: true } header)
            {
                Flush();
                thread = header.Groups["comm"].Value;
                pid = int.Parse(header.Groups["pid"].Value, CultureInfo.InvariantCulture);
            }
        }
        Flush();
        await errors;
        await process.WaitForExitAsync();
        return counts.ToDictionary(p => p.Key, p =>
        {
            double total = p.Value.Values.Sum();
            return p.Value.ToDictionary(c => c.Key, c => c.Value / total);
        });
    }

    /// <summary>Operations recognized anywhere in the stack (most specific first), then what the code nearest the leaf
    /// belongs to.</summary>
    private static readonly (string Category, Regex Pattern)[] Anywhere =
    [
        ("state write: serialize CampaignState (every reservation)", new Regex("Codec_CampaignState", RegexOptions.Compiled)),
        ("state write: serialize OrderState", new Regex("Codec_OrderState", RegexOptions.Compiled)),
        ("state write: serialize other grains' state", new Regex(@"OrleansGrainStorageSerializer::Serialize", RegexOptions.Compiled)),
        ("state read: deserialize (activations)", new Regex(@"OrleansGrainStorageSerializer::Deserialize", RegexOptions.Compiled)),
        ("state write/read: Redis round trip", new Regex("RedisGrainStorage", RegexOptions.Compiled)),
        ("reminders: registration, ticks, Redis table", new Regex("Reminder", RegexOptions.Compiled)),
        ("notify: parse + verify (WeChatPay)", new Regex(@"\[GroupPay\.WeChatPay\]", RegexOptions.Compiled)),
    ];

    private static readonly (string Category, Regex Pattern)[] NearLeaf =
    [
        ("tracing: OpenTelemetry / Activity", new Regex(@"OpenTelemetry|System\.Diagnostics\.Activity|ActivitySource|DiagnosticSource|ActivityPropagation", RegexOptions.Compiled)),
        ("logging", new Regex(@"Microsoft\.Extensions\.Logging", RegexOptions.Compiled)),
        ("Redis client (StackExchange.Redis), other", new Regex(@"StackExchange\.Redis|Pipelines\.Sockets", RegexOptions.Compiled)),
        ("Orleans: message serialization", new Regex(@"Orleans\.Serialization|MessageSerializer", RegexOptions.Compiled)),
        ("Orleans: networking", new Regex(@"Orleans\.Runtime\.Messaging|Orleans\.Networking|Connection", RegexOptions.Compiled)),
        ("HTTP: Kestrel / ASP.NET Core", new Regex("AspNetCore", RegexOptions.Compiled)),
        ("grain code (GroupPay.Grains)", new Regex(@"\[GroupPay\.Grains\]", RegexOptions.Compiled)),
        ("Orleans: runtime (scheduling, invocation, directory)", new Regex(@"\[Orleans\.", RegexOptions.Compiled)),
        ("sockets (managed)", new Regex(@"System\.Net\.Sockets", RegexOptions.Compiled)),
        ("thread pool, tasks, async machinery", new Regex(@"ThreadPool|System\.Threading|CompilerServices", RegexOptions.Compiled)),
    ];

    private static string Categorize(string thread, List<string> frames)
    {
        if (thread.Contains("GC", StringComparison.Ordinal))
        {
            return "GC (collector threads)";
        }
        if (thread.Contains("Tiered Com", StringComparison.Ordinal))
        {
            return "JIT (tiered compilation)";
        }
        foreach (var (category, pattern) in Anywhere)
        {
            if (frames.Exists(pattern.IsMatch))
            {
                return category;
            }
        }
        foreach (var frame in frames.Take(8))
        {
            foreach (var (category, pattern) in NearLeaf)
            {
                if (pattern.IsMatch(frame))
                {
                    return category;
                }
            }
        }
        return "kernel and native runtime (syscalls, scheduling, allocation)";
    }

    [GeneratedRegex(@"^(?<comm>.*?)\s+(?<pid>\d+)/(?<tid>\d+)\s*$")]
    private static partial Regex SampleHeader();

    private static async Task<string> ReportAsync(string perf, string data, string sort, string? pid, string percentLimit)
    {
        var start = new ProcessStartInfo(perf) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["report", "-i", data, "--stdio", "--no-children", "-g", "none", "--sort", sort, "--percent-limit", percentLimit])
        {
            start.ArgumentList.Add(argument);
        }
        if (pid is not null)
        {
            start.ArgumentList.Add("--pid");
            start.ArgumentList.Add(pid);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        _ = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        // perf's comment lines aside, and the long IL signatures shortened to the method's name.
        return string.Join('\n', (await output).Split('\n').Where(line => line.Length > 0 && !line.StartsWith('#')).Select(Shorten)) + "\n";
    }

    private static string Shorten(string line)
    {
        // "… [.] instance void [Asm] Ns.Type::Method(args)[OptimizedTier1]" → "… [.] Ns.Type::Method [OptimizedTier1]"
        var open = line.IndexOf("::", StringComparison.Ordinal);
        if (open < 0)
        {
            return line;
        }
        var paren = line.IndexOf('(', open);
        var tier = line.LastIndexOf('[');
        return paren < 0 ? line : line[..paren] + (tier > paren ? " " + line[tier..] : "");
    }
}
