namespace GroupPay.Grains.Campaigns;

/// <summary>
/// The campaign's side of split stock: how many shares, how big a grant, and what each share may keep. The sum of what
/// the shares hold (granted less what they reported given back) never exceeds the stock, and a share gives units back
/// before it reports them, so units can be stranded for a sync period but never counted twice.
/// </summary>
public static class CampaignStock
{
    /// <summary>Units per automatic share: a share's live reservations stay well under 64 KB of state.</summary>
    public const int UnitsPerShard = 2_000;

    /// <summary>How long after a share found the campaign empty the others give back their free units.</summary>
    public static readonly TimeSpan StarvedFor = TimeSpan.FromSeconds(30);

    public static int ShardsFor(CampaignDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.StockShards > 0
            ? definition.StockShards
            : Math.Clamp((definition.Stock + UnitsPerShard - 1) / UnitsPerShard, 1, 16);
    }

    /// <summary>Stores a (re)definition: the number of shares is the first definition's.</summary>
    public static CampaignDefinition Define(CampaignState state, CampaignDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(definition);
        var shards = state.Definition is { } old ? Math.Max(1, old.StockShards) : ShardsFor(definition);
        state.Definition = definition with { StockShards = shards };
        Split(state);
        return state.Definition;
    }

    /// <summary>Gives the campaign its share accounts; reservations made before the split are granted to share 0.</summary>
    public static void Split(CampaignState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var shards = Math.Max(1, state.Definition?.StockShards ?? 1);
        if (state.Shards.Count == 0 && state.Reservations.Count > 0)
        {
            var sold = state.Reservations.Values.Count(r => r.Sold);
            state.Shards.Add(new ShardAccount { Granted = state.Reservations.Count, Reserved = state.Reservations.Count - sold, Sold = sold });
        }
        while (state.Shards.Count < shards)
        {
            state.Shards.Add(new ShardAccount());
        }
    }

    public static long Unallocated(CampaignState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return (state.Definition?.Stock ?? 0) - state.Shards.Sum(s => s.Held);
    }

    /// <summary>How many units one grant gives: a quarter of a share's part, at least one, at most
    /// <see cref="ShardStock.MaxLive"/> / 4.</summary>
    public static int Chunk(CampaignDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return Math.Clamp(definition.Stock / (Math.Max(1, definition.StockShards) * 4), 1, ShardStock.MaxLive / 4);
    }

    /// <summary>A share's sync: takes in its report, grants it a chunk if it wants more, and says what it should give back.</summary>
    public static ShardGrant Sync(CampaignState state, int index, ShardReport report, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(report);
        var definition = state.Definition ?? throw new InvalidOperationException("The campaign is not defined.");
        Split(state);
        if (index < 0 || index >= state.Shards.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "No such stock share.");
        }
        var account = state.Shards[index];
        account.Returned = Math.Max(account.Returned, report.Returned);
        account.Reserved = report.Reserved;
        account.Sold = report.Sold;
        if (report.WantsMore)
        {
            var chunk = Chunk(definition);
            var grant = Math.Clamp(Unallocated(state), 0, chunk);
            account.Granted += grant;
            if (grant < chunk)
            {
                state.StarvedAt = now;
            }
        }
        // The share's free units by the campaign's count: what it holds less what it reported live or sold.
        var free = Math.Max(0, account.Held - account.Reserved - account.Sold);
        var over = -Unallocated(state);
        var giveBack = over > 0 ? Math.Min(free, over)
            : !report.WantsMore && state.StarvedAt is { } starved && now - starved < StarvedFor ? free
            : 0;
        IReadOnlyList<string>? legacy = null;
        long legacySold = 0;
        if (index == 0 && state.Reservations.Count > 0)
        {
            if (report.HasLegacy)
            {
                state.Reservations.Clear();
            }
            else
            {
                legacy = [.. state.Reservations.Where(r => !r.Value.Sold).Select(r => r.Key)];
                legacySold = state.Reservations.Count - legacy.Count;
            }
        }
        return new ShardGrant(account.Granted, giveBack, definition.ActiveFrom, definition.ActiveUntil, legacy, legacySold);
    }
}

public enum ShardAnswer
{
    Reserved,

    /// <summary>No free unit: sync with the campaign for more, then try again.</summary>
    NeedsUnits,

