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

    /// <summary>The running benchmark's own dll (it starts itself as the comparison servers and the embedded Garnet):
    /// GroupPay.NotifyBench.dll, or GroupPay.FlashSaleBench.dll, which links these files.</summary>
    public static string SelfDll => Path.Combine(AppContext.BaseDirectory, typeof(Layout).Assembly.GetName().Name + ".dll");

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
                throw new InvalidOperationException($"{dll} is not built: run the benchmark through its script, ./bench/notify.sh or ./bench/flash-sale.sh (it builds Release first).");
            }
        }
    }
}

internal static class FreePort
{
    // Below Linux's ephemeral range (net.ipv4.ip_local_port_range, 32768..60999 by default): a port taken from that range
    // and released can be picked again by any outgoing connection (a silo's to Redis, the gateway's to a silo) before
    // the process it was meant for binds it, which failed a start now and then.
    private const int First = 20_000;
    private const int Last = 32_000;
    private static readonly HashSet<int> Given = [];

    /// <summary>A port that was free on 127.0.0.1 a moment ago, outside the ephemeral range, never the same twice in
    /// one run.</summary>
    public static int Get()
    {
        lock (Given)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var port = Random.Shared.Next(First, Last);
                if (!Given.Contains(port) && IsFree(port))
                {
                    Given.Add(port);
                    return port;
                }
            }
        }
        throw new InvalidOperationException($"No free port on 127.0.0.1 in {First}..{Last}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
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
