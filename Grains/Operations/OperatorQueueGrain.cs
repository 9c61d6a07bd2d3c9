namespace GroupPay.Grains.Operations;

/// <summary>
/// The operator queue (key 0): an index of the open items and of the most recently resolved ones, in front of one
/// <see cref="OperatorItemGrain"/> per item. Each change is stored on the item first and then in the index; a call
/// that failed in between is repaired by the next call about the same item.
/// </summary>
[GrainType("operator-queue")]
public sealed class OperatorQueueGrain(
    [PersistentState("queue", GrainStorage.Name)] IPersistentState<OperatorQueueState> state) : Grain, IOperatorQueueGrain
{
    /// <summary>How many resolved items the index keeps for listing.</summary>
    public const int MaxResolved = 200;

    private static readonly Comparer<OperatorIndexEntry> Oldest = Comparer<OperatorIndexEntry>.Create((a, b) =>
        a.FirstSeen != b.FirstSeen ? a.FirstSeen.CompareTo(b.FirstSeen) : string.CompareOrdinal(a.ItemId, b.ItemId));

    private OperatorQueueState State => state.State;

    public async Task RaiseAsync(OperatorItemReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        EnsureItemId(report.ItemId);
        await IndexAsync(await Item(report.ItemId).RaiseAsync(report));
    }

    public async Task SettleAsync(string itemId, string note)
    {
        if (OperatorItemRules.IsItemId(itemId) && await Item(itemId).SettleAsync(note) is { } item)
        {
            await IndexAsync(item);
        }
    }

    public async Task<OperatorItemPage> ListAsync(OperatorItemQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > OperatorItemRules.MaxPageSize)
        {
            throw new InvalidRequestException($"limit must be between 1 and {OperatorItemRules.MaxPageSize}.");
        }
        IEnumerable<OperatorIndexEntry> matching = Entries(query.Status).Where(e => query.Kind is not { } kind || e.Kind == kind).Order(Oldest);
        if (query.After is not null)
        {
            var after = await PositionOfAsync(query.After);
            matching = matching.Where(e => Oldest.Compare(e, after) > 0);
        }
        var page = matching.Take(query.Limit + 1).ToList();
        var items = await Task.WhenAll(page.Take(query.Limit).Select(e => Item(e.ItemId).GetAsync()));
        var found = items.OfType<OperatorItem>().ToList();
        return new OperatorItemPage(found, page.Count > query.Limit ? page[query.Limit - 1].ItemId : null);
    }

    public Task<OperatorItem?> GetAsync(string itemId) =>
        OperatorItemRules.IsItemId(itemId) ? Item(itemId).GetAsync() : Task.FromResult<OperatorItem?>(null);

    /// <summary>Only forwards to the item (a retry changes no status, so the index stays as it is); the interface lets
    /// it interleave, so a slow order grain does not hold up the queue.</summary>
    public Task<OperatorItem> RetryAsync(string itemId, string actor, string? note)
    {
        EnsureItemId(itemId);
        return Item(itemId).RetryAsync(actor, note);
    }

    public async Task<OperatorItem> ResolveAsync(string itemId, string actor, string note)
    {
        EnsureItemId(itemId);
        var item = await Item(itemId).ResolveAsync(actor, note);
        await IndexAsync(item);
        return item;
    }

    public Task<OperatorQueueCounts> CountsAsync()
    {
        var byKind = Enum.GetValues<OperatorItemKind>().ToDictionary(k => k, _ => 0);
        foreach (var entry in State.Open.Values)
        {
            byKind[entry.Kind]++;
        }
        DateTimeOffset? oldest = State.Open.Count == 0 ? null : State.Open.Values.Min(e => e.FirstSeen);
        return Task.FromResult(new OperatorQueueCounts(byKind, oldest));
    }

    private IOperatorItemGrain Item(string itemId) => GrainFactory.GetGrain<IOperatorItemGrain>(itemId);

    private static void EnsureItemId(string? itemId)
    {
        if (!OperatorItemRules.IsItemId(itemId))
        {
            throw new InvalidRequestException($"An item id is 1..{OperatorItemRules.MaxItemIdLength} of [0-9A-Za-z:_./-].");
        }
    }

    private IEnumerable<OperatorIndexEntry> Entries(OperatorItemStatus? status) => status switch
    {
        OperatorItemStatus.Open => State.Open.Values,
        OperatorItemStatus.Resolved => State.Resolved,
        _ => State.Open.Values.Concat(State.Resolved),
    };

    /// <summary>Where the previous page ended: the index's entry, or (the item left the index since) the item itself.</summary>
    private async Task<OperatorIndexEntry> PositionOfAsync(string after)
    {
        if (State.Open.TryGetValue(after, out var open))
        {
            return open;
        }
        if (State.Resolved.Find(e => e.ItemId == after) is { } resolved)
        {
            return resolved;
        }
        var item = OperatorItemRules.IsItemId(after) ? await Item(after).GetAsync() : null;
        return item is null
            ? throw new InvalidRequestException($"after names no item: '{after}'.")
            : new OperatorIndexEntry(item.ItemId, item.Kind, item.FirstSeen);
    }

    /// <summary>Puts the item where its status says (open, or among the recently resolved) and stores the index when
    /// that moved anything.</summary>
    private async Task IndexAsync(OperatorItem item)
    {
        var entry = new OperatorIndexEntry(item.ItemId, item.Kind, item.FirstSeen);
        bool changed;
        if (item.Status == OperatorItemStatus.Open)
        {
            changed = State.Resolved.RemoveAll(e => e.ItemId == item.ItemId) > 0;
            if (!State.Open.TryGetValue(item.ItemId, out var indexed) || indexed != entry)
            {
                State.Open[item.ItemId] = entry;
                changed = true;
            }
        }
        else
        {
            changed = State.Open.Remove(item.ItemId);
            if (!State.Resolved.Exists(e => e.ItemId == item.ItemId))
            {
                State.Resolved.Add(entry);
                State.Resolved.RemoveRange(0, Math.Max(0, State.Resolved.Count - MaxResolved));
                changed = true;
            }
        }
        if (!changed)
        {
            return;
        }
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // What is in memory was never stored: let the next call read the store again.
            DeactivateOnIdle();
            throw;
        }
    }
}
