using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GroupPay.Grains.Operations;

/// <summary>
/// The operator queue on the silo's <c>GroupPay</c> meter: <c>grouppay.operator.items.open</c> (open items, by
/// <c>kind</c>) and <c>grouppay.operator.items.oldest_open_age</c> (seconds since the oldest open item was first seen).
/// The counts are read from the queue grain every <see cref="RefreshInterval"/>; the gauges report the last reading
/// (nothing before the first one). Every silo reports the same cluster-wide figures: aggregate them with max, not sum.
/// </summary>
public sealed partial class OperatorQueueMetrics : BackgroundService
{
    public const string MeterName = "GroupPay";
    public const string OpenItemsName = "grouppay.operator.items.open";
    public const string OldestOpenAgeName = "grouppay.operator.items.oldest_open_age";

    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(15);

    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly ILogger<OperatorQueueMetrics> _logger;
    private volatile OperatorQueueCounts? _last;

    public OperatorQueueMetrics(IGrainFactory grains, IMeterFactory meters, TimeProvider time, ILogger<OperatorQueueMetrics> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _grains = grains;
        _time = time;
        _logger = logger;
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge(OpenItemsName, ObserveOpen, unit: "{item}", description: "Open operator items by kind");
        meter.CreateObservableGauge(OldestOpenAgeName, ObserveOldestAge, unit: "s", description: "Age of the oldest open operator item (0 when none is open)");
    }

    /// <summary>Reads the counts from the queue grain now; a failure keeps the previous reading and is logged.</summary>
    public async Task RefreshAsync()
    {
        try
        {
            _last = await _grains.GetGrain<IOperatorQueueGrain>(0).CountsAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRefreshFailed(_logger, ex);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RefreshAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private IEnumerable<Measurement<int>> ObserveOpen() =>
        _last is { } counts
            ? counts.OpenByKind.Select(p => new Measurement<int>(p.Value, new KeyValuePair<string, object?>("kind", OperatorItemKinds.Name(p.Key))))
            : [];

    private IEnumerable<Measurement<double>> ObserveOldestAge() =>
        _last is { } counts
            ? [new Measurement<double>(counts.OldestOpen is { } oldest ? Math.Max(0, (_time.GetUtcNow() - oldest).TotalSeconds) : 0)]
            : [];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the operator queue's counts; the gauges keep the last reading")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
