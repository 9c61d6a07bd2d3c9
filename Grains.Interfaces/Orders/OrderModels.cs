namespace GroupPay.Grains.Orders;

[GenerateSerializer, Immutable, Alias("grouppay.CreateGroup")]
public sealed record CreateGroup(
    [property: Id(0)] string CampaignId,
    [property: Id(1)] string LeaderOpenid,
    [property: Id(2)] string? ReferralCode);

[GenerateSerializer, Immutable, Alias("grouppay.StartPayment")]
public sealed record StartPayment(
    [property: Id(0)] string PayerOpenid,
    [property: Id(1)] int? Slot,
    [property: Id(2)] string ClientIp,
    [property: Id(3)] string? ReferralCode);

/// <summary>The signed object for <c>WeixinJSBridge.invoke('getBrandWCPayRequest', …)</c>.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.JsapiParameters")]
public sealed record JsapiParameters(
    [property: Id(0)] string AppId,
    [property: Id(1)] string TimeStamp,
    [property: Id(2)] string NonceStr,
    [property: Id(3)] string Package,
    [property: Id(4)] string SignType,
    [property: Id(5)] string PaySign);

[GenerateSerializer, Immutable, Alias("grouppay.PaymentStarted")]
public sealed record PaymentStarted(
    [property: Id(0)] string OutTradeNo,
    [property: Id(1)] long AmountFen,
    [property: Id(2)] DateTimeOffset ExpiresAt,
    [property: Id(3)] JsapiParameters Jsapi);

/// <summary>A payment WeChat reported (notify or orderquery), already verified at the edge.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.PaymentNotice")]
public sealed record PaymentNotice(
    [property: Id(0)] string OutTradeNo,
    [property: Id(1)] string TransactionId,
    [property: Id(2)] long TotalFeeFen,
    [property: Id(3)] string? PayerOpenid,
    [property: Id(4)] DateTimeOffset? PaidAt);

public enum PaymentDisposition
{
    /// <summary>The payment paid its slot.</summary>
    Applied,

    /// <summary>Seen before; nothing changed.</summary>
    Duplicate,

    /// <summary>Not needed (superseded, slot already paid, group closed, hold lapsed): a refund is under way.</summary>
    Refunding,
}

[GenerateSerializer, Immutable, Alias("grouppay.PaymentApplied")]
public sealed record PaymentApplied([property: Id(0)] PaymentDisposition Disposition, [property: Id(1)] GroupStatus Status);

public enum RefundState
{
    Processing,
    Succeeded,
    Closed,
    Abnormal,
}

[GenerateSerializer, Immutable, Alias("grouppay.RefundNotice")]
public sealed record RefundNotice(
    [property: Id(0)] string OutTradeNo,
    [property: Id(1)] string OutRefundNo,
    [property: Id(2)] string? RefundId,
    [property: Id(3)] long RefundFeeFen,
    [property: Id(4)] RefundState State);

public enum GroupStatus
{
    Pending,
    Open,
    Complete,
    Failed,
    Abandoned,
}

public enum SlotStatus
{
    Free,
    Held,
    Paid,
    Refunding,
    Refunded,
    Virtual,
}

/// <summary>One slot as a viewer sees it. <see cref="MemberTag"/> names its member without their openid
/// (<see cref="MemberTags"/>); null for a free or virtual slot.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.SlotView")]
public sealed record SlotView(
    [property: Id(0)] int Index,
    [property: Id(1)] SlotStatus Status,
    [property: Id(2)] bool IsLeader,
    [property: Id(3)] bool IsMine,
    [property: Id(4)] bool PaidOnBehalf,
    [property: Id(5)] string? MemberTag = null);

/// <summary>How a page names the other members: snsapi_base gives no nickname, and an openid is never shown. The
/// sandbox's demo users (<c>o-sandbox-alice</c>) are <c>sandbox:alice</c>, whose nicknames are public; anyone else is
/// the last four characters of their openid (微信用户 8b63), as their own header shows them.</summary>
public static class MemberTags
{
    public const string SandboxPrefix = "o-sandbox-";

