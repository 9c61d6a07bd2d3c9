using GroupPay.Grains.Orders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GroupPay.Samples.FulfilmentWorker;

/// <summary>What the shop does with a completed group: one parcel per member (the openids; the shop's own records
/// map them to addresses). Called at least once per group, so it must be idempotent by <see cref="CompletedGroup.GroupId"/>
/// (a crash after shipping and before the cursor is saved ships the group again on restart).</summary>
public interface IShipper
{
    Task ShipAsync(CompletedGroup group, CancellationToken cancellationToken);
}

/// <summary>Where the worker keeps its place in the feed. Keep it with the shipments (one transaction), so the place
/// and what was shipped never disagree; the sample keeps it in memory, so a restart reads the feed from its oldest entry.</summary>
public interface IFeedCursor
{
    Task<long> ReadAsync(CancellationToken cancellationToken);

    Task SaveAsync(long cursor, CancellationToken cancellationToken);
}

/// <summary>Section <c>Fulfilment</c>.</summary>
public sealed class FulfilmentOptions
{
    public const string SectionName = "Fulfilment";

    /// <summary>How long the worker waits before reading again once it has read everything.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
}

public static class FulfilmentServiceCollectionExtensions
{
    /// <summary>The worker, with the sample's shipper (it logs) and in-memory cursor unless others are registered.</summary>
    public static IServiceCollection AddFulfilment(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<FulfilmentOptions>().BindConfiguration(FulfilmentOptions.SectionName);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IShipper, LoggingShipper>();
        services.TryAddSingleton<IFeedCursor, InMemoryFeedCursor>();
        services.AddHostedService<FulfilmentService>();
        return services;
    }
}

/// <summary>
/// Reads the shop's feed of completed groups (<see cref="ICompletedGroupsGrain"/>) from its cursor, ships each group,
/// then saves the cursor past it. Delivery is at least once: the feed holds each completion once, and the worker
/// moves its cursor only after a shipment succeeded. A read that reports <see cref="CompletedGroupsPage.Missed"/>
/// entries (the worker was away for more than the feed's capacity of completions) is logged as an error: those
/// groups are to be found another way (docs/clients.md).
/// </summary>
public sealed partial class FulfilmentService(
    IGrainFactory grains,
    IShipper shipper,
    IFeedCursor cursorStore,
    IOptions<FulfilmentOptions> options,
    TimeProvider time,
    ILogger<FulfilmentService> logger) : BackgroundService
{
    /// <summary>How long the worker waits after a failed read or shipment before it tries again.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var feed = grains.GetGrain<ICompletedGroupsGrain>(0);
        var cursor = await cursorStore.ReadAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Value.PollInterval;
            try
            {
                var page = await feed.ReadAsync(cursor, ICompletedGroupsGrain.MaxPage);
                if (page.Missed > 0)
                {
                    LogMissed(logger, page.Missed, cursor);
                }
                foreach (var entry in page.Entries)
                {
                    await shipper.ShipAsync(entry.Group, stoppingToken);
                    cursor = entry.Sequence;
                    await cursorStore.SaveAsync(cursor, stoppingToken);
                }
                if (page.Cursor != cursor)
                {
                    cursor = page.Cursor;
                    await cursorStore.SaveAsync(cursor, stoppingToken);
                }
                if (page.Entries.Count == ICompletedGroupsGrain.MaxPage)
                {
                    continue;
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, ex, cursor);
                wait = RetryDelay;
            }
            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The feed dropped {Missed} completed groups after {Cursor} before they were read: find them another way.")]
    private static partial void LogMissed(ILogger logger, long missed, long cursor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading or shipping after {Cursor} failed; trying again.")]
    private static partial void LogFailed(ILogger logger, Exception exception, long cursor);
}

/// <summary>The sample's shipper: logs what it would send.</summary>
public sealed partial class LoggingShipper(ILogger<LoggingShipper> logger) : IShipper
{
    public Task ShipAsync(CompletedGroup group, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(group);
        LogShipped(logger, group.GroupId, group.CampaignId, group.Members.Count);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shipping group {GroupId} of {CampaignId}: {Parcels} parcels.")]
    private static partial void LogShipped(ILogger logger, string groupId, string campaignId, int parcels);
}

/// <summary>The cursor in memory: lost with the process.</summary>
public sealed class InMemoryFeedCursor : IFeedCursor
{
    private long _cursor;

    public Task<long> ReadAsync(CancellationToken cancellationToken) => Task.FromResult(Interlocked.Read(ref _cursor));

    public Task SaveAsync(long cursor, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _cursor, cursor);
        return Task.CompletedTask;
    }
}
