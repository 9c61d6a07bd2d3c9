using System.Globalization;
using GroupPay.Grains.Stats;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using StackExchange.Redis;

namespace GroupPay.Grains.Ledger;

public sealed class TallyStoreOptions
{
    /// <summary>The Redis the figures and the ledger live in (the grain store's; the silo sets it).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long a day's ledger and a campaign's group set are kept after their last change: longer than
    /// WeChat's one-year refund window, so the reconciliation of a late refund's day still finds its payments.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(400);
}

/// <summary>
/// The growth figures and the payment ledger in Redis, under <c>{ServiceId}/</c>:
/// <list type="bullet">
/// <item><c>stats/{scope}</c>: a hash of counter → value per campaign and for the shop (<c>*</c>);</item>
/// <item><c>groups/{campaignId}</c>: the set of a campaign's groups (for the recount);</item>
/// <item><c>ledger/{yyyy-MM-dd}</c>: a hash per China-time day, <c>pay:{out_trade_no}</c> and <c>refund:{out_refund_no}</c>;</item>
/// <item><c>batch/{id}</c>: link-open batches already added (a day, so a resent batch counts once).</item>
/// </list>
/// What groups and users count is written by <see cref="CountedGrainStorage"/>, in the same script as the state that
/// counts it; this class reads the figures and the ledger and adds the link opens (which no stored state records).
/// </summary>
public sealed class RedisTallyStore(IOptions<TallyStoreOptions> options, IOptions<ClusterOptions> cluster) : IPaymentLedger, IAsyncDisposable
{
    // KEYS: the batch's mark, then the stats hash of each increment; ARGV: the increments' counter and amount.
    private const string AddScript = """
        if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then return 0 end
        for k = 2, #KEYS do
          redis.call('HINCRBY', KEYS[k], ARGV[2 * k - 3], tonumber(ARGV[2 * k - 2]))
        end
        return 1
        """;

    private readonly LazyRedisConnection _redis = new(() =>
    {
        var configuration = ConfigurationOptions.Parse(options.Value.ConnectionString
            ?? throw new InvalidOperationException("TallyStore:ConnectionString is not set (the silo sets it to its grain store)."));
        configuration.AbortOnConnectFail = false;
        return configuration;
    });

    private string Prefix => cluster.Value.ServiceId + "/";

    /// <summary>The figures' store connection, shared with <see cref="Referrals.ReferralStore"/> (same Redis).</summary>
    internal Task<IDatabase> DatabaseAsync() => _redis.DatabaseAsync();

    /// <summary>Adds counter increments once per <paramref name="batchId"/> (a resent batch is not counted again).</summary>
    public async Task<bool> AddAsync(string batchId, IReadOnlyCollection<CounterIncrement> increments)
    {
        ArgumentNullException.ThrowIfNull(increments);
        var keys = new List<RedisKey> { Prefix + "batch/" + batchId };
        var args = new List<RedisValue>();
        foreach (var increment in increments)
        {
            keys.Add(StatsKey(Prefix, increment.Scope));
            args.Add(increment.Counter.ToString());
            args.Add(increment.Amount);
        }
        var db = await DatabaseAsync();
        return (long)await db.ScriptEvaluateAsync(AddScript, [.. keys], [.. args]) == 1;
    }

    public async Task<IReadOnlyDictionary<Counter, long>> ReadCountersAsync(string scope)
    {
        var db = await DatabaseAsync();
        var counters = new Dictionary<Counter, long>();
        foreach (var entry in await db.HashGetAllAsync(StatsKey(Prefix, scope)))
        {
            if (Enum.TryParse<Counter>(entry.Name.ToString(), out var counter))
            {
                counters[counter] = (long)entry.Value;
            }
        }
        return counters;
    }

    /// <summary>The groups of a campaign (each joins with its first write).</summary>
    public async IAsyncEnumerable<string> CampaignGroupsAsync(string campaignId)
    {
        var db = await DatabaseAsync();
        await foreach (var member in db.SetScanAsync(GroupsKey(Prefix, campaignId), pageSize: 500))
        {
            yield return member.ToString();
        }
    }

    public async Task<IReadOnlyList<LedgerEntry>> ReadDayAsync(DateOnly chinaDay, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync();
        var entries = new List<LedgerEntry>();
        await foreach (var entry in db.HashScanAsync(LedgerKey(Prefix, chinaDay), pageSize: 1000).WithCancellation(cancellationToken))
        {
            entries.Add(Parse(entry.Name.ToString(), entry.Value.ToString()));
        }
        return entries;
    }

    public static DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(at.ToOffset(WeChatPayTime.BeijingOffset).DateTime);

    public static string StatsKey(string prefix, string scope) => prefix + "stats/" + scope;

    public static string GroupsKey(string prefix, string campaignId) => prefix + "groups/" + campaignId;

    public static string LedgerKey(string prefix, DateOnly chinaDay) => prefix + "ledger/" + chinaDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string LedgerField(LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Kind == LedgerEntryKind.Payment ? "pay:" + entry.OutTradeNo : "refund:" + entry.OutRefundNo;
    }

    public static string LedgerValue(LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return string.Join('|', entry.GroupId, entry.OutTradeNo, entry.TransactionId ?? "",
            entry.AmountFen.ToString(CultureInfo.InvariantCulture), entry.At.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
    }

    private static LedgerEntry Parse(string field, string value)
    {
        var parts = value.Split('|');
        var payment = field.StartsWith("pay:", StringComparison.Ordinal);
        return new LedgerEntry(payment ? LedgerEntryKind.Payment : LedgerEntryKind.Refund, parts[0], parts[1],
            payment ? null : field["refund:".Length..], parts[2].Length == 0 ? null : parts[2],
            long.Parse(parts[3], CultureInfo.InvariantCulture), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[4], CultureInfo.InvariantCulture)));
    }

    public ValueTask DisposeAsync() => _redis.DisposeAsync();
}
