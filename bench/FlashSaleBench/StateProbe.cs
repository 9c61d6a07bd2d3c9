using System.Globalization;
using System.Reflection;
using GroupPay.NotifyBench;
using Orleans.Configuration;
using StackExchange.Redis;

namespace GroupPay.FlashSaleBench;

/// <summary>One stored key's sizes: the grain state's serialized bytes (<c>data</c>) and what Redis holds for the key.</summary>
internal sealed record KeySize(string Key, long DataBytes, long MemoryBytes);

/// <summary>The stored grain states of one grain type: how many, their total and the largest.</summary>
internal sealed record GrainTypeSizes(string GrainType, long Keys, long DataBytes, long MemoryBytes, IReadOnlyList<KeySize> Largest);

/// <summary>The silo side at one moment: resident memory and live activations by grain type.</summary>
internal sealed record SiloSnapshot(long ResidentBytes, long Activations, IReadOnlyDictionary<string, long> ActivationsByType);

/// <summary>
/// Looks at what the sale leaves in Redis and in the silos: the grain states' sizes (every <c>{ServiceId}/state/…</c>
/// key: <c>HSTRLEN data</c> and <c>MEMORY USAGE</c>), the largest other keys, <c>used_memory</c>, the silos' resident
/// memory and active grains, and the grain collection settings they run with.
/// </summary>
internal sealed class StateProbe(StoreServer store, GroupPayCluster cluster)
{
    private const string StatePrefix = GroupPayCluster.ServiceId + "/state/";
    private readonly IDatabase _db = store.Admin.GetDatabase();

    public static string StateKey(string grainType, string key, string stateName) => $"{StatePrefix}{grainType}/{key}/{stateName}";

    /// <summary>The serialized size of one grain state (0 when not stored).</summary>
    public async Task<long> DataBytesAsync(string key) => await _db.HashStringLengthAsync(key, "data");

    public async Task<long> MemoryUsageAsync(string key)
    {
        try
        {
            var result = await _db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0");
            return result.IsNull ? 0 : (long)result;
        }
        catch (RedisException)
        {
            return 0; // a server without MEMORY USAGE (Garnet)
        }
    }

    public async Task<long> UsedMemoryAsync()
    {
        var info = await store.Admin.GetServer(store.Admin.GetEndPoints()[0]).InfoAsync("memory");
        var used = info.SelectMany(g => g).FirstOrDefault(p => p.Key == "used_memory").Value;
        return long.TryParse(used, CultureInfo.InvariantCulture, out var bytes) ? bytes : 0;
    }

    public async Task<long> KeyCountAsync() => await store.Admin.GetServer(store.Admin.GetEndPoints()[0]).DatabaseSizeAsync();

    public async Task<long> SetLengthAsync(string key) => await _db.SetLengthAsync(key);

    /// <summary>Scans every key once: the grain states by type (count, bytes, the <paramref name="top"/> largest by
    /// serialized size) and the <paramref name="top"/> largest other keys by Redis memory.</summary>
    public async Task<(IReadOnlyList<GrainTypeSizes> States, IReadOnlyList<KeySize> OtherKeys)> ScanAsync(int top, CancellationToken cancellationToken)
    {
        var server = store.Admin.GetServer(store.Admin.GetEndPoints()[0]);
        var byType = new Dictionary<string, (long Keys, long Data, long Memory, List<KeySize> Largest)>(StringComparer.Ordinal);
        var others = new List<KeySize>();
        var batch = new List<RedisKey>(1000);

        async Task FlushAsync()
        {
            var data = batch.Select(k => k.ToString().StartsWith(StatePrefix, StringComparison.Ordinal) ? _db.HashStringLengthAsync(k, "data") : Task.FromResult(0L)).ToArray();
            var memory = batch.Select(k => MemoryUsageAsync(k!)).ToArray();
            await Task.WhenAll(data);
            await Task.WhenAll(memory);
            for (var i = 0; i < batch.Count; i++)
            {
                var key = batch[i].ToString();
                var size = new KeySize(key, data[i].Result, memory[i].Result);
                if (key.StartsWith(StatePrefix, StringComparison.Ordinal))
                {
                    var type = key[StatePrefix.Length..].Split('/')[0];
                    var entry = byType.TryGetValue(type, out var e) ? e : (0, 0, 0, new List<KeySize>());
                    entry.Largest.Add(size);
                    if (entry.Largest.Count > top * 4)
                    {
                        Trim(entry.Largest, top, s => s.DataBytes);
                    }
                    byType[type] = (entry.Keys + 1, entry.Data + size.DataBytes, entry.Memory + size.MemoryBytes, entry.Largest);
                }
                else
                {
                    others.Add(size);
                    if (others.Count > top * 8)
                    {
                        Trim(others, top * 2, s => s.MemoryBytes);
                    }
                }
            }
            batch.Clear();
        }

        await foreach (var key in server.KeysAsync(pattern: "*", pageSize: 1000).WithCancellation(cancellationToken))
        {
            batch.Add(key);
            if (batch.Count == 1000)
            {
                await FlushAsync();
            }
        }
        await FlushAsync();
        foreach (var entry in byType.Values)
        {
            Trim(entry.Largest, top, s => s.DataBytes);
        }
        Trim(others, top * 2, s => s.MemoryBytes);
        return ([.. byType.Select(t => new GrainTypeSizes(t.Key, t.Value.Keys, t.Value.Data, t.Value.Memory, t.Value.Largest)).OrderByDescending(t => t.Largest.Count > 0 ? t.Largest[0].DataBytes : 0)],
            others);
    }

