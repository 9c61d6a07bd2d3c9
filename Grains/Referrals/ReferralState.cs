namespace GroupPay.Grains.Referrals;

[GenerateSerializer, Alias("grouppay.ReferralState")]
public sealed class ReferralState
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