    /// <summary>Full of live reservations (its state stays bounded): try another share.</summary>
    Full,

    Closed,
}

/// <summary>A stock share's rules over its state: counters for what it was granted, gave back and sold, and the live
/// reservations by id (bounded by <see cref="MaxLive"/>).</summary>
public sealed class ShardStock(StockShardState state)
{
    /// <summary>The most live reservations one share keeps (about 45 B each in its state).</summary>
    public const int MaxLive = 1_000;

    public StockShardState State { get; } = state;

    public long Free => State.Granted - State.Returned - State.Live.Count - State.Sold;

    public ShardCounts Counts => new(State.Live.Count, State.Sold, Math.Max(0, Free));

    public ShardReport Report(bool wantsMore) => new(State.Granted, State.Returned, State.Live.Count, State.Sold, wantsMore, State.HasLegacy);

    public ShardAnswer Reserve(string reservationId, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(reservationId);
        if (State.Live.ContainsKey(reservationId))
        {
            State.Live[reservationId] = new LiveReservation(now);
            return ShardAnswer.Reserved;
        }
        if (!State.Synced)
        {
            return ShardAnswer.NeedsUnits;
        }
        if ((State.ActiveFrom is { } from && now < from) || (State.ActiveUntil is { } until && now >= until))
        {
            return ShardAnswer.Closed;
        }
        if (State.Live.Count >= MaxLive)
        {
            return ShardAnswer.Full;
        }
        if (Free <= 0)
        {
            return ShardAnswer.NeedsUnits;
        }
        State.Live[reservationId] = new LiveReservation(now);
        return ShardAnswer.Reserved;
    }

    /// <summary>Sold: the unit leaves the live set for the sold counter. False when the id is not live.</summary>
    public bool Confirm(string reservationId)
    {
        if (!State.Live.Remove(reservationId))
        {
            return false;
        }
        State.Sold++;
        return true;
    }

    public bool Release(string reservationId) => State.Live.Remove(reservationId);

    /// <summary>Takes in the campaign's answer; gives back what it asks for out of the free units. True when the state changed.</summary>
    public bool Apply(ShardGrant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var before = (State.Granted, State.Returned, State.ActiveFrom, State.ActiveUntil, State.Synced, State.HasLegacy);
        State.Granted = grant.Granted;
        State.ActiveFrom = grant.ActiveFrom;
        State.ActiveUntil = grant.ActiveUntil;
        State.Synced = true;
        if (grant.LegacyReserved is { } legacy && !State.HasLegacy)
        {
            foreach (var id in legacy)
            {
                State.Live.TryAdd(id, new LiveReservation(DateTimeOffset.MinValue));
            }
            State.Sold += grant.LegacySold;
            State.HasLegacy = true;
        }
        var giveBack = Math.Min(grant.GiveBack, Math.Max(0, Free));
        State.Returned += giveBack;
        return before != (State.Granted, State.Returned, State.ActiveFrom, State.ActiveUntil, State.Synced, State.HasLegacy);
    }

    /// <summary>Live reservations not heard of from their group for <paramref name="quietFor"/>, oldest first:
    /// those to ask their group about (a hold never stored, a release or a sale whose call was lost).</summary>
    public IReadOnlyList<string> ToCheck(DateTimeOffset now, TimeSpan quietFor, int max) =>
        [.. State.Live.Where(r => now - r.Value.LastSeen >= quietFor).OrderBy(r => r.Value.LastSeen).Take(max).Select(r => r.Key)];

    /// <summary>Applies what a group said of one of its reservations. True when the state changed.</summary>
    public bool Checked(string reservationId, StockStatus status, DateTimeOffset now)
    {
        if (!State.Live.TryGetValue(reservationId, out var live))
        {
            return false;
        }
        switch (status)
        {
            case StockStatus.Kept:
                State.Live[reservationId] = live with { KeptAt = now };
                return true;
            case StockStatus.Sold:
                return Confirm(reservationId);
            default:
                return Release(reservationId);
        }
    }

    /// <summary>The group a reservation id (<c>{group}/{slot}/{hold}</c>) belongs to.</summary>
    public static string GroupOf(string reservationId)
    {
        ArgumentNullException.ThrowIfNull(reservationId);
        var slash = reservationId.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? reservationId : reservationId[..slash];
    }
}
