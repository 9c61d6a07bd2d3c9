using Orleans.Concurrency;

namespace GroupPay.Grains.Operations;

/// <summary>
/// The one durable list of things that need a person (key 0): stuck or abnormal refunds, anomalous notifies,
/// reconciliation mismatches, outbox effects failing too long. Grains raise items (idempotent by
/// <see cref="OperatorItemReport.ItemId"/>); internal services and admins list them, retry, and resolve them with a
/// note. Every change is logged on the item with who and when.
/// </summary>
[Alias("grouppay.IOperatorQueueGrain")]
public interface IOperatorQueueGrain : IGrainWithIntegerKey
{
    /// <summary>Opens the item, or updates it when it exists (last answer, what was tried, seen again); a resolved item
    /// raised again is reopened. Returns once stored.</summary>
    [Alias("RaiseAsync")]
    Task RaiseAsync(OperatorItemReport report);

    /// <summary>Closes an item by itself (the system saw it settle, e.g. a refund that finally succeeded); unknown or
    /// already resolved items are ignored.</summary>
    [Alias("SettleAsync")]
    Task SettleAsync(string itemId, string note);

    [Alias("ListAsync"), ReadOnly]
    Task<OperatorItemPage> ListAsync(OperatorItemQuery query);

    [Alias("GetAsync"), ReadOnly]
    Task<OperatorItem?> GetAsync(string itemId);

    /// <summary>Retries what the item is about (a refund: under a new out_refund_no). Only refund items can be retried.
    /// It changes nothing in the queue's own state (the item logs it), so it interleaves: the queue is not held while
    /// the order grain works, and an order grain that raises an item meanwhile cannot deadlock with it.</summary>
    /// <exception cref="UnknownOperatorItemException">no such item.</exception>
    /// <exception cref="InvalidRequestException">the item cannot be retried, or it is resolved.</exception>
    [Alias("RetryAsync"), AlwaysInterleave]
    Task<OperatorItem> RetryAsync(string itemId, string actor, string? note);

    /// <summary>Marks the item handled with a note. It does not change the group: money that moved elsewhere reaches
    /// GroupPay on its own path (a console refund arrives as a refund notify).</summary>
    [Alias("ResolveAsync")]
    Task<OperatorItem> ResolveAsync(string itemId, string actor, string note);

    /// <summary>Open items by kind, and the oldest open one's first sighting (for metrics and the admin page).</summary>
    [Alias("CountsAsync"), ReadOnly]
    Task<OperatorQueueCounts> CountsAsync();
}

public enum OperatorItemKind
{
    /// <summary>A refund retried to its bound without WeChat accepting or settling it.</summary>
    RefundStuck,

    /// <summary>WeChat refused a refund for good (NOTENOUGH, USER_ACCOUNT_ABNORMAL, TRADE_OVERDUE, …).</summary>
    RefundRefused,

    /// <summary>WeChat reported the refund CHANGE (the payer's card was invalid): settle it in the merchant console.</summary>
    RefundAbnormal,

    /// <summary>A properly signed notify that cannot be applied: its amount or payer differs, or its order is unknown.</summary>
    NotifyAnomaly,

    /// <summary>A refund made outside GroupPay that does not cover the payment (a partial console refund).</summary>
    ExternalRefund,

    /// <summary>A line of WeChat's bill that does not match GroupPay's records, or the other way round.</summary>
    ReconciliationMismatch,

    /// <summary>An outbox effect that kept failing for longer than the threshold.</summary>
    EffectFailing,
}

public enum OperatorItemStatus
{
    Open,
    Resolved,
}

/// <summary>What a grain reports about one item. <see cref="ItemId"/> is deterministic (e.g. <c>refund:{outTradeNo}</c>),
/// so reporting the same problem again updates the item instead of adding one.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.OperatorItemReport")]
public sealed record OperatorItemReport(
    [property: Id(0)] string ItemId,
    [property: Id(1)] OperatorItemKind Kind,
    [property: Id(2)] string? GroupId,
    [property: Id(3)] string? OutTradeNo,
    [property: Id(4)] long AmountFen,
    [property: Id(5)] string Summary,
    [property: Id(6)] string? LastAnswer,
    [property: Id(7)] IReadOnlyList<string> Tried,
    [property: Id(8)] DateTimeOffset At);

/// <summary>One entry of an item's log: who did what, when (<c>system</c> for GroupPay itself).</summary>
[GenerateSerializer, Immutable, Alias("grouppay.OperatorAction")]
public sealed record OperatorAction(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Actor,
    [property: Id(2)] string Action,
    [property: Id(3)] string? Note);

/// <summary>An item and its log: the last <see cref="OperatorItemRules.MaxActions"/> actions, oldest first, and how many
/// earlier ones were dropped (<see cref="EarlierActions"/>).</summary>
[GenerateSerializer, Immutable, Alias("grouppay.OperatorItem")]
public sealed record OperatorItem(
    [property: Id(0)] string ItemId,
    [property: Id(1)] OperatorItemKind Kind,
    [property: Id(2)] OperatorItemStatus Status,
    [property: Id(3)] string? GroupId,
    [property: Id(4)] string? OutTradeNo,
    [property: Id(5)] long AmountFen,
    [property: Id(6)] string Summary,
    [property: Id(7)] string? LastAnswer,
    [property: Id(8)] IReadOnlyList<string> Tried,
    [property: Id(9)] DateTimeOffset FirstSeen,
    [property: Id(10)] DateTimeOffset LastSeen,
    [property: Id(11)] int Reports,
    [property: Id(12)] IReadOnlyList<OperatorAction> Actions,
    [property: Id(13)] int EarlierActions = 0);

[GenerateSerializer, Immutable, Alias("grouppay.OperatorItemQuery")]
public sealed record OperatorItemQuery(
    [property: Id(0)] OperatorItemStatus? Status = OperatorItemStatus.Open,
    [property: Id(1)] OperatorItemKind? Kind = null,
    [property: Id(2)] int Limit = 50,
    [property: Id(3)] string? After = null);

/// <summary>Items oldest first; <see cref="Next"/> is the <see cref="OperatorItemQuery.After"/> of the next page, null at the end.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.OperatorItemPage")]
public sealed record OperatorItemPage(
    [property: Id(0)] IReadOnlyList<OperatorItem> Items,
    [property: Id(1)] string? Next);

[GenerateSerializer, Immutable, Alias("grouppay.OperatorQueueCounts")]
public sealed record OperatorQueueCounts(
    [property: Id(0)] IReadOnlyDictionary<OperatorItemKind, int> OpenByKind,
    [property: Id(1)] DateTimeOffset? OldestOpen);
