namespace GroupPay.Grains.Campaigns;

/// <summary>A slot's stock reservation as its group stores it (<c>{id}|{share}|{openid}</c>): the id, the share that
/// holds the unit and the user whose limit it counts against. A reservation stored before the stock was split is its
/// id alone: share 0 took it over, and no user's limit counts it.</summary>
public readonly record struct StockUnit(string ReservationId, int Shard, string? Openid)
{
    public override string ToString() => Openid is null ? ReservationId : $"{ReservationId}|{Shard}|{Openid}";

    public static StockUnit Parse(string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var parts = stored.Split('|');
        return parts.Length == 3
            ? new StockUnit(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), parts[2])
            : new StockUnit(stored, 0, null);
    }

    public IStockShardGrain ShardOf(IGrainFactory grains, string campaignId) =>
        grains.GetGrain<IStockShardGrain>(IStockShardGrain.Key(campaignId, Shard));

    public IStockLimitGrain? LimitOf(IGrainFactory grains, string campaignId) =>
        Openid is null ? null : grains.GetGrain<IStockLimitGrain>(IStockLimitGrain.Key(campaignId, Openid));

    /// <summary>Gives the unit back to its share and takes it off the user's limit; idempotent.</summary>
    public async Task ReleaseAsync(IGrainFactory grains, string campaignId)
    {
        ArgumentNullException.ThrowIfNull(grains);
        await ShardOf(grains, campaignId).ReleaseAsync(ReservationId);
        if (LimitOf(grains, campaignId) is { } limit)
        {
            await limit.ReleaseAsync(ReservationId);
        }
    }
}
