namespace GroupPay.Grains.Campaigns;

/// <summary>Timings of the split stock (section <c>Stock</c>).</summary>
public sealed class StockOptions
{
    public const string SectionName = "Stock";

    /// <summary>How often an active share syncs with its campaign (reports, gives back free units when asked).</summary>
    public TimeSpan SyncPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a share with live reservations asks their groups about the ones it has not heard of for
    /// <see cref="CheckAfter"/> (a hold never stored, a release or a sale whose call was lost), so no unit stays
    /// leaked; also the period of the reminder that wakes an idle share for it.</summary>
    public TimeSpan CheckPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A reservation not heard of for this long is asked about; longer than any one grain call.</summary>
    public TimeSpan CheckAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Most reservations asked about in one check.</summary>
    public int MaxChecks { get; set; } = 100;

    /// <summary>How long a campaign's stock counts (summed from its shares) are reused for its readers.</summary>
    public TimeSpan ViewCache { get; set; } = TimeSpan.FromMilliseconds(500);
}
