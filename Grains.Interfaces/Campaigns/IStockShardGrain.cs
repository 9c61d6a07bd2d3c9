using Orleans.Concurrency;

namespace GroupPay.Grains.Campaigns;

/// <summary>
/// One share of a campaign's stock, keyed <c>{campaignId}/{index}</c> (<see cref="Key"/>): it owns the units its
/// campaign granted it and counts what it reserved and sold, so a flash sale's holds spread over the cluster instead of
/// queueing at one grain. A reservation is known by its id only while it is live (held, or paid in an open group): sold
/// units are a counter. Never sells more than it was granted; asks its campaign for more when it runs dry.
/// </summary>
[Alias("grouppay.IStockShardGrain")]
public interface IStockShardGrain : IGrainWithStringKey
{
    /// <summary>Reserves one unit for <paramref name="reservationId"/> (<c>{group}/{slot}/{hold}</c>); idempotent.
    /// <see cref="StockAnswer.Dry"/>: this share has none left (another may).</summary>
    [Alias("ReserveAsync")]
    Task<StockAnswer> ReserveAsync(string reservationId);

    /// <summary>The reservation's unit is sold (its group completed); idempotent.</summary>
    [Alias("ConfirmAsync")]
    Task ConfirmAsync(string reservationId);

    /// <summary>The reservation's unit goes back to stock; idempotent, unknown ids ignored.</summary>
    [Alias("ReleaseAsync")]
    Task ReleaseAsync(string reservationId);

    /// <summary>What this share holds now (its campaign's view sums them).</summary>
    [Alias("GetCountsAsync"), AlwaysInterleave]
    Task<ShardCounts> GetCountsAsync();

    static string Key(string campaignId, int index) => $"{campaignId}/{index}";
}

public enum StockAnswer
{
    Reserved,

    /// <summary>This share has no unit left now; try another.</summary>
    Dry,

    /// <summary>The campaign is not active.</summary>
    Closed,
}

[GenerateSerializer, Immutable, Alias("grouppay.ShardCounts")]
public sealed record ShardCounts([property: Id(0)] int Reserved, [property: Id(1)] long Sold, [property: Id(2)] long Free);

/// <summary>What a share tells its campaign when it syncs: the totals it has taken in and given back (the campaign
/// keeps the larger of its own and these, so a lost answer is never counted twice), what it holds, and whether it
/// wants more units.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.ShardReport")]
public sealed record ShardReport(
    [property: Id(0)] long Granted,
    [property: Id(1)] long Returned,
    [property: Id(2)] int Reserved,
    [property: Id(3)] long Sold,
    [property: Id(4)] bool WantsMore,
    [property: Id(5)] bool HasLegacy);

/// <summary>The campaign's answer to a share: every unit granted to it so far (the share adopts it), how many free
/// units it should give back (the campaign ran dry, or its stock was lowered), the active window, and, once, the
/// reservations of the campaign's stock made before it was split (share 0 takes them).</summary>
[GenerateSerializer, Immutable, Alias("grouppay.ShardGrant")]
public sealed record ShardGrant(
    [property: Id(0)] long Granted,
    [property: Id(1)] long GiveBack,
    [property: Id(2)] DateTimeOffset? ActiveFrom,
    [property: Id(3)] DateTimeOffset? ActiveUntil,
    [property: Id(4)] IReadOnlyList<string>? LegacyReserved = null,
    [property: Id(5)] long LegacySold = 0);

/// <summary>
/// One user's units of one campaign, keyed <c>{campaignId}/{openid}</c> (<see cref="Key"/>): enforces the per-user
/// limit where the user is, with state bounded by the limit (the reservations that count: held, paid or sold).
/// </summary>
[Alias("grouppay.IStockLimitGrain")]
public interface IStockLimitGrain : IGrainWithStringKey
{
    /// <summary>Counts <paramref name="reservationId"/> against the user's <paramref name="limit"/>; idempotent.
    /// False when the user already has <paramref name="limit"/> units that count.</summary>
    [Alias("TakeAsync")]
    Task<bool> TakeAsync(string reservationId, int limit);

    /// <summary>The reservation no longer counts (its hold lapsed, its payment was refunded); idempotent.</summary>
    [Alias("ReleaseAsync")]
    Task ReleaseAsync(string reservationId);

    static string Key(string campaignId, string openid) => $"{campaignId}/{openid}";
}

/// <summary>What a group says of a stock reservation (asked by a share or a user's limit about an old one).</summary>
public enum StockStatus
{
    /// <summary>The group does not hold it (its hold lapsed, was refunded, or was never stored).</summary>
    Gone,

    /// <summary>Held, or paid in a group still open.</summary>
    Kept,

    /// <summary>Paid in a completed group.</summary>
    Sold,
}
