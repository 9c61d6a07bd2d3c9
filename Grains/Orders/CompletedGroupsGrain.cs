namespace GroupPay.Grains.Orders;

/// <summary><see cref="ICompletedGroupsGrain"/>: a capped list of the newest completions, stored with the last
/// sequence number given out (so numbers are never reused, also after entries are dropped).</summary>
[GrainType("completed-groups")]
public sealed class CompletedGroupsGrain(
    [PersistentState("feed", GrainStorage.Name)] IPersistentState<CompletedGroupsState> state) : Grain, ICompletedGroupsGrain
{
    public async Task AppendAsync(CompletedGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (state.State.Append(group, ICompletedGroupsGrain.Capacity))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<CompletedGroupsPage> ReadAsync(long after, int limit)
    {
        if (after < 0)
        {
            throw new InvalidRequestException("after must be 0 or a sequence number the feed gave.");
        }
        if (limit is < 1 or > ICompletedGroupsGrain.MaxPage)
        {
            throw new InvalidRequestException($"limit must be between 1 and {ICompletedGroupsGrain.MaxPage}.");
        }
        return Task.FromResult(state.State.Read(after, limit));
    }
}

/// <summary>The feed's stored state and its rules (no I/O).</summary>
[GenerateSerializer, Alias("grouppay.CompletedGroupsState")]
public sealed class CompletedGroupsState
{
    /// <summary>The newest completions, oldest first, at most the feed's capacity.</summary>
    [Id(0)] public List<CompletedGroupEntry> Entries { get; set; } = [];

    [Id(1)] public long LastSequence { get; set; }

    /// <summary>Appends the group under the next number, dropping the oldest beyond <paramref name="capacity"/>; false
    /// (nothing changes) when the group is already in the feed.</summary>
    public bool Append(CompletedGroup group, int capacity)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (Entries.Exists(e => e.Group.GroupId == group.GroupId))
        {
            return false;
        }
        LastSequence++;
        Entries.Add(new CompletedGroupEntry(LastSequence, group));
        if (Entries.Count > capacity)
        {
            Entries.RemoveRange(0, Entries.Count - capacity);
        }
        return true;
    }

    /// <summary>Up to <paramref name="limit"/> entries after <paramref name="after"/>, the next cursor, and how many
    /// entries after <paramref name="after"/> were dropped before they could be read.</summary>
    public CompletedGroupsPage Read(long after, int limit)
    {
        var oldest = Entries.Count > 0 ? Entries[0].Sequence : LastSequence + 1;
        var missed = Math.Max(0, oldest - 1 - after);
        var entries = Entries.Where(e => e.Sequence > after).Take(limit).ToList();
        var cursor = entries.Count > 0 ? entries[^1].Sequence : Math.Max(after, oldest - 1);
        return new CompletedGroupsPage(entries, cursor, missed);
    }
}
