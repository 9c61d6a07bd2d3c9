using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection.Extensions;
using GroupPay.Grains.Stats;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// The gateway's pre-aggregation of the one figure that has no stored fact behind it, the share-link opens: added in
/// memory and sent to the <see cref="IStatsGrain"/> every few seconds by <see cref="StatsFlusher"/>. A gateway that
/// crashes loses at most its last interval of link opens (every other figure is derived from stored state).
/// </summary>
public sealed class StatsBuffer
{
    private readonly ConcurrentDictionary<(string Scope, Counter Counter), long> _pending = new();

    /// <summary>Counts one event of <paramref name="campaignId"/> in the campaign's scope and the shop's.</summary>
    public void Add(string campaignId, Counter counter, long amount = 1)
    {
        AddToScope(campaignId, counter, amount);
        AddToScope(StatsScope.Total, counter, amount);
    }

    public void AddToScope(string scope, Counter counter, long amount = 1) =>
        _pending.AddOrUpdate((scope, counter), amount, (_, current) => current + amount);

    /// <summary>Takes everything counted so far (each key atomically).</summary>
    internal List<CounterIncrement> Drain()
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

public sealed class StatsOptions
{
    /// <summary>How often each process sends its counts to the stats grain.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Sends the gateway's <see cref="StatsBuffer"/> to the stats grain periodically and once more at shutdown.
/// A batch that fails is sent again, under the same batch id (counted once), before anything newer.</summary>
public sealed partial class StatsFlusher(
    StatsBuffer buffer,
    IGrainFactory grainFactory,
    Microsoft.Extensions.Options.IOptions<StatsOptions> options,
    ILogger<StatsFlusher> logger) : BackgroundService
{
    private readonly string _source = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private long _sequence;
    private (long Sequence, List<CounterIncrement> Batch)? _unsent;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FlushInterval);
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

    /// <summary>Sends what was counted since the last flush. A batch that failed is sent again first, with its
    /// own sequence number, so a batch that did arrive (but whose answer was lost) is not counted twice.</summary>
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
            var batch = buffer.Drain();
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

    private async Task<bool> TrySendAsync(long sequence, List<CounterIncrement> batch)
    {
        try
        {
            await grainFactory.GetGrain<IStatsGrain>(0).AddAsync($"{_source}/{sequence}", batch);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFlushFailed(logger, ex, batch.Count);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send {Count} counter increments to the stats grain; keeping them for the next flush")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception, int count);
}

public static class StatsServiceCollectionExtensions
{
    /// <summary>The process's <see cref="StatsBuffer"/> and its <see cref="StatsFlusher"/> (needs an
    /// <see cref="IGrainFactory"/>: a silo or an Orleans client). Configure <see cref="StatsOptions"/> for the interval.</summary>
    public static IServiceCollection AddGroupPayStats(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<StatsBuffer>();
        services.AddOptions<StatsOptions>();
        services.TryAddSingleton<StatsFlusher>();
        services.AddHostedService(sp => sp.GetRequiredService<StatsFlusher>());
        return services;
    }
}
