using System.Globalization;

namespace GroupPay.NotifyBench;

/// <summary>The benchmark's settings, from <c>--name value</c> pairs; every count and duration is bounded.</summary>
internal sealed record BenchOptions
{
    /// <summary>Requests in flight at once (one connection each), the same for the three paths.</summary>
    public int Concurrency { get; init; } = 64;

    /// <summary>Requests sent before the measured phase of each path (not counted).</summary>
    public int Warmup { get; init; } = 20_000;

    /// <summary>Requests in the measured phase of each path. Path 3 needs as many live attempts (plus the warm-up's),
    /// each set up beforehand, since every notify is for a distinct attempt.</summary>
    public int Requests { get; init; } = 30_000;

    /// <summary>The measured phase also ends after this long, whatever was sent.</summary>
    public TimeSpan MaxPhase { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Path 3: groups per campaign (the campaign grain keeps one reservation per slot).</summary>
    public int GroupsPerCampaign { get; init; } = 200;

    /// <summary>Path 3: concurrent CreateAsync + PayAsync calls while setting up the attempts.</summary>
    public int SetupConcurrency { get; init; } = 64;

    /// <summary>Path 3: silo processes.</summary>
    public int Silos { get; init; } = 1;

    /// <summary><c>auto</c> (redis-server when on the PATH, else Garnet), <c>redis-server</c> or <c>garnet</c>.</summary>
    public string Store { get; init; } = "auto";

    /// <summary>Which paths to run (1 ceiling, 2 plain Redis, 3 GroupPay).</summary>
    public IReadOnlySet<int> Paths { get; init; } = new HashSet<int> { 1, 2, 3 };

    /// <summary>Path 3: CPU-profile the gateway and the silos with Linux perf during the measured phase (figures of a
    /// profiled run are a little lower: perf shares the cores).</summary>
    public bool Profile { get; init; }

    /// <summary>Path 3: after the setup, break the silos' managed heap down by type (ClrMD; the silo is suspended
    /// while its heap is walked, so this runs before the measured phase).</summary>
    public bool Heap { get; init; }

    /// <summary>Results and every process's log; default <c>.data/bench/&lt;time&gt;</c> under the repository.</summary>
    public string? OutputDir { get; init; }

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            options = name switch
            {
                "--concurrency" => options with { Concurrency = Int(Value(), name, 1, 4096) },
                "--warmup" => options with { Warmup = Int(Value(), name, 0, 1_000_000) },
                "--requests" => options with { Requests = Int(Value(), name, 1, 2_000_000) },
                "--max-seconds" => options with { MaxPhase = TimeSpan.FromSeconds(Int(Value(), name, 1, 600)) },
                "--groups-per-campaign" => options with { GroupsPerCampaign = Int(Value(), name, 1, 100_000) },
                "--setup-concurrency" => options with { SetupConcurrency = Int(Value(), name, 1, 1024) },
                "--silos" => options with { Silos = Int(Value(), name, 1, 4) },
                "--store" => options with { Store = StoreKind(Value()) },
                "--paths" => options with { Paths = Value().Split(',').Select(p => Int(p, name, 1, 3)).ToHashSet() },
                "--out" => options with { OutputDir = Value() },
                "--profile" => options with { Profile = true },
                "--heap" => options with { Heap = true },
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
        }
        return options;
    }

    public const string Usage = """
        GroupPay notify-path benchmark: every process local (127.0.0.1), bounded counts and durations, stops by itself.

          run [--concurrency 64] [--warmup 20000] [--requests 30000] [--max-seconds 30] [--paths 1,2,3]
              [--store auto|redis-server|garnet] [--silos 1] [--groups-per-campaign 200] [--setup-concurrency 64]
              [--profile] [--heap] [--out DIR]

        Paths: 1 = parse + verify only (the ceiling); 2 = parse + verify + one Redis HSET (the plain alternative);
               3 = the real gateway -> OrderGrain on real silos -> durable state write, one notify per live attempt.
        --heap: after the setup, the silos' managed heap by type (bytes and objects per live group), before measuring.
        --profile: CPU samples of the gateway and the silos during path 3 (Linux perf), by process, module and method.
        """;

    private static string StoreKind(string value) =>
        value is "auto" or "redis-server" or "garnet" ? value : throw new ArgumentException("--store is auto, redis-server or garnet.");

    private static int Int(string text, string name, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new ArgumentException($"{name} must be a whole number in {min}..{max}, not '{text}'.");
}
