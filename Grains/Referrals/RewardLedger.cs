using System.Globalization;
using GroupPay.Grains.Ledger;

namespace GroupPay.Grains.Referrals;

/// <summary>One reward as the user's ledger in Redis keeps it (<see cref="ReferralStore.RewardsKey"/>, field = the
/// payment id). <see cref="Sequence"/> numbers a user's rewards 1, 2, … in the order they were recorded.</summary>
public sealed record StoredReward(
    long Sequence,
    string PaymentId,
    string CampaignId,
    long AmountFen,
    RewardStatus Status,
    DateTimeOffset EarnedAt,
    DateTimeOffset? GrantAt)
{
    /// <summary><c>sequence|amountFen|status|earnedAt ms|grantAt ms or empty|campaignId</c> (the campaign last: it is
    /// the only free text).</summary>
    public string Format() => string.Join('|',
        Sequence.ToString(CultureInfo.InvariantCulture),
        AmountFen.ToString(CultureInfo.InvariantCulture),
        ((int)Status).ToString(CultureInfo.InvariantCulture),
        EarnedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        GrantAt?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? "",
        CampaignId);

    public static StoredReward Parse(string paymentId, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split('|', 6);
        if (parts.Length != 6)
        {
            throw new FormatException($"Not a stored reward: '{value}'.");
        }
        long Number(string s) => long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return new StoredReward(
            Number(parts[0]),
            paymentId,
            parts[5],
            Number(parts[1]),
            (RewardStatus)Number(parts[2]),
            DateTimeOffset.FromUnixTimeMilliseconds(Number(parts[3])),
            parts[4].Length == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(Number(parts[4])));
    }

    public RewardLine ToLine() => new(PaymentId, AmountFen, Status);
}

/// <summary>
/// The reward ledger's rules over the user's state (counters, the recent page) and the ledger in Redis: no I/O. Each
/// change updates the state and adds to <see cref="CountedChanges"/> the Redis writes that store it, so the state's
/// write stores both or neither.
/// </summary>
public static class RewardLedger
{
    /// <summary>How many of the newest rewards the state keeps (the first page of <c>/api/me/rewards</c>).</summary>
    public const int RecentCount = ReferralLimits.DefaultRewardPage;

