namespace GroupPay.Grains.Campaigns;

/// <summary><see cref="IOpenGroupsGrain"/>: the newest group ids in memory, bounded; the activation stays while groups
/// are started (a day after the last one at most), so the list outlives idle collection.</summary>
[GrainType("open-groups")]
public sealed class OpenGroupsGrain : Grain, IOpenGroupsGrain
{
    private static readonly TimeSpan KeepFor = TimeSpan.FromDays(1);

    private readonly LinkedList<string> _newestFirst = new();

    public Task AddAsync(string groupId)
    {
        ArgumentException.ThrowIfNullOrEmpty(groupId);
        var existing = _newestFirst.Find(groupId);
        if (existing is not null)
        {
            _newestFirst.Remove(existing);
        }
        _newestFirst.AddFirst(groupId);
        while (_newestFirst.Count > IOpenGroupsGrain.Capacity)
        {
            _newestFirst.RemoveLast();
        }
        DelayDeactivation(KeepFor);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> RecentAsync(int count, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>([.. _newestFirst.Take(Math.Clamp(count, 0, IOpenGroupsGrain.Capacity))]);
}
