using System.Globalization;
using GroupPay.Grains.Orders;
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

    /// <summary>How long a group's applied tally and a day's ledger are kept after their last change: longer than
    /// WeChat's one-year refund window, so a late refund still finds what its group counted before.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(400);
}

/// <summary>
/// The growth figures and the payment ledger in Redis, under <c>{ServiceId}/</c>:
/// <list type="bullet">
/// <item><c>stats/{scope}</c>: a hash of counter → value per campaign and for the shop (<c>*</c>);</item>
/// <item><c>tally/{groupId}</c>: what each group contributed and the revision applied, one string
/// (<c>{revision}|{field}={value},…</c>);</item>
/// <item><c>groups/{campaignId}</c>: the set of a campaign's groups (for the recount; a user's tally, keyed
/// <c>user:{openid}/{scope}</c>, is not a group);</item>
/// <item><c>ledger/{yyyy-MM-dd}</c>: a hash per China-time day, <c>pay:{out_trade_no}</c> and <c>refund:{out_refund_no}</c>;</item>
/// <item><c>batch/{id}</c>: counter batches already added (a day, so a resent batch counts once).</item>
/// </list>
/// A group's tally is applied by one script, atomically and only when its revision is newer than the applied one, as
/// the difference from what the group contributed before: delivering it again, or late, changes nothing.
/// </summary>
public sealed class RedisTallyStore(IOptions<TallyStoreOptions> options, IOptions<ClusterOptions> cluster) : IPaymentLedger, IAsyncDisposable
{
    // A group's applied tally is one string, "{revision}|{field}={value},…" (one GET and one SET with its TTL); the
    // shop's counters are summed over the batch and added once; a day's ledger and a campaign's group set get their TTL
    // once per batch. So a tally costs a few commands, not one per field.
    private const string ApplyScript = """
        local prefix = ARGV[1]
        local ttl = tonumber(ARGV[2])
        local i = 3
        local applied = 0
        local total = {}
        local touched = {}
        while i <= #ARGV do
          local group = ARGV[i]
          local campaign = ARGV[i + 1]
          local revision = tonumber(ARGV[i + 2])
          local fields = tonumber(ARGV[i + 3])
          i = i + 4
          local key = prefix .. 'tally/' .. group
          local stored = redis.call('GET', key)
          local old = {}
          local fresh = true
          if stored then
            local bar = string.find(stored, '|', 1, true)
            fresh = revision > tonumber(string.sub(stored, 1, bar - 1))
            for field, value in string.gmatch(string.sub(stored, bar + 1), '([^=,]+)=(-?%d+)') do old[field] = tonumber(value) end
          end
          local parts = {}
          for _ = 1, fields do
            local field = ARGV[i]
            local value = tonumber(ARGV[i + 1])
            i = i + 2
            if fresh then
              parts[#parts + 1] = field .. '=' .. value
              local delta = value - (old[field] or 0)
              if delta ~= 0 then
                local kind = string.sub(field, 1, 2)
                local counter = field
                if kind == 'c:' or kind == 't:' then counter = string.sub(field, 3) end
                if kind ~= 't:' then redis.call('HINCRBY', prefix .. 'stats/' .. campaign, counter, delta) end
                if kind ~= 'c:' then total[counter] = (total[counter] or 0) + delta end
              end
            end
          end
          local entries = tonumber(ARGV[i])
          i = i + 1
          for _ = 1, entries do
            if fresh then
              local day = prefix .. 'ledger/' .. ARGV[i]
              redis.call('HSET', day, ARGV[i + 1], ARGV[i + 2])
              touched[day] = true
            end
            i = i + 3
          end
          if fresh then
            redis.call('SET', key, revision .. '|' .. table.concat(parts, ','), 'EX', ttl)
            if not stored and string.sub(group, 1, 5) ~= 'user:' then
              local groups = prefix .. 'groups/' .. campaign
              redis.call('SADD', groups, group)
              touched[groups] = true
            end
            applied = applied + 1
          end
        end
        for counter, delta in pairs(total) do
          if delta ~= 0 then redis.call('HINCRBY', prefix .. 'stats/*', counter, delta) end
        end
        for key in pairs(touched) do redis.call('EXPIRE', key, ttl) end
        return applied
        """;

    private const string AddScript = """
        local prefix = ARGV[1]
        if not redis.call('SET', prefix .. 'batch/' .. ARGV[2], '1', 'NX', 'EX', 86400) then return 0 end
        local i = 3
        while i <= #ARGV do
          redis.call('HINCRBY', prefix .. 'stats/' .. ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]))
          i = i + 3
        end
        return 1
        """;

    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _connection;

    private string Prefix => cluster.Value.ServiceId + "/";

