using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace GroupPay.Grains.Orders;

/// <summary>
/// The outboxes of the groups active on this silo on its <c>GroupPay</c> meter:
/// <c>grouppay.outbox.effects_pending</c> (effects not yet confirmed), <c>grouppay.outbox.oldest_effect_age</c>
/// (seconds since the oldest of them was queued, waiting for WeChat included) and
/// <c>grouppay.refunds.unsettled</c> (refunds requested more than <see cref="OrderOptions.RefundAlertAfter"/> ago and
/// still being worked on: retried, or waiting for WeChat to settle them; a refund handed to a person is an open
/// <c>refund-*</c> item on the operator queue's gauges instead). A group with due effects keeps its <c>wake</c> reminder ticking every minute and so stays active: sum
/// the silos' figures (and take the max of the ages) for the cluster's.
/// </summary>
public sealed class OutboxMetrics
{
    public const string MeterName = "GroupPay";
    public const string EffectsPendingName = "grouppay.outbox.effects_pending";
    public const string OldestEffectAgeName = "grouppay.outbox.oldest_effect_age";
    public const string RefundsUnsettledName = "grouppay.refunds.unsettled";

    private readonly ConcurrentDictionary<string, Snapshot> _groups = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly IOptions<OrderOptions> _options;

    public OutboxMetrics(IMeterFactory meters, TimeProvider time, IOptions<OrderOptions> options)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _time = time;
        _options = options;
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge(EffectsPendingName, () => _groups.Values.Sum(s => s.Pending), unit: "{effect}", description: "Outbox effects not yet confirmed, in the groups active on this silo");
        meter.CreateObservableGauge(OldestEffectAgeName, ObserveOldestAge, unit: "s", description: "Seconds since the oldest pending outbox effect was queued (0 when none is pending)");
        meter.CreateObservableGauge(RefundsUnsettledName, ObserveUnsettled, unit: "{refund}", description: "Refunds requested longer ago than Orders:RefundAlertAfter and not settled");
    }

    private sealed record Snapshot(int Pending, DateTimeOffset? OldestDue, IReadOnlyList<DateTimeOffset> RefundsRequested);

    /// <summary>What a group's stored outbox and refunds say now (after each write and drain). On the notify path, so
    /// plain loops and no allocation when the group has nothing pending.</summary>
    public void Report(string groupId, OrderState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var now = _time.GetUtcNow();
        DateTimeOffset? oldest = null;
        foreach (var effect in state.Outbox)
        {
            var queued = effect.QueuedAt ?? effect.FailingSince ?? effect.NotBefore;
            if (queued <= now && (oldest is null || queued < oldest))
            {
                oldest = queued;
            }
        }
        List<DateTimeOffset>? refunds = null;
        foreach (var attempt in state.Attempts.Values)
        {
            if (attempt.Refund is RefundProgress.Requested or RefundProgress.Accepted && attempt.RefundRequestedAt is { } requested)
            {
                (refunds ??= []).Add(requested);
            }
        }
        if (state.Outbox.Count == 0 && refunds is null)
        {
            _groups.TryRemove(groupId, out _);
            return;
        }
        _groups[groupId] = new Snapshot(state.Outbox.Count, oldest, (IReadOnlyList<DateTimeOffset>?)refunds ?? []);
    }

    /// <summary>The group's activation ends: what it said goes with it (its next activation reports again).</summary>
    public void Forget(string groupId) => _groups.TryRemove(groupId, out _);

    private double ObserveOldestAge()
    {
        var now = _time.GetUtcNow();
        var oldest = _groups.Values.Where(s => s.OldestDue is not null).Select(s => s.OldestDue!.Value).DefaultIfEmpty(now).Min();
        return Math.Max(0, (now - oldest).TotalSeconds);
    }

    private int ObserveUnsettled()
    {
        var since = _time.GetUtcNow() - _options.Value.RefundAlertAfter;
        return _groups.Values.Sum(s => s.RefundsRequested.Count(t => t <= since));
    }
}
