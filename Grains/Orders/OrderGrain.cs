using GroupPay.Grains.Archive;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Outbox;
using GroupPay.Grains.Referrals;
using GroupPay.Grains.Stats;
using GroupPay.WeChatPay.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GroupPay.Grains.Orders;

/// <summary>
/// The Orleans shell of a group order (docs/design.md §2.2, §4). Non-reentrant: its turn is the lock over the group's slots,
/// attempts and refunds. The rules are <see cref="GroupRules"/>; this grain does the I/O around them: the campaign's
/// stock and the referral grains for holds, unifiedorder, the state write (before any caller hears success) with what
/// it counts, the <c>wake</c> reminder, and the drain of <see cref="OrderState.Outbox"/> (<see cref="OutboxRunner{TEffect}"/>
/// over <see cref="OrderEffectHandler"/>), driven by a one-way self call after each turn and by the reminder.
/// </summary>
[GrainType("order")]
public sealed partial class OrderGrain(
    [PersistentState("order", GrainStorage.Counted)] IPersistentState<OrderState> state,
    IWeChatPayClient weChatPay,
    TimeProvider timeProvider,
    OutboxMetrics outboxMetrics,
    OrderMetrics orderMetrics,
    IGroupArchive archive,
    IOptions<OrderOptions> options,
    ILogger<OrderGrain> logger) : Grain, IOrderGrain, IOrderEffects, IRemindable
{
    private const string WakeReminder = "wake";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    private OrderState State => state.State;

    private string GroupId => this.GetPrimaryKeyString();

    private OrderOptions Options => options.Value;

    private DateTimeOffset Now => timeProvider.GetUtcNow();

    private GroupRules? _rules;

    /// <summary>The rules over the state as loaded (made again should the state object be replaced).</summary>
    private GroupRules Rules => _rules is { } rules && ReferenceEquals(rules.State, State)
        ? rules
        : _rules = new GroupRules(GroupId, State, Options, timeProvider, logger);

    private WeChatEffects WeChat => new(weChatPay, Rules);

    /// <summary>Set when a command failed after it may have changed the state: the activation is being dropped
    /// and serves nothing more (the next activation reads what is stored).</summary>
    private bool _reloading;

    /// <summary>Runs a command that changes the state. A refusal (<see cref="GroupPayException"/>) changes nothing it
    /// has not stored; any other failure (a store or reminder error, a crash in an effect) may leave unsaved changes in
    /// memory, so the activation is dropped and the caller hears the failure.</summary>
    private async Task<T> ChangeAsync<T>(Func<Task<T>> command)
    {
        RequireLoaded();
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

    private void RequireLoaded()
    {
        if (_reloading)
        {
            throw new InvalidOperationException($"Group {GroupId} is reloading its state after a failure; try again.");
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
                await StockUnit.Parse(reservationId).ReleaseAsync(GrainFactory, State.CampaignId ?? _creatingCampaignId!);
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
        GroupRules.RequireOpenid(command.LeaderOpenid);
        if (State.CampaignId is not null)
        {
            return State.LeaderOpenid == command.LeaderOpenid
                ? Rules.View(command.LeaderOpenid)
                : throw new InvalidRequestException("That group id is taken.");
        }
        if (!TradeNumbers.IsValidGroupId(GroupId))
        {
            throw new InvalidRequestException("A group id is 6..24 characters of [0-9a-z].");
        }
        var campaign = GrainFactory.GetGrain<ICampaignGrain>(command.CampaignId);
        var view = await campaign.GetOfferAsync() ?? throw new UnknownCampaignException(command.CampaignId);
        if (!view.Active)
        {
            throw new CampaignClosedException("The campaign is not active.");
        }
        await BindReferralAsync(command.LeaderOpenid, command.ReferralCode);

        var now = Now;
        var terms = view.Definition;
        var leaderSlot = new SlotRecord { Index = 0 };
        await HoldAsync(leaderSlot, command.CampaignId, command.LeaderOpenid, now + TimeSpan.FromMinutes(terms.HoldMinutes), terms);
        Rules.Start(command.CampaignId, terms, command.LeaderOpenid, leaderSlot, now);
        await SaveAsync();
        return Rules.View(command.LeaderOpenid);
    }

    public async Task<GroupView> GetAsync(string? viewerOpenid)
    {
        var rules = await ReadableAsync();
        rules.EnsureExists();
        return rules.View(viewerOpenid);
    }

    public async Task<GroupPayments> GetPaymentsAsync()
    {
        var rules = await ReadableAsync();
        rules.EnsureExists();
        return rules.Payments();
    }

    public async Task<GroupCounts> GetCountsAsync()
    {
        var rules = await ReadableAsync();
        rules.EnsureExists();
        return rules.Counts();
    }

    /// <summary>The rules over the stored state, or, once the group has left the grain store, over its archived state
    /// (read once per activation; it answers reads only).</summary>
    private async Task<GroupRules> ReadableAsync()
    {
        RequireLoaded();
        if (State.CampaignId is not null || !archive.IsEnabled)
        {
            return Rules;
        }
        if (!_archiveRead)
        {
            var archived = await archive.FindAsync(GroupId);
            _archived = archived is null ? null : new GroupRules(GroupId, archived, Options, timeProvider, logger);
            _archiveRead = true;
        }
        return _archived ?? Rules;
    }

    private GroupRules? _archived;
    private bool _archiveRead;

    public Task<GroupView> JoinAsync(string openid, string? referralCode) => ChangeAsync(() => JoinCoreAsync(openid, referralCode));

    private async Task<GroupView> JoinCoreAsync(string openid, string? referralCode)
    {
        GroupRules.RequireOpenid(openid);
        Rules.EnsureExists();
        await CatchUpWithTimeAsync();
        if (Rules.FindMemberSlot(openid) is null)
        {
            await HoldFreeSlotAsync(openid, referralCode);
            await SaveAsync();
        }
        return Rules.View(openid);
    }

    public Task<PaymentStarted> PayAsync(StartPayment command) => ChangeAsync(() => PayCoreAsync(command));

    private async Task<PaymentStarted> PayCoreAsync(StartPayment command)
    {
        ArgumentNullException.ThrowIfNull(command);
        GroupRules.RequireOpenid(command.PayerOpenid);
        Rules.EnsureExists();
        await CatchUpWithTimeAsync();
        var changed = false;

        SlotRecord slot;
        if (command.Slot is not { } index)
        {
            slot = Rules.FindMemberSlot(command.PayerOpenid) ?? await HoldFreeSlotAsync(command.PayerOpenid, command.ReferralCode);
            changed = true;
        }
        else
        {
            slot = Rules.SlotToPayFor(index, command.PayerOpenid);
            await BindReferralAsync(command.PayerOpenid, command.ReferralCode);
        }
        Rules.RequirePayable(slot);

        // A repeat request while the payer's attempt is live gets the same attempt.
        if (Rules.ReusableAttempt(slot, command.PayerOpenid) is { } live)
        {
            if (changed)
            {
                await SaveAsync();
            }
            return WeChat.Started(live);
        }
        var attempt = Rules.StartAttempt(slot, command.PayerOpenid);
        await SaveAsync();

        if (await WeChat.RequestPrepayAsync(attempt, command.ClientIp) is { } error)
        {
            if (error.Kind != WeChatPayErrorKind.Transport)
            {
                await SaveAsync();
            }
            LogPrepayFailed(logger, GroupId, attempt.OutTradeNo, error.Code);
            throw new PaymentProviderException($"WeChat Pay refused the payment ({error.Code}).");
        }
        await SaveAsync();
        return WeChat.Started(attempt);
    }

    public Task<PaymentApplied> ApplyPaymentAsync(PaymentNotice notice) => ChangeAsync(() => ApplyPaymentCoreAsync(notice));

    private async Task<PaymentApplied> ApplyPaymentCoreAsync(PaymentNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        Rules.EnsureExists();
        if (Rules.Anomaly(notice) is { } anomaly)
        {
            // Authentic (the gateway verified WeChat's signature) but not ours to apply: never applied, and recorded on
            // first sight for a person. WeChat keeps hearing FAIL.
            if (Rules.RecordAnomaly(notice, anomaly))
            {
                await SaveAsync();
            }
            throw new NotifyRejectedException(anomaly);
        }
        // The payment is judged by when WeChat took it (time_end), before the clock moves the group on.
        var disposition = Rules.ApplyPayment(notice);
        var timeMoved = Rules.ExpireHolds(Now) | Rules.CloseAtDeadline(Now);
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
        Rules.EnsureExists();
        if (Rules.ApplyRefund(notice))
        {
            await SaveAsync();
        }
    }

    public Task RetryRefundAsync(string outTradeNo, string actor) => ChangeAsync(() => RetryRefundCoreAsync(outTradeNo, actor));

    private async Task RetryRefundCoreAsync(string outTradeNo, string actor)
    {
        Rules.EnsureExists();
        if (Rules.RetryRefund(outTradeNo, actor))
        {
            await SaveAsync();
        }
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
        var changed = Rules.ExpireHolds(Now) | Rules.CloseAtDeadline(Now);
        var runner = new OutboxRunner<PendingEffect>(
            new OutboxLimits(Options.MaxEffectsPerDrain, Options.DrainBudget, Options.MaxRetryDelay, Options.EffectEscalateAfter), timeProvider);
        var handler = new OrderEffectHandler(GrainFactory, Rules, WeChat, archive, logger);
        // Effects may queue others that are due at once (a refund after a close found the order paid): a few passes.
        // After each, the holds that waited for an orderquery's answer and found it unpaid are released.
        changed |= await runner.DrainAsync(State.Outbox, handler, () => Rules.ExpireHolds(Now) | ArchiveIfSettled());
        await ScheduleWakeAsync();
        // Effects between grains are idempotent: when only they completed, the write can wait for the next change
        // (after a crash they simply run again). Anything else that changed is written now.
        if (changed || State.WakeAt != wakeAt)
        {
            await WriteAsync();
        }
        outboxMetrics.Report(GroupId, State);
        if (runner.BudgetSpent && runner.AnyDue(State.Outbox))
        {
            // The rest in a turn of its own, behind the calls that queued up meanwhile.
            await this.AsReference<IOrderEffects>().DrainAsync();
        }
    }

    /// <summary>The reminder only wakes the grain: the work runs in its own turn, after the tick was delivered,
    /// and then sets the reminder for the next thing due.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != WakeReminder)
        {
            return Task.CompletedTask;
        }
        if (State.WakeAt is { } due && due <= Now)
        {
            orderMetrics.ReminderFired(Now - due);
        }
        return this.AsReference<IOrderEffects>().DrainAsync();
    }

    /// <summary>Sets the reminder for what is due next, persists (the reminder's time with the rest), then has the
    /// due effects run in the grain's next turn.</summary>
    private async Task SaveAsync()
    {
        // A change to an archived group: it is archived again once settled (and stays in the grain store until then).
        State.ArchivedAt = null;
        ArchiveIfSettled();
        await ScheduleWakeAsync();
        await WriteAsync();
        _unsavedReservations.Clear();
        if (State.Outbox.Any(e => e.NotBefore <= Now))
        {
            await this.AsReference<IOrderEffects>().DrainAsync();
        }
    }

    /// <summary>Writes the state, and with it (in the same Redis script: <see cref="CountedGrainStorage"/>) what the
    /// change adds to the figures and the ledger: the difference from the tally of the state last stored.</summary>
    private async Task WriteAsync()
    {
        var tally = State.CampaignId is null ? null : GroupTally.Of(GroupId, State);
        var changes = tally is null ? null : CountedChanges.Between(_committedTally, tally);
        if (changes is not null)
        {
            State.Revision++;
        }
        var archivedAt = State.ArchivedAt;
        if (archivedAt != _storedArchivedAt)
        {
            // Archived: the state leaves the grain store Retention after (Redis' own expiry, no reminder); changed
            // after that: it stays.
            changes ??= new CountedChanges();
            changes.StateExpiry = archivedAt is { } at ? at + Options.Retention - Now : TimeSpan.MaxValue;
        }
        await state.WriteOrReloadAsync(this, changes);
        if (changes is not null && State.Terms is { } terms)
        {
            orderMetrics.Stored(State.CampaignId!, terms.GroupPriceFen, changes);
        }
        _committedTally = tally;
        _storedArchivedAt = archivedAt;
        outboxMetrics.Report(GroupId, State);
        NotifyWatchers();
    }

    // ---- Watches: the gateways whose viewers follow the group (in memory, bounded by GroupWatch.MaxWatchers) ----------

    private readonly Dictionary<GrainId, (IGroupObserver Observer, DateTimeOffset RenewedAt)> _watchers = [];

    public Task<string> WatchAsync(IGroupObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        DropExpiredWatchers();
        var id = observer.GetGrainId();
        if (!_watchers.ContainsKey(id) && _watchers.Count >= GroupWatch.MaxWatchers)
        {
            _watchers.Remove(_watchers.MinBy(w => w.Value.RenewedAt).Key);
        }
        _watchers[id] = (observer, Now);
        return Task.FromResult(state.Etag ?? "");
    }

    public Task UnwatchAsync(IGroupObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _watchers.Remove(observer.GetGrainId());
        return Task.CompletedTask;
    }

    /// <summary>Tells every watching gateway that the stored state changed (one-way: a gone gateway costs nothing here
    /// and its watch expires).</summary>
    private void NotifyWatchers()
    {
        if (_watchers.Count == 0)
        {
            return;
        }
        DropExpiredWatchers();
        foreach (var (observer, _) in _watchers.Values)
        {
            _ = observer.GroupChanged(GroupId);
        }
    }

    private void DropExpiredWatchers()
    {
        var now = Now;
        foreach (var (id, watch) in _watchers)
        {
            if (now - watch.RenewedAt > GroupWatch.Expiry)
            {
                _watchers.Remove(id);
            }
        }
    }

    private DateTimeOffset? _storedArchivedAt;

    private bool ArchiveIfSettled() => archive.IsEnabled && Rules.ArchiveIfSettled(Now);

    /// <summary>What the stored state counts: the baseline of the next write's changes. A write that failed leaves it
    /// (and drops the activation); one that was stored after all is refused by the etag when written again.</summary>
    private GroupTally? _committedTally;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (State.CampaignId is not null)
        {
            _committedTally = GroupTally.Of(GroupId, State);
            _storedArchivedAt = State.ArchivedAt;
            outboxMetrics.Report(GroupId, State);
        }
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        outboxMetrics.Forget(GroupId);
        return Task.CompletedTask;
    }

    /// <summary>Holds that lapsed and a deadline that passed take effect in every command, not only when the reminder
    /// fires: stored first, so no command decides on a group that time has already moved on.</summary>
    private async Task CatchUpWithTimeAsync()
    {
        if (Rules.ExpireHolds(Now) | Rules.CloseAtDeadline(Now))
        {
            await SaveAsync();
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
        var target = Rules.NextDue(now) ?? (State.Outbox.Count > 0 ? now + ReminderPeriod : null);
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

    private async Task<SlotRecord> HoldFreeSlotAsync(string openid, string? referralCode)
    {
        var slot = Rules.FreeSlotFor(openid);
        await BindReferralAsync(openid, referralCode);
        await HoldAsync(slot, State.CampaignId!, openid, Rules.HoldUntil(Now), Rules.Terms);
        Rules.Count(Counter.Joined);
        return slot;
    }

    /// <summary>Reserves a stock unit and holds <paramref name="slot"/> for <paramref name="openid"/>. The
    /// reservation is made first (it may refuse: sold out, per-user limit) and is idempotent by its id: the user's limit
    /// is taken, then a unit at the group's share of the stock, or at the next share with one left.</summary>
    private async Task HoldAsync(SlotRecord slot, string campaignId, string openid, DateTimeOffset until, CampaignDefinition terms)
    {
        var reservationId = Rules.NextReservationId(slot);
        _creatingCampaignId = campaignId;
        var limit = GrainFactory.GetGrain<IStockLimitGrain>(IStockLimitGrain.Key(campaignId, openid));
        if (!await limit.TakeAsync(reservationId, terms.PerUserLimit))
        {
            throw new CampaignClosedException($"At most {terms.PerUserLimit} per user.");
        }
        var shards = Math.Max(1, terms.StockShards);
        var first = (int)(StableHash(GroupId) % (uint)shards);
        for (var i = 0; i < shards; i++)
        {
            var unit = new StockUnit(reservationId, (first + i) % shards, openid);
            _unsavedReservations.Add(unit.ToString());
            var answer = await unit.ShardOf(GrainFactory, campaignId).ReserveAsync(reservationId);
            if (answer == StockAnswer.Reserved)
            {
                GroupRules.Hold(slot, unit.ToString(), openid, until);
                return;
            }
            _unsavedReservations.RemoveAt(_unsavedReservations.Count - 1);
            if (answer == StockAnswer.Closed)
            {
                await limit.ReleaseAsync(reservationId);
                throw new CampaignClosedException("The campaign is not active.");
            }
        }
        await limit.ReleaseAsync(reservationId);
        throw new CampaignClosedException("The campaign is sold out.");
    }

    /// <summary>FNV-1a: the same share for a group in every silo and process (string hashes are randomized).</summary>
    private static uint StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return hash;
    }

    public async Task<StockStatus> GetStockStatusAsync(string reservationId, string? openid)
    {
        var stored = (await ReadableAsync()).State;
        var slot = stored.Slots.FirstOrDefault(s => s.ReservationId is { } stored && StockUnit.Parse(stored).ReservationId == reservationId);
        var status = slot is null || (openid is not null && slot.MemberOpenid != openid) ? StockStatus.Gone
            : slot.Status == SlotStatus.Held || (slot.Status == SlotStatus.Paid && stored.Status is GroupStatus.Pending or GroupStatus.Open) ? StockStatus.Kept
            : slot.Status == SlotStatus.Paid && stored.Status == GroupStatus.Complete ? StockStatus.Sold
            : StockStatus.Gone;
        return status;
    }

    private async Task BindReferralAsync(string openid, string? referralCode)
    {
        if (!string.IsNullOrEmpty(referralCode))
        {
            await GrainFactory.GetGrain<IReferralGrain>(openid).BindInviterAsync(referralCode);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: could not give back reservation {ReservationId} after a failed write; the slot's next hold takes it over")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string groupId, string reservationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: a command failed after it may have changed the state; reloading what is stored")]
    private static partial void LogReloading(ILogger logger, Exception exception, string groupId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {GroupId}: unifiedorder for {OutTradeNo} failed with {Code}")]
    private static partial void LogPrepayFailed(ILogger logger, string groupId, string outTradeNo, WeChatPayErrorCode code);
}