    private async Task<IDatabase> DatabaseAsync()
    {
        if (_connection is { } connected)
        {
            return connected.GetDatabase();
        }
        await _connecting.WaitAsync();
        try
        {
            if (_connection is null)
            {
                var configuration = ConfigurationOptions.Parse(options.Value.ConnectionString
                    ?? throw new InvalidOperationException("TallyStore:ConnectionString is not set (the silo sets it to its grain store)."));
                configuration.AbortOnConnectFail = false;
                _connection = await ConnectionMultiplexer.ConnectAsync(configuration);
            }
            return _connection.GetDatabase();
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>Applies each group's tally whose revision is newer than the one applied; returns how many were.</summary>
    public async Task<int> ApplyAsync(IReadOnlyCollection<GroupTally> tallies)
    {
        ArgumentNullException.ThrowIfNull(tallies);
        var args = new List<RedisValue> { Prefix, (long)options.Value.Retention.TotalSeconds };
        foreach (var tally in tallies)
        {
            args.Add(tally.GroupId);
            args.Add(tally.CampaignId);
            args.Add(tally.Revision);
            args.Add(tally.Counts.Count);
            foreach (var (field, value) in tally.Counts)
            {
                args.Add(field);
                args.Add(value);
            }
            args.Add(tally.Ledger.Count);
            foreach (var entry in tally.Ledger)
            {
                args.Add(DayOf(entry.At).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                args.Add(FieldOf(entry));
                args.Add(ValueOf(entry));
            }
        }
        var db = await DatabaseAsync();
        return (int)await db.ScriptEvaluateAsync(ApplyScript, values: [.. args]);
    }

    /// <summary>Adds counter increments once per <paramref name="batchId"/> (a resent batch is not counted again).</summary>
    public async Task<bool> AddAsync(string batchId, IReadOnlyCollection<CounterIncrement> increments)
    {
        ArgumentNullException.ThrowIfNull(increments);
        var args = new List<RedisValue> { Prefix, batchId };
        foreach (var increment in increments)
        {
            args.Add(increment.Scope);
            args.Add(increment.Counter.ToString());
            args.Add(increment.Amount);
        }
        var db = await DatabaseAsync();
        return (long)await db.ScriptEvaluateAsync(AddScript, values: [.. args]) == 1;
    }

    public async Task<IReadOnlyDictionary<Counter, long>> ReadCountersAsync(string scope)
    {
        var db = await DatabaseAsync();
        var counters = new Dictionary<Counter, long>();
        foreach (var entry in await db.HashGetAllAsync(Prefix + "stats/" + scope))
        {
            if (Enum.TryParse<Counter>(entry.Name.ToString(), out var counter))
            {
                counters[counter] = (long)entry.Value;
            }
        }
        return counters;
    }

    /// <summary>What the figures applied of one group: its revision and counts; null when nothing was.</summary>
    public async Task<(long Revision, IReadOnlyDictionary<string, long> Counts)?> ReadGroupAsync(string groupId)
    {
        var db = await DatabaseAsync();
        var stored = (string?)await db.StringGetAsync(Prefix + "tally/" + groupId);
        if (stored is null)
        {
            return null;
        }
        var bar = stored.IndexOf('|', StringComparison.Ordinal);
        var counts = stored[(bar + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('='))
            .ToDictionary(pair => pair[0], pair => long.Parse(pair[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        return (long.Parse(stored[..bar], CultureInfo.InvariantCulture), counts);
    }

    /// <summary>The groups of a campaign whose tally was applied at least once.</summary>
    public async IAsyncEnumerable<string> CampaignGroupsAsync(string campaignId)
    {
        var db = await DatabaseAsync();
        await foreach (var member in db.SetScanAsync(Prefix + "groups/" + campaignId, pageSize: 500))
        {
            yield return member.ToString();
        }
    }

    public async Task<IReadOnlyList<LedgerEntry>> ReadDayAsync(DateOnly chinaDay, CancellationToken cancellationToken = default)
    {
        var db = await DatabaseAsync();
        var entries = new List<LedgerEntry>();
        await foreach (var entry in db.HashScanAsync(Prefix + "ledger/" + chinaDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), pageSize: 1000).WithCancellation(cancellationToken))
        {
            entries.Add(Parse(entry.Name.ToString(), entry.Value.ToString()));
        }
        return entries;
    }

    public static DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(at.ToOffset(WeChatPayTime.BeijingOffset).DateTime);

    private static string FieldOf(LedgerEntry entry) =>
        entry.Kind == LedgerEntryKind.Payment ? "pay:" + entry.OutTradeNo : "refund:" + entry.OutRefundNo;

    private static string ValueOf(LedgerEntry entry) => string.Join('|', entry.GroupId, entry.OutTradeNo, entry.TransactionId ?? "",
        entry.AmountFen.ToString(CultureInfo.InvariantCulture), entry.At.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));

    private static LedgerEntry Parse(string field, string value)
    {
        var parts = value.Split('|');
        var payment = field.StartsWith("pay:", StringComparison.Ordinal);
        return new LedgerEntry(payment ? LedgerEntryKind.Payment : LedgerEntryKind.Refund, parts[0], parts[1],
            payment ? null : field["refund:".Length..], parts[2].Length == 0 ? null : parts[2],
            long.Parse(parts[3], CultureInfo.InvariantCulture), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[4], CultureInfo.InvariantCulture)));
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            await connection.DisposeAsync();
        }
        _connecting.Dispose();
    }
}
