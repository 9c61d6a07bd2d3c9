using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Outbox;

namespace GroupPay.Grains.Orders;

/// <summary>Everything one group order must change together, written with one <c>WriteStateAsync</c>.</summary>
[GenerateSerializer, Alias("grouppay.OrderState")]
public sealed class OrderState : ICountedState
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

    /// <summary>Authentic payment reports that could not be applied (amount or payer differs, unknown attempt), by
    /// <c>out_trade_no/transaction_id/amount/payer</c>: each is reported to the operator queue once.</summary>
    [Id(12)] public List<string> Anomalies { get; set; } = [];

    public const int MaxAnomalies = 20;

    /// <summary>What the group has counted in the growth figures (<see cref="TallyField"/> names), stored with the
    /// change that made each count true.</summary>
    [Id(13)] public Dictionary<string, long> Counts { get; set; } = [];

    /// <summary>Goes up with every stored change of <see cref="Counts"/> or of the group's money (each committed to the
    /// figures and the ledger in the same write).</summary>
    [Id(14)] public long Revision { get; set; }

    /// <summary>When the settled group was last written to the archive (null until then, and again after any later
    /// change); it leaves the grain store <see cref="OrderOptions.Retention"/> after this.</summary>
    [Id(15)] public DateTimeOffset? ArchivedAt { get; set; }

    /// <summary>What the write in progress changes in the figures and the ledger (set by the grain, never stored).</summary>
    [field: NonSerialized]
    public CountedChanges? Uncommitted { get; set; }
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

    /// <summary>In the operator queue (CHANGE, a permanent refusal, or retries used up): an operator retries it.</summary>
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

    /// <summary>The refund number in use: <c>TradeNumbers.OutRefundNo(OutTradeNo, RefundSequence)</c>; every number up
    /// to it was issued by GroupPay. 0 for refunds of the first release (<c>…R</c>).</summary>
    [Id(17)] public int RefundSequence { get; set; }

    /// <summary>Failed calls of the current refund number that WeChat said were safe to repeat.</summary>
    [Id(18)] public int RefundFailures { get; set; }

    /// <summary>When the refund was first requested (for escalating one that never settles).</summary>
    [Id(19)] public DateTimeOffset? RefundRequestedAt { get; set; }

    /// <summary>WeChat's last answer about the refund, for the operator.</summary>
    [Id(20)] public string? LastRefundAnswer { get; set; }

    /// <summary>What was tried, newest last (at most <see cref="AttemptRecord.MaxRefundLog"/>).</summary>
    [Id(21)] public List<string> RefundLog { get; set; } = [];

    /// <summary>The operator item open for this payment's refund, if any.</summary>
    [Id(22)] public OperatorItemKind? Escalation { get; set; }

    /// <summary>When WeChat accepted the current refund number (WeChat's bill lists the refund on that day).</summary>
    [Id(23)] public DateTimeOffset? RefundAcceptedAt { get; set; }

    /// <summary>When the current refund number was first sent to WeChat.</summary>
    [Id(25)] public DateTimeOffset? RefundSentAt { get; set; }

    /// <summary>When WeChat took the current refund number, as near as GroupPay knows: its acceptance, or (when the
    /// answer was lost and the refund then settled) when the number was first sent; null while WeChat has not confirmed it.</summary>
    public DateTimeOffset? RefundAtWeChat => RefundAcceptedAt ?? (Refund == RefundProgress.Succeeded ? RefundSentAt : null);

    /// <summary>Refunds made outside GroupPay (the merchant console) that were taken in, by their own number; at most
    /// <see cref="MaxExternalRefunds"/> (WeChat's own limit of refunds per payment).</summary>
    [Id(24)] public List<ExternalRefundRecord> ExternalRefunds { get; set; } = [];

    public const int MaxRefundLog = 10;

    public const int MaxExternalRefunds = 50;

    public string OutRefundNo => TradeNumbers.OutRefundNo(OutTradeNo, RefundSequence);

    /// <summary>The operator item id of this payment's refund.</summary>
    public string RefundItemId => "refund:" + OutTradeNo;

    public void LogRefund(string line)
    {
        RefundLog.Add(line);
        if (RefundLog.Count > MaxRefundLog)
        {
            RefundLog.RemoveRange(0, RefundLog.Count - MaxRefundLog);
        }
    }

    // ---- Transitions: the rules change Status and Refund only through these; an illegal one throws. ----------

    /// <summary>True while it may still become its slot's payment: unifiedorder pending, or live.</summary>
    public bool IsPending => Status is AttemptStatus.Creating or AttemptStatus.Live;

    /// <summary>unifiedorder gave it a prepay: Creating → Live.</summary>
    public void MarkLive(string prepayId, DateTimeOffset prepayExpiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(prepayId);
        Require(Status == AttemptStatus.Creating, "go live");
        Status = AttemptStatus.Live;
        PrepayId = prepayId;
        PrepayExpiresAt = prepayExpiresAt;
    }

    /// <summary>WeChat took the money: from any state but Paid. A superseded or closed attempt can still be paid at
    /// WeChat (a payment before the close landed, closeorder ORDERPAID); it is then refunded.</summary>
    public void MarkPaid(string transactionId, DateTimeOffset paidAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(transactionId);
        Require(Status != AttemptStatus.Paid && TransactionId is null, "be paid");
        TransactionId = transactionId;
        PaidAt = paidAt;
        Status = AttemptStatus.Paid;
    }

    /// <summary>No longer wanted: Creating or Live → Superseded (to be closed at WeChat).</summary>
    public void Supersede()
    {
        Require(IsPending, "be superseded");
        Status = AttemptStatus.Superseded;
    }

    /// <summary>Closed at WeChat, or never created there: Creating, Live or Superseded → Closed. With
    /// <paramref name="byCloseOrder"/>, closeorder was sent (a payment after that is always refunded).</summary>
    public void MarkClosed(bool byCloseOrder = false)
    {
        Require(Status is AttemptStatus.Creating or AttemptStatus.Live or AttemptStatus.Superseded, "be closed");
        Status = AttemptStatus.Closed;
        if (byCloseOrder)
        {
            ClosedAtWeChat = true;
        }
    }

    /// <summary>The payment paid its slot.</summary>
    public void MarkApplied()
    {
        Require(Status == AttemptStatus.Paid, "pay its slot");
        Applied = true;
    }

    /// <summary>A payment that paid its slot gives it up (refunded outside GroupPay while its group was open).</summary>
    public void MarkUnapplied()
    {
        Require(Applied, "give up its slot");
        Applied = false;
    }

    /// <summary>A paid attempt's refund is wanted: None → Requested under the first number.</summary>
    public void RequestRefund(DateTimeOffset now)
    {
        Require(TransactionId is not null && Refund == RefundProgress.None, "request a refund");
        Refund = RefundProgress.Requested;
        RefundSequence = 1;
        RefundRequestedAt = now;
    }

    /// <summary>Asked again under the payment's next number (an operator's retry, or WeChat closed the current one):
    /// Requested, Accepted or NeedsAttention → Requested.</summary>
    public void UseNextRefundNumber()
    {
        Require(Refund is RefundProgress.Requested or RefundProgress.Accepted or RefundProgress.NeedsAttention, "use a new refund number");
        RefundSequence = Math.Max(RefundSequence, 0) + 1;
        // The new number is not accepted yet: the ledger must not date it by the old one's acceptance.
        RefundAcceptedAt = null;
        RefundSentAt = null;
        RefundFailures = 0;
        Refund = RefundProgress.Requested;
    }

    /// <summary>WeChat accepted the refund call: Requested → Accepted.</summary>
    public void MarkRefundAccepted(string? refundId, DateTimeOffset now)
    {
        Require(Refund == RefundProgress.Requested, "have its refund accepted");
        Refund = RefundProgress.Accepted;
        RefundId = refundId;
        RefundAcceptedAt = now;
        RefundFailures = 0;
    }

    /// <summary>WeChat does not know the accepted refund: Accepted → Requested (the same number is sent again).</summary>
    public void ResendRefund()
    {
        Require(Refund == RefundProgress.Accepted, "send its refund again");
        Refund = RefundProgress.Requested;
    }

    /// <summary>The refund needs a person and stops being retried: Requested, Accepted or NeedsAttention → NeedsAttention.</summary>
    public void MarkRefundNeedsAttention()
    {
        Require(Refund is RefundProgress.Requested or RefundProgress.Accepted or RefundProgress.NeedsAttention, "need attention");
        Refund = RefundProgress.NeedsAttention;
    }

    /// <summary>The money is back with the payer (GroupPay's refund, or one made outside it): any state but Succeeded → Succeeded.</summary>
    public void MarkRefunded()
    {
        Require(TransactionId is not null && Refund != RefundProgress.Succeeded, "be refunded");
        Refund = RefundProgress.Succeeded;
    }

    private void Require(bool legal, string what)
    {
        if (!legal)
        {
            throw new InvalidOperationException($"Attempt {OutTradeNo} ({Status}, refund {Refund}) cannot {what}.");
        }
    }
}

