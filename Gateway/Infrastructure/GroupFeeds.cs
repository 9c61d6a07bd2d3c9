using System.Collections.Concurrent;
using GroupPay.Grains.Orders;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>
/// The gateway's one watch per followed group (<see cref="IOrderGrain.WatchAsync"/>), shared by every event stream of
/// that group on this gateway: the group's grain tells this gateway once per stored change, and each stream then reads
/// its viewer's snapshot. An idle group costs a renewal per <see cref="GroupWatch.RenewInterval"/>, not a read per
/// viewer per second. A renewal that finds the stored version moved (a change this gateway did not hear of, e.g. the
/// grain moved to another silo) wakes the streams too.
/// </summary>
public sealed partial class GroupFeeds(IGrainFactory grains, GatewayTelemetry telemetry, TimeProvider time, ILogger<GroupFeeds> logger)
    : IGroupObserver, IDisposable
{
    private readonly ConcurrentDictionary<string, Feed> _feeds = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private IGroupObserver? _reference;

    /// <summary>Follows <paramref name="groupId"/> until the subscription is disposed.</summary>
    public FeedSubscription Subscribe(string groupId)
    {
        lock (_gate)
        {
            _reference ??= grains.CreateObjectReference<IGroupObserver>(this);
            var feed = _feeds.GetOrAdd(groupId, id => new Feed(id));
            if (feed.Subscribers++ == 0)
            {
                _ = RenewAsync(feed, _reference); // ends when the feed stops or the gateway does; logs its own failures
            }
            return new FeedSubscription(this, feed);
        }
    }

    private void Leave(Feed feed)
    {
        lock (_gate)
        {
            if (--feed.Subscribers > 0)
            {
                return;
            }
            _feeds.TryRemove(feed.GroupId, out _);
            feed.Stop.Cancel();
            feed.Stop.Dispose(); // the renewal loop's linked token has been cancelled with it
        }
    }

    public Task GroupChanged(string groupId)
    {
        if (_feeds.TryGetValue(groupId, out var feed))
        {
            feed.Changed();
        }
        return Task.CompletedTask;
    }

    /// <summary>Watches, then renews every <see cref="GroupWatch.RenewInterval"/> (a second after a failure) until the
    /// last subscriber leaves; then unwatches.</summary>
    private async Task RenewAsync(Feed feed, IGroupObserver reference)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(feed.Stop.Token, _stopping.Token);
        var grain = grains.GetGrain<IOrderGrain>(feed.GroupId);
        string? version = null;
        while (!stop.IsCancellationRequested)
        {
            var wait = GroupWatch.RenewInterval;
            try
            {
                telemetry.EventStreamCalled("watch");
                var stored = await grain.WatchAsync(reference);
                if (version is not null && stored != version)
                {
                    feed.Changed();
                }
                version = stored;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogWatchFailed(logger, ex, feed.GroupId);
                feed.Changed(); // the streams read for themselves until the watch is back
                wait = TimeSpan.FromSeconds(1);
            }
            try
            {
                await Task.Delay(wait, time, stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        if (_feeds.ContainsKey(feed.GroupId))
        {
            return; // followed again meanwhile: the new feed's watch is the same observer's
        }
        try
        {
            await grain.UnwatchAsync(reference);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWatchFailed(logger, ex, feed.GroupId); // the watch expires by itself
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
        if (_reference is not null)
        {
            grains.DeleteObjectReference<IGroupObserver>(_reference);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Watching group {GroupId} failed; its event streams read by themselves until it is back")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception, string groupId);

    /// <summary>One followed group: its subscriber count and the signal of its next change.</summary>
    internal sealed class Feed(string groupId)
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string GroupId { get; } = groupId;

        public int Subscribers { get; set; }

        public CancellationTokenSource Stop { get; } = new();

        /// <summary>Completes at the next change.</summary>
        public Task NextChange => Volatile.Read(ref _next).Task;

        public void Changed() =>
            Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>One event stream's place in a feed.</summary>
    public sealed class FeedSubscription : IDisposable
    {
        private readonly GroupFeeds _feeds;
        private readonly Feed _feed;
        private Task _next;
        private bool _disposed;

        internal FeedSubscription(GroupFeeds feeds, Feed feed)
        {
            _feeds = feeds;
            _feed = feed;
            _next = feed.NextChange;
        }

        /// <summary>Waits for a change after the last one this subscription saw; false when cancelled.</summary>
        public async Task<bool> ChangedAsync(CancellationToken cancellationToken)
        {
            try
            {
                await _next.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            _next = _feed.NextChange;
            return true;
        }

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                _feeds.Leave(_feed);
            }
        }
    }
}
