using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;

namespace GroupPay.Grains.Referrals;

[GenerateSerializer, Alias("grouppay.ReferralState")]
public sealed class ReferralState : ICountedState
{
    [Id(0)] public string? ReferralCode { get; set; }

    [Id(1)] public string? InviterOpenid { get; set; }

    [Id(2)] public bool HasPaid { get; set; }

    [Id(3)] public string? FirstPaymentId { get; set; }

    /// <summary>Written before the invitees left the state (now <see cref="ReferralStore.InviteesKey"/>); read once, to
    /// copy them there, then empty.</summary>
    [Id(4)] public HashSet<string> Invitees { get; set; } = [];

    /// <summary>Payment id → reward, written before the ledger left the state (now <see cref="ReferralStore"/>); read
    /// once, to copy it there, then empty.</summary>
    [Id(5)] public Dictionary<string, Reward> Rewards { get; set; } = [];

    /// <summary>Campaigns in which the user opened a group (seed-user counting); <see cref="Grains.Stats.StatsScope.Total"/> for any.</summary>
    [Id(6)] public HashSet<string> SeededScopes { get; set; } = [];

    /// <summary>Groups the user started, joined or paid in, oldest first (at most <see cref="ReferralLimits.MaxGroups"/>).</summary>
    [Id(7)] public List<string> Groups { get; set; } = [];

    /// <summary>Scope (a campaign, or <see cref="Grains.Stats.StatsScope.Total"/>) → the group that made the user a seed
    /// user there: the stored fact the seed-user figures are derived from (scopes in <see cref="SeededScopes"/> but not
    /// here were counted before figures were derived from stored facts).</summary>
    [Id(8)] public Dictionary<string, string> SeedGroups { get; set; } = [];

    /// <summary>The campaign of the first payment: where an invited user counts as a new user.</summary>
    [Id(9)] public string? FirstPaymentCampaign { get; set; }

    /// <summary>Goes up with every stored change of what the user counts (each committed to the figures in the same write).</summary>
    [Id(10)] public long Revision { get; set; }

    /// <summary>The rewards' amounts by status: the totals of the whole ledger.</summary>
    [Id(11)] public long PendingFen { get; set; }

    [Id(12)] public long GrantedFen { get; set; }

    [Id(13)] public long ReversedFen { get; set; }

    /// <summary>How many rewards the ledger holds: the newest one's sequence number.</summary>
    [Id(14)] public long RewardCount { get; set; }

    /// <summary>The newest rewards, oldest first (at most <see cref="RewardLedger.RecentCount"/>): the first page.</summary>
    [Id(15)] public List<RecentReward> RecentRewards { get; set; } = [];

    /// <summary>The user's pending effects: their archiving and its reports to the operator queue (at most one
    /// <see cref="EffectKind.Archive"/>, one report and one settlement of it: bounded).</summary>
    [Id(16)] public List<PendingEffect> Outbox { get; set; } = [];

    /// <summary>When the archive last became current with this state (null since any later change): only then do the
    /// user's keys carry their expiry (docs/retention.md).</summary>
    [Id(17)] public DateTimeOffset? ArchivedAt { get; set; }

    /// <summary>True once every reward and invitee the user had when the archive first ran was copied to it (after that
    /// only <see cref="ReferralStore.UnarchivedKey"/> is).</summary>
    [Id(18)] public bool LedgerWalked { get; set; }

    /// <summary>The first walk's place: the rewards up to this sequence are archived.</summary>
    [Id(19)] public long WalkedRewards { get; set; }

    /// <summary>The first walk's place in the invitees (an <c>SSCAN</c> cursor).</summary>
    [Id(20)] public long InviteeScanCursor { get; set; }

    /// <summary>When the <c>wake</c> reminder is due (null when none is registered).</summary>
    [Id(21)] public DateTimeOffset? WakeAt { get; set; }

    /// <summary>What the write in progress changes in the figures (set by the grain, never stored).</summary>
    [field: NonSerialized]
    public CountedChanges? Uncommitted { get; set; }
}

/// <summary>A reward as states written before the ledger left the state hold it.</summary>
[GenerateSerializer, Alias("grouppay.Reward")]
public sealed class Reward
{
    [Id(0)] public required string CampaignId { get; set; }

    [Id(1)] public long AmountFen { get; set; }

    [Id(2)] public RewardStatus Status { get; set; }

    [Id(3)] public DateTimeOffset EarnedAt { get; set; }

    /// <summary>When the reward becomes granted (group complete + freeze); null until the group completes.</summary>
    [Id(4)] public DateTimeOffset? GrantAt { get; set; }
}

/// <summary>One of the newest rewards, as the first page shows it.</summary>
[GenerateSerializer, Alias("grouppay.RecentReward")]
public sealed class RecentReward
{
    [Id(0)] public long Sequence { get; set; }

    [Id(1)] public required string PaymentId { get; set; }

    [Id(2)] public long AmountFen { get; set; }

    [Id(3)] public RewardStatus Status { get; set; }
}

[GenerateSerializer, Alias("grouppay.ReferralCodeState")]
public sealed class ReferralCodeState
{
    [Id(0)] public string? Owner { get; set; }
}
