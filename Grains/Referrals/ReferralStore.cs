using System.Globalization;
using GroupPay.Grains.Ledger;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace GroupPay.Grains.Referrals;

/// <summary>
/// A user's invitees and reward ledger, kept in the grain store's Redis beside the user's state so the state stays
/// the same size however many people they bring in (docs/referrals.md). Under <c>{ServiceId}/referral/{openid}/</c>:
/// <list type="bullet">
/// <item><c>invitees</c>: a set of openids (added directly: <c>SADD</c> is its own idempotency, <c>SCARD</c> the count);</item>
/// <item><c>rewards</c>: a hash, payment id → <see cref="StoredReward.Format"/> (the idempotency of every reward change);</item>
/// <item><c>order</c>: a sorted set of payment ids by sequence (the pages, newest first);</item>
/// <item><c>grants</c>: a sorted set of the scheduled pending rewards' payment ids by grant time (Unix ms);</item>
/// <item><c>day/{yyyy-MM-dd}</c>: a hash per China-time day, campaign → rewards earned (the daily cap), expiring after
/// the figures' retention.</item>
/// </list>
/// The grain writes the reward keys only through its state's write (<see cref="CountedChanges.Writes"/>), so they hold
/// exactly what the stored state has seen; this class reads them, adds invitees, and copies an old state's ledger in.
/// </summary>
public sealed class ReferralStore(RedisTallyStore figures, IOptions<TallyStoreOptions> options, IOptions<ClusterOptions> cluster)
{
    private const int MigrationBatch = 1000;

    private string Prefix => cluster.Value.ServiceId + "/";

    public static string InviteesKey(string openid) => $"referral/{openid}/invitees";

    public static string RewardsKey(string openid) => $"referral/{openid}/rewards";

    public static string OrderKey(string openid) => $"referral/{openid}/order";

    public static string GrantsKey(string openid) => $"referral/{openid}/grants";

    /// <summary>A set of what changed since the user was last archived: <c>r|{paymentId}</c> for a reward,
    /// <c>i|{openid}</c> for an invitee (written only with an archive configured; docs/retention.md).</summary>
    public static string UnarchivedKey(string openid) => $"referral/{openid}/unarchived";

    /// <summary>The referral code's state (Orleans' Redis grain storage: <see cref="ReferralCodeGrain"/>).</summary>
    public static string CodeStateKey(string referralCode) => $"state/referral-code/{referralCode}/code";

    public static string DayKey(string openid, DateOnly chinaDay) =>
        $"referral/{openid}/day/{chinaDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";

    // The figures' connection: the same Redis, one connection for both.
    private Task<IDatabase> DatabaseAsync() => figures.DatabaseAsync();


    /// <summary>Adds an invitee; false when they were already one.</summary>
    public async Task<bool> AddInviteeAsync(string openid, string invitee)
    {
        var db = await DatabaseAsync();
        return await db.SetAddAsync(Prefix + InviteesKey(openid), invitee);
    }

    public async Task<bool> IsInviteeAsync(string openid, string invitee)
    {
        var db = await DatabaseAsync();
        return await db.SetContainsAsync(Prefix + InviteesKey(openid), invitee);
    }

    public async Task<long> InviteeCountAsync(string openid)
    {
        var db = await DatabaseAsync();
        return await db.SetLengthAsync(Prefix + InviteesKey(openid));
    }

    /// <summary>Up to <paramref name="take"/> of what changed since the user was last archived (any of them).</summary>
    public async Task<IReadOnlyList<string>> UnarchivedAsync(string openid, int take)
    {
        var db = await DatabaseAsync();
        var members = await db.SetRandomMembersAsync(Prefix + UnarchivedKey(openid), take);
        return [.. members.Select(m => m.ToString())];
    }

    /// <summary>The rewards recorded for these payments (those that are).</summary>
    public async Task<IReadOnlyList<StoredReward>> RewardsAsync(string openid, IReadOnlyList<string> paymentIds)
    {
        ArgumentNullException.ThrowIfNull(paymentIds);
        var db = await DatabaseAsync();
        return await RecordsAsync(db, openid, [.. paymentIds.Select(id => (RedisValue)id)]);
    }

    /// <summary>Up to <paramref name="take"/> rewards recorded after sequence <paramref name="after"/>, oldest first.</summary>
    public async Task<IReadOnlyList<StoredReward>> RewardsAfterAsync(string openid, long after, int take)
    {
        var db = await DatabaseAsync();
        var ids = await db.SortedSetRangeByScoreAsync(Prefix + OrderKey(openid), after, double.PositiveInfinity, Exclude.Start, Order.Ascending, 0, take);
        return await RecordsAsync(db, openid, ids);
    }

    /// <summary>One step of a scan over the invitees (<c>SSCAN</c>): the next cursor (0 when done) and some invitees.</summary>
    public async Task<(long Next, IReadOnlyList<string> Invitees)> ScanInviteesAsync(string openid, long cursor, int count)
    {
        var db = await DatabaseAsync();
        var reply = (RedisResult[])(await db.ExecuteAsync("SSCAN", (RedisKey)(Prefix + InviteesKey(openid)), cursor, "COUNT", count))!;
        var next = long.Parse((string)reply[0]!, CultureInfo.InvariantCulture);
        return (next, [.. ((RedisResult[])reply[1]!).Select(m => (string)m!)]);
    }