    public static string? Of(string? openid) =>
        string.IsNullOrEmpty(openid) ? null
        : openid.StartsWith(SandboxPrefix, StringComparison.Ordinal) ? (openid.Length > SandboxPrefix.Length ? "sandbox:" + openid[SandboxPrefix.Length..] : null)
        : openid.Length <= 4 ? null
        : openid[^4..];
}

/// <summary>A group as one viewer sees it: other people's openids are never in it.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.GroupView")]
public sealed record GroupView(
    [property: Id(0)] string GroupId,
    [property: Id(1)] string CampaignId,
    [property: Id(2)] GroupStatus Status,
    [property: Id(3)] int GroupSize,
    [property: Id(4)] int PaidCount,
    [property: Id(5)] DateTimeOffset? Deadline,
    [property: Id(6)] IReadOnlyList<SlotView> Slots,
    [property: Id(7)] int? MySlot,
    [property: Id(8)] long PriceFen,
    [property: Id(9)] IReadOnlyList<MyRefundView> MyRefunds);

/// <summary>A payment of the viewer's own (as payer) that is refunded: <see cref="Unused"/> when it paid nothing (its
/// slot was already paid, or its attempt was over), else the group failed. The viewer may hold no slot at all (they
/// paid for someone else's).</summary>
[GenerateSerializer, Immutable, Alias("grouppay.MyRefundView")]
public sealed record MyRefundView(
    [property: Id(0)] long AmountFen,
    [property: Id(1)] bool Refunded,
    [property: Id(2)] bool Unused);

/// <summary><see cref="IOrderGrain.GetPaymentsAsync"/>: the group's money as stored.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.GroupPayments")]
public sealed record GroupPayments(
    [property: Id(0)] string GroupId,
    [property: Id(1)] string CampaignId,
    [property: Id(2)] GroupStatus Status,
    [property: Id(3)] IReadOnlyList<PaymentFact> Payments);

/// <summary>One attempt WeChat took money for (it has a transaction id).</summary>
[GenerateSerializer, Immutable, Alias("grouppay.PaymentFact")]
public sealed record PaymentFact(
    [property: Id(0)] string OutTradeNo,
    [property: Id(1)] string TransactionId,
    [property: Id(2)] long AmountFen,
    [property: Id(3)] DateTimeOffset PaidAt,
    [property: Id(4)] bool Kept,
    [property: Id(5)] PaymentRefundStatus RefundStatus,
    [property: Id(6)] IReadOnlyList<RefundFact> Refunds);

public enum PaymentRefundStatus
{
    /// <summary>Not to be refunded (its slot keeps it).</summary>
    None,

    /// <summary>To be refunded; GroupPay's refund is queued or under way at WeChat.</summary>
    Refunding,

    Refunded,

    /// <summary>In the operator queue.</summary>
    NeedsAttention,
}

/// <summary>A refund of a payment: one GroupPay issued (<see cref="IssuedByGroupPay"/>, the numbers <c>…R1</c>,
/// <c>…R2</c>, …, the last being <see cref="Current"/>) or one made outside GroupPay and taken in.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.RefundFact")]
public sealed record RefundFact(
    [property: Id(0)] string OutRefundNo,
    [property: Id(1)] long AmountFen,
    [property: Id(2)] bool IssuedByGroupPay,
    [property: Id(3)] bool Current,
    [property: Id(4)] bool Succeeded,
    [property: Id(5)] DateTimeOffset? AcceptedAt);

/// <summary><see cref="IOrderGrain.GetCountsAsync"/>: counter field (a <c>Counter</c> name, <c>c:</c>-prefixed when it
/// counts in the campaign only, <c>t:</c> in the shop only) → value.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.GroupCounts")]
public sealed record GroupCounts([property: Id(0)] long Revision, [property: Id(1)] IReadOnlyDictionary<string, long> Counts);
