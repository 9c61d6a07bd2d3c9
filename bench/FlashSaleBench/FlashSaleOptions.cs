using System.Globalization;

namespace GroupPay.FlashSaleBench;

/// <summary>The flash-sale benchmark's settings, from <c>--name value</c> pairs; every count and duration is bounded.</summary>
internal sealed record FlashSaleOptions
{
    /// <summary>Units on sale in the measured campaign (groups of two: half as many groups).</summary>
    public int Units { get; init; } = 100_000;

    /// <summary>The measured phase ends when the campaign is sold out or after this long, whichever comes first.</summary>
    public TimeSpan MaxPhase { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Groups in flight at once (closed loop: each worker drives one group from sign-in to completion).</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary>Units of the warm-up campaign sold before the measured one (its own KOL), so the measured phase starts
    /// with the processes' JIT tiered up; 0 skips it.</summary>
    public int WarmupUnits { get; init; } = 4_000;

    /// <summary>The inviter's reward per invitee payment (the campaign's <c>inviterRewardFen</c>); 0 for none.</summary>
    public long RewardFen { get; init; } = 100;

    /// <summary>Whether every link carries the KOL's referral code (<c>--no-kol</c>: none does, to measure what the
    /// KOL's binding costs).</summary>
    public bool Kol { get; init; } = true;

    /// <summary>An earlier run's <c>results.json</c>: its CPU per completed group is compared with this run's.</summary>
    public string? Baseline { get; init; }

    /// <summary>Silo processes.</summary>
    public int Silos { get; init; } = 1;

    /// <summary><c>auto</c> (redis-server when on the PATH, else Garnet), <c>redis-server</c> or <c>garnet</c>.</summary>
    public string Store { get; init; } = "auto";

    /// <summary>How often the largest states are sampled during the measured phase.</summary>
    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How many of the largest stored states to list per grain type at the end.</summary>
    public int TopStates { get; init; } = 3;

    /// <summary>Results and every process's log; default <c>.data/bench/&lt;time&gt;-flash-sale</c> under the repository.</summary>
    public string? OutputDir { get; init; }

    public static FlashSaleOptions Parse(IReadOnlyList<string> args)
    {
        var options = new FlashSaleOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            options = name switch
            {
                "--units" => options with { Units = Int(Value(), name, 2, 10_000_000) },
                "--max-seconds" => options with { MaxPhase = TimeSpan.FromSeconds(Int(Value(), name, 1, 7_200)) },
                "--concurrency" => options with { Concurrency = Int(Value(), name, 1, 1024) },
                "--warmup-units" => options with { WarmupUnits = Int(Value(), name, 0, 1_000_000) },
                "--reward-fen" => options with { RewardFen = Int(Value(), name, 0, 100_000) },
                "--baseline" => options with { Baseline = Value() },
                "--silos" => options with { Silos = Int(Value(), name, 1, 4) },
                "--store" => options with { Store = StoreKind(Value()) },
                "--sample-seconds" => options with { SampleEvery = TimeSpan.FromSeconds(Int(Value(), name, 1, 600)) },
                "--top" => options with { TopStates = Int(Value(), name, 1, 100) },
                "--out" => options with { OutputDir = Value() },
                "--no-kol" => options with { Kol = false },
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
        }
        if (options.Units % 2 != 0)
        {
            throw new ArgumentException("--units must be even (groups of two).");
        }
        return options;
    }

    public const string Usage = """
        GroupPay flash-sale benchmark: one campaign of groups of two sold through the gateway's H5 API, every buyer
        invited by one KOL; every process local (127.0.0.1), bounded, stops by itself (Ctrl-C stops everything).

          run [--units 100000] [--max-seconds 900] [--concurrency 32] [--warmup-units 4000] [--reward-fen 100]
              [--baseline DIR/results.json] [--silos 1] [--store auto|redis-server|garnet] [--sample-seconds 2]
              [--top 3] [--no-kol] [--out DIR]

        Per group: the leader signs in (WeChat OAuth at the sandbox), POST /api/groups with the KOL's ref, POST pay
        (unifiedorder at the sandbox), the signed payment notify to /wechatpay/notify; a second buyer signs in, POST pay
        with the KOL's ref (joins), their notify completes the group. --no-kol: the same without any ref.
        """;

    private static string StoreKind(string value) =>
        value is "auto" or "redis-server" or "garnet" ? value : throw new ArgumentException("--store is auto, redis-server or garnet.");

    private static int Int(string text, string name, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new ArgumentException($"{name} must be a whole number in {min}..{max}, not '{text}'.");
}
