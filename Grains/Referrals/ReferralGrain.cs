using System.Security.Cryptography;
using GroupPay.Grains.Archive;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Outbox;
using GroupPay.Grains.Stats;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace GroupPay.Grains.Referrals;

/// <summary>Placed on the silo of its first caller (usually the user's group), so the order grain's referral
/// messages stay local instead of crossing to another silo. With an archive configured, a settled user is archived
/// and then leaves the grain store (<see cref="UserRetention"/>, docs/retention.md); a user found only in the archive
/// is restored into it on activation.</summary>
[GrainType("referral"), PreferLocalPlacement]
public sealed partial class ReferralGrain(
    [PersistentState("referral", GrainStorage.Counted)] IPersistentState<ReferralState> state,
    ReferralStore ledger,
    IUserArchive archive,
    IOptions<ReferralOptions> options,
    IOptions<OrderOptions> orderOptions,
    TimeProvider timeProvider,
    ILogger<ReferralGrain> logger) : Grain, IReferralGrain, IReferralEffects, IRemindable
{
    private const string GrantReminder = "grant";
    private const string WakeReminder = "wake";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private const int MaxChainDepth = 16;
    private const string CodeAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";

    /// <summary>How many due grants one write takes (a reminder tick with more due comes back at once).</summary>
    private const int GrantsPerWrite = 100;

    private ReferralState State => state.State;

    private string Openid => this.GetPrimaryKeyString();

    public async Task<ReferralProfile> GetProfileAsync(CancellationToken cancellationToken = default) =>
        new(Openid, await EnsureCodeAsync(), State.HasPaid, State.InviterOpenid is not null);

    public async Task<InviterBinding> BindInviterAsync(string referralCode)
    {
        if (State.InviterOpenid is { } existing)
        {
            return new InviterBinding(BindingOutcome.AlreadyBound, existing);
        }
        if (State.HasPaid)
        {
            return new InviterBinding(BindingOutcome.AlreadyPaid, null);
        }
        var owner = string.IsNullOrEmpty(referralCode) ? null : await GrainFactory.GetGrain<IReferralCodeGrain>(referralCode).ResolveAsync();
        if (owner is null)
        {
            return new InviterBinding(BindingOutcome.UnknownCode, null);
        }
        if (owner == Openid)
        {
            return new InviterBinding(BindingOutcome.SelfReferral, null);
        }
        // Refuse A→B→A (and longer cycles): walk the inviter chain above the would-be inviter.
        var current = owner;
        for (var depth = 0; depth < MaxChainDepth && current is not null; depth++)
        {
            current = await GrainFactory.GetGrain<IReferralGrain>(current).GetInviterAsync();
            if (current == Openid)
            {
                return new InviterBinding(BindingOutcome.Loop, null);
            }
        }
        State.InviterOpenid = owner;
        await WriteAsync();
        await GrainFactory.GetGrain<IReferralGrain>(owner).AddInviteeAsync(Openid);
        return new InviterBinding(BindingOutcome.Bound, owner);
    }

    public Task<string?> GetInviterAsync() => Task.FromResult(State.InviterOpenid);

    /// <summary>Invitees are a set in Redis (<see cref="ReferralStore"/>): counted once however often, and never in the
    /// state. Without an archive they are added to directly; with one, a new invitee is a change the archive must see
    /// (and that keeps the user's keys), so it is added in the state's write.</summary>
    public async Task AddInviteeAsync(string inviteeOpenid)
    {
        ArgumentException.ThrowIfNullOrEmpty(inviteeOpenid);
        if (!archive.IsEnabled)
        {
            await ledger.AddInviteeAsync(Openid, inviteeOpenid);
            return;
        }
        if (await ledger.IsInviteeAsync(Openid, inviteeOpenid))
        {
            return;
        }
        var writes = new CountedChanges();
        UserRetention.AddInvitee(Openid, inviteeOpenid, writes);
        await WriteAsync(writes);
    }

    public async Task<PayerRecord> RecordPaymentAsync(string paymentId, string campaignId)
    {
        if (MarkPaid(paymentId, campaignId))
        {
            await WriteAsync();
        }
        return new PayerRecord(State.FirstPaymentId == paymentId, State.InviterOpenid);
    }

    public async Task RecordGroupOpenedAsync(string groupId, string campaignId)
    {
        if (MarkSeed(campaignId, groupId))
        {
            await WriteAsync();
        }
    }

    public async Task<PayerRecord> RecordLeaderPaymentAsync(string paymentId, string campaignId, string groupId)
    {
        if (MarkPaid(paymentId, campaignId) | MarkSeed(campaignId, groupId))
        {
            await WriteAsync();
        }
        return new PayerRecord(State.FirstPaymentId == paymentId, State.InviterOpenid);
    }

    /// <summary>Writes the state, and with it (in the same Redis script: <see cref="CountedGrainStorage"/>) what the
    /// change adds to the figures (the difference from what the stored state counted) and the reward ledger's
    /// <paramref name="writes"/>.</summary>
    private async Task WriteAsync(CountedChanges? writes = null)
    {
        var changes = writes ?? new CountedChanges();
        if (archive.IsEnabled)
        {
            if (!state.RecordExists)
            {
                // A new user: every change of theirs is marked for the archive from the first, so there is no
                // ledger from before to walk.
                State.LedgerWalked = true;
            }
            UserRetention.Changed(State, Openid, changes, Now, options.Value.ArchiveAfter);
            await ScheduleWakeAsync();
        }
        await StoreAsync(changes);
        if (State.Outbox.Any(e => e.NotBefore <= Now))
        {
            await this.AsReference<IReferralEffects>().DrainAsync();
        }
    }

    private DateTimeOffset Now => timeProvider.GetUtcNow();

    /// <summary>Stores the state with <paramref name="changes"/> and what it changes in the figures; the keys get their
    /// expiry in the write after the archive became current and lose it in the next (<see cref="UserRetention.Expiry"/>).</summary>
    private async Task StoreAsync(CountedChanges? changes)
    {
        var counts = Counted();
        changes ??= new CountedChanges();
        foreach (var scope in counts.Keys.Union(_committedCounts.Keys))
        {
            changes.AddCounts(scope, _committedCounts.GetValueOrDefault(scope), counts.GetValueOrDefault(scope) ?? []);
        }
        if (changes.MovesCounters)
        {
            State.Revision++;
        }
        if (UserRetention.Expiry(_storedArchivedAt, State.ArchivedAt, options.Value.Retention) is { } expiry)
        {
            changes.StateExpiry = expiry;
            changes.CompanionKeys.AddRange(UserRetention.CompanionKeys(Openid, State.ReferralCode));
        }
        await state.WriteOrReloadAsync(this, changes.IsEmpty ? null : changes);
        _committedCounts = counts;
        _storedArchivedAt = State.ArchivedAt;
    }

    /// <summary>When the stored state's archive became current (null: it is not, and the keys do not expire).</summary>
    private DateTimeOffset? _storedArchivedAt;

    /// <summary>What the stored state counts, by scope: the baseline of the next write's changes.</summary>
    private Dictionary<string, Dictionary<string, long>> _committedCounts = [];

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!state.RecordExists && archive.IsEnabled && await archive.FindAsync(Openid) is { } archived)
        {
            await RestoreAsync(archived);
            return;
        }
        _committedCounts = Counted();
        _storedArchivedAt = State.ArchivedAt;
        if (State.Invitees.Count > 0 || State.Rewards.Count > 0)
        {
            await MigrateAsync();
        }
    }

    /// <summary>
    /// A user whose keys expired: their ledger is copied back from the archive (rewards and invitees, in batches, with
    /// commands that set what the archive holds, so a restore that fails half way is repeated to the same result), their
    /// code is claimed again, and their state is stored as archived, so their keys expire again a retention from now
    /// unless they change. What they counted in the figures was counted when it happened: the restore counts nothing.
    /// </summary>
    private async Task RestoreAsync(ArchivedUser archived)
    {
        var none = new Dictionary<(DateOnly Day, string CampaignId), long>();
        for (long after = 0; ;)
        {
            var rewards = await archive.RewardsAsync(Openid, after, UserRetention.Batch);
            if (rewards.Count == 0)
            {
                break;
            }
            await ledger.CopyInAsync(Openid, [], rewards, none);
            after = rewards[^1].Sequence;
        }
        for (string? after = null; ;)
        {
            var invitees = await archive.InviteesAsync(Openid, after, UserRetention.Batch);
            if (invitees.Count == 0)
            {
                break;
            }
            await ledger.CopyInAsync(Openid, invitees, [], none);
            after = invitees[^1];
        }
        if (archived.State.ReferralCode is { } code && !await GrainFactory.GetGrain<IReferralCodeGrain>(code).ClaimAsync(Openid))
        {
            throw new InvalidOperationException($"The archived referral code of user {UserEffectHandler.Masked(Openid)} is held by another user.");
        }
        state.State = archived.State;
        _committedCounts = Counted();
        _storedArchivedAt = null;
        await StoreAsync(null);
        var user = UserEffectHandler.Masked(Openid);
        LogRestored(logger, user, archived.ArchivedAt);
    }

    /// <summary>Carries out the due effects (one step of the archiving per turn), then stores the state with what they
    /// changed; what is still due runs in a turn of its own.</summary>
    public async Task DrainAsync()
    {
        if (!state.RecordExists || !State.Outbox.Any(e => e.NotBefore <= Now))
        {
            return;
        }
        var order = orderOptions.Value;
        var runner = new OutboxRunner<PendingEffect>(
            new OutboxLimits(order.MaxEffectsPerDrain, order.DrainBudget, order.MaxRetryDelay, order.EffectEscalateAfter), timeProvider);
        var writes = new CountedChanges();
        await runner.RunDueAsync(State.Outbox, new UserEffectHandler(GrainFactory, Openid, State, ledger, archive, writes, timeProvider, logger));
        await ScheduleWakeAsync();
        await StoreAsync(writes);
        if (runner.AnyDue(State.Outbox))
        {
            await this.AsReference<IReferralEffects>().DrainAsync();
        }
    }

    /// <summary>Keeps one <c>wake</c> reminder while the outbox holds anything (<see cref="UserRetention.NextWake"/>),
    /// registering it again only when it must fire sooner, or later once it has fired; unregistered with the outbox
    /// empty.</summary>
    private async Task ScheduleWakeAsync()
    {
        var now = Now;
        if (UserRetention.NextWake(State, now, ReminderPeriod) is not { } target)
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
        if (registered is null || target < registered || (registered <= now && target > now + ReminderPeriod))
        {
            await this.RegisterOrUpdateReminder(WakeReminder, target - now, ReminderPeriod);
            State.WakeAt = target;
        }
    }

    /// <summary>A state written before the invitees and the ledger left it: copies them into Redis (idempotently), then
    /// stores the state without them. Until that write succeeds every activation starts here again.</summary>
    private async Task MigrateAsync()
    {
        var (rewards, perDay) = RewardLedger.Migrated(State);
        await ledger.CopyInAsync(Openid, State.Invitees, rewards, perDay);
        RewardLedger.CompleteMigration(State, rewards);
        await WriteAsync();
        if (rewards.Any(r => r.Status == RewardStatus.Pending && r.GrantAt is not null))
        {
            await ScheduleNextGrantAsync();
        }
    }

    /// <summary>
    /// What the user counts, by scope (<see cref="TallyField"/> names): a new user in the campaign of the first payment,
    /// when invited; a seed user per campaign, and once in the shop's figures.
    /// </summary>
    private Dictionary<string, Dictionary<string, long>> Counted()
    {
        var counts = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        void Add(string scope, string field) => (counts.TryGetValue(scope, out var c) ? c : counts[scope] = new(StringComparer.Ordinal))[field] = 1;
        if (State.HasPaid && State.InviterOpenid is not null && State.FirstPaymentCampaign is { } campaign)
        {
            Add(campaign, TallyField.Both(Counter.NewUsers));
        }
        foreach (var scope in State.SeedGroups.Keys.Where(scope => scope != StatsScope.Total))
        {
            Add(scope, TallyField.CampaignOnly(Counter.SeedUsers));
        }
        if (State.SeedGroups.ContainsKey(StatsScope.Total))
        {
            Add(StatsScope.Total, TallyField.TotalOnly(Counter.SeedUsers));
        }
        return counts;
    }

    /// <summary>Marks the first payment; false when the user had paid before.</summary>
    private bool MarkPaid(string paymentId, string campaignId)
    {
        if (State.HasPaid)
        {
            return false;
        }
        State.HasPaid = true;
        State.FirstPaymentId = paymentId;
        State.FirstPaymentCampaign = campaignId;
        return true;
    }

    /// <summary>Marks the user a seed of the campaign and overall, by this group; false when nothing changed.</summary>
    private bool MarkSeed(string campaignId, string groupId)
    {
        var changed = false;
        foreach (var scope in (string[])[campaignId, StatsScope.Total])
        {
            if (!State.SeedGroups.ContainsKey(scope) && !State.SeededScopes.Contains(scope))
            {
                State.SeedGroups[scope] = groupId;
                State.SeededScopes.Add(scope);
                changed = true;
            }
        }
        return changed;
    }

    public async Task AddPendingRewardAsync(RewardEntry reward)
    {
        ArgumentNullException.ThrowIfNull(reward);
        if (reward.AmountFen <= 0)
        {
            return;
        }
        var (recorded, earnedThatDay) = await ledger.AdmissionAsync(Openid, reward.PaymentId, reward.CampaignId, RewardLedger.DayOf(reward.EarnedAt));
        if (!RewardLedger.Admits(reward, recorded, earnedThatDay))
        {
            return;
        }
        var writes = new CountedChanges();
        RewardLedger.Add(State, Openid, reward, writes);
        await WriteAsync(writes);
    }

    public async Task ScheduleGrantAsync(string paymentId, DateTimeOffset grantAt)
    {
        if (await ledger.FindAsync(Openid, paymentId) is not { } reward)
        {
            return;
        }
        var writes = new CountedChanges();
        if (RewardLedger.Schedule(State, Openid, reward, grantAt, timeProvider.GetUtcNow(), writes) is not { } scheduled)
        {
            return;
        }
        await WriteAsync(writes);
        if (scheduled.Status == RewardStatus.Pending)
        {
            await ScheduleNextGrantAsync();
        }
    }

    /// <summary>Reverses the payment's reward, wherever in the ledger it is; a payment with no reward changes nothing.</summary>
    public async Task ReverseRewardAsync(string paymentId)
    {
        if (await ledger.FindAsync(Openid, paymentId) is not { } reward)
        {
            return;
        }
        var writes = new CountedChanges();
        if (RewardLedger.Reverse(State, Openid, reward, writes) is not null)
        {
            await WriteAsync(writes);
        }
    }

    public Task<RewardSummary> GetRewardsAsync() => GetRewardPageAsync(ReferralLimits.DefaultRewardPage, null);

    public async Task<RewardSummary> GetRewardPageAsync(int limit, long? after)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, ReferralLimits.MaxRewardPage);
        var code = await EnsureCodeAsync();
        var invited = ledger.InviteeCountAsync(Openid);
        IReadOnlyList<RewardLine> lines;
        long? next;
        if (after is null && RewardLedger.RecentPage(State, limit) is { } recent)
        {
            (lines, next) = recent;
        }
        else
        {
            var page = await ledger.PageAsync(Openid, after, limit);
            lines = [.. page.Select(r => r.ToLine())];
            next = page.Count < limit ? null : RewardLedger.NextAfter(page[^1].Sequence);
        }
        return new RewardSummary(code, (int)Math.Min(await invited, int.MaxValue), State.PendingFen, State.GrantedFen, State.ReversedFen, lines, next);
    }

    public async Task RecordGroupAsync(string groupId)
    {
        ArgumentException.ThrowIfNullOrEmpty(groupId);
        if (State.Groups.Count > 0 && State.Groups[^1] == groupId)
        {
            return;
        }
        State.Groups.Remove(groupId);
        State.Groups.Add(groupId);
        if (State.Groups.Count > ReferralLimits.MaxGroups)
        {
            State.Groups.RemoveRange(0, State.Groups.Count - ReferralLimits.MaxGroups);
        }
        await WriteAsync();
    }

    public Task<IReadOnlyList<string>> GetGroupsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>([.. Enumerable.Reverse(State.Groups)]);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == WakeReminder)
        {
            await this.AsReference<IReferralEffects>().DrainAsync();
            return;
        }
        if (reminderName != GrantReminder)
        {
            return;
        }
        await GrantDueAsync();
        await ScheduleNextGrantAsync();
    }

    /// <summary>Grants the scheduled rewards whose time came: only those, read in time order from the grant set.</summary>
    private async Task GrantDueAsync()
    {
        var now = timeProvider.GetUtcNow();
        var due = await ledger.DueGrantsAsync(Openid, now, GrantsPerWrite);
        var writes = new CountedChanges();
        foreach (var reward in due)
        {
            RewardLedger.Grant(State, Openid, reward, now, writes);
        }
        if (!writes.IsEmpty)
        {
            await WriteAsync(writes);
        }
    }

    private async Task ScheduleNextGrantAsync()
    {
        if (await ledger.NextGrantAsync(Openid) is not { } next)
        {
            if (await this.GetReminder(GrantReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
            return;
        }
        var due = next - timeProvider.GetUtcNow();
        await this.RegisterOrUpdateReminder(GrantReminder, due < TimeSpan.Zero ? TimeSpan.Zero : due, TimeSpan.FromMinutes(1));
    }

    private async Task<string> EnsureCodeAsync()
    {
        if (State.ReferralCode is { } code)
        {
            return code;
        }
        while (true)
        {
            var candidate = RandomNumberGenerator.GetString(CodeAlphabet, 8);
            if (await GrainFactory.GetGrain<IReferralCodeGrain>(candidate).ClaimAsync(Openid))
            {
                State.ReferralCode = candidate;
                await WriteAsync();
                return candidate;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "User {User}: restored from the archive (archived {ArchivedAt:u})")]
    private static partial void LogRestored(ILogger logger, string user, DateTimeOffset archivedAt);
}

/// <summary>A code's owner, stored when claimed. Its key leaves the grain store with its owner's (docs/retention.md);
/// then the owner is read from the archive, so an expired code still resolves and is never claimed by another
/// user, and its owner's restore stores it again.</summary>
[GrainType("referral-code")]
public sealed class ReferralCodeGrain(
    [PersistentState("code", GrainStorage.Name)] IPersistentState<ReferralCodeState> state,
    IUserArchive archive) : Grain, IReferralCodeGrain
{
    /// <summary>The archived owner of a code that is not in the grain store (read once per activation).</summary>
    private string? _archivedOwner;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!state.RecordExists && archive.IsEnabled)
        {
            _archivedOwner = await archive.CodeOwnerAsync(this.GetPrimaryKeyString());
        }
    }

    /// <summary>Claimed once, when its owner first needs a code: the activation goes when the claim is done (the
    /// codes that are resolved, the ones on share links, are activated again by the first resolve and stay).</summary>
    public async Task<bool> ClaimAsync(string openid)
    {
        DeactivateOnIdle();
        if (state.State.Owner is { } owner)
        {
            return owner == openid;
        }
        if (_archivedOwner is { } archived && archived != openid)
        {
            return false;
        }
        state.State.Owner = openid;
        await state.WriteOrReloadAsync(this);
        return true;
    }

    public Task<string?> ResolveAsync() => Task.FromResult(state.State.Owner ?? _archivedOwner);
}
