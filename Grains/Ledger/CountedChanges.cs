using GroupPay.Grains.Orders;
using GroupPay.Grains.Stats;

namespace GroupPay.Grains.Ledger;

/// <summary>A grain state whose writes change the figures and the ledger too: the grain sets what its next write
/// changes there, and <see cref="CountedGrainStorage"/> commits it in the same Redis script as the state (both or
/// neither), so a count is never lost, added twice, or seen before its change is stored.</summary>
public interface ICountedState
{
    /// <summary>What the write in progress changes in the figures and the ledger (not part of the stored state).</summary>
    CountedChanges? Uncommitted { get; set; }
}

/// <summary>A command of a <see cref="StoreWrite"/>: the few the counted write script runs on keys other than the
/// state's (append only: the script names them).</summary>
public enum StoreCommand
{
    /// <summary><c>HSET key field value</c>.</summary>
    HashSet,

    /// <summary><c>HINCRBY key field delta</c>, then the key expires after the figures' retention.</summary>
    HashIncrement,

    /// <summary><c>ZADD key score member</c>.</summary>
    SortedSetAdd,

    /// <summary><c>ZREM key member</c>.</summary>
    SortedSetRemove,

    /// <summary><c>SADD key member</c>.</summary>
    SetAdd,

    /// <summary><c>SREM key member</c>.</summary>
    SetRemove,
}

/// <summary>A write to a key under <c>{ServiceId}/</c> (<paramref name="Key"/> without that prefix) that the state's
/// write applies with it: a ledger kept outside the state (a user's rewards) changes with the state or not at all.</summary>
public readonly record struct StoreWrite(StoreCommand Command, string Key, string Argument, string? Value = null);

/// <summary>One counter of one scope (a campaign, or <see cref="StatsScope.Total"/>) moved by <see cref="Delta"/>.</summary>
public readonly record struct CounterChange(string Scope, Counter Counter, long Delta);

/// <summary>
/// What one state write changes in the figures and the ledger: the difference between what the stored state counted
/// (the grain's last committed tally) and what the new one counts, the ledger entries it adds, and the group it adds
/// to its campaign's set. The store's etag check makes the difference exact: a write over a state that is not the
/// committed one fails and commits none of it.
/// </summary>
public sealed class CountedChanges
{
    private readonly Dictionary<(string Scope, Counter Counter), long> _counters = [];
    private readonly List<LedgerEntry> _ledger = [];
    private readonly List<StoreWrite> _writes = [];

    public IEnumerable<CounterChange> Counters => NonZeroCounters();

    /// <summary>The counters this change moves, in one array (what the write script is given).</summary>
    public CounterChange[] NonZeroCounters()
    {
        var moved = 0;
        foreach (var delta in _counters.Values)
        {
            moved += delta == 0 ? 0 : 1;
        }
        var changes = new CounterChange[moved];
        var i = 0;
        foreach (var ((scope, counter), delta) in _counters)
        {
            if (delta != 0)
            {
                changes[i++] = new CounterChange(scope, counter, delta);
            }
        }
        return changes;
    }

    public IReadOnlyList<LedgerEntry> Ledger => _ledger;

    /// <summary>The writes to other keys, in order.</summary>
    public IReadOnlyList<StoreWrite> Writes => _writes;

    /// <summary>True when the change moves a counter (a stored change of what the state counts).</summary>
    public bool MovesCounters => _counters.Values.Any(v => v != 0);

    /// <summary>The campaign whose group set the group joins with this write (its first), if any.</summary>
    public (string CampaignId, string GroupId)? NewGroup { get; private set; }

    /// <summary>The stored state itself expires this long after the write (an archived group leaves the grain store by
    /// Redis' own expiry); <see cref="TimeSpan.MaxValue"/> removes an expiry set before; null leaves it as it is.</summary>
    public TimeSpan? StateExpiry { get; set; }

    /// <summary>Keys under <c>{ServiceId}/</c> (without that prefix) that live and leave with the state: they get the same
    /// <see cref="StateExpiry"/>, after the write's other commands (a user's ledger and referral code,
    /// docs/retention.md). Ignored while <see cref="StateExpiry"/> is null.</summary>
    public List<string> CompanionKeys { get; } = [];

    public bool IsEmpty => NewGroup is null && StateExpiry is null && _ledger.Count == 0 && _writes.Count == 0 && !MovesCounters;

    /// <summary>True for the commands that take a member and no value.</summary>
    public static bool TakesOneArgument(StoreCommand command) => command is StoreCommand.SortedSetRemove or StoreCommand.SetAdd or StoreCommand.SetRemove;

    /// <summary>Adds a write to another key, applied after the state's.</summary>
    public CountedChanges Write(StoreWrite write)
    {
        ArgumentException.ThrowIfNullOrEmpty(write.Key);
        if (write.Value is null != TakesOneArgument(write.Command))
        {
            throw new ArgumentException($"{write.Command} takes {(write.Value is null ? "a value" : "no value")}.", nameof(write));
        }
        _writes.Add(write);
        return this;
    }

    /// <summary>Adds the difference between two tallies of one scope's fields (<see cref="TallyField"/> names):
    /// each field counts in <paramref name="campaignId"/>'s figures, the shop's, or both, as its name says.</summary>
    public CountedChanges AddCounts(string campaignId, IReadOnlyDictionary<string, long>? before, IReadOnlyDictionary<string, long> now)
    {
        ArgumentNullException.ThrowIfNull(now);
        foreach (var (field, value) in now)
        {
            AddField(campaignId, field, value - (before?.GetValueOrDefault(field) ?? 0));
        }
        foreach (var (field, value) in before ?? EmptyCounts)
        {
            if (!now.ContainsKey(field))
            {
                AddField(campaignId, field, -value);
            }
        }
        return this;
    }

    private static readonly Dictionary<string, long> EmptyCounts = [];

    private void AddField(string campaignId, string field, long delta)
    {
        if (delta == 0)
        {
            return;
        }
        var (counter, inCampaign, inTotal) = TallyField.Parse(field);
        if (inCampaign)
        {
            Add(campaignId, counter, delta);
        }
        if (inTotal)
        {
            Add(StatsScope.Total, counter, delta);
        }
    }

    private void Add(string scope, Counter counter, long delta) => _counters[(scope, counter)] = _counters.GetValueOrDefault((scope, counter)) + delta;

    /// <summary>What a group's write changes: its counts' difference, the payments and refunds new in its ledger, and
    /// its campaign's group set on its first write. Null when the write changes none of them.</summary>
    public static CountedChanges? Between(GroupTally? committed, GroupTally now)
    {
        ArgumentNullException.ThrowIfNull(now);
        var changes = new CountedChanges().AddCounts(now.CampaignId, committed?.Counts, now.Counts);
        foreach (var entry in now.Ledger)
        {
            if (committed is null || !committed.Ledger.Contains(entry))
            {
                changes._ledger.Add(entry); // a group's ledger is a few entries: a scan beats a set
            }
        }
        if (string.IsNullOrEmpty(committed?.CampaignId))
        {
            changes.NewGroup = (now.CampaignId, now.GroupId);
        }
        return changes.IsEmpty ? null : changes;
    }
}
