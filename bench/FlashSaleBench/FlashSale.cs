using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace GroupPay.FlashSaleBench;

/// <summary>What one sale (warm-up or measured) did.</summary>
internal sealed record SaleResult(
    int Completed,
    int Leaders,
    int Joiners,
    IReadOnlyList<string> CompletedGroups,
    IReadOnlyList<string> StrandedGroups,
    int SoldOutRetries,
    int Failures,
    TimeSpan Elapsed,
    bool SoldOut)
{
    public double GroupsPerSecond => Elapsed > TimeSpan.Zero ? Completed / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Sells one campaign through the H5 API as buyers do, closed loop: each of <c>concurrency</c> workers drives one
/// group at a time from the leader's sign-in to the joiner's notify, then starts the next, until the campaign is sold
/// out (no unit left anywhere: <c>remainingStock</c> 0) or the time is up.
/// </summary>
internal sealed class FlashSale(H5Client h5, HttpClient http, Uri gateway, string campaignId, string? kolCode, string tag, int concurrency)
{
    /// <summary>How long a buyer refused with <c>campaign-closed</c> keeps trying while the campaign still shows units
    /// (free units in another stock share come back within the shares' sync and starvation windows: 5 s + 30 s).</summary>
    private static readonly TimeSpan RetryWhileStockFor = TimeSpan.FromSeconds(45);

    private readonly ConcurrentQueue<string> _failures = new();
    private int _buyers;
    private int _completed;
    private int _transactions;

    public async Task<SaleResult> RunAsync(TimeSpan maxPhase, Action<int, TimeSpan>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(maxPhase.TotalSeconds * Stopwatch.Frequency);
        var completed = new ConcurrentQueue<string>();
        var stranded = new ConcurrentQueue<string>();
        var leaders = 0;
        var joiners = 0;
        var failures = 0;
        var retries = 0;
        var soldOut = false;
        long lastDone = started;

        bool TimeLeft() => Stopwatch.GetTimestamp() < stopAt && !cancellationToken.IsCancellationRequested;

        // A refusal with units still shown: wait and try again (the same buyer), as a buyer in a sale does.
        async Task<bool> StockLeftAsync(long since)
        {
            if (!TimeLeft() || Stopwatch.GetElapsedTime(since) > RetryWhileStockFor || await RemainingStockAsync(cancellationToken) <= 0)
            {
                return false;
            }
            Interlocked.Increment(ref retries);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            return true;
        }

        async Task WorkerAsync()
        {
            while (!Volatile.Read(ref soldOut) && TimeLeft())
            {
                try
                {
                    var leader = NextBuyer();
                    var session = await h5.SignInAsync(leader, cancellationToken);
                    string? groupId = null;
                    var refusedSince = Stopwatch.GetTimestamp();
                    while (groupId is null)
                    {
                        try
                        {
                            groupId = await h5.CreateGroupAsync(session, campaignId, kolCode, cancellationToken);
                        }
                        catch (SoldOutException)
                        {
                            if (!await StockLeftAsync(refusedSince))
                            {
                                Volatile.Write(ref soldOut, true);
                                return;
                            }
                        }
                    }
                    Interlocked.Increment(ref leaders);
                    var (leaderTrade, leaderAmount) = await h5.PayAsync(Call.LeaderPay, session, groupId, null, cancellationToken);
                    await h5.NotifyAsync(Call.LeaderNotify, leaderTrade, NextTransactionId(), leaderAmount, leader, groupId, cancellationToken);

                    var joiner = NextBuyer();
                    var joinerSession = await h5.SignInAsync(joiner, cancellationToken);
                    (string OutTradeNo, long AmountFen)? payment = null;
                    refusedSince = Stopwatch.GetTimestamp();
                    while (payment is null)
                    {
                        try
                        {
                            payment = await h5.PayAsync(Call.JoinerPay, joinerSession, groupId, kolCode, cancellationToken);
                        }
                        catch (SoldOutException)
                        {
                            if (!await StockLeftAsync(refusedSince))
                            {
                                stranded.Enqueue(groupId);
                                Volatile.Write(ref soldOut, true);
                                return;
                            }
                        }
                    }
                    Interlocked.Increment(ref joiners);
                    await h5.NotifyAsync(Call.JoinerNotify, payment.Value.OutTradeNo, NextTransactionId(), payment.Value.AmountFen, joiner, groupId, cancellationToken);
                    completed.Enqueue(groupId);
                    Interlocked.Increment(ref _completed);
                    InterlockedMax(ref lastDone, Stopwatch.GetTimestamp());
                }
                catch (FlowException ex)
                {
                    if (Interlocked.Increment(ref failures) > 1_000)
                    {
                        throw new InvalidOperationException("More than 1,000 groups failed; see the failures in the log. Last: " + ex.Message, ex);
                    }
                    _failures.Enqueue($"{ex.Call}: {ex.Message}");
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    Interlocked.Increment(ref failures);
                    _failures.Enqueue(ex.GetType().Name + ": " + ex.Message);
                }
            }
        }

        using var reporter = new CancellationTokenSource();
        var reporting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(10), reporter.Token);
                    progress?.Invoke(completed.Count, Stopwatch.GetElapsedTime(started));
                }
            }
            catch (OperationCanceledException)
            {
                // done
            }
        }, CancellationToken.None);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(WorkerAsync, CancellationToken.None)));
        }
        finally
        {
            await reporter.CancelAsync();
            await reporting;
        }
        var elapsed = Stopwatch.GetElapsedTime(started, Math.Max(lastDone, started + 1));
        return new SaleResult(completed.Count, leaders, joiners, [.. completed], [.. stranded], retries, failures, elapsed, soldOut);
    }

    /// <summary>Groups completed so far.</summary>
    public int Completed => Volatile.Read(ref _completed);

    /// <summary>The first failures seen (for the report), grouped.</summary>
    public IReadOnlyDictionary<string, int> FailureKinds =>
        _failures.GroupBy(f => f.Length > 160 ? f[..160] : f).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>GET /api/campaigns/{id}: remainingStock as the H5 page shows it.</summary>
    public async Task<int> RemainingStockAsync(CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(gateway, $"/api/campaigns/{campaignId}"), cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return 0;
        }
        using var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return body.RootElement.GetProperty("remainingStock").GetInt32();
    }

    private string NextBuyer() => $"o-fs-{tag}-{Interlocked.Increment(ref _buyers).ToString("x", CultureInfo.InvariantCulture)}";

    private string NextTransactionId() =>
        "420009" + DateTime.UtcNow.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + tag + Interlocked.Increment(ref _transactions).ToString("D9", CultureInfo.InvariantCulture);

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

    /// <summary>PUT /admin/campaigns/{id} with the admin key: a group-of-two offer of <paramref name="units"/>.</summary>
    public static async Task DefineAsync(HttpClient http, Uri gateway, string adminKey, string campaignId, int units, long rewardFen, CancellationToken cancellationToken)
    {
        var body = string.Create(CultureInfo.InvariantCulture,
            $$"""{"title":"Flash sale","soloPriceFen":1999,"groupPriceFen":990,"groupSize":2,"windowMinutes":1440,"holdMinutes":120,"stock":{{units}},"perUserLimit":1,"inviterRewardFen":{{rewardFen}}}""");
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(gateway, "/admin/campaigns/" + campaignId))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Admin-Key", adminKey);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PUT /admin/campaigns/{campaignId}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }
}