    /// <summary>True when a reward may be added: not already recorded for its payment, worth something, and under the
    /// campaign's cap for the China-time day it was earned on.</summary>
    public static bool Admits(RewardEntry entry, bool recorded, long earnedThatDay)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return !recorded && entry.AmountFen > 0 && earnedThatDay < entry.DailyCap;
    }

    /// <summary>The China-time day a reward counts against the daily cap on.</summary>
    public static DateOnly DayOf(DateTimeOffset earnedAt) => RedisTallyStore.DayOf(earnedAt);

    /// <summary>Records a new pending reward as the user's next.</summary>
    public static StoredReward Add(ReferralState state, string openid, RewardEntry entry, CountedChanges writes)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(writes);
        var reward = new StoredReward(state.RewardCount + 1, entry.PaymentId, entry.CampaignId, entry.AmountFen,
            RewardStatus.Pending, entry.EarnedAt, null);
        state.RewardCount = reward.Sequence;
        Count(state, reward.Status, reward.AmountFen);
        state.RecentRewards.Add(new RecentReward { Sequence = reward.Sequence, PaymentId = reward.PaymentId, AmountFen = reward.AmountFen, Status = reward.Status });
        if (state.RecentRewards.Count > RecentCount)
        {
            state.RecentRewards.RemoveRange(0, state.RecentRewards.Count - RecentCount);
        }
        writes.Write(new StoreWrite(StoreCommand.HashSet, ReferralStore.RewardsKey(openid), reward.PaymentId, reward.Format()))
            .Write(new StoreWrite(StoreCommand.SortedSetAdd, ReferralStore.OrderKey(openid), Score(reward.Sequence), reward.PaymentId))
            .Write(new StoreWrite(StoreCommand.HashIncrement, ReferralStore.DayKey(openid, DayOf(reward.EarnedAt)), reward.CampaignId, "1"));
        return reward;
    }

    /// <summary>The reward's group completed: it is granted at <paramref name="grantAt"/> (at once when that has
    /// passed), else it waits in the time-ordered grant set. Null when there is nothing to schedule (not pending, or
    /// already scheduled).</summary>
    public static StoredReward? Schedule(ReferralState state, string openid, StoredReward reward, DateTimeOffset grantAt, DateTimeOffset now, CountedChanges writes)
    {
        ArgumentNullException.ThrowIfNull(reward);
        ArgumentNullException.ThrowIfNull(writes);
        if (reward.Status != RewardStatus.Pending || reward.GrantAt is not null)
        {
            return null;
        }
        var scheduled = reward with { GrantAt = grantAt };
        if (grantAt <= now)
        {
            return Move(state, openid, scheduled, RewardStatus.Granted, writes);
        }
        writes.Write(new StoreWrite(StoreCommand.HashSet, ReferralStore.RewardsKey(openid), scheduled.PaymentId, scheduled.Format()))
            .Write(new StoreWrite(StoreCommand.SortedSetAdd, ReferralStore.GrantsKey(openid), Score(grantAt.ToUnixTimeMilliseconds()), scheduled.PaymentId));
        return scheduled;
    }

    /// <summary>A scheduled reward whose time came is granted; null when it is not pending any more (or its time has
    /// not come), and then it only leaves the grant set.</summary>
    public static StoredReward? Grant(ReferralState state, string openid, StoredReward reward, DateTimeOffset now, CountedChanges writes)
    {
        ArgumentNullException.ThrowIfNull(reward);
        if (reward.Status == RewardStatus.Pending && reward.GrantAt is { } at && at <= now)
        {
            return Move(state, openid, reward, RewardStatus.Granted, writes);
        }
        if (reward.Status != RewardStatus.Pending)
        {
            writes.Write(new StoreWrite(StoreCommand.SortedSetRemove, ReferralStore.GrantsKey(openid), reward.PaymentId));
        }
        return null;
    }

    /// <summary>The reward's payment was refunded: reversed, pending or granted; null when it already was.</summary>
    public static StoredReward? Reverse(ReferralState state, string openid, StoredReward reward, CountedChanges writes)
    {
        ArgumentNullException.ThrowIfNull(reward);
        return reward.Status == RewardStatus.Reversed ? null : Move(state, openid, reward, RewardStatus.Reversed, writes);
    }

    private static StoredReward Move(ReferralState state, string openid, StoredReward reward, RewardStatus to, CountedChanges writes)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(writes);
        Count(state, reward.Status, -reward.AmountFen);
        Count(state, to, reward.AmountFen);
        var moved = reward with { Status = to };
        if (state.RecentRewards.Find(r => r.Sequence == moved.Sequence) is { } recent)
        {
            recent.Status = to;
        }
        writes.Write(new StoreWrite(StoreCommand.HashSet, ReferralStore.RewardsKey(openid), moved.PaymentId, moved.Format()));
        if (reward.Status == RewardStatus.Pending && reward.GrantAt is not null)
        {
            writes.Write(new StoreWrite(StoreCommand.SortedSetRemove, ReferralStore.GrantsKey(openid), moved.PaymentId));
        }
        return moved;
    }

    private static void Count(ReferralState state, RewardStatus status, long amountFen)
    {
        switch (status)
        {
            case RewardStatus.Pending:
                state.PendingFen = checked(state.PendingFen + amountFen);
                break;
            case RewardStatus.Granted:
                state.GrantedFen = checked(state.GrantedFen + amountFen);
                break;
            case RewardStatus.Reversed:
                state.ReversedFen = checked(state.ReversedFen + amountFen);
                break;
        }
    }

    /// <summary>A sorted-set score: whole numbers below 2^53 are exact in Redis' doubles (sequences, Unix ms).</summary>
    public static string Score(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The first page from the state alone, when it holds the whole page: newest first, up to
    /// <paramref name="limit"/>; null when the page needs the ledger in Redis.</summary>
    public static (IReadOnlyList<RewardLine> Lines, long? Next)? RecentPage(ReferralState state, int limit)
    {
        ArgumentNullException.ThrowIfNull(state);
        var recent = state.RecentRewards;
        if (limit > recent.Count && recent.Count < state.RewardCount)
        {
            return null;
        }
        var lines = recent.AsEnumerable().Reverse().Take(limit).ToList();
        var last = lines.Count == 0 ? 0 : recent[^lines.Count].Sequence;
        return ([.. lines.Select(r => new RewardLine(r.PaymentId, r.AmountFen, r.Status))], NextAfter(last));
    }

    /// <summary>The cursor after a page whose oldest reward has sequence <paramref name="oldest"/>: null when it was
    /// the first reward ever (sequences run 1, 2, … without gaps, and rewards are never deleted).</summary>
    public static long? NextAfter(long oldest) => oldest > 1 ? oldest : null;

    /// <summary>
    /// What a state written before the ledger left the state holds (<see cref="ReferralState.Rewards"/>), as the
    /// ledger's records: numbered in the order they were earned, after the rewards the state already numbered; and how
    /// many each China-time day and campaign counts against the cap.
    /// </summary>
    public static (IReadOnlyList<StoredReward> Rewards, IReadOnlyDictionary<(DateOnly Day, string CampaignId), long> PerDay) Migrated(ReferralState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var rewards = state.Rewards
            .OrderBy(r => r.Value.EarnedAt) // stable: payments earned at the same instant keep the dictionary's order
            .Select((r, i) => new StoredReward(state.RewardCount + i + 1, r.Key, r.Value.CampaignId, r.Value.AmountFen, r.Value.Status, r.Value.EarnedAt, r.Value.GrantAt))
            .ToList();
        var perDay = rewards.GroupBy(r => (DayOf(r.EarnedAt), r.CampaignId)).ToDictionary(g => g.Key, g => (long)g.Count());
        return (rewards, perDay);
    }

    /// <summary>Moves the migrated rewards' counts and newest page into the state and empties the old fields (the
    /// ledger in Redis already holds them).</summary>
    public static void CompleteMigration(ReferralState state, IReadOnlyList<StoredReward> migrated)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(migrated);
        foreach (var reward in migrated)
        {
            Count(state, reward.Status, reward.AmountFen);
            state.RecentRewards.Add(new RecentReward { Sequence = reward.Sequence, PaymentId = reward.PaymentId, AmountFen = reward.AmountFen, Status = reward.Status });
        }
        state.RecentRewards.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        if (state.RecentRewards.Count > RecentCount)
        {
            state.RecentRewards.RemoveRange(0, state.RecentRewards.Count - RecentCount);
        }
        state.RewardCount += migrated.Count;
        state.Rewards = [];
        state.Invitees = [];
    }
}