    /// <summary>The silos' resident memory and their active grains (the management grain's simple statistics).</summary>
    public async Task<SiloSnapshot> SilosAsync()
    {
        var rss = cluster.Silos.Sum(s => ResidentBytes(s.Id));
        var statistics = await cluster.Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        var byType = statistics.GroupBy(s => ShortType(s.GrainType)).ToDictionary(g => g.Key, g => (long)g.Sum(s => s.ActivationCount), StringComparer.Ordinal);
        return new SiloSnapshot(rss, byType.Values.Sum(), byType);
    }

    /// <summary>The grain collection settings the silos run with: the silo sets none itself (GroupPay.Silo configures no
    /// <see cref="GrainCollectionOptions"/>), so they are this Orleans version's defaults, plus any
    /// <c>[CollectionAgeLimit]</c> on GroupPay's grain classes and any <c>Orleans__GrainCollection__*</c> passed to the silos.</summary>
    public static IReadOnlyList<string> CollectionSettings(IReadOnlyDictionary<string, string> siloEnvironment)
    {
        var defaults = new GrainCollectionOptions();
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"GrainCollectionOptions (Orleans {typeof(GrainCollectionOptions).Assembly.GetName().Version}, not configured by GroupPay.Silo): CollectionAge {defaults.CollectionAge}, CollectionQuantum {defaults.CollectionQuantum}, ClassSpecificCollectionAge {(defaults.ClassSpecificCollectionAge.Count == 0 ? "none" : string.Join(", ", defaults.ClassSpecificCollectionAge.Select(p => $"{p.Key}={p.Value}")))}, ActivationTimeout {defaults.ActivationTimeout}, DeactivationTimeout {defaults.DeactivationTimeout}, memory-based shedding {(defaults.EnableActivationSheddingOnMemoryPressure ? "on" : "off")}"),
        };
        var limits = typeof(GroupPay.Grains.Referrals.ReferralGrain).Assembly.GetTypes()
            .Select(t => (Type: t, Limit: t.GetCustomAttribute<CollectionAgeLimitAttribute>()))
            .Where(t => t.Limit is not null)
            .Select(t => $"{t.Type.Name} {t.Limit!.AgeLimit}")
            .ToList();
        lines.Add("[CollectionAgeLimit] on GroupPay's grains: " + (limits.Count == 0 ? "none" : string.Join(", ", limits)));
        var passed = siloEnvironment.Where(p => p.Key.Contains("GrainCollection", StringComparison.OrdinalIgnoreCase)).Select(p => $"{p.Key}={p.Value}").ToList();
        if (passed.Count > 0)
        {
            lines.Add("passed to the silos: " + string.Join(", ", passed));
        }
        return lines;
    }

    /// <summary>VmRSS of a process (Linux), in bytes; 0 when unreadable.</summary>
    public static long ResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string ShortType(string grainType)
    {
        // "GroupPay.Grains.Orders.OrderGrain" (or with an assembly suffix) → "OrderGrain"
        var name = grainType.Split(',')[0];
        return name[(name.LastIndexOf('.') + 1)..];
    }

    private static void Trim(List<KeySize> list, int keep, Func<KeySize, long> by)
    {
        list.Sort((a, b) => by(b).CompareTo(by(a)));
        if (list.Count > keep)
        {
            list.RemoveRange(keep, list.Count - keep);
        }
    }
}
