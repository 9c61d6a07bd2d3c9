namespace GroupPay.Grains.Orders;

/// <summary>Timings of the order grain's reconciliation (section <c>Orders</c>).</summary>
public sealed class OrderOptions
{
    public const string SectionName = "Orders";

    /// <summary>How long a settled group stays in the grain store after it was archived (with an archive configured):
    /// longer than WeChat's one-year refund window, so every notify and query of its payments finds it there.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>The most payment attempts one slot may have in its group's life (every one stays in the group's state, for
    /// its money's sake): a further one is refused with <c>too-many-attempts</c>, and a joiner is given a slot below it.</summary>
    public int MaxAttemptsPerSlot { get; set; } = 20;

    /// <summary>An attempt with no notify is checked with orderquery after this, and again as long as it is live.</summary>
    public TimeSpan ReconcileAfter { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>WeChat refuses closeorder sooner than this after the order was created.</summary>
    public TimeSpan CloseMinAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>An accepted refund with no notify is checked with refundquery after this.</summary>
    public TimeSpan RefundCheckAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest pause between two tries of a failing effect.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long after a hold's expiry, or the group's deadline, a payment WeChat took before it is still
    /// awaited: the slot is freed, and the group closed, only then. A payment is kept when its time_end is no later than
    /// the hold's expiry (and the deadline) plus this.</summary>
    public TimeSpan PaymentGrace { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How many times a refund call that WeChat says is safe to repeat (SYSTEMERROR, timeouts, …) is sent under
    /// one number before the refund goes to the operator queue.</summary>
    public int MaxRefundTries { get; set; } = 8;

    /// <summary>How many refund numbers one payment may use (each closed refund takes the next) before it goes to the
    /// operator queue.</summary>
    public int MaxRefundNumbers { get; set; } = 3;

    /// <summary>A refund WeChat accepted but has not settled after this goes to the operator queue (it is still checked).</summary>
    public TimeSpan RefundEscalateAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A refund not settled this long after it was requested counts in <c>grouppay.refunds.unsettled</c>
    /// (WeChat settles most within minutes to hours; the alert comes well before the operator queue's escalation).</summary>
    public TimeSpan RefundAlertAfter { get; set; } = TimeSpan.FromHours(2);

    /// <summary>An outbox effect failing for longer than this goes to the operator queue (it is still retried).</summary>
    public TimeSpan EffectEscalateAfter { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The longest one WeChat Pay call inside a grain turn may take, the client's own retries included; below
    /// Orleans' 30 s response timeout, so a slow WeChat never leaves a caller hanging.</summary>
    public TimeSpan WeChatCallTimeout { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>One drain of the outbox starts no new effect after this long, nor more than
    /// <see cref="MaxEffectsPerDrain"/>; the rest runs in the next turn, so the group's reads and notifies wait little.</summary>
    public TimeSpan DrainBudget { get; set; } = TimeSpan.FromSeconds(10);

    public int MaxEffectsPerDrain { get; set; } = 16;

    /// <summary>The longest a prepay is used (WeChat's prepay_id lives 2 hours).</summary>
    public TimeSpan PrepayLifetime { get; set; } = TimeSpan.FromHours(2);
}
