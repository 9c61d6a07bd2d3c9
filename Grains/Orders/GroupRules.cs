using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Stats;
using GroupPay.WeChatPay.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace GroupPay.Grains.Orders;

/// <summary>
/// The group, slot and attempt rules of docs/design.md §2.2 and §3 as plain C# over <see cref="OrderState"/>: no I/O. A
/// rule changes the state and queues what must leave the group as <see cref="PendingEffect"/>s in
/// <see cref="OrderState.Outbox"/> (that is how it returns effects); the grain stores the state and runs them. Attempts
/// change only through their own transitions.
/// </summary>
public sealed partial class GroupRules(string groupId, OrderState state, OrderOptions options, TimeProvider time, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public string GroupId => groupId;

    public OrderState State => state;

    public OrderOptions Options => options;

    public DateTimeOffset Now => time.GetUtcNow();

    public CampaignDefinition Terms => State.Terms ?? throw new UnknownGroupException(GroupId);

    // ---- Create, hold, join, pay ----------------------------------------------------------------------

    /// <summary>A new group: the leader's slot (already held) and the free ones.</summary>
    public void Start(string campaignId, CampaignDefinition terms, string leaderOpenid, SlotRecord leaderSlot, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(terms);
        State.CampaignId = campaignId;
        // The group keeps the terms it sells on, not the product's picture and text (the H5 app reads those from the
        // campaign): every group's state stays as small as before they existed (docs/capacity.md).
        State.Terms = terms with { ImageUrl = null, Description = null };
        State.LeaderOpenid = leaderOpenid;
        State.Status = GroupStatus.Pending;
        State.CreatedAt = now;
        State.Slots = [leaderSlot, .. Enumerable.Range(1, terms.GroupSize - 1).Select(i => new SlotRecord { Index = i })];
    }

    /// <summary>A new or renewed hold: the campaign's hold time, never past the group's deadline (WeChat's time_expire
    /// then stops payments at the deadline too).</summary>
    public DateTimeOffset HoldUntil(DateTimeOffset now)
    {
        var until = now + TimeSpan.FromMinutes(Terms.HoldMinutes);
        return State.Status == GroupStatus.Open && State.Deadline is { } deadline && deadline < until ? deadline : until;
    }

    /// <summary>The free slot a joiner may hold (lapsed holds are freed first); refuses when the group is not open to
    /// them or every slot is taken.</summary>
    public SlotRecord FreeSlotFor(string openid)
    {
        if (State.Status == GroupStatus.Pending && openid != State.LeaderOpenid)
        {
            throw new GroupClosedException("not open yet (the leader has not paid)");
        }
        RequireOpen(slotIndex: null);
        ExpireHolds(Now);
        var free = State.Slots.Where(s => s.Status == SlotStatus.Free).ToList();
        return free.Count == 0 ? throw new GroupFullException()
            : free.FirstOrDefault(s => AttemptsOf(s) < Options.MaxAttemptsPerSlot) ?? throw new TooManyAttemptsException(Options.MaxAttemptsPerSlot);
    }

    /// <summary>How many payment attempts the slot has had (each stays in the state for its money's sake).</summary>
    public int AttemptsOf(SlotRecord slot)
    {
        ArgumentNullException.ThrowIfNull(slot);
        var count = 0;
        foreach (var attempt in State.Attempts.Values)
        {
            if (attempt.SlotIndex == slot.Index)
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>The stock reservation id of the slot's next hold.</summary>
    public string NextReservationId(SlotRecord slot)
    {
        ArgumentNullException.ThrowIfNull(slot);
        return $"{GroupId}/{slot.Index}/{slot.HoldCount + 1}";
    }

    /// <summary>Holds <paramref name="slot"/> for <paramref name="openid"/> under the stock unit already reserved as
    /// <paramref name="reservationId"/> (<see cref="NextReservationId"/>).</summary>
    public static void Hold(SlotRecord slot, string reservationId, string openid, DateTimeOffset until)
    {
        ArgumentNullException.ThrowIfNull(slot);
        slot.HoldCount++;
        slot.ReservationId = reservationId;
        slot.Status = SlotStatus.Held;
        slot.MemberOpenid = openid;
        slot.HoldExpiresAt = until;
    }

    /// <summary>The slot another user pays for on behalf of its member.</summary>
    public SlotRecord SlotToPayFor(int index, string payerOpenid)
    {
        if (index < 0 || index >= State.Slots.Count)
        {
            throw new InvalidRequestException($"Slot {index} does not exist.");
        }
        var slot = State.Slots[index];
        return slot.MemberOpenid == payerOpenid ? throw new OwnSlotOnBehalfException() : slot;
    }

    /// <summary>Refuses a payment for a slot that cannot take one now.</summary>
    public void RequirePayable(SlotRecord slot)
    {
        ArgumentNullException.ThrowIfNull(slot);
        RequireOpen(slot.Index);
        if (slot.Status is SlotStatus.Paid or SlotStatus.Refunding or SlotStatus.Refunded or SlotStatus.Virtual)
        {
            throw new AlreadyPaidException();
        }
        if (slot.Status != SlotStatus.Held || slot.MemberOpenid is null)
        {
            throw new InvalidRequestException($"Slot {slot.Index} has no member to pay for.");
        }
    }

    /// <summary>The payer's live attempt for the slot while its prepay is still good: a repeat request gets it again.</summary>
    public AttemptRecord? ReusableAttempt(SlotRecord slot, string payerOpenid)
    {
        ArgumentNullException.ThrowIfNull(slot);
        return slot.LiveAttempt is { } liveNo && State.Attempts[liveNo] is { Status: AttemptStatus.Live } live
            && live.PayerOpenid == payerOpenid && live.PrepayExpiresAt > Now + TimeSpan.FromMinutes(1)
            ? live
            : null;
    }

    /// <summary>A new attempt becomes the slot's live one (superseding the previous), its hold renewed, and its
    /// orderquery queued; unifiedorder is asked next.</summary>
    public AttemptRecord StartAttempt(SlotRecord slot, string payerOpenid)
    {
        ArgumentNullException.ThrowIfNull(slot);
        if (AttemptsOf(slot) >= Options.MaxAttemptsPerSlot)
        {
            throw new TooManyAttemptsException(Options.MaxAttemptsPerSlot);
        }
        var now = Now;
        if (slot.LiveAttempt is { } previous)
        {
            Supersede(State.Attempts[previous]);
        }
        var holdUntil = HoldUntil(now);
        if (slot.HoldExpiresAt < holdUntil)
        {
            slot.HoldExpiresAt = holdUntil;
        }
        var attempt = new AttemptRecord
        {
            OutTradeNo = TradeNumbers.OutTradeNo(GroupId, ++State.AttemptCount),
            SlotIndex = slot.Index,
            MemberOpenid = slot.MemberOpenid!,
            PayerOpenid = payerOpenid,
            AmountFen = Terms.GroupPriceFen,
            CreatedAt = now,
            PayableUntil = slot.HoldExpiresAt!.Value,
            Status = AttemptStatus.Creating,
        };
        State.Attempts[attempt.OutTradeNo] = attempt;
        slot.LiveAttempt = attempt.OutTradeNo;
        Enqueue(EffectKind.Reconcile, attempt.OutTradeNo, now + Options.ReconcileAfter);
        return attempt;
    }

    /// <summary>unifiedorder gave the attempt its prepay (used for <see cref="OrderOptions.PrepayLifetime"/> from the
    /// request, at most until the attempt's time_expire).</summary>
    public void PrepayIssued(AttemptRecord attempt, string prepayId)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        attempt.MarkLive(prepayId, Min(attempt.CreatedAt + Options.PrepayLifetime, attempt.PayableUntil));
        Count(Counter.PaymentsCreated);
    }

    /// <summary>WeChat answered no to unifiedorder: nothing exists there to pay or close.</summary>
    public void PrepayRefused(AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        attempt.MarkClosed();
        State.Slots[attempt.SlotIndex].LiveAttempt = null;
        RemoveEffects(attempt.OutTradeNo);
    }

    // ---- Payments ---------------------------------------------------------------------------------------

    /// <summary>Why a payment report cannot be applied to its attempt, or null when it can.</summary>
    public string? Anomaly(PaymentNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        return !State.Attempts.TryGetValue(notice.OutTradeNo, out var attempt) ? $"No payment attempt '{notice.OutTradeNo}' in this group."
            : notice.TotalFeeFen != attempt.AmountFen ? $"Amount {notice.TotalFeeFen} differs from the attempt's {attempt.AmountFen}."
            : notice.PayerOpenid is { } payer && payer != attempt.PayerOpenid ? "The payer is not the attempt's payer."
            : null;
    }

    /// <summary>Keeps the anomaly (at most <see cref="OrderState.MaxAnomalies"/> per group) and reports it; false when
    /// it was seen before.</summary>
    public bool RecordAnomaly(PaymentNotice notice, string reason)
    {
        ArgumentNullException.ThrowIfNull(notice);
        var key = $"{notice.OutTradeNo}/{notice.TransactionId}/{notice.TotalFeeFen}/{notice.PayerOpenid}";
        if (State.Anomalies.Contains(key) || State.Anomalies.Count >= OrderState.MaxAnomalies)
        {
            return false;
        }
        State.Anomalies.Add(key);
        var expected = State.Attempts.GetValueOrDefault(notice.OutTradeNo)?.AmountFen;
        LogAnomaly(_logger, GroupId, notice.OutTradeNo, reason);
        Raise(new OperatorItemReport($"notify:{notice.OutTradeNo}:{notice.TransactionId}", OperatorItemKind.NotifyAnomaly, GroupId,
            notice.OutTradeNo, notice.TotalFeeFen,
            $"WeChat reported payment {notice.TransactionId} of {notice.TotalFeeFen} fen for {notice.OutTradeNo}: {reason}",
            expected is null ? "no such attempt" : $"the attempt is for {expected} fen", ["refused (FAIL); not applied to the group"], Now));
        return true;
    }

    /// <summary>A payment WeChat took (notify or query): it pays its slot when WeChat took it (time_end) while the hold
    /// stood and before the deadline, each plus <see cref="OrderOptions.PaymentGrace"/>; any other is refunded.</summary>
    public PaymentDisposition ApplyPayment(PaymentNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        if (!State.Attempts.TryGetValue(notice.OutTradeNo, out var attempt))
        {
            throw new NotifyRejectedException($"No payment attempt '{notice.OutTradeNo}' in this group.");
        }
        if (notice.TotalFeeFen != attempt.AmountFen)
        {
            throw new NotifyRejectedException($"Amount {notice.TotalFeeFen} differs from the attempt's {attempt.AmountFen}.");
        }
        if (notice.PayerOpenid is { } payer && payer != attempt.PayerOpenid)
        {
            throw new NotifyRejectedException("The payer is not the attempt's payer.");
        }
        if (attempt.TransactionId is not null)
        {
            return PaymentDisposition.Duplicate;
        }

        var now = Now;
        var wasClosed = attempt.ClosedAtWeChat;
        attempt.MarkPaid(notice.TransactionId, notice.PaidAt ?? now);
        RemoveEffects(attempt.OutTradeNo, EffectKind.Reconcile, EffectKind.CloseOrder);
        Count(Counter.PaymentsPaid);

        var slot = State.Slots[attempt.SlotIndex];
        // Kept only when WeChat took it (time_end) while its hold stood and before the deadline, each with the stated
        // grace for clocks: which call ran first decides nothing.
        var paidAt = attempt.PaidAt!.Value;
        var acceptable = !wasClosed
            && State.Status is GroupStatus.Pending or GroupStatus.Open
            && (State.Status == GroupStatus.Open || slot.Index == 0)
            && slot.Status == SlotStatus.Held && slot.MemberOpenid == attempt.MemberOpenid
            && paidAt <= attempt.PayableUntil + Options.PaymentGrace
            && (State.Status != GroupStatus.Open || paidAt <= State.Deadline + Options.PaymentGrace);
        if (!acceptable)
        {
            RequestRefund(attempt);
            LogRefundingUnneededPayment(_logger, GroupId, attempt.OutTradeNo);
            return PaymentDisposition.Refunding;
        }

        if (slot.LiveAttempt is { } other && other != attempt.OutTradeNo)
        {
            Supersede(State.Attempts[other]);
        }
        slot.Status = SlotStatus.Paid;
        slot.PaidAttempt = attempt.OutTradeNo;
        slot.LiveAttempt = null;
        slot.HoldExpiresAt = null;
        attempt.MarkApplied();
        if (slot.Index > 0)
        {
            Count(Counter.Paid);
        }

        if (State.Status == GroupStatus.Pending)
        {
            State.Status = GroupStatus.Open;
            State.Deadline = now + TimeSpan.FromMinutes(Terms.WindowMinutes);
            Count(Counter.GroupsOpened);
            if (attempt.PayerOpenid == State.LeaderOpenid)
            {
                // The leader paid their own share: one call to their referral grain records both.
                Enqueue(EffectKind.RecordLeaderPayer, attempt.OutTradeNo, now);
            }
            else
            {
                Enqueue(EffectKind.RecordPayer, attempt.OutTradeNo, now);
                Enqueue(EffectKind.RecordSeed, State.LeaderOpenid!, now);
            }
        }
        else
        {
            Enqueue(EffectKind.RecordPayer, attempt.OutTradeNo, now);
        }
        if (State.Slots.All(s => s.Status == SlotStatus.Paid))
        {
            Complete(now);
        }
        return PaymentDisposition.Applied;
    }

    /// <summary>WeChat reports the attempt can no longer be paid (closed, revoked, failed, or never created there).</summary>
    public static void AttemptClosed(AttemptRecord attempt, bool byCloseOrder = false)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        attempt.MarkClosed(byCloseOrder);
    }

    /// <summary>An attempt that is no longer wanted: closed at WeChat (not sooner than WeChat allows). Nothing happens
    /// to one that is no longer pending.</summary>
    public void Supersede(AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        if (!attempt.IsPending)
        {
            return;
        }
        attempt.Supersede();
        var slot = State.Slots[attempt.SlotIndex];
        if (slot.LiveAttempt == attempt.OutTradeNo)
        {
            slot.LiveAttempt = null;
        }
        RemoveEffects(attempt.OutTradeNo, EffectKind.Reconcile);
        Enqueue(EffectKind.CloseOrder, attempt.OutTradeNo, Max(Now, attempt.CreatedAt + Options.CloseMinAge));
    }

    // ---- Refunds ----------------------------------------------------------------------------------------

    /// <summary>A payment that is not kept is refunded (once: a payment already refunding is left as it is).</summary>
    public void RequestRefund(AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        if (attempt.Refund == RefundProgress.None)
        {
            attempt.RequestRefund(Now);
            Enqueue(EffectKind.Refund, attempt.OutTradeNo, Now);
        }
    }

    /// <summary>An operator's retry: the refund is asked again under the payment's next number (the old one may be
    /// closed at WeChat, and a repeat of it would only repeat its answer). False when there is nothing to retry.</summary>
    public bool RetryRefund(string outTradeNo, string actor)
    {
        if (!State.Attempts.TryGetValue(outTradeNo, out var attempt))
        {
            throw new NotifyRejectedException($"No payment attempt '{outTradeNo}' in this group.");
        }
        if (attempt.Refund is RefundProgress.None or RefundProgress.Succeeded)
        {
            return false;
        }
        RemoveEffects(attempt.OutTradeNo, EffectKind.Refund, EffectKind.CheckRefund);
        attempt.UseNextRefundNumber();
        attempt.LogRefund($"{Now:u} {actor} retried under {attempt.OutRefundNo}");
        Enqueue(EffectKind.Refund, attempt.OutTradeNo, Now);
        return true;
    }

    /// <summary>WeChat accepted the refund call: its notify or query is awaited.</summary>
    public void RefundAccepted(AttemptRecord attempt, string outRefundNo, string? refundId)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        attempt.MarkRefundAccepted(refundId, Now);
        attempt.LastRefundAnswer = "accepted";
        attempt.LogRefund($"{Now:u} refund {outRefundNo} accepted");
        Enqueue(EffectKind.CheckRefund, attempt.OutTradeNo, Now + Options.RefundCheckAfter);
    }

    /// <summary>The refund call failed: true when it is sent again under the same number (retry-safe and under
    /// <see cref="OrderOptions.MaxRefundTries"/>); otherwise it is escalated and false.</summary>
    public bool RefundFailed(AttemptRecord attempt, string outRefundNo, WeChatPayError error)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(error);
        attempt.LastRefundAnswer = error.ToString();
        attempt.LogRefund($"{Now:u} refund {outRefundNo}: {error.RawCode ?? error.Code.ToString()} {error.Message}");
        attempt.RefundFailures++;
        if (RefundRules.MayRetry(error.Code, attempt.RefundFailures, Options.MaxRefundTries))
        {
            return true;
        }
        var refused = RefundRules.AfterRefundError(error.Code) == RefundStep.Escalate;
        Escalate(attempt, refused ? OperatorItemKind.RefundRefused : OperatorItemKind.RefundStuck,
            refused
                ? $"WeChat refused the refund {outRefundNo} ({error.RawCode ?? error.Code.ToString()})"
                : $"The refund {outRefundNo} failed {attempt.RefundFailures} times ({error.Code})");
        return false;
    }

    /// <summary>WeChat does not know the accepted refund (REFUNDNOTEXIST): the same number is sent again.</summary>
    public void RefundNotFound(AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        attempt.ResendRefund();
        Enqueue(EffectKind.Refund, attempt.OutTradeNo, Now);
    }

    /// <summary>The refund is still processing: checked again after <see cref="OrderOptions.RefundCheckAfter"/>, and
    /// reported (still checked) once it is older than <see cref="OrderOptions.RefundEscalateAfter"/>.</summary>
    public void RefundStillProcessing(AttemptRecord attempt, PendingEffect check)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(check);
        if (attempt.Escalation is null && attempt.RefundRequestedAt is { } requested && Now - requested >= Options.RefundEscalateAfter)
        {
            attempt.LastRefundAnswer = "PROCESSING";
            Escalate(attempt, OperatorItemKind.RefundStuck, $"The refund {attempt.OutRefundNo} has not settled since {requested:u}; still checked", stopRetrying: false);
        }
        check.NotBefore = Now + Options.RefundCheckAfter;
    }

    /// <summary>A refund's outcome (notify or query). False when it changed nothing.</summary>
    public bool ApplyRefund(RefundNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        if (!State.Attempts.TryGetValue(notice.OutTradeNo, out var attempt) || attempt.TransactionId is null)
        {
            throw new NotifyRejectedException($"No payment '{notice.OutTradeNo}' in this group.");
        }
        var sequence = TradeNumbers.RefundSequenceOf(attempt.OutTradeNo, notice.OutRefundNo);
        if (sequence is null || sequence > attempt.RefundSequence || attempt.Refund == RefundProgress.None)
        {
            return ApplyExternalRefund(attempt, notice);
        }
        if (notice.RefundFeeFen != attempt.AmountFen)
        {
            throw new NotifyRejectedException($"Refund amount {notice.RefundFeeFen} differs from the payment's {attempt.AmountFen}.");
        }
        if (attempt.Refund == RefundProgress.Succeeded)
        {
            return false;
        }
        switch (notice.State)
        {
            case RefundState.Succeeded:
                attempt.RefundId = notice.RefundId ?? attempt.RefundId;
                attempt.LogRefund($"{Now:u} refund {notice.OutRefundNo} succeeded");
                SettleRefund(attempt);
                return true;
            case RefundState.Closed when sequence == attempt.RefundSequence && attempt.Refund != RefundProgress.Requested:
                attempt.LogRefund($"{Now:u} refund {notice.OutRefundNo} closed by WeChat");
                attempt.LastRefundAnswer = "REFUNDCLOSE";
                RemoveEffects(attempt.OutTradeNo, EffectKind.CheckRefund);
                if (!RefundRules.MayUseNextNumber(attempt.RefundSequence, Options.MaxRefundNumbers))
                {
                    Escalate(attempt, OperatorItemKind.RefundStuck, $"WeChat closed {attempt.RefundSequence} refunds of this payment (REFUNDCLOSE)");
                    return true;
                }
                attempt.UseNextRefundNumber();
                Enqueue(EffectKind.Refund, attempt.OutTradeNo, Now);
                return true;
            case RefundState.Abnormal when sequence == attempt.RefundSequence && attempt.Refund != RefundProgress.NeedsAttention:
                attempt.LogRefund($"{Now:u} refund {notice.OutRefundNo} CHANGE (the payer's account refused it)");
                attempt.LastRefundAnswer = "CHANGE";
                Escalate(attempt, OperatorItemKind.RefundAbnormal,
                    $"WeChat could not return the money for {notice.OutRefundNo} (CHANGE): settle it in the merchant console");
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// A refund GroupPay never issued (made in WeChat's merchant console): taken in as it is. One that returns the whole
    /// payment settles it — the slot, stock, reward and figures follow as for GroupPay's own refund, and a refund of
    /// GroupPay's still under way stops. A partial one goes to the operator queue.
    /// </summary>
    private bool ApplyExternalRefund(AttemptRecord attempt, RefundNotice notice)
    {
        if (notice.State != RefundState.Succeeded || attempt.Refund == RefundProgress.Succeeded)
        {
            return false;
        }
        if (attempt.ExternalRefunds.Any(r => r.OutRefundNo == notice.OutRefundNo) || attempt.ExternalRefunds.Count >= AttemptRecord.MaxExternalRefunds)
        {
            return false;
        }
        attempt.ExternalRefunds.Add(new ExternalRefundRecord { OutRefundNo = notice.OutRefundNo, RefundId = notice.RefundId, AmountFen = notice.RefundFeeFen, At = Now });
        attempt.LogRefund($"{Now:u} refund {notice.OutRefundNo} made outside GroupPay taken in ({notice.RefundFeeFen} fen)");
        if (notice.RefundFeeFen != attempt.AmountFen)
        {
            Raise(new OperatorItemReport("external-refund:" + notice.OutRefundNo, OperatorItemKind.ExternalRefund, GroupId, attempt.OutTradeNo,
                notice.RefundFeeFen, $"A refund of {notice.RefundFeeFen} fen made outside GroupPay does not cover the payment of {attempt.AmountFen} fen",
                notice.OutRefundNo, [], Now));
            return true;
        }
        attempt.RefundId = notice.RefundId ?? attempt.RefundId;
        if (attempt.Refund == RefundProgress.None && attempt.Applied)
        {
            // Refunded while its slot still counted: the slot is given up, as if its hold had lapsed.
            var slot = State.Slots[attempt.SlotIndex];
            if (State.Status is GroupStatus.Pending or GroupStatus.Open && slot.PaidAttempt == attempt.OutTradeNo)
            {
                slot.Status = SlotStatus.Free;
                slot.MemberOpenid = null;
                slot.PaidAttempt = null;
                Enqueue(EffectKind.ReleaseStock, slot.ReservationId!, Now);
                Enqueue(EffectKind.ReverseReward, attempt.OutTradeNo, Now);
                attempt.MarkUnapplied();
                attempt.MarkRefunded();
                Count(Counter.PaymentsRefunded);
                RemoveEffects(attempt.OutTradeNo, EffectKind.Refund, EffectKind.CheckRefund);
                return true;
            }
        }
        SettleRefund(attempt);
        return true;
    }

    /// <summary>The payment's money is back with the payer: the slot shows it, and its operator item (if any) closes.</summary>
    private void SettleRefund(AttemptRecord attempt)
    {
        var wasRefunding = attempt.Refund != RefundProgress.None;
        // Sent by an activation that died before storing it (neither its sending nor its acceptance is known): the
        // ledger dates it by its settlement, so it is not left out of the day's refunds.
        attempt.RefundSentAt ??= attempt.RefundAcceptedAt is null && wasRefunding ? Now : null;
        attempt.MarkRefunded();
        Count(Counter.PaymentsRefunded);
        RemoveEffects(attempt.OutTradeNo, EffectKind.Refund, EffectKind.CheckRefund);
        if (attempt.Escalation is not null)
        {
            attempt.Escalation = null;
            Enqueue(EffectKind.SettleItem, attempt.RefundItemId, Now);
        }
        if (attempt.Applied)
        {
            var slot = State.Slots[attempt.SlotIndex];
            slot.Status = SlotStatus.Refunded;
            if (!wasRefunding || State.Status != GroupStatus.Failed)
            {
                // A failed group gave its units and rewards back when it failed; anything else gives them back now.
                Enqueue(EffectKind.ReverseReward, attempt.OutTradeNo, Now);
            }
        }
    }

    /// <summary>The refund needs a person: it stops being retried (unless <paramref name="stopRetrying"/> is false) and
    /// an item with what was tried goes to the operator queue.</summary>
    private void Escalate(AttemptRecord attempt, OperatorItemKind kind, string summary, bool stopRetrying = true)
    {
        if (stopRetrying)
        {
            attempt.MarkRefundNeedsAttention();
            RemoveEffects(attempt.OutTradeNo, EffectKind.Refund, EffectKind.CheckRefund);
        }
        attempt.Escalation = kind;
        LogRefundNeedsAttention(_logger, GroupId, attempt.OutTradeNo, kind);
        Raise(new OperatorItemReport(attempt.RefundItemId, kind, GroupId, attempt.OutTradeNo, attempt.AmountFen, summary,
            attempt.LastRefundAnswer, [.. attempt.RefundLog], Now));
    }

    // ---- Time -------------------------------------------------------------------------------------------

    /// <summary>
    /// Frees every slot whose hold lapsed unpaid (its expiry plus <see cref="OrderOptions.PaymentGrace"/>: a payment
    /// WeChat took before the expiry may still be on its way); a lapsed leader hold abandons a pending group. A hold
    /// whose attempt is still being created, or is live with its orderquery pending, waits for WeChat's answer.
    /// </summary>
    public bool ExpireHolds(DateTimeOffset now)
    {
        var changed = false;
        foreach (var slot in State.Slots.Where(s => s.Status == SlotStatus.Held && s.HoldExpiresAt + Options.PaymentGrace <= now))
        {
            if (slot.LiveAttempt is { } live && AwaitsWeChat(State.Attempts[live]))
            {
                continue;
            }
            ReleaseHold(slot);
            changed = true;
            if (slot.Index == 0 && State.Status == GroupStatus.Pending)
            {
                State.Status = GroupStatus.Abandoned;
                State.SettledAt = now;
                foreach (var other in State.Slots.Where(s => s.Status == SlotStatus.Held))
                {
                    ReleaseHold(other);
                }
            }
        }
        return changed;
    }

    /// <summary>True while WeChat's answer about the attempt decides its slot: unifiedorder still in flight, or the
    /// orderquery of a live attempt still to run (its last look is due just after the hold plus the grace; a payment
    /// taken just before the expiry may not have notified yet). One that keeps failing keeps the hold until the
    /// deadline releases it, and escalates as any failing effect.</summary>
    private bool AwaitsWeChat(AttemptRecord attempt) =>
        attempt.Status == AttemptStatus.Creating
        || (attempt.Status == AttemptStatus.Live
            && State.Outbox.Any(e => e.Kind == EffectKind.Reconcile && e.Subject == attempt.OutTradeNo));

    /// <summary>At the deadline (plus <see cref="OrderOptions.PaymentGrace"/>, for payments taken before it whose notify
    /// is on its way) an open group fails (every payer refunded) or, with virtual fill, completes.</summary>
    public bool CloseAtDeadline(DateTimeOffset now)
    {
        if (State.Status != GroupStatus.Open || State.Deadline + Options.PaymentGrace > now)
        {
            return false;
        }
        foreach (var slot in State.Slots.Where(s => s.Status is SlotStatus.Held))
        {
            ReleaseHold(slot);
        }
        if (Terms.VirtualFill)
        {
            foreach (var slot in State.Slots.Where(s => s.Status == SlotStatus.Free))
            {
                slot.Status = SlotStatus.Virtual;
            }
            Complete(now);
            return true;
        }
        State.Status = GroupStatus.Failed;
        State.SettledAt = now;
        Count(Counter.GroupsFailed);
        foreach (var slot in State.Slots.Where(s => s.Status == SlotStatus.Paid))
        {
            // The payment is not kept whatever its refund's fate: the unit goes back to stock and the inviter's reward
            // is reversed now, not when WeChat confirms the refund.
            slot.Status = SlotStatus.Refunding;
            Enqueue(EffectKind.ReleaseStock, slot.ReservationId!, now);
            Enqueue(EffectKind.ReverseReward, slot.PaidAttempt!, now);
            RequestRefund(State.Attempts[slot.PaidAttempt!]);
        }
        return true;
    }

    /// <summary>The next time something must happen by itself: a hold expiry, the deadline, a deferred effect.</summary>
    public DateTimeOffset? NextDue(DateTimeOffset now)
    {
        // Loops, not LINQ: this runs after every change of every group.
        DateTimeOffset? next = null;
        foreach (var effect in State.Outbox)
        {
            if (effect.NotBefore > now)
            {
                next = Earliest(next, effect.NotBefore);
            }
        }
        foreach (var slot in State.Slots)
        {
            if (slot.Status == SlotStatus.Held && slot.HoldExpiresAt is { } expires)
            {
                next = Earliest(next, expires + Options.PaymentGrace);
            }
        }
        if (State.Status == GroupStatus.Open && State.Deadline is { } deadline)
        {
            next = Earliest(next, deadline + Options.PaymentGrace);
        }
        return next;
    }

    private static DateTimeOffset Earliest(DateTimeOffset? a, DateTimeOffset b) => a is { } earlier && earlier <= b ? earlier : b;

    /// <summary>Nothing is left to happen to the group's money: it completed, failed or was abandoned, no effect is
    /// pending (but its archiving), no attempt is payable or being closed, and every payment WeChat took is kept by the
    /// completed group or refunded in full. Only then is it archived (docs/retention.md).</summary>
    public bool IsSettled =>
        State.Status is GroupStatus.Complete or GroupStatus.Failed or GroupStatus.Abandoned
        && State.Outbox.All(e => e.Kind == EffectKind.Archive)
        && State.Attempts.Values.All(a => a.Status switch
        {
            AttemptStatus.Closed => true,
            AttemptStatus.Paid => a.Refund == RefundProgress.Succeeded
                || a.ExternalRefunds.Sum(r => r.AmountFen) >= a.AmountFen
                || (a.Refund == RefundProgress.None && a.Applied && State.Status == GroupStatus.Complete),
            _ => false,
        });

    /// <summary>Queues the group's archiving once it is settled and not archived as it is now. True when queued.</summary>
    public bool ArchiveIfSettled(DateTimeOffset now)
    {
        if (State.ArchivedAt is not null || !IsSettled || State.Outbox.Any(e => e.Kind == EffectKind.Archive))
        {
            return false;
        }
        Enqueue(EffectKind.Archive, GroupId, now);
        return true;
    }

    /// <summary>Every slot paid (or virtually filled): the paid units are sold and the inviters' rewards scheduled.</summary>
    public void Complete(DateTimeOffset now)
    {
        State.Status = GroupStatus.Complete;
        State.SettledAt = now;
        Count(Counter.GroupsCompleted);
        // What a fulfilment service hears (docs/clients.md): queued with the state that makes the group complete.
        Enqueue(EffectKind.AnnounceCompleted, GroupId, now);
        // A unit is sold when its group completes (拼团成功 ships); until then a paid slot's unit stays reserved.
        foreach (var slot in State.Slots.Where(s => s.Status == SlotStatus.Paid))
        {
            Enqueue(EffectKind.ConfirmStock, slot.ReservationId!, now);
            Enqueue(EffectKind.ScheduleGrant, slot.PaidAttempt!, now);
        }
    }

    /// <summary>Ends a slot's hold: the slot is free again and its stock unit and live attempt are let go.</summary>
    public void ReleaseHold(SlotRecord slot)
    {
        ArgumentNullException.ThrowIfNull(slot);
        if (slot.LiveAttempt is { } live)
        {
            Supersede(State.Attempts[live]);
        }
        Enqueue(EffectKind.ReleaseStock, slot.ReservationId!, Now);
        slot.Status = SlotStatus.Free;
        slot.MemberOpenid = null;
        slot.HoldExpiresAt = null;
        slot.LiveAttempt = null;
    }

    // ---- Counts, effects, reports -----------------------------------------------------------------------

    /// <summary>Counted in the growth figures by the change being made; stored with it (see <see cref="GroupTally"/>).</summary>
    public void Count(Counter counter) => State.Counts[TallyField.Both(counter)] = State.Counts.GetValueOrDefault(TallyField.Both(counter)) + 1;

    public void Enqueue(EffectKind kind, string subject, DateTimeOffset notBefore) =>
        State.Outbox.Add(new PendingEffect { Kind = kind, Subject = subject, NotBefore = notBefore, QueuedAt = Now });

    public void RemoveEffects(string subject, params EffectKind[] kinds) =>
        State.Outbox.RemoveAll(e => e.Subject == subject && (kinds.Length == 0 || kinds.Contains(e.Kind)));

    /// <summary>Queues a report to the operator queue.</summary>
    public void Raise(OperatorItemReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        State.Outbox.Add(new PendingEffect
        {
            Kind = EffectKind.RaiseItem,
            Subject = "item:" + report.ItemId,
            NotBefore = Now,
            QueuedAt = Now,
            Report = report,
        });
    }

    /// <summary>An effect failing for longer than <see cref="OrderOptions.EffectEscalateAfter"/> is reported (it is still
    /// retried); false for the reports to the queue themselves, which cannot be reported to it.</summary>
    public bool RaiseFailingEffect(PendingEffect effect, string error, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(effect);
        if (effect.Kind is EffectKind.RaiseItem or EffectKind.SettleItem)
        {
            return false;
        }
        Raise(new OperatorItemReport(effect.ItemId(GroupId), OperatorItemKind.EffectFailing, GroupId, null, 0,
            $"{effect.Kind} for {effect.Subject} has failed since {effect.FailingSince:u}; still retried", error, [], now));
        return true;
    }

    // ---- Views and checks -------------------------------------------------------------------------------

    public GroupView View(string? viewer)
    {
        var slots = State.Slots.Select(s => new SlotView(
            s.Index,
            s.Status,
            s.Index == 0,
            viewer is not null && s.MemberOpenid == viewer,
            s.PaidAttempt is { } paid && State.Attempts[paid].PayerOpenid != State.Attempts[paid].MemberOpenid,
            s.Status is SlotStatus.Free or SlotStatus.Virtual ? null : MemberTags.Of(s.MemberOpenid))).ToList();
        return new GroupView(
            GroupId,
            State.CampaignId!,
            State.Status,
            State.Slots.Count,
            State.Slots.Count(s => s.Status is SlotStatus.Paid),
            State.Deadline,
            slots,
            viewer is null ? null : FindMemberSlot(viewer)?.Index,
            Terms.GroupPriceFen,
            viewer is null ? [] : MyRefunds(viewer));
    }

    /// <summary>The viewer's own refunded payments, oldest first; bounded by the attempts a group may have.</summary>
    private List<MyRefundView> MyRefunds(string viewer) =>
    [
        .. State.Attempts.Values
            .Where(a => a.PayerOpenid == viewer && a.TransactionId is not null && a.Refund != RefundProgress.None)
            .OrderBy(a => a.PaidAt)
            .Select(a => new MyRefundView(a.AmountFen, a.Refund == RefundProgress.Succeeded, Unused: !a.Applied)),
    ];

    /// <summary>Every payment of the group and its refunds, as stored.</summary>
    public GroupPayments Payments() => new(GroupId, State.CampaignId!, State.Status,
        [.. State.Attempts.Values.Where(a => a.TransactionId is not null).OrderBy(a => a.PaidAt).Select(PaymentOf)]);

    public GroupCounts Counts() => new(State.Revision, new Dictionary<string, long>(State.Counts, StringComparer.Ordinal));

    private static PaymentFact PaymentOf(AttemptRecord attempt)
    {
        var issued = attempt.Refund == RefundProgress.None
            ? []
            : Enumerable.Range(attempt.RefundSequence == 0 ? 0 : 1, attempt.RefundSequence == 0 ? 1 : attempt.RefundSequence)
                .Select(sequence => new RefundFact(TradeNumbers.OutRefundNo(attempt.OutTradeNo, sequence), attempt.AmountFen, IssuedByGroupPay: true,
                    Current: sequence == attempt.RefundSequence,
                    Succeeded: sequence == attempt.RefundSequence && attempt.Refund == RefundProgress.Succeeded && !attempt.ExternalRefunds.Any(r => r.AmountFen == attempt.AmountFen),
                    AcceptedAt: sequence == attempt.RefundSequence ? attempt.RefundAtWeChat : null));
        var external = attempt.ExternalRefunds.Select(r => new RefundFact(r.OutRefundNo, r.AmountFen, IssuedByGroupPay: false, Current: false, Succeeded: true, r.At));
        var status = attempt.Refund switch
        {
            RefundProgress.None => PaymentRefundStatus.None,
            RefundProgress.Succeeded => PaymentRefundStatus.Refunded,
            RefundProgress.NeedsAttention => PaymentRefundStatus.NeedsAttention,
            _ => PaymentRefundStatus.Refunding,
        };
        if (attempt.Refund == RefundProgress.None && attempt.ExternalRefunds.Any(r => r.AmountFen == attempt.AmountFen))
        {
            status = PaymentRefundStatus.Refunded;
        }
        return new PaymentFact(attempt.OutTradeNo, attempt.TransactionId!, attempt.AmountFen, attempt.PaidAt!.Value, attempt.Applied, status, [.. issued, .. external]);
    }

    public SlotRecord? FindMemberSlot(string openid) =>
        State.Slots.FirstOrDefault(s => s.MemberOpenid == openid && s.Status is SlotStatus.Held or SlotStatus.Paid or SlotStatus.Refunding or SlotStatus.Refunded);

    public void EnsureExists()
    {
        if (State.CampaignId is null)
        {
            throw new UnknownGroupException(GroupId);
        }
    }

    public void RequireOpen(int? slotIndex)
    {
        switch (State.Status)
        {
            case GroupStatus.Open when Now >= State.Deadline:
                throw new GroupClosedException("past its deadline");
            case GroupStatus.Open:
            case GroupStatus.Pending when slotIndex is null or 0:
                return;
            case GroupStatus.Pending:
                throw new GroupClosedException("not open yet (the leader has not paid)");
            default:
                throw new GroupClosedException(State.Status.ToString().ToLowerInvariant());
        }
    }

    public static void RequireOpenid(string? openid)
    {
        if (string.IsNullOrWhiteSpace(openid) || openid.Length > 128)
        {
            throw new InvalidRequestException("An openid is required.");
        }
    }

    public static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    public static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Error, Message = "Group {GroupId}: an authentic payment report for {OutTradeNo} cannot be applied: {Reason}")]
    private static partial void LogAnomaly(ILogger logger, string groupId, string outTradeNo, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId}: payment {OutTradeNo} is not needed and will be refunded")]
    private static partial void LogRefundingUnneededPayment(ILogger logger, string groupId, string outTradeNo);

    [LoggerMessage(Level = LogLevel.Error, Message = "Group {GroupId}: refund of {OutTradeNo} needs an operator ({Kind})")]
    private static partial void LogRefundNeedsAttention(ILogger logger, string groupId, string outTradeNo, OperatorItemKind kind);
}