    /// <summary>The reward recorded for a payment, if any.</summary>
    public async Task<StoredReward?> FindAsync(string openid, string paymentId)
    {
        var db = await DatabaseAsync();
        var value = await db.HashGetAsync(Prefix + RewardsKey(openid), paymentId);
        return value.IsNull ? null : StoredReward.Parse(paymentId, value.ToString());
    }

    /// <summary>Whether a payment's reward is recorded, and how many rewards the campaign gave on that China-time day
    /// (one round trip).</summary>
    public async Task<(bool Recorded, long EarnedThatDay)> AdmissionAsync(string openid, string paymentId, string campaignId, DateOnly chinaDay)
    {
        var db = await DatabaseAsync();
        var recorded = db.HashExistsAsync(Prefix + RewardsKey(openid), paymentId);
        var earned = db.HashGetAsync(Prefix + DayKey(openid, chinaDay), campaignId);
        return (await recorded, (long?)await earned ?? 0);
    }

    /// <summary>Up to <paramref name="max"/> scheduled rewards whose grant time has come, soonest first.</summary>
    public async Task<IReadOnlyList<StoredReward>> DueGrantsAsync(string openid, DateTimeOffset now, int max)
    {
        var db = await DatabaseAsync();
        var ids = await db.SortedSetRangeByScoreAsync(Prefix + GrantsKey(openid), double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: max);
        return await RecordsAsync(db, openid, ids);
    }

    /// <summary>When the next scheduled reward is due, if any is.</summary>
    public async Task<DateTimeOffset?> NextGrantAsync(string openid)
    {
        var db = await DatabaseAsync();
        var first = await db.SortedSetRangeByRankWithScoresAsync(Prefix + GrantsKey(openid), 0, 0);
        return first.Length == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)first[0].Score);
    }

    /// <summary>Up to <paramref name="take"/> rewards recorded before sequence <paramref name="before"/>, newest first.</summary>
    public async Task<IReadOnlyList<StoredReward>> PageAsync(string openid, long? before, int take)
    {
        var db = await DatabaseAsync();
        var ids = await db.SortedSetRangeByScoreAsync(Prefix + OrderKey(openid), double.NegativeInfinity,
            before is { } b ? b : double.PositiveInfinity, Exclude.Stop, Order.Descending, 0, take);
        return await RecordsAsync(db, openid, ids);
    }

    private async Task<IReadOnlyList<StoredReward>> RecordsAsync(IDatabase db, string openid, RedisValue[] ids)
    {
        if (ids.Length == 0)
        {
            return [];
        }
        var values = await db.HashGetAsync(Prefix + RewardsKey(openid), ids);
        var rewards = new List<StoredReward>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            if (!values[i].IsNull)
            {
                rewards.Add(StoredReward.Parse(ids[i].ToString(), values[i].ToString()));
            }
        }
        return rewards;
    }

    /// <summary>
    /// Copies what a state written before the ledger left it holds into the ledger, before that state is rewritten
    /// without it. Every command sets a value the old state determines (<c>SADD</c>, <c>HSET</c>, <c>ZADD</c>), so a copy
    /// whose state write then fails is repeated by the next activation to the same result, and counts nothing twice.
    /// </summary>
    public async Task CopyInAsync(string openid, IReadOnlyCollection<string> invitees, IReadOnlyList<StoredReward> rewards,
        IReadOnlyDictionary<(DateOnly Day, string CampaignId), long> perDay)
    {
        ArgumentNullException.ThrowIfNull(invitees);
        ArgumentNullException.ThrowIfNull(rewards);
        ArgumentNullException.ThrowIfNull(perDay);
        var db = await DatabaseAsync();
        foreach (var chunk in invitees.Chunk(MigrationBatch))
        {
            await db.SetAddAsync(Prefix + InviteesKey(openid), [.. chunk.Select(i => (RedisValue)i)]);
        }
        foreach (var chunk in rewards.Chunk(MigrationBatch))
        {
            await db.HashSetAsync(Prefix + RewardsKey(openid), [.. chunk.Select(r => new HashEntry(r.PaymentId, r.Format()))]);
            await db.SortedSetAddAsync(Prefix + OrderKey(openid), [.. chunk.Select(r => new SortedSetEntry(r.PaymentId, r.Sequence))]);
            var scheduled = chunk.Where(r => r.Status == RewardStatus.Pending && r.GrantAt is not null).ToArray();
            if (scheduled.Length > 0)
            {
                await db.SortedSetAddAsync(Prefix + GrantsKey(openid), [.. scheduled.Select(r => new SortedSetEntry(r.PaymentId, r.GrantAt!.Value.ToUnixTimeMilliseconds()))]);
            }
        }
        foreach (var day in perDay.GroupBy(d => d.Key.Day))
        {
            var key = Prefix + DayKey(openid, day.Key);
            await db.HashSetAsync(key, [.. day.Select(d => new HashEntry(d.Key.CampaignId, d.Value))]);
            await db.KeyExpireAsync(key, options.Value.Retention);
        }
    }
}
