using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace GroupPay.NotifyBench;

/// <summary>Where the built processes are: the repository's own Release outputs.</summary>
internal sealed record Layout(string Root)
{
    public string SiloDll => Path.Combine(Root, "Silo", "bin", "Release", "net10.0", "GroupPay.Silo.dll");

    public string GatewayDll => Path.Combine(Root, "Gateway", "bin", "Release", "net10.0", "GroupPay.Gateway.dll");

    public string SandboxDll => Path.Combine(Root, "WeChatPay.Sandbox", "bin", "Release", "net10.0", "GroupPay.WeChatPay.Sandbox.dll");

    /// <summary>This benchmark's own dll (it starts itself as the comparison servers).</summary>
    public static string SelfDll => Path.Combine(AppContext.BaseDirectory, "GroupPay.NotifyBench.dll");

    /// <summary>The folder holding GroupPay.sln, found upwards from this dll.</summary>
    public static Layout Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GroupPay.sln")))
            {
                return new Layout(dir.FullName);
            }
        }
        throw new InvalidOperationException("GroupPay.sln not found above " + AppContext.BaseDirectory);
    }

    public void RequireBuilt()
    {
        foreach (var dll in new[] { SiloDll, GatewayDll, SandboxDll })
        {
            if (!File.Exists(dll))
            {
                throw new InvalidOperationException($"{dll} is not built: run ./bench/notify.sh (it builds Release first).");
            }
        }
    }
}

internal static class FreePort
{
    /// <summary>A port that was free on 127.0.0.1 a moment ago.</summary>
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Busy and idle time of the whole machine (<c>/proc/stat</c>), to tell whether a phase saturated it.</summary>
internal readonly record struct MachineCpu(long Busy, long Total)
{
    public static MachineCpu Read()
    {
        try
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
            var total = fields.Take(8).Sum();
            return new MachineCpu(total - idle, total);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return default;
        }
    }

    /// <summary>Share of all cores busy between <paramref name="before"/> and this sample.</summary>
    public double BusySince(MachineCpu before) => Total > before.Total ? (double)(Busy - before.Busy) / (Total - before.Total) : double.NaN;
}

/// <summary>CPU time of a set of processes at one moment.</summary>
internal sealed class CpuSample
{
    private readonly Dictionary<string, TimeSpan> _times;

    private CpuSample(Dictionary<string, TimeSpan> times, MachineCpu machine, long timestamp, DateTime utc)
    {
        _times = times;
        Machine = machine;
        Timestamp = timestamp;
        Utc = utc;
    }

    public MachineCpu Machine { get; }

    public long Timestamp { get; }

    /// <summary>Wall-clock time of the sample, to match other processes' logs (the GC pause logs).</summary>
    public DateTime Utc { get; }

    public static CpuSample Take(IEnumerable<(string Name, Func<TimeSpan> Cpu)> processes) =>
        new(processes.ToDictionary(p => p.Name, p => p.Cpu()), MachineCpu.Read(), Stopwatch.GetTimestamp(), DateTime.UtcNow);

    /// <summary>Per process: CPU seconds used since <paramref name="before"/>.</summary>
    public IReadOnlyList<(string Name, TimeSpan Cpu)> Since(CpuSample before) =>
        [.. _times.Select(t => (t.Key, t.Value - before._times.GetValueOrDefault(t.Key)))];

    public static (string Name, Func<TimeSpan> Cpu) Self() =>
        ("load generator (this process)", () =>
        {
            using var self = Process.GetCurrentProcess();
            return self.TotalProcessorTime;
        });
}
