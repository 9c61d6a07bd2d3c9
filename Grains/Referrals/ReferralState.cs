using GroupPay.Grains.Ledger;

namespace GroupPay.Grains.Referrals;

[GenerateSerializer, Alias("grouppay.ReferralState")]
public sealed class ReferralState : ICountedState
{
    [Id(0)] public string? ReferralCode { get; set; }

    [Id(1)] public string? InviterOpenid { get; set; }

    [Id(2)] public bool HasPaid { get; set; }

    [Id(3)] public string? FirstPaymentId { get; set; }

    [Id(4)] public HashSet<string> Invitees { get; set; } = [];

    /// <summary>Payment id → reward earned from it.</summary>
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

    /// <summary>What the write in progress changes in the figures (set by the grain, never stored).</summary>
    [field: NonSerialized]
    public CountedChanges? Uncommitted { get; set; }
}

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

[GenerateSerializer, Alias("grouppay.ReferralCodeState")]
public sealed class ReferralCodeState
{
    [Id(0)] public string? Owner { get; set; }
}
