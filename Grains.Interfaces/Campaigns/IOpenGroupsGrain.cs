using Orleans.Concurrency;

namespace GroupPay.Grains.Campaigns;

/// <summary>A campaign's most recently started groups (凑团 on the H5 home page: groups a shopper can join), keyed by
/// campaign id. A soft list held in memory only (one in-memory turn, no storage write, on the path of starting a group): kept while
/// groups keep being started, empty again after a silo restart or a day without one. The caller reads the groups
/// themselves to tell which are still open with a free slot.</summary>
[Alias("grouppay.IOpenGroupsGrain")]
public interface IOpenGroupsGrain : IGrainWithStringKey
{
    /// <summary>How many group ids the list keeps, newest first.</summary>
    public const int Capacity = 100;

    /// <summary>Records a group just started (again: moved to the front).</summary>
    [Alias("AddAsync")]
    Task AddAsync(string groupId);

    /// <summary>Up to <paramref name="count"/> (at most <see cref="Capacity"/>) group ids, newest first.</summary>
    [Alias("RecentAsync"), ReadOnly]
    Task<IReadOnlyList<string>> RecentAsync(int count, CancellationToken cancellationToken = default);
}
