namespace GroupPay.Grains.Campaigns;

[GenerateSerializer, Alias("grouppay.CampaignState")]
public sealed class CampaignState
{
    [Id(0)] public CampaignDefinition? Definition { get; set; }

    /// <summary>Reservations made before the stock was split into shares (reservation id → openid, sold): handed to
    /// share 0 once, then emptied.</summary>
    [Id(1)] public Dictionary<string, StockReservation> Reservations { get; set; } = [];

    /// <summary>What each share was granted, gave back, and last reported (index = share).</summary>
    [Id(2)] public List<ShardAccount> Shards { get; set; } = [];

    /// <summary>When a share last asked for units and got fewer than a chunk because none were left unallocated:
    /// the other shares give back their free ones for a while.</summary>
    [Id(3)] public DateTimeOffset? StarvedAt { get; set; }
}

[GenerateSerializer, Immutable, Alias("grouppay.StockReservation")]
public sealed record StockReservation([property: Id(0)] string Openid, [property: Id(1)] bool Sold);

[GenerateSerializer, Alias("grouppay.ShardAccount")]
public sealed class ShardAccount
{
    [Id(0)] public long Granted { get; set; }

    [Id(1)] public long Returned { get; set; }

    [Id(2)] public int Reserved { get; set; }

    [Id(3)] public long Sold { get; set; }

    public long Held => Granted - Returned;
}

[GenerateSerializer, Alias("grouppay.StockShardState")]
public sealed class StockShardState
{
    /// <summary>Every unit the campaign granted this share (the campaign's total: adopted on each sync).</summary>
    [Id(0)] public long Granted { get; set; }

    /// <summary>Every unit this share gave back (the campaign learns it on the next sync).</summary>
    [Id(1)] public long Returned { get; set; }

    [Id(2)] public long Sold { get; set; }

    /// <summary>Live reservations: id → when reserved and when its group last said it keeps it.</summary>
    [Id(3)] public Dictionary<string, LiveReservation> Live { get; set; } = [];

    [Id(4)] public DateTimeOffset? ActiveFrom { get; set; }

    [Id(5)] public DateTimeOffset? ActiveUntil { get; set; }

    /// <summary>The campaign answered at least once (the active window is known).</summary>
    [Id(6)] public bool Synced { get; set; }

    /// <summary>Took the campaign's reservations made before the split (share 0 only).</summary>
    [Id(7)] public bool HasLegacy { get; set; }
}

[GenerateSerializer, Immutable, Alias("grouppay.LiveReservation")]
public sealed record LiveReservation([property: Id(0)] DateTimeOffset ReservedAt, [property: Id(1)] DateTimeOffset? KeptAt = null)
{
    public DateTimeOffset LastSeen => KeptAt ?? ReservedAt;
}

[GenerateSerializer, Alias("grouppay.StockLimitState")]
public sealed class StockLimitState
{
    /// <summary>The user's reservations that count against the limit (held, paid or sold): id → when taken.</summary>
    [Id(0)] public Dictionary<string, DateTimeOffset> Units { get; set; } = [];
}
