namespace GroupPay.Grains.Campaigns;

/// <summary>What an operator sets for a campaign (api.md <c>PUT /admin/campaigns/{id}</c>). Money in fen.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.CampaignDefinition")]
public sealed record CampaignDefinition
{
    [Id(0)] public required string Title { get; init; }

    [Id(1)] public required long SoloPriceFen { get; init; }

    [Id(2)] public required long GroupPriceFen { get; init; }

    [Id(3)] public required int GroupSize { get; init; }

    [Id(4)] public int WindowMinutes { get; init; } = 1440;

    [Id(5)] public int HoldMinutes { get; init; } = 15;

    [Id(6)] public required int Stock { get; init; }

    [Id(7)] public int PerUserLimit { get; init; } = 1;

    [Id(8)] public long InviterRewardFen { get; init; }

    [Id(9)] public int RewardFreezeMinutes { get; init; }

    [Id(10)] public bool VirtualFill { get; init; }

    [Id(11)] public DateTimeOffset? ActiveFrom { get; init; }

    [Id(12)] public DateTimeOffset? ActiveUntil { get; init; }

    /// <summary>How many rewards one inviter may earn per China-time day (Asia/Shanghai, UTC+8) from this campaign, dated
    /// by the invitee's payment.</summary>
    [Id(13)] public int InviterDailyRewardCap { get; init; } = 20;

    /// <summary>How many shares the stock is split into (<see cref="IStockShardGrain"/>); 0 chooses from the stock.
    /// Fixed by the campaign's first definition.</summary>
    [Id(14)] public int StockShards { get; init; }

    public const int MaxStockShards = 64;

    public const int MaxPerUserLimit = 100;

    /// <summary>The rule broken, or null when the definition is valid.</summary>
    public string? Validate() =>
        string.IsNullOrWhiteSpace(Title) || Title.Length > 64 ? "title must be 1..64 characters"
        : SoloPriceFen <= 0 ? "soloPriceFen must be greater than 0"
        : GroupPriceFen <= 0 ? "groupPriceFen must be greater than 0"
        : GroupPriceFen > SoloPriceFen ? "groupPriceFen must not exceed soloPriceFen"
        : GroupSize is < 2 or > 20 ? "groupSize must be between 2 and 20"
        : WindowMinutes < 1 ? "windowMinutes must be at least 1"
        : HoldMinutes is < 1 or > 120 ? "holdMinutes must be between 1 and 120"
        : Stock < 0 ? "stock must not be negative"
        : PerUserLimit is < 1 or > MaxPerUserLimit ? "perUserLimit must be between 1 and 100"
        : StockShards is < 0 or > MaxStockShards ? "stockShards must be between 0 (automatic) and 64"
        : InviterRewardFen < 0 ? "inviterRewardFen must not be negative"
        : RewardFreezeMinutes < 0 ? "rewardFreezeMinutes must not be negative"
        : InviterDailyRewardCap < 0 ? "inviterDailyRewardCap must not be negative"
        : ActiveFrom is { } from && ActiveUntil is { } until && until <= from ? "activeUntil must be after activeFrom"
        : null;
}

/// <summary>A campaign as the outside sees it. <see cref="Reserved"/>: units held by slots of groups still pending or
/// open (paid or not); <see cref="Sold"/>: units of paid slots in completed groups.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.CampaignView")]
public sealed record CampaignView(
    [property: Id(0)] string CampaignId,
    [property: Id(1)] CampaignDefinition Definition,
    [property: Id(2)] int Reserved,
    [property: Id(3)] int Sold,
    [property: Id(4)] bool Active)
{
    public int RemainingStock => Math.Max(0, Definition.Stock - Reserved - Sold);
}

/// <summary>A campaign's terms and whether it is active now: what starting a group needs, without the stock counts.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.CampaignOffer")]
public sealed record CampaignOffer([property: Id(0)] CampaignDefinition Definition, [property: Id(1)] bool Active);
