using Orleans.Concurrency;

namespace GroupPay.Grains.Campaigns;

/// <summary>A group-buy offer (拼团活动), keyed by campaign id. Owns the stock and grants it in chunks to its shares
/// (<see cref="IStockShardGrain"/>), where a slot hold reserves one unit and a lapsed hold or a refund releases it,
/// so the campaign never sells more than its stock.</summary>
[Alias("grouppay.ICampaignGrain")]
public interface ICampaignGrain : IGrainWithStringKey
{
    /// <summary>Creates or updates the offer. Stock already reserved or sold stays counted.</summary>
    /// <exception cref="InvalidCampaignException">a value is out of range.</exception>
    [Alias("DefineAsync")]
    Task<CampaignView> DefineAsync(CampaignDefinition definition);

    /// <summary>The offer, or null when it was never defined.</summary>
    [Alias("GetAsync"), ReadOnly]
    Task<CampaignView?> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>The offer and whether it is active, without the stock counts (what starting a group needs).</summary>
    [Alias("GetOfferAsync"), ReadOnly]
    Task<CampaignOffer?> GetOfferAsync();

    /// <summary>A stock share reports and asks for units (<see cref="IStockShardGrain"/>); idempotent by the totals.</summary>
    [Alias("SyncShardAsync")]
    Task<ShardGrant> SyncShardAsync(int index, ShardReport report);
}

/// <summary>The whole set of campaign ids, for listing.</summary>
[Alias("grouppay.ICampaignCatalogGrain")]
public interface ICampaignCatalogGrain : IGrainWithIntegerKey
{
    [Alias("AddAsync")]
    Task AddAsync(string campaignId);

    [Alias("ListAsync"), ReadOnly]
    Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken = default);
}
