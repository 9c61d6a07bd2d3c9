using Orleans.Concurrency;

namespace GroupPay.Grains.Campaigns;

/// <summary>A group-buy offer (拼团活动), keyed by campaign id. Owns the stock: a slot hold reserves one unit,
/// a lapsed hold or a refund releases it, so the campaign never sells more than its stock.</summary>
[Alias("grouppay.ICampaignGrain")]
public interface ICampaignGrain : IGrainWithStringKey
{
    /// <summary>Creates or updates the offer. Stock already reserved or sold stays counted.</summary>
    /// <exception cref="InvalidCampaignException">a value is out of range.</exception>
    [Alias("DefineAsync")]
    Task<CampaignView> DefineAsync(CampaignDefinition definition);

    /// <summary>The offer, or null when it was never defined.</summary>
    [Alias("GetAsync"), ReadOnly]
    Task<CampaignView?> GetAsync();

    /// <summary>Reserves one unit for <paramref name="openid"/>'s slot; idempotent by <paramref name="reservationId"/>.</summary>
    /// <exception cref="UnknownCampaignException">never defined.</exception>
    /// <exception cref="CampaignClosedException">inactive, sold out, or the user reached the per-user limit.</exception>
    [Alias("ReserveAsync")]
    Task ReserveAsync(string reservationId, string openid);

    /// <summary>Marks a reservation sold (its slot was paid and its group completed); idempotent.</summary>
    [Alias("ConfirmAsync")]
    Task ConfirmAsync(string reservationId);

    /// <summary>Returns a reservation's unit to stock (hold lapsed, payment refunded); idempotent, unknown ids ignored.</summary>
    [Alias("ReleaseAsync")]
    Task ReleaseAsync(string reservationId);
}

/// <summary>The whole set of campaign ids, for listing.</summary>
[Alias("grouppay.ICampaignCatalogGrain")]
public interface ICampaignCatalogGrain : IGrainWithIntegerKey
{
    [Alias("AddAsync")]
    Task AddAsync(string campaignId);

    [Alias("ListAsync"), ReadOnly]
    Task<IReadOnlyList<string>> ListAsync();
}
