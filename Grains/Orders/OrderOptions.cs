namespace GroupPay.Grains.Orders;

/// <summary>Timings of the order grain's reconciliation (section <c>Orders</c>).</summary>
public sealed class OrderOptions
{
    public const string SectionName = "Orders";

    /// <summary>An attempt with no notify is checked with orderquery after this, and again as long as it is live.</summary>
    public TimeSpan ReconcileAfter { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>WeChat refuses closeorder sooner than this after the order was created.</summary>
    public TimeSpan CloseMinAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>An accepted refund with no notify is checked with refundquery after this.</summary>
    public TimeSpan RefundCheckAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest pause between two tries of a failing effect.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The longest a prepay is used (WeChat's prepay_id lives 2 hours).</summary>
    public TimeSpan PrepayLifetime { get; set; } = TimeSpan.FromHours(2);
}
