using System.Security.Cryptography;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Stats;
using Orleans.Placement;

namespace GroupPay.Grains.Referrals;

/// <summary>Placed on the silo of its first caller (usually the user's group), so the order grain's referral
/// messages stay local instead of crossing to another silo.</summary>
[GrainType("referral"), PreferLocalPlacement]
public sealed class ReferralGrain(
    [PersistentState("referral", GrainStorage.Counted)] IPersistentState<ReferralState> state,
    TimeProvider timeProvider) : Grain, IReferralGrain, IRemindable
{
    private const string GrantReminder = "grant";
    private const int MaxChainDepth = 16;
    private const string CodeAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";

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

    public async Task AddInviteeAsync(string inviteeOpenid)
    {
        if (State.Invitees.Add(inviteeOpenid))
        {
            await WriteAsync();
        }
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
    /// change adds to the figures: the difference from what the stored state counted.</summary>
    private async Task WriteAsync()
    {
        var counts = Counted();
        var changes = new CountedChanges();
        foreach (var scope in counts.Keys.Union(_committedCounts.Keys))
        {
            changes.AddCounts(scope, _committedCounts.GetValueOrDefault(scope), counts.GetValueOrDefault(scope) ?? []);
        }
        if (!changes.IsEmpty)
        {
            State.Revision++;
        }
        await state.WriteOrReloadAsync(this, changes.IsEmpty ? null : changes);
        _committedCounts = counts;
    }

    /// <summary>What the stored state counts, by scope: the baseline of the next write's changes.</summary>
    private Dictionary<string, Dictionary<string, long>> _committedCounts = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _committedCounts = Counted();
        return Task.CompletedTask;
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
        if (State.Rewards.ContainsKey(reward.PaymentId) || reward.AmountFen <= 0)
        {
            return;
        }
        var day = RedisTallyStore.DayOf(reward.EarnedAt); // the China-time day, as WeChat's bills and the ledger date
        var earnedThatDay = State.Rewards.Values.Count(r => r.CampaignId == reward.CampaignId && RedisTallyStore.DayOf(r.EarnedAt) == day);
        if (earnedThatDay >= reward.DailyCap)
        {
            return;
        }
        State.Rewards[reward.PaymentId] = new Reward
        {
            CampaignId = reward.CampaignId,
            AmountFen = reward.AmountFen,
            Status = RewardStatus.Pending,
            EarnedAt = reward.EarnedAt,
        };
        await WriteAsync();
    }

    public async Task ScheduleGrantAsync(string paymentId, DateTimeOffset grantAt)
    {
        if (!State.Rewards.TryGetValue(paymentId, out var reward) || reward.Status != RewardStatus.Pending || reward.GrantAt is not null)
        {
            return;
        }
        reward.GrantAt = grantAt;
        GrantDue();
        await WriteAsync();
        await ScheduleNextGrantAsync();
    }

    public async Task ReverseRewardAsync(string paymentId)
    {
        if (State.Rewards.TryGetValue(paymentId, out var reward) && reward.Status != RewardStatus.Reversed)
        {
            reward.Status = RewardStatus.Reversed;
            await WriteAsync();
        }
    }

    public async Task<RewardSummary> GetRewardsAsync()
    {
        var code = await EnsureCodeAsync();
        long Sum(RewardStatus status) => State.Rewards.Values.Where(r => r.Status == status).Sum(r => r.AmountFen);
        return new RewardSummary(
            code,
            State.Invitees.Count,
            Sum(RewardStatus.Pending),
            Sum(RewardStatus.Granted),
            Sum(RewardStatus.Reversed),
            [.. State.Rewards.OrderBy(r => r.Value.EarnedAt).Select(r => new RewardLine(r.Key, r.Value.AmountFen, r.Value.Status))]);
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
        if (GrantDue())
        {
            await WriteAsync();
        }
        await ScheduleNextGrantAsync();
    }

    /// <summary>Grants every pending reward whose time came; true when one changed.</summary>
    private bool GrantDue()
    {
        var now = timeProvider.GetUtcNow();
        var changed = false;
        foreach (var reward in State.Rewards.Values)
        {
            if (reward.Status == RewardStatus.Pending && reward.GrantAt is { } at && at <= now)
            {
                reward.Status = RewardStatus.Granted;
                changed = true;
            }
        }
        return changed;
    }

    private async Task ScheduleNextGrantAsync()
    {
        var next = State.Rewards.Values
            .Where(r => r.Status == RewardStatus.Pending && r.GrantAt is not null)
            .Select(r => r.GrantAt!.Value)
            .DefaultIfEmpty()
            .Min();
        if (next == default)
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

[GrainType("referral-code")]
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
