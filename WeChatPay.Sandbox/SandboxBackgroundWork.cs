using System.Collections.Concurrent;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// Runs the sandbox's fire-and-forget work (notify deliveries, refund settlement) and cancels and awaits
/// it when the host stops, so a stopped sandbox sends nothing more.
/// </summary>
internal sealed partial class SandboxBackgroundWork(ILogger<SandboxBackgroundWork> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    /// <summary>Starts <paramref name="work"/>; false when the host is stopping and nothing was started.</summary>
    public bool Run(Func<CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (_stopping.IsCancellationRequested)
        {
            return false;
        }
        var token = _stopping.Token;
        var task = Task.Run(() => RunGuardedAsync(work, token), CancellationToken.None);
        _running.TryAdd(task, 0);
        task.ContinueWith(t => _running.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return true;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_running.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host gave up waiting; the work has been told to stop.
        }
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RunGuardedAsync(Func<CancellationToken, Task> work, CancellationToken token)
    {
        try
        {
            await work(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
#pragma warning disable CA1031 // Background work must not crash the process; the failure is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sandbox background work failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
