using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Referrals;
using GroupPay.Grains.Stats;
using GroupPay.WeChatPay.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GroupPay.Grains.Orders;

/// <summary>
/// The group state machine of design.md. Non-reentrant: its turn is the lock over the group's slots,
/// attempts and refunds. State is written before any caller hears success; calls that leave the grain
/// (WeChat, other grains) go through <see cref="OrderState.Outbox"/> and are retried until confirmed,
/// driven by a one-way self call after each turn and by the <c>wake</c> reminder.
/// </summary>
[GrainType("order")]
public sealed partial class OrderGrain(
    [PersistentState("order", GrainStorage.Name)] IPersistentState<OrderState> state,
    IWeChatPayClient weChatPay,
    TimeProvider timeProvider,
    StatsBuffer stats,
    IOptions<OrderOptions> options,
    ILogger<OrderGrain> logger) : Grain, IOrderGrain, IOrderEffects, IRemindable
{
    private const string WakeReminder = "wake";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    private OrderState State => state.State;

    private string GroupId => this.GetPrimaryKeyString();

    private OrderOptions Options => options.Value;

    private DateTimeOffset Now => timeProvider.GetUtcNow();

    private CampaignDefinition Terms => State.Terms ?? throw new UnknownGroupException(GroupId);

    // ---- Commands -------------------------------------------------------------------------------------

    public async Task<GroupView> CreateAsync(CreateGroup command)
    {
        ArgumentNullException.ThrowIfNull(command);
        RequireOpenid(command.LeaderOpenid);
        if (State.CampaignId is not null)
        {
            return State.LeaderOpenid == command.LeaderOpenid
                ? View(command.LeaderOpenid)
                : throw new InvalidRequestException("That group id is taken.");
        }
        if (!TradeNumbers.IsValidGroupId(GroupId))
        {
            throw new InvalidRequestException("A group id is 6..24 characters of [0-9a-z].");
        }
        var campaign = GrainFactory.GetGrain<ICampaignGrain>(command.CampaignId);
        var view = await campaign.GetAsync() ?? throw new UnknownCampaignException(command.CampaignId);
        if (!view.Active)
        {
            throw new CampaignClosedException("The campaign is not active.");
        }
        await BindReferralAsync(command.LeaderOpenid, command.ReferralCode);

        var now = Now;
        var terms = view.Definition;
        var leaderSlot = new SlotRecord { Index = 0 };
        await HoldAsync(leaderSlot, command.CampaignId, command.LeaderOpenid, now + TimeSpan.FromMinutes(terms.HoldMinutes));

        State.CampaignId = command.CampaignId;
        State.Terms = terms;
        State.LeaderOpenid = command.LeaderOpenid;
        State.Status = GroupStatus.Pending;
        State.CreatedAt = now;
        State.Slots = [leaderSlot, .. Enumerable.Range(1, terms.GroupSize - 1).Select(i => new SlotRecord { Index = i })];
        await SaveAsync();
        return View(command.LeaderOpenid);
    }

    public Task<GroupView> GetAsync(string? viewerOpenid)
    {
        EnsureExists();
        return Task.FromResult(View(viewerOpenid));
    }

    public async Task<GroupView> JoinAsync(string openid, string? referralCode)
    {
        RequireOpenid(openid);
        EnsureExists();
        if (FindMemberSlot(openid) is null)
        {
            await JoinCoreAsync(openid, referralCode);
            await SaveAsync();
        }
        return View(openid);
    }

    public async Task<PaymentStarted> PayAsync(StartPayment command)
    {
        ArgumentNullException.ThrowIfNull(command);
        RequireOpenid(command.PayerOpenid);
        EnsureExists();
        var now = Now;
        var changed = ExpireHolds(now);

        SlotRecord slot;
        if (command.Slot is not { } index)
        {
            slot = FindMemberSlot(command.PayerOpenid) ?? await JoinCoreAsync(command.PayerOpenid, command.ReferralCode);
            changed = true;
        }
        else
        {
            if (index < 0 || index >= State.Slots.Count)
            {
                throw new InvalidRequestException($"Slot {index} does not exist.");
            }
            slot = State.Slots[index];
            if (slot.MemberOpenid == command.PayerOpenid)
            {
                throw new OwnSlotOnBehalfException();
            }
            await BindReferralAsync(command.PayerOpenid, command.ReferralCode);
        }
        RequireOpen(slot.Index);
        if (slot.Status is SlotStatus.Paid or SlotStatus.Refunding or SlotStatus.Refunded or SlotStatus.Virtual)
        {
            throw new AlreadyPaidException();
        }
        if (slot.Status != SlotStatus.Held || slot.MemberOpenid is null)
        {
            throw new InvalidRequestException($"Slot {slot.Index} has no member to pay for.");
        }

        // A repeat request while the payer's attempt is live gets the same attempt.
        if (slot.LiveAttempt is { } liveNo && State.Attempts[liveNo] is { Status: AttemptStatus.Live } live
            && live.PayerOpenid == command.PayerOpenid && live.PrepayExpiresAt > now + TimeSpan.FromMinutes(1))
        {
            if (changed)
            {
                await SaveAsync();
            }
            return Started(live);
        }
        if (slot.LiveAttempt is { } previous)
        {
            Supersede(State.Attempts[previous]);
        }

        var holdUntil = now + TimeSpan.FromMinutes(Terms.HoldMinutes);
        if (slot.HoldExpiresAt < holdUntil)
        {
            slot.HoldExpiresAt = holdUntil;
        }
        var attempt = new AttemptRecord
        {
            OutTradeNo = TradeNumbers.OutTradeNo(GroupId, ++State.AttemptCount),
            SlotIndex = slot.Index,
            MemberOpenid = slot.MemberOpenid,
            PayerOpenid = command.PayerOpenid,
            AmountFen = Terms.GroupPriceFen,
            CreatedAt = now,
            PayableUntil = slot.HoldExpiresAt!.Value,
            Status = AttemptStatus.Creating,
        };
        State.Attempts[attempt.OutTradeNo] = attempt;
        slot.LiveAttempt = attempt.OutTradeNo;
        Enqueue(EffectKind.Reconcile, attempt.OutTradeNo, now + Options.ReconcileAfter);
        await SaveAsync();

        var prepay = await weChatPay.UnifiedOrderAsync(new UnifiedOrderRequest
        {
            OutTradeNo = attempt.OutTradeNo,
            Body = Terms.Title,
            TotalFee = attempt.AmountFen,
            OpenId = attempt.PayerOpenid,
            SpbillCreateIp = command.ClientIp,
            Attach = GroupId,
            TimeExpire = attempt.PayableUntil,
        });
        if (prepay.Value is not { } order)
        {
            var error = prepay.Error!;
            if (error.Kind != WeChatPayErrorKind.Transport)
            {
                // WeChat answered no: nothing exists there to pay or close.
                attempt.Status = AttemptStatus.Closed;
                slot.LiveAttempt = null;
                RemoveEffects(attempt.OutTradeNo);
                await SaveAsync();
            }
            LogPrepayFailed(logger, GroupId, attempt.OutTradeNo, error.Code);
            throw new PaymentProviderException($"WeChat Pay refused the payment ({error.Code}).");
        }
        attempt.Status = AttemptStatus.Live;
        attempt.PrepayId = order.PrepayId;
        attempt.PrepayExpiresAt = Min(now + Options.PrepayLifetime, attempt.PayableUntil);
        stats.Add(State.CampaignId!, Counter.PaymentsCreated);
        await SaveAsync();
        return Started(attempt);
    }

    public async Task<PaymentApplied> ApplyPaymentAsync(PaymentNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        EnsureExists();
        var disposition = ApplyPayment(notice);
        if (disposition != PaymentDisposition.Duplicate)
        {
            await SaveAsync();
        }
        return new PaymentApplied(disposition, State.Status);
    }

    public async Task ApplyRefundAsync(RefundNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        EnsureExists();
        if (ApplyRefund(notice))
        {
            await SaveAsync();
        }
    }

    public async Task RetryRefundAsync(string outTradeNo, string actor)
    {
        EnsureExists();
        if (!State.Attempts.TryGetValue(outTradeNo, out var attempt))
        {
            throw new NotifyRejectedException($"No payment attempt '{outTradeNo}' in this group.");
        }
        if (attempt.Refund == RefundProgress.NeedsAttention)
        {
            attempt.Refund = RefundProgress.Requested;
            Enqueue(EffectKind.Refund, attempt.OutTradeNo, Now);
            await SaveAsync();
        }
    }

    // ---- Effects and time -----------------------------------------------------------------------------

    public async Task DrainAsync()
    {
        if (State.CampaignId is null)
        {
            return;
        }
        var wakeAt = State.WakeAt;
        var changed = ExpireHolds(Now) | CloseAtDeadline(Now);
        // Effects may queue others that are due at once (a refund after a close found the order paid): a few passes.
        for (var pass = 0; pass < 3 && State.Outbox.Any(e => e.NotBefore <= Now); pass++)
        {
            changed |= await RunDueEffectsAsync();
        }
        await ScheduleWakeAsync();
        // Effects between grains are idempotent: when only they completed, the write can wait for the next change
        // (after a crash they simply run again). Anything else that changed is written now.
        if (changed || State.WakeAt != wakeAt)
        {
            await state.WriteStateAsync();
        }
    }

    /// <summary>The reminder only wakes the grain: the work runs in its own turn, after the tick was delivered,
    /// and then sets the reminder for the next thing due.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == WakeReminder ? this.AsReference<IOrderEffects>().DrainAsync() : Task.CompletedTask;

    /// <summary>Sets the reminder for what is due next, persists (the reminder's time with the rest), then has the
    /// due effects run in the grain's next turn.</summary>
    private async Task SaveAsync()
    {
        await ScheduleWakeAsync();
        await state.WriteStateAsync();
        if (State.Outbox.Any(e => e.NotBefore <= Now))
        {
            await this.AsReference<IOrderEffects>().DrainAsync();
        }
    }

    /// <summary>
    /// Keeps one <c>wake</c> reminder no later than the next hold expiry, deadline or deferred effect, and changes
    /// its registration (a Redis write) only when that moves earlier, or later once it has fired. Effects due now run
    /// through the one-way drain; for them any registered reminder (it ticks every minute after its due time) is the
    /// safety net, and one is registered a minute out only when none is.
    /// </summary>
    private async Task ScheduleWakeAsync()
    {
        var now = Now;
        var target = NextDue(now) ?? (State.Outbox.Count > 0 ? now + ReminderPeriod : null);
        if (target is null)
        {
            if (State.WakeAt is not null)
            {
                if (await this.GetReminder(WakeReminder) is { } reminder)
                {
                    await this.UnregisterReminder(reminder);
                }
                State.WakeAt = null;
            }
            return;
        }
        var registered = State.WakeAt;
        var register = registered is null
            || target < registered
            || (registered <= now && target > now + ReminderPeriod);
        if (!register)
        {
            return;
        }
        var due = target.Value - now;
        await this.RegisterOrUpdateReminder(WakeReminder, due > TimeSpan.Zero ? due : TimeSpan.Zero, ReminderPeriod);
        State.WakeAt = target;
    }

    /// <summary>The next time something must happen by itself: a hold expiry, the deadline, a deferred effect.</summary>
    private DateTimeOffset? NextDue(DateTimeOffset now)
    {
        IEnumerable<DateTimeOffset> times = State.Outbox.Where(e => e.NotBefore > now).Select(e => e.NotBefore);
        times = times.Concat(State.Slots.Where(s => s.Status == SlotStatus.Held && s.HoldExpiresAt is not null).Select(s => s.HoldExpiresAt!.Value));
        if (State.Status == GroupStatus.Open && State.Deadline is { } deadline)
        {
            times = times.Append(deadline);
        }
        return times.Any() ? times.Min() : null;
    }

    /// <summary>Frees every slot whose hold lapsed unpaid; a lapsed leader hold abandons a pending group.</summary>
    private bool ExpireHolds(DateTimeOffset now)
    {
        var changed = false;
        foreach (var slot in State.Slots.Where(s => s.Status == SlotStatus.Held && s.HoldExpiresAt <= now))
        {
            if (slot.LiveAttempt is { } live && State.Attempts[live].Status == AttemptStatus.Creating)
            {
                continue; // unifiedorder still in flight for this slot: decide after it answers
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

    /// <summary>At the deadline an open group fails (every payer refunded) or, with virtual fill, completes.</summary>
    private bool CloseAtDeadline(DateTimeOffset now)
    {
        if (State.Status != GroupStatus.Open || State.Deadline > now)
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
        stats.Add(State.CampaignId!, Counter.GroupsFailed);
        foreach (var slot in State.Slots.Where(s => s.Status == SlotStatus.Paid))
        {
            slot.Status = SlotStatus.Refunding;
            RequestRefund(State.Attempts[slot.PaidAttempt!]);
        }
        return true;
    }

    /// <summary>Runs the due effects in order (per subject); true when one changed more than the outbox itself —
    /// the calls to WeChat Pay record what they learned — so the state must be written.</summary>
    private async Task<bool> RunDueEffectsAsync()
    {
        var changed = false;
        var blocked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var effect in State.Outbox.ToList())
        {
            var now = Now;
            if (effect.NotBefore > now || !blocked.Add(effect.Subject))
            {
                // Effects about one subject run in order: a later one waits for the earlier.
                blocked.Add(effect.Subject);
                continue;
            }
            string? error;
            try
            {
                error = await RunAsync(effect);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                error = ex.GetType().Name + ": " + ex.Message;
            }
            changed |= effect.Kind is EffectKind.Reconcile or EffectKind.CloseOrder or EffectKind.Refund or EffectKind.CheckRefund;
            if (error is null)
            {
                State.Outbox.Remove(effect);
                blocked.Remove(effect.Subject);
                continue;
            }
            effect.Failures++;
            effect.LastError = error;
            var delay = TimeSpan.FromSeconds(Math.Min(Options.MaxRetryDelay.TotalSeconds, 5 * Math.Pow(2, Math.Min(effect.Failures, 16))));
            effect.NotBefore = now + delay;
            LogEffectFailed(logger, GroupId, effect.Kind, effect.Subject, effect.Failures, error);
        }
        return changed;
    }

    /// <summary>Carries out one effect; null when it is done (or has nothing left to do), else why not yet.</summary>
    private async Task<string?> RunAsync(PendingEffect effect)
    {
        var campaignId = State.CampaignId!;
        switch (effect.Kind)
        {
            case EffectKind.ConfirmStock:
                await GrainFactory.GetGrain<ICampaignGrain>(campaignId).ConfirmAsync(effect.Subject);
                return null;
            case EffectKind.ReleaseStock:
                await GrainFactory.GetGrain<ICampaignGrain>(campaignId).ReleaseAsync(effect.Subject);
                return null;
            case EffectKind.RecordSeed:
                await GrainFactory.GetGrain<IReferralGrain>(effect.Subject).RecordGroupOpenedAsync(GroupId, campaignId);
                return null;
        }

        var attempt = State.Attempts[effect.Subject];
        switch (effect.Kind)
        {
            case EffectKind.RecordPayer or EffectKind.RecordLeaderPayer:
                var referral = GrainFactory.GetGrain<IReferralGrain>(attempt.PayerOpenid);
                var payer = effect.Kind == EffectKind.RecordLeaderPayer
                    ? await referral.RecordLeaderPaymentAsync(attempt.OutTradeNo, campaignId, GroupId)
                    : await referral.RecordPaymentAsync(attempt.OutTradeNo, campaignId);
                attempt.InviterOpenid = payer.InviterOpenid;
                if (payer.InviterOpenid is { } inviter && Terms.InviterRewardFen > 0)
                {
                    await GrainFactory.GetGrain<IReferralGrain>(inviter).AddPendingRewardAsync(new RewardEntry(
                        attempt.OutTradeNo, campaignId, Terms.InviterRewardFen, Terms.InviterDailyRewardCap, attempt.PaidAt ?? Now));
                }
                return null;
            case EffectKind.ScheduleGrant:
                if (attempt.InviterOpenid is { } grantTo)
                {
                    await GrainFactory.GetGrain<IReferralGrain>(grantTo).ScheduleGrantAsync(
                        attempt.OutTradeNo, State.SettledAt!.Value + TimeSpan.FromMinutes(Terms.RewardFreezeMinutes));
                }
                return null;
            case EffectKind.ReverseReward:
                if (attempt.InviterOpenid is { } reverseFrom)
                {
                    await GrainFactory.GetGrain<IReferralGrain>(reverseFrom).ReverseRewardAsync(attempt.OutTradeNo);
                }
                return null;
            case EffectKind.Reconcile:
                return await ReconcileAsync(effect, attempt);
            case EffectKind.CloseOrder:
                return await CloseAsync(attempt);
            case EffectKind.Refund:
                return await RefundAsync(attempt);
            case EffectKind.CheckRefund:
                return await CheckRefundAsync(effect, attempt);
            default:
                throw new InvalidOperationException($"Unknown effect {effect.Kind}.");
        }
    }

    /// <summary>orderquery for an attempt that got no notify: apply a payment, keep watching a live one,
    /// close one that is no longer wanted.</summary>
    private async Task<string?> ReconcileAsync(PendingEffect effect, AttemptRecord attempt)
    {
        if (attempt.Status is AttemptStatus.Paid or AttemptStatus.Closed)
        {
            return null;
        }
        var query = await weChatPay.OrderQueryAsync(attempt.OutTradeNo);
        if (query.Value is { } result)
        {
            if (result.IsPaid)
            {
                ApplyPayment(new PaymentNotice(attempt.OutTradeNo, result.TransactionId!, result.TotalFee ?? 0, result.OpenId, result.TimeEnd));
                return attempt.Status == AttemptStatus.Paid ? null : "the queried payment did not match the attempt";
            }
            if (result.TradeState is TradeState.Closed or TradeState.Revoked or TradeState.PayError)
            {
                attempt.Status = AttemptStatus.Closed;
                return null;
            }
            if (attempt.Status is AttemptStatus.Live or AttemptStatus.Creating && attempt.PayableUntil > Now)
            {
                // Still payable: look again later, no later than just after it stops being payable.
                effect.NotBefore = Min(Now + Options.ReconcileAfter, attempt.PayableUntil + TimeSpan.FromSeconds(1));
                return "not paid yet";
            }
            Supersede(attempt);
            return null;
        }
        if (query.Error!.Code == WeChatPayErrorCode.OrderNotExist && attempt.Status is AttemptStatus.Creating or AttemptStatus.Superseded)
        {
            attempt.Status = AttemptStatus.Closed;
            return null;
        }
        return query.Error.ToString();
    }

    private async Task<string?> CloseAsync(AttemptRecord attempt)
    {
        if (attempt.Status is AttemptStatus.Paid or AttemptStatus.Closed)
        {
            return null;
        }
        var close = await weChatPay.CloseOrderAsync(attempt.OutTradeNo);
        var code = close.Error?.Code;
        if (close.IsSuccess || code is WeChatPayErrorCode.OrderClosed or WeChatPayErrorCode.OrderNotExist)
        {
            attempt.Status = AttemptStatus.Closed;
            attempt.ClosedAtWeChat = true;
            return null;
        }
        if (code == WeChatPayErrorCode.OrderPaid)
        {
            // Paid before the close landed: learn the transaction and refund it.
            var query = await weChatPay.OrderQueryAsync(attempt.OutTradeNo);
            if (query.Value is { IsPaid: true } paid)
            {
                ApplyPayment(new PaymentNotice(attempt.OutTradeNo, paid.TransactionId!, paid.TotalFee ?? 0, paid.OpenId, paid.TimeEnd));
                return null;
            }
            return "closeorder said ORDERPAID but orderquery did not: " + query.Error;
        }
        return close.Error!.ToString();
    }

    private async Task<string?> RefundAsync(AttemptRecord attempt)
    {
        if (attempt.Refund is RefundProgress.Succeeded or RefundProgress.Accepted or RefundProgress.NeedsAttention)
        {
            return null;
        }
        var refund = await weChatPay.RefundAsync(new RefundRequest
        {
            OutTradeNo = attempt.OutTradeNo,
            OutRefundNo = TradeNumbers.OutRefundNo(attempt.OutTradeNo),
            TotalFee = attempt.AmountFen,
            RefundFee = attempt.AmountFen,
            RefundDesc = "拼团退款",
        });
        if (refund.Value is not { } accepted)
        {
            return refund.Error!.ToString();
        }
        attempt.Refund = RefundProgress.Accepted;
        attempt.RefundId = accepted.RefundId;
        Enqueue(EffectKind.CheckRefund, attempt.OutTradeNo, Now + Options.RefundCheckAfter);
        return null;
    }

    private async Task<string?> CheckRefundAsync(PendingEffect effect, AttemptRecord attempt)
    {
        if (attempt.Refund is RefundProgress.Succeeded or RefundProgress.NeedsAttention)
        {
            return null;
        }
        var outRefundNo = TradeNumbers.OutRefundNo(attempt.OutTradeNo);
        var query = await weChatPay.RefundQueryAsync(RefundQueryRequest.ByOutRefundNo(outRefundNo));
        if (query.Value?.Find(outRefundNo) is not { } record)
        {
            if (query.Error?.Code == WeChatPayErrorCode.RefundNotExist)
            {
                attempt.Refund = RefundProgress.Requested;
                Enqueue(EffectKind.Refund, attempt.OutTradeNo, Now);
                return null;
            }
            return query.Error?.ToString() ?? "refund not listed";
        }
        var refundState = record.Status switch
        {
            WeChatPay.Client.RefundStatus.Success => RefundState.Succeeded,
            WeChatPay.Client.RefundStatus.RefundClose => RefundState.Closed,
            WeChatPay.Client.RefundStatus.Change => RefundState.Abnormal,
            _ => RefundState.Processing,
        };
        if (refundState == RefundState.Processing)
        {
            effect.NotBefore = Now + Options.RefundCheckAfter;
            return "refund still processing";
        }
        ApplyRefund(new RefundNotice(attempt.OutTradeNo, outRefundNo, record.RefundId, record.RefundFee, refundState));
        return null;
    }

    // ---- State transitions (no I/O) -------------------------------------------------------------------

    private PaymentDisposition ApplyPayment(PaymentNotice notice)
    {
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
        attempt.TransactionId = notice.TransactionId;
        attempt.PaidAt = notice.PaidAt ?? now;
        attempt.Status = AttemptStatus.Paid;
        RemoveEffects(attempt.OutTradeNo, EffectKind.Reconcile, EffectKind.CloseOrder);
        stats.Add(State.CampaignId!, Counter.PaymentsPaid);

        var slot = State.Slots[attempt.SlotIndex];
        var acceptable = !wasClosed
            && State.Status is GroupStatus.Pending or GroupStatus.Open
            && (State.Status == GroupStatus.Open || slot.Index == 0)
            && slot.Status == SlotStatus.Held && slot.MemberOpenid == attempt.MemberOpenid;
        if (!acceptable)
        {
            RequestRefund(attempt);
            LogRefundingUnneededPayment(logger, GroupId, attempt.OutTradeNo);
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
        attempt.Applied = true;
        if (slot.Index > 0)
        {
            stats.Add(State.CampaignId!, Counter.Paid);
        }

        if (State.Status == GroupStatus.Pending)
        {
            State.Status = GroupStatus.Open;
            State.Deadline = now + TimeSpan.FromMinutes(Terms.WindowMinutes);
            stats.Add(State.CampaignId!, Counter.GroupsOpened);
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

    private bool ApplyRefund(RefundNotice notice)
    {
        if (!State.Attempts.TryGetValue(notice.OutTradeNo, out var attempt)
            || notice.OutRefundNo != TradeNumbers.OutRefundNo(attempt.OutTradeNo)
            || attempt.Refund == RefundProgress.None)
        {
            throw new NotifyRejectedException($"No refund '{notice.OutRefundNo}' in this group.");
        }
        if (notice.RefundFeeFen != attempt.AmountFen)
        {
            throw new NotifyRejectedException($"Refund amount {notice.RefundFeeFen} differs from the payment's {attempt.AmountFen}.");
        }
        switch (notice.State)
        {
            case RefundState.Succeeded when attempt.Refund != RefundProgress.Succeeded:
                attempt.Refund = RefundProgress.Succeeded;
                attempt.RefundId ??= notice.RefundId;
                RemoveEffects(attempt.OutTradeNo, EffectKind.Refund, EffectKind.CheckRefund);
                if (attempt.Applied)
                {
                    var slot = State.Slots[attempt.SlotIndex];
                    slot.Status = SlotStatus.Refunded;
                    Enqueue(EffectKind.ReleaseStock, slot.ReservationId!, Now);
                    Enqueue(EffectKind.ReverseReward, attempt.OutTradeNo, Now);
                }
                return true;
            case RefundState.Closed when attempt.Refund != RefundProgress.Succeeded:
                // WeChat closed the refund: ask again with the same out_refund_no.
                attempt.Refund = RefundProgress.Requested;
                RemoveEffects(attempt.OutTradeNo, EffectKind.CheckRefund);
                Enqueue(EffectKind.Refund, attempt.OutTradeNo, Now);
                return true;
            case RefundState.Abnormal when attempt.Refund != RefundProgress.Succeeded:
                attempt.Refund = RefundProgress.NeedsAttention;
                RemoveEffects(attempt.OutTradeNo, EffectKind.Refund, EffectKind.CheckRefund);
                LogRefundNeedsAttention(logger, GroupId, attempt.OutTradeNo);
                return true;
            default:
                return false;
        }
    }

    private void Complete(DateTimeOffset now)
    {
        State.Status = GroupStatus.Complete;
        State.SettledAt = now;
        stats.Add(State.CampaignId!, Counter.GroupsCompleted);
        // A unit is sold when its group completes (拼团成功 ships); until then a paid slot's unit stays reserved.
        foreach (var slot in State.Slots.Where(s => s.Status == SlotStatus.Paid))
        {
            Enqueue(EffectKind.ConfirmStock, slot.ReservationId!, now);
            Enqueue(EffectKind.ScheduleGrant, slot.PaidAttempt!, now);
        }
    }

    private void RequestRefund(AttemptRecord attempt)
    {
        if (attempt.Refund == RefundProgress.None)
        {
            attempt.Refund = RefundProgress.Requested;
            Enqueue(EffectKind.Refund, attempt.OutTradeNo, Now);
        }
    }

    /// <summary>Ends a slot's hold: the slot is free again and its stock unit and live attempt are let go.</summary>
    private void ReleaseHold(SlotRecord slot)
    {
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

    /// <summary>An attempt that is no longer wanted: closed at WeChat (not sooner than WeChat allows).</summary>
    private void Supersede(AttemptRecord attempt)
    {
        if (attempt.Status is not (AttemptStatus.Live or AttemptStatus.Creating))
        {
            return;
        }
        attempt.Status = AttemptStatus.Superseded;
        var slot = State.Slots[attempt.SlotIndex];
        if (slot.LiveAttempt == attempt.OutTradeNo)
        {
            slot.LiveAttempt = null;
        }
        RemoveEffects(attempt.OutTradeNo, EffectKind.Reconcile);
        Enqueue(EffectKind.CloseOrder, attempt.OutTradeNo, Max(Now, attempt.CreatedAt + Options.CloseMinAge));
    }

    private async Task<SlotRecord> JoinCoreAsync(string openid, string? referralCode)
    {
        if (State.Status == GroupStatus.Pending && openid != State.LeaderOpenid)
        {
            throw new GroupClosedException("not open yet (the leader has not paid)");
        }
        RequireOpen(slotIndex: null);
        ExpireHolds(Now);
        var slot = State.Slots.FirstOrDefault(s => s.Status == SlotStatus.Free) ?? throw new GroupFullException();
        await BindReferralAsync(openid, referralCode);
        await HoldAsync(slot, State.CampaignId!, openid, Now + TimeSpan.FromMinutes(Terms.HoldMinutes));
        stats.Add(State.CampaignId!, Counter.Joined);
        return slot;
    }

    /// <summary>Reserves a stock unit and holds <paramref name="slot"/> for <paramref name="openid"/>. The
    /// reservation is made first (it may refuse: sold out, per-user limit) and is idempotent by its id.</summary>
    private async Task HoldAsync(SlotRecord slot, string campaignId, string openid, DateTimeOffset until)
    {
        var holdCount = slot.HoldCount + 1;
        var reservationId = $"{GroupId}/{slot.Index}/{holdCount}";
        await GrainFactory.GetGrain<ICampaignGrain>(campaignId).ReserveAsync(reservationId, openid);
        slot.HoldCount = holdCount;
        slot.ReservationId = reservationId;
        slot.Status = SlotStatus.Held;
        slot.MemberOpenid = openid;
        slot.HoldExpiresAt = until;
    }

    private async Task BindReferralAsync(string openid, string? referralCode)
    {
        if (!string.IsNullOrEmpty(referralCode))
        {
            await GrainFactory.GetGrain<IReferralGrain>(openid).BindInviterAsync(referralCode);
        }
    }

    private void Enqueue(EffectKind kind, string subject, DateTimeOffset notBefore) =>
        State.Outbox.Add(new PendingEffect { Kind = kind, Subject = subject, NotBefore = notBefore });

    private void RemoveEffects(string subject, params EffectKind[] kinds) =>
        State.Outbox.RemoveAll(e => e.Subject == subject && (kinds.Length == 0 || kinds.Contains(e.Kind)));

    // ---- Views and checks -----------------------------------------------------------------------------

    private GroupView View(string? viewer)
    {
        var slots = State.Slots.Select(s => new SlotView(
            s.Index,
            s.Status,
            s.Index == 0,
            viewer is not null && s.MemberOpenid == viewer,
            s.PaidAttempt is { } paid && State.Attempts[paid].PayerOpenid != State.Attempts[paid].MemberOpenid)).ToList();
        return new GroupView(
            GroupId,
            State.CampaignId!,
            State.Status,
            State.Slots.Count,
            State.Slots.Count(s => s.Status is SlotStatus.Paid),
            State.Deadline,
            slots,
            viewer is null ? null : FindMemberSlot(viewer)?.Index,
            Terms.GroupPriceFen);
    }

    private PaymentStarted Started(AttemptRecord attempt)
    {
        var jsapi = weChatPay.CreateJsapiParameters(attempt.PrepayId!);
        return new PaymentStarted(
            attempt.OutTradeNo,
            attempt.AmountFen,
            attempt.PayableUntil,
            new JsapiParameters(jsapi.AppId, jsapi.TimeStamp, jsapi.NonceStr, jsapi.Package, jsapi.SignType, jsapi.PaySign));
    }

    private SlotRecord? FindMemberSlot(string openid) =>
        State.Slots.FirstOrDefault(s => s.MemberOpenid == openid && s.Status is SlotStatus.Held or SlotStatus.Paid or SlotStatus.Refunding or SlotStatus.Refunded);

    private void EnsureExists()
    {
        if (State.CampaignId is null)
        {
            throw new UnknownGroupException(GroupId);
        }
    }

    private void RequireOpen(int? slotIndex)
    {
        switch (State.Status)
        {
            case GroupStatus.Open:
            case GroupStatus.Pending when slotIndex is null or 0:
                return;
            case GroupStatus.Pending:
                throw new GroupClosedException("not open yet (the leader has not paid)");
            default:
                throw new GroupClosedException(State.Status.ToString().ToLowerInvariant());
        }
    }

    private static void RequireOpenid(string? openid)
    {
        if (string.IsNullOrWhiteSpace(openid) || openid.Length > 128)
        {
            throw new InvalidRequestException("An openid is required.");
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: unifiedorder for {OutTradeNo} failed with {Code}")]
    private static partial void LogPrepayFailed(ILogger logger, string groupId, string outTradeNo, WeChatPayErrorCode code);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId}: payment {OutTradeNo} is not needed and will be refunded")]
    private static partial void LogRefundingUnneededPayment(ILogger logger, string groupId, string outTradeNo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: effect {Kind} for {Subject} failed (try {Failures}): {Error}")]
    private static partial void LogEffectFailed(ILogger logger, string groupId, EffectKind kind, string subject, int failures, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Group {GroupId}: refund of {OutTradeNo} needs an operator (WeChat reported CHANGE)")]
    private static partial void LogRefundNeedsAttention(ILogger logger, string groupId, string outTradeNo);
}
