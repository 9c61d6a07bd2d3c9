using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GroupPay.Grains.Reconciliation;

/// <summary>Starts the daily schedule once the silo runs (every silo does; the reminder is registered once and
/// lives in the reminder table). A failure is retried a few times, then logged: the next silo start tries again.</summary>
public sealed partial class ReconciliationStarter(IGrainFactory grains, IOptions<ReconciliationOptions> options, ILogger<ReconciliationStarter> logger) : BackgroundService
{
    private const int Tries = 10;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }
        for (var attempt = 1; attempt <= Tries && !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<IReconciliationScheduleGrain>(0).StartAsync();
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && !stoppingToken.IsCancellationRequested)
            {
                LogStartFailed(logger, ex, attempt);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(60, 2 * attempt)), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not start the daily reconciliation schedule (try {Attempt})")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, int attempt);
}
