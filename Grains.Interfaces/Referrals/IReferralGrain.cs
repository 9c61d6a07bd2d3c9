using Orleans.Concurrency;

namespace GroupPay.Grains.Referrals;

/// <summary>
/// One user (key: openid): their referral code, who invited them (bound once, while they have never paid),
/// and the reward ledger of the people they brought in. Every ledger change is idempotent by payment id.
/// </summary>
[Alias("grouppay.IReferralGrain")]
public interface IReferralGrain : IGrainWithStringKey
{
    /// <summary>The user's profile, creating their referral code on first use.</summary>
    [Alias("GetProfileAsync")]
    Task<ReferralProfile> GetProfileAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Binds the user to the owner of <paramref name="referralCode"/> if they have no inviter yet and have
    /// never paid; self-referral and A→B→A loops are refused. Returns whether a binding exists now and who.
    /// </summary>
    [Alias("BindInviterAsync")]
    Task<InviterBinding> BindInviterAsync(string referralCode);

    /// <summary>Called when one of the user's payments succeeded; marks the user as having paid (no new binding
    /// after this) and reports whether this was their first payment and who invited them.</summary>
    [Alias("RecordPaymentAsync")]
    Task<PayerRecord> RecordPaymentAsync(string paymentId, string campaignId);

    /// <summary><see cref="RecordPaymentAsync"/> and <see cref="RecordGroupOpenedAsync"/> in one call and one write: the
    /// leader's own payment that opened their group.</summary>
    [Alias("RecordLeaderPaymentAsync")]
    Task<PayerRecord> RecordLeaderPaymentAsync(string paymentId, string campaignId, string groupId);

    /// <summary>Records that the user opened a group as leader (a seed user of the fission metrics).</summary>
    [Alias("RecordGroupOpenedAsync")]
    Task RecordGroupOpenedAsync(string groupId, string campaignId);

    /// <summary>Adds a pending reward for a payment made by someone this user invited; idempotent by payment id.</summary>
    [Alias("AddPendingRewardAsync")]
    Task AddPendingRewardAsync(RewardEntry reward);

    /// <summary>The group of that payment completed: grant once <paramref name="grantAt"/> passes.</summary>
    [Alias("ScheduleGrantAsync")]
    Task ScheduleGrantAsync(string paymentId, DateTimeOffset grantAt);

    /// <summary>That payment was refunded: the reward is reversed (if it was granted or pending).</summary>
    [Alias("ReverseRewardAsync")]
    Task ReverseRewardAsync(string paymentId);

    /// <summary>The totals and the newest <see cref="ReferralLimits.DefaultRewardPage"/> rewards.</summary>
    [Alias("GetRewardsAsync")]
    Task<RewardSummary> GetRewardsAsync();

    /// <summary>The totals and up to <paramref name="limit"/> (1..<see cref="ReferralLimits.MaxRewardPage"/>) rewards,
    /// newest first, recorded before the cursor <paramref name="after"/> (a page's <see cref="RewardSummary.Next"/>;
    /// null for the newest).</summary>
    [Alias("GetRewardPageAsync")]
    Task<RewardSummary> GetRewardPageAsync(int limit, long? after);

    /// <summary>The inviter bound to this user, if any (used for loop checks).</summary>
    [Alias("GetInviterAsync"), AlwaysInterleave]
    Task<string?> GetInviterAsync();

    /// <summary>Records that <paramref name="inviteeOpenid"/> bound to this user (counted once however often it is said).</summary>
    [Alias("AddInviteeAsync")]
    Task AddInviteeAsync(string inviteeOpenid);

    /// <summary>Remembers a group the user started, joined or paid in (their "my groups" list); idempotent. Only
    /// the most recent <see cref="ReferralLimits.MaxGroups"/> are kept.</summary>
    [Alias("RecordGroupAsync")]
    Task RecordGroupAsync(string groupId);

    /// <summary>The user's groups, most recent first.</summary>
    [Alias("GetGroupsAsync"), ReadOnly]
    Task<IReadOnlyList<string>> GetGroupsAsync(CancellationToken cancellationToken = default);
}

public static class ReferralLimits
{
    /// <summary>How many groups a user's list keeps (the oldest fall off).</summary>
    public const int MaxGroups = 100;

    /// <summary>The rewards of a page when none is asked for (and those the user's state keeps).</summary>
    public const int DefaultRewardPage = 20;

    /// <summary>The most rewards one page holds.</summary>
    public const int MaxRewardPage = 100;
}

/// <summary>Resolves a referral code to its owner's openid (share links carry codes, never openids).</summary>
[Alias("grouppay.IReferralCodeGrain")]
public interface IReferralCodeGrain : IGrainWithStringKey
{
    /// <summary>Claims the code for <paramref name="openid"/>; false when another user holds it.</summary>
    [Alias("ClaimAsync")]
    Task<bool> ClaimAsync(string openid);

    [Alias("ResolveAsync")]
    Task<string?> ResolveAsync();
}

/// <summary>The user grain's own wake-up: carries out its pending effects (the archiving) after the turn that recorded
/// them.</summary>
[Alias("grouppay.IReferralEffects")]
public interface IReferralEffects : IGrainWithStringKey
{
    [OneWay, Alias("DrainAsync")]
    Task DrainAsync();
}
