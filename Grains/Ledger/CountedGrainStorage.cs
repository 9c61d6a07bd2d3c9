using GroupPay.Grains.Stats;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

namespace GroupPay.Grains.Ledger;

/// <summary>
/// The grain storage of the groups and the users (<see cref="GrainStorage.Counted"/>): Orleans' Redis grain storage
/// (the same key, <c>{ServiceId}/state/{grain type}/{grain key}/{state name}</c>, the same <c>etag</c> and <c>data</c>
/// fields in Orleans' binary format, and the same etag check, so a state written by either is read by the other), whose write script also
/// commits what the state's <see cref="ICountedState.Uncommitted"/> changes in the figures and the ledger. The state
/// and its counts are stored together or not at all, with no second round trip: the figures need no delivery, no
/// revision check and no retry of their own. It needs the figures in the grain store's Redis (one primary, not
/// Redis Cluster: the script touches several keys).
/// </summary>
public sealed class CountedGrainStorage(
    string name,
    string connectionString,
    Serializer serializer,
    IOptions<TallyStoreOptions> options,
    IOptions<ClusterOptions> cluster) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    // KEYS: the state, then every key the figures touch (declared, as a script must: Garnet locks exactly these).
    // ARGV: expected etag ('' for none), new etag, data, the figures' retention (s), the state's own expiry ('' to leave
    // it, 'persist' to remove it, or seconds), then three counted lists, their
    // keys in KEYS in the same order: n, n × (counter, delta) of a stats hash; m, m × (field, value) of a ledger day;
    // k, k × (group) of a campaign's group set; w, w × (command, argument[, value]) of a write to another key
    // (StoreWrite: HSET, HINCRBY then EXPIRE, ZADD score member, ZREM, SADD, SREM); last c, the number of companion keys
    // (CountedChanges.CompanionKeys, after the writes' keys in KEYS) that get the state's expiry ARGV[5] too (absent: 0).
    internal const string WriteScript = """
        local etag = redis.call('HGET', KEYS[1], 'etag')
        if not ((not etag and ARGV[1] == '') or etag == ARGV[1]) then
          return -1
        end
        redis.call('HSET', KEYS[1], 'etag', ARGV[2], 'data', ARGV[3])
        if ARGV[5] == 'persist' then
          redis.call('PERSIST', KEYS[1])
        elseif ARGV[5] ~= '' then
          redis.call('EXPIRE', KEYS[1], ARGV[5])
        end
        local ttl = ARGV[4]
        local k = 2
        local i = 6
        for _ = 1, tonumber(ARGV[i]) do
          redis.call('HINCRBY', KEYS[k], ARGV[i + 1], ARGV[i + 2])
          k = k + 1
          i = i + 2
        end
        i = i + 1
        for _ = 1, tonumber(ARGV[i]) do
          redis.call('HSET', KEYS[k], ARGV[i + 1], ARGV[i + 2])
          redis.call('EXPIRE', KEYS[k], ttl)
          k = k + 1
          i = i + 2
        end
        i = i + 1
        for _ = 1, tonumber(ARGV[i]) do
          redis.call('SADD', KEYS[k], ARGV[i + 1])
          redis.call('EXPIRE', KEYS[k], ttl)
          k = k + 1
          i = i + 1
        end
        i = i + 1
        for _ = 1, tonumber(ARGV[i]) do
          local command = ARGV[i + 1]
          if command == 'ZREM' or command == 'SADD' or command == 'SREM' then
            redis.call(command, KEYS[k], ARGV[i + 2])
            i = i + 2
          else
            redis.call(command, KEYS[k], ARGV[i + 2], ARGV[i + 3])
            if command == 'HINCRBY' then
              redis.call('EXPIRE', KEYS[k], ttl)
            end
            i = i + 3
          end
          k = k + 1
        end
        i = i + 1
        for _ = 1, tonumber(ARGV[i] or '0') do
          if ARGV[5] == 'persist' then
            redis.call('PERSIST', KEYS[k])
          elseif ARGV[5] ~= '' then
            redis.call('EXPIRE', KEYS[k], ARGV[5])
          end
          k = k + 1
        end
        return 0
        """;

    private const string DeleteScript = """
        local etag = redis.call('HGET', KEYS[1], 'etag')
        if not ((not etag and ARGV[1] == '') or etag == ARGV[1]) then
          return -1
        end
        redis.call('DEL', KEYS[1])
        return 0
        """;

    private static readonly RedisValue[] StateFields = ["etag", "data"];

    private readonly LazyRedisConnection _redis = new(() =>
    {
        var configuration = ConfigurationOptions.Parse(connectionString);
        // Replies complete on the thread pool, where the grain turns that await them run anyway.
        configuration.SocketManager = SocketManager.ThreadPool;
        return configuration;
    });

    private string ServiceId => cluster.Value.ServiceId;

    /// <summary>Where the figures live: <see cref="RedisTallyStore"/>'s keys.</summary>
    private readonly string _figuresPrefix = cluster.Value.ServiceId + "/";

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe($"{nameof(CountedGrainStorage)}-{name}", ServiceLifecycleStage.ApplicationServices,
            async _ => await DatabaseAsync().ConfigureAwait(false), async _ => await DisposeAsync().ConfigureAwait(false));
    }

    public ValueTask DisposeAsync() => _redis.DisposeAsync();

    private Task<IDatabase> DatabaseAsync() => _redis.DatabaseAsync();

    private RedisKey Key(string stateName, GrainId grainId) => $"{ServiceId}/state/{grainId.Type}/{grainId.Key}/{stateName}";

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var db = await DatabaseAsync().ConfigureAwait(false);
        var fields = await db.HashGetAsync(Key(stateName, grainId), StateFields).ConfigureAwait(false);
        if (fields[0].IsNull)
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        ReadOnlyMemory<byte> data = fields[1];
        grainState.State = data.Length > 0 ? serializer.Deserialize<T>(data) : Activator.CreateInstance<T>();
        grainState.ETag = fields[0];
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var newEtag = Guid.NewGuid().ToString("N");
        var changes = (grainState.State as ICountedState)?.Uncommitted;
        var (keys, args) = ScriptArguments(Key(stateName, grainId), changes);
        args[0] = grainState.ETag ?? "";
        args[1] = newEtag;
        // Orleans' binary format, as OrleansGrainStorageSerializer writes it, but through pooled buffers into one array of
        // the exact size (its ArrayBufferWriter grows from 256 bytes by copies: a group's state is ~600).
        args[2] = serializer.SerializeToArray(grainState.State);
        args[3] = (long)options.Value.Retention.TotalSeconds;
        args[4] = changes?.StateExpiry switch
        {
            null => "",
            { } expiry when expiry == TimeSpan.MaxValue => "persist",
            { } expiry => Math.Max(1, (long)expiry.TotalSeconds),
        };
        var db = await DatabaseAsync().ConfigureAwait(false);
        if ((int)await db.ScriptEvaluateAsync(WriteScript, keys, args).ConfigureAwait(false) == -1)
        {
            throw new InconsistentStateException($"Version conflict writing {stateName} of {grainId}: the stored state is not the one this activation read (ETag {grainState.ETag}).");
        }
        grainState.ETag = newEtag;
        grainState.RecordExists = true;
    }

    /// <summary>Deletes the state (the figures and the ledger keep what it counted).</summary>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        var db = await DatabaseAsync().ConfigureAwait(false);
        if ((int)await db.ScriptEvaluateAsync(DeleteScript, [Key(stateName, grainId)], [grainState.ETag ?? ""]).ConfigureAwait(false) == -1)
        {
            throw new InconsistentStateException($"Version conflict clearing {stateName} of {grainId} (ETag {grainState.ETag}).");
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>The write script's KEYS and ARGV for <paramref name="changes"/>, each in one array of the exact size
    /// (a notify's write is on the hot path: no list growth, no copies); ARGV's first five (etag, new etag, data,
    /// retention, expiry) are left for the caller.</summary>
    private (RedisKey[] Keys, RedisValue[] Args) ScriptArguments(RedisKey stateKey, CountedChanges? changes)
    {
        var prefix = _figuresPrefix;
        var counters = changes?.NonZeroCounters() ?? [];
        var ledger = changes?.Ledger ?? [];
        var group = changes?.NewGroup;
        var writes = changes?.Writes ?? [];
        var companions = changes?.StateExpiry is null ? [] : changes.CompanionKeys;
        var writeArgs = 0;
        foreach (var write in writes)
        {
            writeArgs += write.Value is null ? 2 : 3;
        }
        var keys = new RedisKey[1 + counters.Length + ledger.Count + (group is null ? 0 : 1) + writes.Count + companions.Count];
        var args = new RedisValue[5 + 1 + 2 * counters.Length + 1 + 2 * ledger.Count + 1 + (group is null ? 0 : 1) + 1 + writeArgs + 1];
        int k = 0, a = 5;
        keys[k++] = stateKey;
        args[a++] = counters.Length;
        foreach (var change in counters)
        {
            keys[k++] = RedisTallyStore.StatsKey(prefix, change.Scope);
            args[a++] = CounterNames[change.Counter];
            args[a++] = change.Delta;
        }
        args[a++] = ledger.Count;
        foreach (var entry in ledger)
        {
            keys[k++] = RedisTallyStore.LedgerKey(prefix, RedisTallyStore.DayOf(entry.At));
            args[a++] = RedisTallyStore.LedgerField(entry);
            args[a++] = RedisTallyStore.LedgerValue(entry);
        }
        if (group is { } newGroup)
        {
            args[a++] = 1;
            keys[k++] = RedisTallyStore.GroupsKey(prefix, newGroup.CampaignId);
            args[a++] = newGroup.GroupId;
        }
        else
        {
            args[a++] = 0;
        }
        args[a++] = writes.Count;
        foreach (var write in writes)
        {
            keys[k++] = prefix + write.Key;
            args[a++] = write.Command switch
            {
                StoreCommand.HashSet => "HSET",
                StoreCommand.HashIncrement => "HINCRBY",
                StoreCommand.SortedSetAdd => "ZADD",
                StoreCommand.SortedSetRemove => "ZREM",
                StoreCommand.SetAdd => "SADD",
                StoreCommand.SetRemove => "SREM",
                _ => throw new ArgumentOutOfRangeException(nameof(changes), write.Command, "Not a command the write script runs."),
            };
            args[a++] = write.Argument;
            if (write.Value is { } value)
            {
                args[a++] = value;
            }
        }
        args[a++] = companions.Count;
        foreach (var key in companions)
        {
            keys[k++] = prefix + key;
        }
        if (k != keys.Length || a != args.Length)
        {
            throw new InvalidOperationException($"The write script's arguments were sized for {keys.Length} keys and {args.Length} values but {k} and {a} were filled.");
        }
        return (keys, args);
    }

    /// <summary>The stats hash's field of each counter.</summary>
    private static readonly Dictionary<Counter, string> CounterNames = Enum.GetValues<Counter>().ToDictionary(c => c, c => c.ToString());
}
