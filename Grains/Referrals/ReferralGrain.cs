using System.Security.Cryptography;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Stats;
using Orleans.Placement;

namespace GroupPay.Grains.Referrals;

/// <summary>Placed on the silo of its first caller (usually the user's group), so the order grain's referral
/// messages stay local instead of crossing to another silo.</summary>
[GrainType("referral"), PreferLocalPlacement, CollectionAgeLimit(Minutes = CollectionAges.ReferralMinutes)]
public sealed class ReferralGrain(
    [PersistentState("referral", GrainStorage.Counted)] IPersistentState<ReferralState> state,
    ReferralStore ledger,
    TimeProvider timeProvider) : Grain, IReferralGrain, IRemindable
{
    private const string GrantReminder = "grant";
    private const int MaxChainDepth = 16;
    private const string CodeAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";

    /// <summary>How many due grants one write takes (a reminder tick with more due comes back at once).</summary>
    private const int GrantsPerWrite = 100;

    private ReferralState State => state.State;

    private string Openid => this.GetPrimaryKeyString();

    public async Task<ReferralProfile> GetProfileAsync() =>
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

    /// <summary>Invitees are a set in Redis (<see cref="ReferralStore"/>), added to directly: counted once however
    /// often, and never in the state.</summary>
    public async Task AddInviteeAsync(string inviteeOpenid)
    {
        ArgumentException.ThrowIfNullOrEmpty(inviteeOpenid);
        await ledger.AddInviteeAsync(Openid, inviteeOpenid);
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
        var counts = Counted();
        var changes = writes ?? new CountedChanges();
        foreach (var scope in counts.Keys.Union(_committedCounts.Keys))
        {
            changes.AddCounts(scope, _committedCounts.GetValueOrDefault(scope), counts.GetValueOrDefault(scope) ?? []);
        }
        if (changes.MovesCounters)
        {
            State.Revision++;
        }
        await state.WriteOrReloadAsync(this, changes.IsEmpty ? null : changes);
        _committedCounts = counts;
    }

    /// <summary>What the stored state counts, by scope: the baseline of the next write's changes.</summary>
    private Dictionary<string, Dictionary<string, long>> _committedCounts = [];

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _committedCounts = Counted();
        if (State.Invitees.Count > 0 || State.Rewards.Count > 0)
        {
            await MigrateAsync();
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

    public Task<IReadOnlyList<string>> GetGroupsAsync() =>
        Task.FromResult<IReadOnlyList<string>>([.. Enumerable.Reverse(State.Groups)]);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
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
}

[GrainType("referral-code"), CollectionAgeLimit(Minutes = CollectionAges.OneCallMinutes)]
public sealed class ReferralCodeGrain(
    [PersistentState("code", GrainStorage.Name)] IPersistentState<ReferralCodeState> state) : Grain, IReferralCodeGrain
{
    public async Task<bool> ClaimAsync(string openid)
    {
        if (state.State.Owner is { } owner)
        {
            return owner == openid;
        }
        state.State.Owner = openid;
        await state.WriteOrReloadAsync(this);
        return true;
    }

    public Task<string?> ResolveAsync() => Task.FromResult(state.State.Owner);
}
