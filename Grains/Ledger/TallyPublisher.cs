using System.Threading.Channels;
using GroupPay.Grains.Orders;
using Microsoft.Extensions.Hosting;

namespace GroupPay.Grains.Ledger;

/// <summary>
/// Delivers the silo's group tallies to <see cref="RedisTallyStore"/> by group commit: a tally waits while one script
/// is on its way, then goes with everything that queued meanwhile (at most <see cref="MaxBatch"/>), so a busy silo
/// sends one script per round trip, not one per group, and an idle one adds no delay. The caller hears when its
/// tally is stored (or why not) and keeps it in its outbox until then.
/// </summary>
public sealed class TallyPublisher(RedisTallyStore store) : BackgroundService
{
    private const int MaxBatch = 200;

    private readonly Channel<(GroupTally Tally, TaskCompletionSource Done)> _queue =
        Channel.CreateUnbounded<(GroupTally, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });

    public Task PublishAsync(GroupTally tally)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((tally, done)))
        {
            done.SetException(new InvalidOperationException("The silo is stopping; the tally stays in the group's outbox."));
        }
        return done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(GroupTally Tally, TaskCompletionSource Done)>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                {
                    batch.Add(item);
                }
                try
                {
                    // A group published twice in one batch: its newest revision is what lands.
                    await store.ApplyAsync([.. batch.GroupBy(b => b.Tally.GroupId).Select(g => g.MaxBy(b => b.Tally.Revision).Tally)]);
                    batch.ForEach(b => b.Done.TrySetResult());
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    batch.ForEach(b => b.Done.TrySetException(ex));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var left))
            {
                left.Done.TrySetException(new InvalidOperationException("The silo stopped before the tally was sent; it stays in the group's outbox."));
            }
        }
    }
}
