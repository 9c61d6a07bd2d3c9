using GroupPay.Grains.Campaigns;

namespace GroupPay.Grains.Orders;

/// <summary>Everything one group order must change together, written with one <c>WriteStateAsync</c>.</summary>
[GenerateSerializer, Alias("grouppay.OrderState")]
public sealed class OrderState
{
    [Id(0)] public string? CampaignId { get; set; }

    /// <summary>The campaign's terms when the group started; later edits do not change a running group.</summary>
    [Id(1)] public CampaignDefinition? Terms { get; set; }

    [Id(2)] public string? LeaderOpenid { get; set; }

    [Id(3)] public GroupStatus Status { get; set; }

    [Id(4)] public DateTimeOffset CreatedAt { get; set; }

    [Id(5)] public DateTimeOffset? Deadline { get; set; }

    [Id(6)] public DateTimeOffset? SettledAt { get; set; }

    [Id(7)] public List<SlotRecord> Slots { get; set; } = [];

    /// <summary>Payment attempts by out_trade_no.</summary>
    [Id(8)] public Dictionary<string, AttemptRecord> Attempts { get; set; } = [];

    [Id(9)] public int AttemptCount { get; set; }

    /// <summary>Effects that leave the grain, in order; each removed only once confirmed.</summary>
    [Id(10)] public List<PendingEffect> Outbox { get; set; } = [];

    /// <summary>The first due time of the <c>wake</c> reminder as last registered (it then ticks every minute);
    /// null when none is registered.</summary>
    [Id(11)] public DateTimeOffset? WakeAt { get; set; }
}

[GenerateSerializer, Alias("grouppay.SlotRecord")]
public sealed class SlotRecord
{
    [Id(0)] public int Index { get; set; }

    [Id(1)] public SlotStatus Status { get; set; }

    /// <summary>The beneficiary: whose slot it is.</summary>
    [Id(2)] public string? MemberOpenid { get; set; }

    [Id(3)] public DateTimeOffset? HoldExpiresAt { get; set; }

    /// <summary>Counts the holds of this slot; part of the stock reservation id.</summary>
    [Id(4)] public int HoldCount { get; set; }

    [Id(5)] public string? ReservationId { get; set; }

    /// <summary>The one attempt that may pay this slot now.</summary>
    [Id(6)] public string? LiveAttempt { get; set; }

    /// <summary>The attempt that paid it.</summary>
    [Id(7)] public string? PaidAttempt { get; set; }
}

public enum AttemptStatus
{
    /// <summary>Recorded; unifiedorder not answered yet.</summary>
    Creating,

    /// <summary>Has a prepay and is its slot's live attempt.</summary>
    Live,

    /// <summary>No longer wanted (a newer attempt, the hold lapsed, the group closed); to be closed at WeChat.</summary>
    Superseded,

    /// <summary>Closed at WeChat (or never created there).</summary>
    Closed,

    /// <summary>WeChat took the money.</summary>
    Paid,
}

public enum RefundProgress
{
    None,

    /// <summary>The refund effect is queued.</summary>
    Requested,

    /// <summary>WeChat accepted the refund; waiting for its notify or query.</summary>
    Accepted,

    Succeeded,

    /// <summary>WeChat reported CHANGE (the payer's card is invalid): needs an operator.</summary>
    NeedsAttention,
}

[GenerateSerializer, Alias("grouppay.AttemptRecord")]
public sealed class AttemptRecord
{
    [Id(0)] public required string OutTradeNo { get; set; }

    [Id(1)] public int SlotIndex { get; set; }

    [Id(2)] public required string MemberOpenid { get; set; }

    [Id(3)] public required string PayerOpenid { get; set; }

    [Id(4)] public long AmountFen { get; set; }

    [Id(5)] public DateTimeOffset CreatedAt { get; set; }

    [Id(6)] public AttemptStatus Status { get; set; }

    [Id(7)] public string? PrepayId { get; set; }

    [Id(8)] public DateTimeOffset? PrepayExpiresAt { get; set; }

    /// <summary>WeChat's time_expire: after it the attempt can no longer be paid.</summary>
    [Id(9)] public DateTimeOffset PayableUntil { get; set; }

    [Id(10)] public string? TransactionId { get; set; }

    [Id(11)] public DateTimeOffset? PaidAt { get; set; }

    /// <summary>True when the payment paid its slot; false for a payment that is refunded instead.</summary>
    [Id(12)] public bool Applied { get; set; }

    [Id(13)] public RefundProgress Refund { get; set; }

    [Id(14)] public string? RefundId { get; set; }

    /// <summary>Who invited the payer (known once the payment is recorded on the payer's referral grain).</summary>
    [Id(15)] public string? InviterOpenid { get; set; }

    /// <summary>True once closeorder was sent for it (a payment after that is always refunded).</summary>
    [Id(16)] public bool ClosedAtWeChat { get; set; }
}

public enum EffectKind
{
    ConfirmStock,
    ReleaseStock,
    Reconcile,
    CloseOrder,
    Refund,
    CheckRefund,
    RecordPayer,
    RecordSeed,
    ScheduleGrant,
    ReverseReward,

    /// <summary>The leader's own payment that opened the group: payer record and seed user in one call.</summary>
    RecordLeaderPayer,
}

/// <summary>One outbox entry: what to do, for which attempt or reservation, and when it may run next.</summary>
[GenerateSerializer, Alias("grouppay.PendingEffect")]
public sealed class PendingEffect
{
    [Id(0)] public EffectKind Kind { get; set; }

    /// <summary>The attempt (out_trade_no) or stock reservation the effect is about.</summary>
    [Id(1)] public required string Subject { get; set; }

    [Id(2)] public DateTimeOffset NotBefore { get; set; }

    [Id(3)] public int Failures { get; set; }

    [Id(4)] public string? LastError { get; set; }
}