/// <summary>A refund made outside GroupPay, as its notify reported it.</summary>
[GenerateSerializer, Alias("grouppay.ExternalRefundRecord")]
public sealed class ExternalRefundRecord
{
    [Id(0)] public required string OutRefundNo { get; set; }

    [Id(1)] public string? RefundId { get; set; }

    [Id(2)] public long AmountFen { get; set; }

    [Id(3)] public DateTimeOffset At { get; set; }
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

    /// <summary>Opens (or updates) the item in <see cref="PendingEffect.Report"/> in the operator queue.</summary>
    RaiseItem,

    /// <summary>Closes the operator item <see cref="PendingEffect.Subject"/>: the system saw it settle.</summary>
    SettleItem,

    /// <summary>No longer queued (what a group counts is committed with its state): an outbox stored while it was is
    /// still read, and the effect is done at once.</summary>
    PublishTally,

    /// <summary>The settled group is written to the archive (docs/retention.md).</summary>
    Archive,

    /// <summary>The completed group is appended to the shop's feed of completions (<see cref="ICompletedGroupsGrain"/>).</summary>
    AnnounceCompleted,
}

/// <summary>One outbox entry: what to do, for which attempt or reservation, and when it may run next.</summary>
[GenerateSerializer, Alias("grouppay.PendingEffect")]
public sealed class PendingEffect : IOutboxEffect
{
    [Id(0)] public EffectKind Kind { get; set; }

    /// <summary>The attempt (out_trade_no) or stock reservation the effect is about.</summary>
    [Id(1)] public required string Subject { get; set; }

    [Id(2)] public DateTimeOffset NotBefore { get; set; }

    [Id(3)] public int Failures { get; set; }

    [Id(4)] public string? LastError { get; set; }

    /// <summary>For <see cref="EffectKind.RaiseItem"/>: what to report.</summary>
    [Id(5)] public OperatorItemReport? Report { get; set; }

    /// <summary>When it first failed (null while it has not); after <see cref="OrderOptions.EffectEscalateAfter"/> of
    /// failing it is reported to the operator queue.</summary>
    [Id(6)] public DateTimeOffset? FailingSince { get; set; }

    [Id(7)] public bool Escalated { get; set; }

    /// <summary>When it was queued (null for effects queued before this was recorded).</summary>
    [Id(8)] public DateTimeOffset? QueuedAt { get; set; }

    /// <summary>The operator item id of a failing effect.</summary>
    public string ItemId(string groupId) => $"effect:{groupId}:{Kind}:{Subject}";
}
