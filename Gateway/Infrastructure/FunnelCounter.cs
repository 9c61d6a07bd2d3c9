using System.Collections.Concurrent;
using GroupPay.Grains.Stats;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// The funnel's first step, counted where it happens: a group page opened through a share link (<c>?ref=</c>).
/// Counts gather in memory and <see cref="FunnelFlusher"/> sends them to the stats grain every
/// <c>Gateway:StatsFlushInterval</c>, as the silos' buffers do, so opening a link costs no extra grain call.
/// </summary>
internal sealed class FunnelCounter
{
    private readonly ConcurrentDictionary<(string Scope, Counter Counter), long> _pending = new();

    public void LinkOpened(string campaignId)
    {
        Add(campaignId, Counter.LinkOpened);
        Add(StatsScope.Total, Counter.LinkOpened);
    }

    private void Add(string scope, Counter counter) => _pending.AddOrUpdate((scope, counter), 1, (_, current) => current + 1);

    /// <summary>Takes everything counted so far.</summary>
    public List<CounterIncrement> Drain()
    {
        var taken = new List<CounterIncrement>();
        foreach (var key in _pending.Keys)
        {
            if (_pending.TryRemove(key, out var amount) && amount != 0)
            {
                taken.Add(new CounterIncrement(key.Scope, key.Counter, amount));
            }
        }
        return taken;
    }
}

/// <summary>Sends the <see cref="FunnelCounter"/>'s counts to <see cref="IStatsGrain"/> periodically and at shutdown.
/// This gateway process is one source; a batch that failed is resent under its sequence number before anything newer,
/// so a batch that arrived (but whose answer was lost) is not counted twice.</summary>
internal sealed partial class FunnelFlusher(
    FunnelCounter counter, IGrainFactory grains, IOptions<GatewayOptions> options, ILogger<FunnelFlusher> logger) : BackgroundService
{
    private readonly string _source = $"gateway/{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private long _sequence;
    private (long Sequence, List<CounterIncrement> Batch)? _unsent;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.StatsFlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync();
    }

    public async Task FlushAsync()
    {
        await _flushing.WaitAsync();
        try
        {
            if (_unsent is { } retry && !await TrySendAsync(retry.Sequence, retry.Batch))
            {
                return;
            }
            _unsent = null;
            var batch = counter.Drain();
            if (batch.Count > 0)
            {
                var sequence = ++_sequence;
                if (!await TrySendAsync(sequence, batch))
                {
                    _unsent = (sequence, batch);
                }
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    public override void Dispose()
    {
        _flushing.Dispose();
        base.Dispose();
    }

    private async Task<bool> TrySendAsync(long sequence, List<CounterIncrement> batch)
    {
        try
        {
            await grains.GetGrain<IStatsGrain>(0).AddAsync(_source, sequence, batch);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFlushFailed(logger, ex, batch.Count);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send {Count} funnel counts to the stats grain; keeping them for the next flush")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, int count);
}
