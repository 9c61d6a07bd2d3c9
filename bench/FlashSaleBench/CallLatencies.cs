using System.Collections.Concurrent;
using System.Diagnostics;
using GroupPay.NotifyBench;

namespace GroupPay.FlashSaleBench;

/// <summary>The HTTP calls one group makes, in order (the names in the report).</summary>
internal enum Call
{
    SignInLogin,
    SignInAuthorize,
    SignInCallback,
    CreateGroup,
    LeaderPay,
    LeaderNotify,
    JoinerPay,
    JoinerNotify,
}

/// <summary>Every call's latency (send → whole answer read), kept per call so that percentiles are exact.</summary>
internal sealed class CallLatencies
{
    private readonly ConcurrentQueue<long>[] _ticks = [.. Enum.GetValues<Call>().Select(_ => new ConcurrentQueue<long>())];
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    public static string Describe(Call call) => call switch
    {
        Call.SignInLogin => "sign-in 1: GET /auth/login (gateway → 302 to WeChat OAuth)",
        Call.SignInAuthorize => "sign-in 2: OAuth authorize, user confirmed (sandbox → 302 with code)",
        Call.SignInCallback => "sign-in 3: GET /auth/callback (gateway: code → openid at the sandbox, session cookie)",
        Call.CreateGroup => "POST /api/groups (leader, KOL's ref)",
        Call.LeaderPay => "POST /api/groups/{id}/pay (leader: unifiedorder at the sandbox)",
        Call.LeaderNotify => "POST /wechatpay/notify (leader's payment: group opens)",
        Call.JoinerPay => "POST /api/groups/{id}/pay (joiner, KOL's ref: join + unifiedorder)",
        Call.JoinerNotify => "POST /wechatpay/notify (joiner's payment: group completes)",
        _ => call.ToString(),
    };

    public void Add(Call call, long elapsedTicks) => _ticks[(int)call].Enqueue(elapsedTicks);

    public void Fail(Call call, string what) => _failures.AddOrUpdate($"{call}: {what}", 1, (_, n) => n + 1);

    public IReadOnlyDictionary<string, int> Failures => _failures;

    public int Count(Call call) => _ticks[(int)call].Count;

    /// <summary>Exact percentiles (nearest rank) of one call, in ms: p50, p99, max, and the count.</summary>
    public (int Count, double P50, double P90, double P99, double Max) Summary(Call call)
    {
        var sorted = _ticks[(int)call].ToArray();
        Array.Sort(sorted);
        if (sorted.Length == 0)
        {
            return (0, double.NaN, double.NaN, double.NaN, double.NaN);
        }
        double At(double p) => ToMs(BenchMain.Percentile(sorted, p)!.Value);
        return (sorted.Length, At(50), At(90), At(99), ToMs(sorted[^1]));
    }

    private static double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
