using System.Diagnostics.Metrics;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Stats;

namespace GroupPay.Grains.Orders;

/// <summary>
/// What the groups' stored changes add, on the <c>GroupPay</c> meter, tagged with the campaign: payments created, paid
/// and refunded (each a count and an amount in fen), groups opened, completed and failed, and how late the
/// <c>wake</c> reminders fire. Taken from <see cref="CountedChanges"/> after the state write succeeded — the same
/// differences the figures and the ledger get in that write — so a change that was not stored is never counted, and a
/// replayed one (same revision) is not counted twice.
/// </summary>
public sealed class OrderMetrics
{
    public const string MeterName = "GroupPay";
    public const string ReminderLagName = "grouppay.reminders.lag";

    private static readonly Dictionary<Counter, string> CountNames = new()
    {
        [Counter.PaymentsCreated] = "grouppay.payments.created",
        [Counter.PaymentsPaid] = "grouppay.payments.paid",
        [Counter.PaymentsRefunded] = "grouppay.payments.refunded",
        [Counter.GroupsOpened] = "grouppay.groups.opened",
        [Counter.GroupsCompleted] = "grouppay.groups.completed",
        [Counter.GroupsFailed] = "grouppay.groups.failed",
    };

    private readonly Dictionary<Counter, Counter<long>> _counts = [];
    private readonly Counter<long> _createdFen;
    private readonly Counter<long> _paidFen;
    private readonly Counter<long> _refundedFen;
    private readonly Histogram<double> _reminderLag;

    public OrderMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        foreach (var (counter, name) in CountNames)
        {
            _counts[counter] = meter.CreateCounter<long>(name, unit: counter.ToString().StartsWith("Groups", StringComparison.Ordinal) ? "{group}" : "{payment}",
                description: $"{counter} as stored, by campaign");
        }
        _createdFen = meter.CreateCounter<long>("grouppay.payments.created.amount", unit: "fen", description: "Amount of the payments created, by campaign");
        _paidFen = meter.CreateCounter<long>("grouppay.payments.paid.amount", unit: "fen", description: "Amount WeChat took, by campaign");
        _refundedFen = meter.CreateCounter<long>("grouppay.payments.refunded.amount", unit: "fen", description: "Amount refunded (accepted by WeChat, or taken in from the console), by campaign");
        _reminderLag = meter.CreateHistogram<double>(ReminderLagName, unit: "s", description: "How long after its due time a group's wake reminder fired");
    }

    /// <summary>Counts a stored change of a group of <paramref name="campaignId"/> whose payments cost <paramref name="priceFen"/>.</summary>
    public void Stored(string campaignId, long priceFen, CountedChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var campaign = new KeyValuePair<string, object?>("campaign", campaignId);
        foreach (var change in changes.Counters)
        {
            // Each counter is moved in the campaign's scope and the shop's: the campaign's, once.
            if (change.Delta > 0 && change.Scope == campaignId && _counts.TryGetValue(change.Counter, out var instrument))
            {
                instrument.Add(change.Delta, campaign);
                if (change.Counter == Counter.PaymentsCreated)
                {
                    _createdFen.Add(change.Delta * priceFen, campaign);
                }
            }
        }
        foreach (var entry in changes.Ledger)
        {
            (entry.Kind == LedgerEntryKind.Payment ? _paidFen : _refundedFen).Add(entry.AmountFen, campaign);
        }
    }

    /// <summary>A wake reminder that fired <paramref name="lag"/> after the time it was set for.</summary>
    public void ReminderFired(TimeSpan lag) => _reminderLag.Record(Math.Max(0, lag.TotalSeconds));
}
