using GroupPay.Grains.Campaigns;
using Orleans.Concurrency;

namespace GroupPay.Grains.Orders;

/// <summary>
/// One group order (拼团), keyed by group id: its slots, payment attempts, refunds and deadline. The grain's
/// turn serializes every join, payment and notify of the group.
/// </summary>
[Alias("grouppay.IOrderGrain")]
public interface IOrderGrain : IGrainWithStringKey
{
    /// <summary>Starts the group with the leader's slot held. Repeating it for the same leader returns the group.</summary>
    /// <exception cref="InvalidRequestException">the group id is taken by another leader.</exception>
    [Alias("CreateAsync")]
    Task<GroupView> CreateAsync(CreateGroup command);

    /// <summary>The group as <paramref name="viewerOpenid"/> sees it (null: anonymous).</summary>
    /// <exception cref="UnknownGroupException">never created.</exception>
    [Alias("GetAsync"), ReadOnly]
    Task<GroupView> GetAsync(string? viewerOpenid, CancellationToken cancellationToken = default);

    /// <summary>Holds a free slot for <paramref name="openid"/> (or returns the one they hold).</summary>
    [Alias("JoinAsync")]
    Task<GroupView> JoinAsync(string openid, string? referralCode);

    /// <summary>
    /// Starts (or resumes) a payment: the payer's own slot when <see cref="StartPayment.Slot"/> is null
    /// (joining first if needed), else the slot of the member paid for. Calls WeChat's unifiedorder with
    /// the payer's openid and returns the JSAPI parameters. A repeat while the attempt is live returns it again.
    /// </summary>
    [Alias("PayAsync")]
    Task<PaymentStarted> PayAsync(StartPayment command);

    /// <summary>
    /// Applies a verified payment notify (or an orderquery that found the attempt paid), idempotently.
    /// Returns once the result is durable. A payment that is not needed is kept and refunded automatically.
    /// </summary>
    /// <exception cref="NotifyRejectedException">unknown attempt, or the amount differs: nothing changes.</exception>
    [Alias("ApplyPaymentAsync")]
    Task<PaymentApplied> ApplyPaymentAsync(PaymentNotice notice);

    /// <summary>Applies a refund notify (or a refund query result), idempotently.</summary>
    /// <exception cref="NotifyRejectedException">unknown refund, or the amount differs: nothing changes.</exception>
    [Alias("ApplyRefundAsync")]
    Task ApplyRefundAsync(RefundNotice notice);

    /// <summary>An operator's retry of a payment's refund that is stuck or was refused: a new refund under the next
    /// out_refund_no of the payment. A payment already refunded, or not to be refunded, is left as it is.</summary>
    /// <exception cref="NotifyRejectedException">no such payment in this group.</exception>
    [Alias("RetryRefundAsync")]
    Task RetryRefundAsync(string outTradeNo, string actor);

    /// <summary>Every payment WeChat took for this group and every refund of them, as stored (for reconciliation
    /// against WeChat's bill and for recounting the figures).</summary>
    /// <exception cref="UnknownGroupException">never created.</exception>
    [Alias("GetPaymentsAsync"), ReadOnly]
    Task<GroupPayments> GetPaymentsAsync();

    /// <summary>What the group counts in the growth figures, as stored, and its revision.</summary>
    /// <summary>Whether the group still holds a stock reservation (for <paramref name="openid"/>, when given): asked by a
    /// stock share or a user's limit about one it has not heard of for a while. Runs beside the group's other calls
    /// (which may be waiting on the asker) and reads only.</summary>
    [Alias("GetStockStatusAsync"), AlwaysInterleave]
    Task<StockStatus> GetStockStatusAsync(string reservationId, string? openid);

    [Alias("GetCountsAsync"), ReadOnly]
    Task<GroupCounts> GetCountsAsync();

    /// <summary>Subscribes (or renews) a gateway's watch of the group: <paramref name="observer"/> hears each stored
    /// change until it unwatches or has not renewed for <see cref="GroupWatch.Expiry"/>. Answers the stored state's
    /// version, so a renewal can tell that it missed a change (a watch lives in one activation's memory).</summary>
    [Alias("WatchAsync")]
    Task<string> WatchAsync(IGroupObserver observer);

    [Alias("UnwatchAsync")]
    Task UnwatchAsync(IGroupObserver observer);
}

/// <summary>What a gateway hears about a group it watches: one observer per gateway, whatever its number of viewers.</summary>
[Alias("grouppay.IGroupObserver")]
public interface IGroupObserver : IGrainObserver
{
    /// <summary>The group's stored state changed (read it for what).</summary>
    [OneWay, Alias("GroupChanged")]
    Task GroupChanged(string groupId);
}

/// <summary>The bounds of a group's watches.</summary>
public static class GroupWatch
{
    /// <summary>A watch not renewed for this long is dropped (its gateway is gone).</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromMinutes(2);

    /// <summary>How often a watching gateway renews (well inside <see cref="Expiry"/>).</summary>
    public static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(30);

    /// <summary>At most this many gateways watch one group; the oldest watch makes way for a new one.</summary>
    public const int MaxWatchers = 64;
}

/// <summary>The grain's own wake-up: carries out pending effects after the turn that recorded them.</summary>
[Alias("grouppay.IOrderEffects")]
public interface IOrderEffects : IGrainWithStringKey
{
    [OneWay, Alias("DrainAsync")]
    Task DrainAsync();
}
