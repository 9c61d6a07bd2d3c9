namespace GroupPay.Grains.Campaigns;

/// <summary>What an operator sets for a campaign (docs/api.md §8.1 <c>PUT /admin/campaigns/{id}</c>; the rules:
/// docs/design.md §2.1). Money in fen.</summary>
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

    /// <summary>The product picture the H5 app shows: an absolute <c>https</c>/<c>http</c> URL or a path on the gateway
    /// (<c>/images/…</c>, the app's own assets); null for none.</summary>
    [Id(15)] public string? ImageUrl { get; init; }

    /// <summary>The product's description under the picture (plain text, up to <see cref="MaxDescriptionLength"/>); null for none.</summary>
    [Id(16)] public string? Description { get; init; }

    public const int MaxStockShards = 64;

    public const int MaxImageUrlLength = 512;

    public const int MaxDescriptionLength = 500;

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
        : ImageUrl is not null && !IsImageUrl(ImageUrl) ? "imageUrl must be an http(s) URL or a local path (/…) of up to 512 characters"
        : Description is not null && (Description.Length > MaxDescriptionLength || Description.Any(c => char.IsControl(c) && c != '\n'))
            ? "description must be up to 500 characters without control characters (line breaks allowed)"
        : null;

    /// <summary>An absolute http(s) URL, or a local path: <c>/…</c> but not <c>//host</c> or <c>/\host</c>; no spaces,
    /// quotes or control characters (it goes into an <c>img src</c>).</summary>
    private static bool IsImageUrl(string url) =>
        url.Length is > 0 and <= MaxImageUrlLength
        && !url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '"' or '\'' or '<' or '>' or '\\')
        && (url[0] == '/'
            ? url.Length == 1 || url[1] != '/'
            : Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp));
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
