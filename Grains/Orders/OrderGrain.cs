using System.Diagnostics;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Operations;
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
    TallyPublisher tallies,
    OutboxMetrics outboxMetrics,
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

    /// <summary>Set when a command failed after it may have changed the state: the activation is being dropped
    /// and serves nothing more (the next activation reads what is stored).</summary>
    private bool _reloading;

    /// <summary>Runs a command that changes the state. A refusal (<see cref="GroupPayException"/>) changes nothing it
    /// has not stored; any other failure (a store or reminder error, a crash in an effect) may leave unsaved changes in
    /// memory, so the activation is dropped and the caller hears the failure.</summary>
    private async Task<T> ChangeAsync<T>(Func<Task<T>> command)
    {
        if (_reloading)
        {
            throw new InvalidOperationException($"Group {GroupId} is reloading its state after a failure; try again.");
        }
        try
        {
            return await command();
        }
        catch (Exception ex) when (ex is not GroupPayException and not OutOfMemoryException)
        {
            _reloading = true;
            this.DeactivateOnIdle();
            LogReloading(logger, ex, GroupId);
            await ReleaseUnsavedReservationsAsync();
            throw;
        }
        finally
        {
            _unsavedReservations.Clear();
        }
    }

    /// <summary>Stock reserved by the failed command for holds that were never stored: given back, so no unit is
    /// leaked or charged to someone whose hold does not exist. Best effort: should the campaign be unreachable too,
    /// the slot's next hold reuses the reservation id and takes the unit over.</summary>
    private async Task ReleaseUnsavedReservationsAsync()
    {
        foreach (var reservationId in _unsavedReservations)
        {
            try
            {
                await GrainFactory.GetGrain<ICampaignGrain>(State.CampaignId ?? _creatingCampaignId!).ReleaseAsync(reservationId);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogReleaseFailed(logger, ex, GroupId, reservationId);
            }
        }
    }

    /// <summary>Reservations made in the running command and not yet written with the hold that uses them.</summary>
    private readonly List<string> _unsavedReservations = [];

    private string? _creatingCampaignId;

    private async Task ChangeAsync(Func<Task> command) => await ChangeAsync(async () =>
    {
        await command();
        return true;
    });

    // ---- Commands -------------------------------------------------------------------------------------

    public Task<GroupView> CreateAsync(CreateGroup command) => ChangeAsync(() => CreateCoreAsync(command));

    private async Task<GroupView> CreateCoreAsync(CreateGroup command)
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
        if (_reloading)
        {
            throw new InvalidOperationException($"Group {GroupId} is reloading its state after a failure; try again.");
        }
        EnsureExists();
        return Task.FromResult(View(viewerOpenid));
    }

    public Task<GroupPayments> GetPaymentsAsync()
    {
        if (_reloading)
        {
            throw new InvalidOperationException($"Group {GroupId} is reloading its state after a failure; try again.");
        }
        EnsureExists();
        return Task.FromResult(new GroupPayments(GroupId, State.CampaignId!, State.Status,
            [.. State.Attempts.Values.Where(a => a.TransactionId is not null).OrderBy(a => a.PaidAt).Select(PaymentOf)]));
    }

    public Task<GroupCounts> GetCountsAsync()
    {
        if (_reloading)
        {
            throw new InvalidOperationException($"Group {GroupId} is reloading its state after a failure; try again.");
        }
        EnsureExists();
        return Task.FromResult(new GroupCounts(State.Revision, new Dictionary<string, long>(State.Counts, StringComparer.Ordinal)));
    }

    private static PaymentFact PaymentOf(AttemptRecord attempt)
    {
        var issued = attempt.Refund == RefundProgress.None
            ? []
            : Enumerable.Range(attempt.RefundSequence == 0 ? 0 : 1, attempt.RefundSequence == 0 ? 1 : attempt.RefundSequence)
                .Select(sequence => new RefundFact(TradeNumbers.OutRefundNo(attempt.OutTradeNo, sequence), attempt.AmountFen, IssuedByGroupPay: true,
                    Current: sequence == attempt.RefundSequence,
                    Succeeded: sequence == attempt.RefundSequence && attempt.Refund == RefundProgress.Succeeded && !attempt.ExternalRefunds.Any(r => r.AmountFen == attempt.AmountFen),
                    AcceptedAt: sequence == attempt.RefundSequence ? attempt.RefundAcceptedAt : null));
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

    public Task<GroupView> JoinAsync(string openid, string? referralCode) => ChangeAsync(() => JoinCoreAsync(openid, referralCode));

    private async Task<GroupView> JoinCoreAsync(string openid, string? referralCode)
    {
        RequireOpenid(openid);
        EnsureExists();
        await CatchUpWithTimeAsync();
        if (FindMemberSlot(openid) is null)
        {
            await HoldFreeSlotAsync(openid, referralCode);
            await SaveAsync();
        }
        return View(openid);
    }

    public Task<PaymentStarted> PayAsync(StartPayment command) => ChangeAsync(() => PayCoreAsync(command));

    private async Task<PaymentStarted> PayCoreAsync(StartPayment command)
    {
        ArgumentNullException.ThrowIfNull(command);
        RequireOpenid(command.PayerOpenid);
        EnsureExists();
        await CatchUpWithTimeAsync();
        var now = Now;
        var changed = false;

        SlotRecord slot;
        if (command.Slot is not { } index)
        {
            slot = FindMemberSlot(command.PayerOpenid) ?? await HoldFreeSlotAsync(command.PayerOpenid, command.ReferralCode);
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

        var holdUntil = HoldUntil(now);
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

        var prepay = await BoxedAsync(ct => weChatPay.UnifiedOrderAsync(new UnifiedOrderRequest
        {
            OutTradeNo = attempt.OutTradeNo,
            Body = Terms.Title,
            TotalFee = attempt.AmountFen,
            OpenId = attempt.PayerOpenid,
            SpbillCreateIp = command.ClientIp,
            Attach = GroupId,
            TimeExpire = attempt.PayableUntil,
        }, ct));
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
        Count(Counter.PaymentsCreated);
        await SaveAsync();
        return Started(attempt);
    }

    public Task<PaymentApplied> ApplyPaymentAsync(PaymentNotice notice) => ChangeAsync(() => ApplyPaymentCoreAsync(notice));

    private async Task<PaymentApplied> ApplyPaymentCoreAsync(PaymentNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        EnsureExists();
        if (Anomaly(notice) is { } anomaly)
        {
            // Authentic (the gateway verified WeChat's signature) but not ours to apply: never applied, and recorded on
            // first sight for a person. WeChat keeps hearing FAIL.
            if (RecordAnomaly(notice, anomaly))
            {
                await SaveAsync();
            }
            throw new NotifyRejectedException(anomaly);
        }
        // The payment is judged by when WeChat took it (time_end), before the clock moves the group on.
        var disposition = ApplyPayment(notice);
        var timeMoved = ExpireHolds(Now) | CloseAtDeadline(Now);
        if (disposition != PaymentDisposition.Duplicate || timeMoved)
        {
            await SaveAsync();
        }
        return new PaymentApplied(disposition, State.Status);
    }

    public Task ApplyRefundAsync(RefundNotice notice) => ChangeAsync(() => ApplyRefundCoreAsync(notice));

    private async Task ApplyRefundCoreAsync(RefundNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        EnsureExists();
        if (ApplyRefund(notice))
        {
            await SaveAsync();
        }
    }

    public Task RetryRefundAsync(string outTradeNo, string actor) => ChangeAsync(() => RetryRefundCoreAsync(outTradeNo, actor));

    private async Task RetryRefundCoreAsync(string outTradeNo, string actor)
    {
        EnsureExists();
        if (!State.Attempts.TryGetValue(outTradeNo, out var attempt))
        {
            throw new NotifyRejectedException($"No payment attempt '{outTradeNo}' in this group.");
        }
        if (attempt.Refund is RefundProgress.None or RefundProgress.Succeeded)
        {
            return;
        }
        // A new number: the old one may be closed at WeChat, and a repeat of it would only repeat its answer.
        RemoveEffects(attempt.OutTradeNo, EffectKind.Refund, EffectKind.CheckRefund);
        attempt.RefundSequence = Math.Max(attempt.RefundSequence, 0) + 1;
        attempt.RefundAcceptedAt = null;
        attempt.RefundFailures = 0;
        attempt.Refund = RefundProgress.Requested;
        attempt.LogRefund($"{Now:u} {actor} retried under {attempt.OutRefundNo}");
        Enqueue(EffectKind.Refund, attempt.OutTradeNo, Now);
        await SaveAsync();
    }

    // ---- Effects and time -----------------------------------------------------------------------------

    public Task DrainAsync() => ChangeAsync(() => DrainCoreAsync());

    private async Task DrainCoreAsync()
    {
        if (State.CampaignId is null)
        {
            return;
        }
        var wakeAt = State.WakeAt;
        var revision = State.Revision;
        var changed = ExpireHolds(Now) | CloseAtDeadline(Now);
        _drainStarted = Stopwatch.GetTimestamp();
        _drainRan = 0;
        // Effects may queue others that are due at once (a refund after a close found the order paid): a few passes.
        for (var pass = 0; pass < 3 && State.Outbox.Any(e => e.NotBefore <= Now) && !DrainBudgetSpent; pass++)
        {
            changed |= await RunDueEffectsAsync();
        }
        var publish = PrepareTally();
        await ScheduleWakeAsync();
        // Effects between grains are idempotent: when only they completed, the write can wait for the next change
        // (after a crash they simply run again). Anything else that changed is written now.
        if (changed || publish || State.WakeAt != wakeAt || State.Revision != revision)
        {
            await WriteAsync();
        }
        outboxMetrics.Report(GroupId, State);
        if ((DrainBudgetSpent || publish) && State.Outbox.Any(e => e.NotBefore <= Now))
        {
            // The rest in a turn of its own, behind the calls that queued up meanwhile.
            await this.AsReference<IOrderEffects>().DrainAsync();
        }
    }

    private long _drainStarted;
    private int _drainRan;

    private bool DrainBudgetSpent =>
        _drainRan >= Options.MaxEffectsPerDrain || Stopwatch.GetElapsedTime(_drainStarted) >= Options.DrainBudget;

    /// <summary>The reminder only wakes the grain: the work runs in its own turn, after the tick was delivered,
    /// and then sets the reminder for the next thing due.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        reminderName == WakeReminder ? this.AsReference<IOrderEffects>().DrainAsync() : Task.CompletedTask;

    /// <summary>Sets the reminder for what is due next, persists (the reminder's time with the rest), then has the
    /// due effects run in the grain's next turn.</summary>
    private async Task SaveAsync()
    {
        PrepareTally();
        await ScheduleWakeAsync();
        await WriteAsync();
        _unsavedReservations.Clear();
        if (State.Outbox.Any(e => e.NotBefore <= Now))
        {
            await this.AsReference<IOrderEffects>().DrainAsync();
        }
    }

    /// <summary>Writes the state. The tally it makes (see <see cref="PrepareTally"/>) becomes the one the
    /// <see cref="EffectKind.PublishTally"/> effect sends only once it is stored.</summary>
    private async Task WriteAsync()
    {
        var tally = _preparedTally;
        _preparedTally = null;
        await state.WriteOrReloadAsync(this);
        if (tally is not null)
        {
            _storedTally = tally;
        }
        outboxMetrics.Report(GroupId, State);
    }

    /// <summary>The group's tally as last stored: what <see cref="EffectKind.PublishTally"/> delivers.</summary>
    private GroupTally? _storedTally;

    private GroupTally? _preparedTally;

    /// <summary>Before a write: when what the group counts or its money changed since the stored tally, the revision
    /// goes up and the tally is queued for publishing (in the outbox, so it is stored with the change and survives a
    /// crash). Returns true when it was.</summary>
    private bool PrepareTally()
    {
        if (State.CampaignId is null)
        {
            return false;
        }
        var tally = GroupTally.Of(GroupId, State);
        if (tally.SameFactsAs(_storedTally))
        {
            return false;
        }
        State.Revision++;
        _preparedTally = tally with { Revision = State.Revision };
        if (!State.Outbox.Any(e => e.Kind == EffectKind.PublishTally))
        {
            Enqueue(EffectKind.PublishTally, TallySubject, Now);
        }
        return true;
    }

    private const string TallySubject = "tally";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (State.CampaignId is not null)
        {
            _storedTally = GroupTally.Of(GroupId, State);
            outboxMetrics.Report(GroupId, State);
        }
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        outboxMetrics.Forget(GroupId);
        return Task.CompletedTask;
    }

    /// <summary>Counted in the growth figures by the change being made; stored with it (see <see cref="GroupTally"/>).</summary>
    private void Count(Counter counter) => State.Counts[TallyField.Both(counter)] = State.Counts.GetValueOrDefault(TallyField.Both(counter)) + 1;

    /// <summary>Holds that lapsed and a deadline that passed take effect in every command, not only when the reminder
    /// fires: stored first, so no command decides on a group that time has already moved on.</summary>
    private async Task CatchUpWithTimeAsync()
    {
        if (ExpireHolds(Now) | CloseAtDeadline(Now))
        {
            await SaveAsync();
        }
    }

    /// <summary>A new or renewed hold: the campaign's hold time, never past the group's deadline (WeChat's time_expire
    /// then stops payments at the deadline too).</summary>
    private DateTimeOffset HoldUntil(DateTimeOffset now)
    {
        var until = now + TimeSpan.FromMinutes(Terms.HoldMinutes);
        return State.Status == GroupStatus.Open && State.Deadline is { } deadline && deadline < until ? deadline : until;
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
        times = times.Concat(State.Slots.Where(s => s.Status == SlotStatus.Held && s.HoldExpiresAt is not null)
            .Select(s => s.HoldExpiresAt!.Value + Options.PaymentGrace));
        if (State.Status == GroupStatus.Open && State.Deadline is { } deadline)
        {
            times = times.Append(deadline + Options.PaymentGrace);
        }
        return times.Any() ? times.Min() : null;
    }

    /// <summary>Frees every slot whose hold lapsed unpaid (its expiry plus <see cref="OrderOptions.PaymentGrace"/>: a
    /// payment WeChat took before the expiry may still be on its way); a lapsed leader hold abandons a pending group.</summary>
    private bool ExpireHolds(DateTimeOffset now)
    {
        var changed = false;
        foreach (var slot in State.Slots.Where(s => s.Status == SlotStatus.Held && s.HoldExpiresAt + Options.PaymentGrace <= now))
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

    /// <summary>At the deadline (plus <see cref="OrderOptions.PaymentGrace"/>, for payments taken before it whose notify
    /// is on its way) an open group fails (every payer refunded) or, with virtual fill, completes.</summary>
    private bool CloseAtDeadline(DateTimeOffset now)
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

    /// <summary>Runs the due effects in order (per subject); true when one changed more than the outbox itself —
    /// the calls to WeChat Pay record what they learned — so the state must be written.</summary>
    private async Task<bool> RunDueEffectsAsync()
    {
        var changed = false;
        var blocked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var effect in State.Outbox.ToList())
        {
            var now = Now;
            if (DrainBudgetSpent)
            {
                break; // the rest runs in the next turn (see DrainCoreAsync)
            }
            if (!State.Outbox.Contains(effect))
            {
                continue; // an earlier effect of this pass removed it
            }
            if (effect.NotBefore > now || !blocked.Add(effect.Subject))
            {
                // Effects about one subject run in order: a later one waits for the earlier.
                blocked.Add(effect.Subject);
                continue;
            }
            string? error;
            _drainRan++;
            try
            {
                error = await RunAsync(effect);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                error = ex.GetType().Name + ": " + ex.Message;
            }
            changed |= effect.Kind is EffectKind.Reconcile or EffectKind.CloseOrder or EffectKind.Refund or EffectKind.CheckRefund
                or EffectKind.RaiseItem or EffectKind.SettleItem;
            if (ReferenceEquals(error, Waiting))
            {
                // Not a failure: WeChat has not settled it yet, and the effect set when to look again.
                effect.FailingSince = null;
                continue;
            }
            if (error is null)
            {
                State.Outbox.Remove(effect);
                blocked.Remove(effect.Subject);
                if (effect.Escalated)
                {
                    Enqueue(EffectKind.SettleItem, effect.ItemId(GroupId), now);
                }
                continue;
            }
            effect.Failures++;
            effect.LastError = error;
            effect.FailingSince ??= now;
            // A failing report to the queue cannot be reported to it: it is logged at every try instead.
            if (!effect.Escalated && effect.Kind is not (EffectKind.RaiseItem or EffectKind.SettleItem)
                && now - effect.FailingSince >= Options.EffectEscalateAfter)
            {
                effect.Escalated = true;
                changed = true;
                Raise(new OperatorItemReport(effect.ItemId(GroupId), OperatorItemKind.EffectFailing, GroupId, null, 0,
                    $"{effect.Kind} for {effect.Subject} has failed since {effect.FailingSince:u}; still retried", error, [], now));
            }
            var delay = TimeSpan.FromSeconds(Math.Min(Options.MaxRetryDelay.TotalSeconds, 5 * Math.Pow(2, Math.Min(effect.Failures, 16))));
            effect.NotBefore = now + delay;
            LogEffectFailed(logger, GroupId, effect.Kind, effect.Subject, effect.Failures, error);
        }
        return changed;
    }

    /// <summary>What an effect returns when there is nothing wrong but nothing to do yet (an attempt still payable, a
    /// refund still processing): it runs again at the <see cref="PendingEffect.NotBefore"/> it set, and it neither counts
    /// as a failure nor escalates.</summary>
    private static readonly string Waiting = "waiting";

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
            case EffectKind.RaiseItem:
                await GrainFactory.GetGrain<IOperatorQueueGrain>(0).RaiseAsync(effect.Report!);
                return null;
            case EffectKind.SettleItem:
                await GrainFactory.GetGrain<IOperatorQueueGrain>(0).SettleAsync(effect.Subject, "settled by GroupPay");
                return null;
            case EffectKind.PublishTally:
                if (_storedTally is { } tally)
                {
                    await tallies.PublishAsync(tally).WaitAsync(Options.WeChatCallTimeout);
                }
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
        var query = await BoxedAsync(ct => weChatPay.OrderQueryAsync(attempt.OutTradeNo, ct));
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
            var payableUntil = attempt.PayableUntil + Options.PaymentGrace;
            if (attempt.Status is AttemptStatus.Live or AttemptStatus.Creating && payableUntil > Now)
            {
                // Still payable (within the grace a payment then still counts): look again later, no later than just
                // after that.
                effect.NotBefore = Min(Now + Options.ReconcileAfter, payableUntil + TimeSpan.FromSeconds(1));
                return Waiting;
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
        var close = await BoxedAsync(ct => weChatPay.CloseOrderAsync(attempt.OutTradeNo, ct));
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
            var query = await BoxedAsync(ct => weChatPay.OrderQueryAsync(attempt.OutTradeNo, ct));
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
        if (attempt.Refund is not RefundProgress.Requested)
        {
            return null;
        }
        attempt.RefundRequestedAt ??= Now;
        var outRefundNo = attempt.OutRefundNo;
        var refund = await BoxedAsync(ct => weChatPay.RefundAsync(new RefundRequest
        {
            OutTradeNo = attempt.OutTradeNo,
            OutRefundNo = outRefundNo,
            TotalFee = attempt.AmountFen,
            RefundFee = attempt.AmountFen,
            RefundDesc = "拼团退款",
        }, ct));
        if (refund.Value is { } accepted)
        {
            attempt.Refund = RefundProgress.Accepted;
            attempt.RefundId = accepted.RefundId;
            attempt.RefundAcceptedAt = Now;
            attempt.RefundFailures = 0;
            attempt.LastRefundAnswer = "accepted";
            attempt.LogRefund($"{Now:u} refund {outRefundNo} accepted");
            Enqueue(EffectKind.CheckRefund, attempt.OutTradeNo, Now + Options.RefundCheckAfter);
            return null;
        }
        var error = refund.Error!;
        attempt.LastRefundAnswer = error.ToString();
        attempt.LogRefund($"{Now:u} refund {outRefundNo}: {error.RawCode ?? error.Code.ToString()} {error.Message}");
        attempt.RefundFailures++;
        if (RefundRules.MayRetry(error.Code, attempt.RefundFailures, Options.MaxRefundTries))
        {
            return error.ToString();
        }
        Escalate(attempt, RefundRules.AfterRefundError(error.Code) == RefundStep.Escalate ? OperatorItemKind.RefundRefused : OperatorItemKind.RefundStuck,
            RefundRules.AfterRefundError(error.Code) == RefundStep.Escalate
                ? $"WeChat refused the refund {outRefundNo} ({error.RawCode ?? error.Code.ToString()})"
                : $"The refund {outRefundNo} failed {attempt.RefundFailures} times ({error.Code})");
        return null;
    }

    private async Task<string?> CheckRefundAsync(PendingEffect effect, AttemptRecord attempt)
    {
        if (attempt.Refund is not RefundProgress.Accepted)
        {
            return null;
        }
        var outRefundNo = attempt.OutRefundNo;
        var query = await BoxedAsync(ct => weChatPay.RefundQueryAsync(RefundQueryRequest.ByOutRefundNo(outRefundNo), ct));
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
        var refundState = ToRefundState(record.Status);
        if (refundState == RefundState.Processing)
        {
            if (attempt.Escalation is null && attempt.RefundRequestedAt is { } requested && Now - requested >= Options.RefundEscalateAfter)
            {
                attempt.LastRefundAnswer = "PROCESSING";
                Escalate(attempt, OperatorItemKind.RefundStuck, $"The refund {outRefundNo} has not settled since {requested:u}; still checked", stopRetrying: false);
            }
            effect.NotBefore = Now + Options.RefundCheckAfter;
            return Waiting;
        }
        ApplyRefund(new RefundNotice(attempt.OutTradeNo, outRefundNo, record.RefundId, record.RefundFee, refundState));
        return null;
    }

    /// <summary>A WeChat Pay call inside a turn, cut at <see cref="OrderOptions.WeChatCallTimeout"/>.</summary>
    private async Task<WeChatPayResult<T>> BoxedAsync<T>(Func<CancellationToken, Task<WeChatPayResult<T>>> call)
        where T : class
    {
        using var timeout = new CancellationTokenSource(Options.WeChatCallTimeout);
        return await CallWeChatAsync(call, timeout.Token);
    }

    /// <summary>A WeChat Pay call bounded by <paramref name="timeout"/>: past it the outcome is unknown, as on a timeout.</summary>
    private static async Task<WeChatPayResult<T>> CallWeChatAsync<T>(Func<CancellationToken, Task<WeChatPayResult<T>>> call, CancellationToken timeout)
        where T : class
    {
        try
        {
            return await call(timeout);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return WeChatPayResult<T>.Failure(new WeChatPayError(WeChatPayErrorKind.Transport, WeChatPayErrorCode.Timeout, null, "no answer within the grain's time box"));
        }
    }

    private static RefundState ToRefundState(WeChatPay.Client.RefundStatus status) => status switch
    {
        WeChatPay.Client.RefundStatus.Success => RefundState.Succeeded,
        WeChatPay.Client.RefundStatus.RefundClose => RefundState.Closed,
        WeChatPay.Client.RefundStatus.Change => RefundState.Abnormal,
        _ => RefundState.Processing,
    };

    // ---- State transitions (no I/O) -------------------------------------------------------------------

    /// <summary>Why a payment report cannot be applied to its attempt, or null when it can.</summary>
    private string? Anomaly(PaymentNotice notice) =>
        !State.Attempts.TryGetValue(notice.OutTradeNo, out var attempt) ? $"No payment attempt '{notice.OutTradeNo}' in this group."
        : notice.TotalFeeFen != attempt.AmountFen ? $"Amount {notice.TotalFeeFen} differs from the attempt's {attempt.AmountFen}."
        : notice.PayerOpenid is { } payer && payer != attempt.PayerOpenid ? "The payer is not the attempt's payer."
        : null;

    /// <summary>Keeps the anomaly (at most <see cref="OrderState.MaxAnomalies"/> per group) and reports it; false when
    /// it was seen before.</summary>
    private bool RecordAnomaly(PaymentNotice notice, string reason)
    {
        var key = $"{notice.OutTradeNo}/{notice.TransactionId}/{notice.TotalFeeFen}/{notice.PayerOpenid}";
        if (State.Anomalies.Contains(key) || State.Anomalies.Count >= OrderState.MaxAnomalies)
        {
            return false;
        }
        State.Anomalies.Add(key);
        var expected = State.Attempts.GetValueOrDefault(notice.OutTradeNo)?.AmountFen;
        LogAnomaly(logger, GroupId, notice.OutTradeNo, reason);
        Raise(new OperatorItemReport($"notify:{notice.OutTradeNo}:{notice.TransactionId}", OperatorItemKind.NotifyAnomaly, GroupId,
            notice.OutTradeNo, notice.TotalFeeFen,
            $"WeChat reported payment {notice.TransactionId} of {notice.TotalFeeFen} fen for {notice.OutTradeNo}: {reason}",
            expected is null ? "no such attempt" : $"the attempt is for {expected} fen", ["refused (FAIL); not applied to the group"], Now));
        return true;
    }

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
        Count(Counter.PaymentsPaid);

        var slot = State.Slots[attempt.SlotIndex];
        // Kept only when WeChat took it (time_end) while its hold stood and before the deadline, each with the stated
        // grace for clocks: which call ran first decides nothing.
        var paidAt = attempt.PaidAt.Value;
        var acceptable = !wasClosed
            && State.Status is GroupStatus.Pending or GroupStatus.Open
            && (State.Status == GroupStatus.Open || slot.Index == 0)
            && slot.Status == SlotStatus.Held && slot.MemberOpenid == attempt.MemberOpenid
            && paidAt <= attempt.PayableUntil + Options.PaymentGrace
            && (State.Status != GroupStatus.Open || paidAt <= State.Deadline + Options.PaymentGrace);
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

    private bool ApplyRefund(RefundNotice notice)
    {
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
                attempt.RefundSequence++;
                attempt.RefundAcceptedAt = null;
                attempt.RefundFailures = 0;
                attempt.Refund = RefundProgress.Requested;
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
                attempt.Applied = false;
                attempt.Refund = RefundProgress.Succeeded;
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
        if (attempt.Refund != RefundProgress.Succeeded)
        {
            Count(Counter.PaymentsRefunded);
        }
        attempt.Refund = RefundProgress.Succeeded;
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
            attempt.Refund = RefundProgress.NeedsAttention;
            RemoveEffects(attempt.OutTradeNo, EffectKind.Refund, EffectKind.CheckRefund);
        }
        attempt.Escalation = kind;
        LogRefundNeedsAttention(logger, GroupId, attempt.OutTradeNo, kind);
        Raise(new OperatorItemReport(attempt.RefundItemId, kind, GroupId, attempt.OutTradeNo, attempt.AmountFen, summary,
            attempt.LastRefundAnswer, [.. attempt.RefundLog], Now));
    }

    private void Raise(OperatorItemReport report) => State.Outbox.Add(new PendingEffect
    {
        Kind = EffectKind.RaiseItem,
        Subject = "item:" + report.ItemId,
        NotBefore = Now,
        QueuedAt = Now,
        Report = report,
    });

    private void Complete(DateTimeOffset now)
    {
        State.Status = GroupStatus.Complete;
        State.SettledAt = now;
        Count(Counter.GroupsCompleted);
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
            attempt.RefundSequence = 1;
            attempt.RefundRequestedAt = Now;
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

    private async Task<SlotRecord> HoldFreeSlotAsync(string openid, string? referralCode)
    {
        if (State.Status == GroupStatus.Pending && openid != State.LeaderOpenid)
        {
            throw new GroupClosedException("not open yet (the leader has not paid)");
        }
        RequireOpen(slotIndex: null);
        ExpireHolds(Now);
        var slot = State.Slots.FirstOrDefault(s => s.Status == SlotStatus.Free) ?? throw new GroupFullException();
        await BindReferralAsync(openid, referralCode);
        await HoldAsync(slot, State.CampaignId!, openid, HoldUntil(Now));
        Count(Counter.Joined);
        return slot;
    }

    /// <summary>Reserves a stock unit and holds <paramref name="slot"/> for <paramref name="openid"/>. The
    /// reservation is made first (it may refuse: sold out, per-user limit) and is idempotent by its id.</summary>
    private async Task HoldAsync(SlotRecord slot, string campaignId, string openid, DateTimeOffset until)
    {
        var holdCount = slot.HoldCount + 1;
        var reservationId = $"{GroupId}/{slot.Index}/{holdCount}";
        await GrainFactory.GetGrain<ICampaignGrain>(campaignId).ReserveAsync(reservationId, openid);
        _unsavedReservations.Add(reservationId);
        _creatingCampaignId = campaignId;
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
        State.Outbox.Add(new PendingEffect { Kind = kind, Subject = subject, NotBefore = notBefore, QueuedAt = Now });

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

    private static void RequireOpenid(string? openid)
    {
        if (string.IsNullOrWhiteSpace(openid) || openid.Length > 128)
        {
            throw new InvalidRequestException("An openid is required.");
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: could not give back reservation {ReservationId} after a failed write; the slot's next hold takes it over")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string groupId, string reservationId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Group {GroupId}: an authentic payment report for {OutTradeNo} cannot be applied: {Reason}")]
    private static partial void LogAnomaly(ILogger logger, string groupId, string outTradeNo, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: a command failed after it may have changed the state; reloading what is stored")]
    private static partial void LogReloading(ILogger logger, Exception exception, string groupId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: unifiedorder for {OutTradeNo} failed with {Code}")]
    private static partial void LogPrepayFailed(ILogger logger, string groupId, string outTradeNo, WeChatPayErrorCode code);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId}: payment {OutTradeNo} is not needed and will be refunded")]
    private static partial void LogRefundingUnneededPayment(ILogger logger, string groupId, string outTradeNo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: effect {Kind} for {Subject} failed (try {Failures}): {Error}")]
    private static partial void LogEffectFailed(ILogger logger, string groupId, EffectKind kind, string subject, int failures, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Group {GroupId}: refund of {OutTradeNo} needs an operator ({Kind})")]
    private static partial void LogRefundNeedsAttention(ILogger logger, string groupId, string outTradeNo, OperatorItemKind kind);
}
