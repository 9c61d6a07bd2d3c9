using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using GroupPay.WeChatPay.Notifications;

namespace GroupPay.NotifyBench;

/// <summary>
/// A closed-loop load generator: a fixed number of workers, each with its own keep-alive connection, each sending
/// the next notify as soon as the previous answer was read. Every request's latency (send → whole answer read) is
/// kept, so percentiles are exact; an answer that is not exactly WeChat's SUCCESS document counts as a failure.
/// </summary>
internal sealed class LoadGenerator : IDisposable
{
    private static readonly MediaTypeHeaderValue Xml = new("text/xml") { CharSet = "utf-8" };
    private readonly HttpClient _client;
    private readonly Uri _uri;
    private readonly int _concurrency;

    public LoadGenerator(Uri uri, int concurrency)
    {
        _uri = uri;
        _concurrency = concurrency;
        _client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = concurrency,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        })
        {
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>Sends the bodies <paramref name="first"/> .. first+count-1 (from <paramref name="body"/>), stopping
    /// early when <paramref name="maxDuration"/> has passed.</summary>
    public async Task<PhaseResult> RunAsync(string name, Func<int, byte[]> body, int first, int count, TimeSpan maxDuration, CancellationToken cancellationToken)
    {
        var latencies = new long[count];
        var ok = new bool[count];
        var next = -1;
        var failures = new Dictionary<string, int>(StringComparer.Ordinal);
        var stopAt = Stopwatch.GetTimestamp() + (long)(maxDuration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        long lastDone = started;

        async Task WorkerAsync()
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= count || Stopwatch.GetTimestamp() > stopAt || cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                var payload = body(first + i);
                var t0 = Stopwatch.GetTimestamp();
                string? failure = null;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, _uri) { Content = new ByteArrayContent(payload) };
                    request.Content.Headers.ContentType = Xml;
                    using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
                    var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    if (!WeChatPayNotifyReply.IsSuccess(answer))
                    {
                        failure = $"HTTP {(int)response.StatusCode}: {Shorten(Encoding.UTF8.GetString(answer))}";
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
                    failure = ex.GetType().Name + ": " + Shorten(ex.Message);
                }
                var t1 = Stopwatch.GetTimestamp();
                latencies[i] = t1 - t0;
                ok[i] = failure is null;
                InterlockedMax(ref lastDone, t1);
                if (failure is not null)
                {
                    lock (failures)
                    {
                        failures[failure] = failures.GetValueOrDefault(failure) + 1;
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, _concurrency).Select(_ => Task.Run(WorkerAsync, CancellationToken.None)));
        var elapsed = Stopwatch.GetElapsedTime(started, lastDone);
        var done = Enumerable.Range(0, count).Where(i => latencies[i] > 0).ToList();
        var sorted = done.Select(i => latencies[i]).Order().ToArray();
        var succeeded = done.Where(i => ok[i]).Select(i => first + i).ToArray();
        return new PhaseResult(name, done.Count, succeeded.Length, done.Count - succeeded.Length, elapsed, sorted, failures, succeeded);
    }

    public void Dispose() => _client.Dispose();

    private static void InterlockedMax(ref long location, long value)
    {
        var current = Volatile.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }

    private static string Shorten(string text) => text.Length <= 160 ? text : text[..160] + "…";
}

/// <summary>One phase's outcome: counts, wall time, every latency (sorted, in Stopwatch ticks) and which bodies got SUCCESS.</summary>
internal sealed record PhaseResult(
    string Name, int Completed, int Succeeded, int Failed, TimeSpan Elapsed, long[] SortedLatencies, IReadOnlyDictionary<string, int> Failures,
    IReadOnlyList<int> SucceededItems)
{
    /// <summary>Successful notifies per second over the phase's wall time.</summary>
    public double PerSecond => Elapsed > TimeSpan.Zero ? Succeeded / Elapsed.TotalSeconds : 0;

    /// <summary>The latency at percentile <paramref name="p"/> (nearest rank), in milliseconds.</summary>
    public double PercentileMs(double p) => BenchMain.Percentile(SortedLatencies, p) is { } ticks ? ToMs(ticks) : double.NaN;

    public double MeanMs => SortedLatencies.Length == 0 ? double.NaN : ToMs((long)SortedLatencies.Average());

    /// <summary>A log₂ histogram of the latencies, one line per bucket.</summary>
    public string Histogram()
    {
        var text = new StringBuilder();
        var upper = 0.125;
        var index = 0;
        while (index < SortedLatencies.Length)
        {
            upper *= 2;
            var start = index;
            while (index < SortedLatencies.Length && ToMs(SortedLatencies[index]) < upper)
            {
                index++;
            }
            var n = index - start;
            if (n == 0 && start == 0)
            {
                continue;
            }
            var share = (double)n / SortedLatencies.Length;
            text.Append(CultureInfo.InvariantCulture, $"      < {upper,7:0.###} ms {n,8} {share,7:P1} {new string('#', (int)Math.Round(share * 50))}\n");
        }
        return text.ToString();
    }

    private static double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
