using System.Diagnostics;
using System.Globalization;
using GroupPay.Grains.Ledger;
using GroupPay.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace GroupPay.Silo.Tests;

/// <summary>A test that runs only when <c>GROUPPAY_SOAK=1</c>: minutes long and gigabytes of disk writes.</summary>
public sealed class SoakFactAttribute : FactAttribute
{
    public const string Variable = "GROUPPAY_SOAK";

    public SoakFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
        {
            Skip = $"soak run: set {Variable}=1 (several minutes, ~14 GB written)";
        }
    }
}

/// <summary>
/// A day of a busy shop's state writes through the embedded store, as fast as it takes them: millions of group and user
/// states (0.5–2 KB, the counted storage's script with its figures) and large campaign states (1.25 MB, Orleans' script)
/// until more than the 13 GB of scripts after which the store once failed every write. Every write must succeed, the
/// data folder must stay bounded, and after a restart every state must be the last one written.
/// </summary>
public sealed class EmbeddedStoreSoakTests(ITestOutputHelper output) : IDisposable
{
    private const int SmallWorkers = 6;
    private const int GroupKeys = 150_000;
    private const int UserKeys = 50_000;
    private const int CampaignKeys = 8;
    private const int CampaignStateSize = 1_250_000;
    private const long PeakDiskLimit = 4L << 30;
    private static readonly long SmallWrites = Setting("GROUPPAY_SOAK_SMALL_WRITES", 2_000_000);
    private static readonly long TargetBytes = Setting("GROUPPAY_SOAK_GB", 14) * 1_000_000_000;
    private readonly string _dataDir = Directory.CreateTempSubdirectory("grouppay-soak-").FullName;

    [SoakFact]
    public async Task ADayOfStateWritesIsStoredWithTheDataFolderBoundedAndTheStoreStillAnswering()
    {
        var payload = new byte[CampaignStateSize];
        Random.Shared.NextBytes(payload);
        var small = new SmallWorker[SmallWorkers];
        var campaignETags = new string?[CampaignKeys];
        long bytes = 0, smallDone = 0, largeDone = 0, failures = 0;
        string? firstFailure = null;
        var clock = Stopwatch.StartNew();
        using var sampling = new CancellationTokenSource();
        var peakDisk = 0L;
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peakDisk = Math.Max(peakDisk, DirectorySize(_dataDir));
                await Task.Delay(250, CancellationToken.None);
            }
        });

        void Failed(string what)
        {
            Interlocked.Increment(ref failures);
            Interlocked.CompareExchange(ref firstFailure, what, null);
        }

        using (var store = EmbeddedGarnet.Start(FreePort.Get(), _dataDir))
        {
            // As a silo: Orleans' storage and the counted storage each on its own connection.
            await using var campaigns = await ConnectionMultiplexer.ConnectAsync(store.ConnectionString);
            await using var counted = await ConnectionMultiplexer.ConnectAsync(store.ConnectionString);
            var large = Task.Run(async () =>
            {
                var db = campaigns.GetDatabase();
                for (var n = 0; Interlocked.Read(ref bytes) < TargetBytes && Volatile.Read(ref failures) == 0; n++)
                {
                    var key = n % CampaignKeys;
                    try
                    {
                        var etag = await StoreScripts.OrleansWriteAsync(db, "soak/state/campaign/" + key, campaignETags[key], payload);
                        if (etag is null)
                        {
                            Failed($"campaign {key}: etag conflict");
                            break;
                        }
                        campaignETags[key] = etag;
                        Interlocked.Add(ref bytes, CampaignStateSize);
                        Interlocked.Increment(ref largeDone);
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        Failed($"campaign {key} after {Interlocked.Read(ref bytes) / 1e9:F2} GB: {ex.Message}");
                    }
                }
            });
            var smalls = Enumerable.Range(0, SmallWorkers).Select(w => Task.Run(async () =>
            {
                var worker = small[w] = new SmallWorker(w);
                var db = counted.GetDatabase();
                for (var n = 0L; n < SmallWrites / SmallWorkers && Volatile.Read(ref failures) == 0; n++)
                {
                    var (key, size) = worker.Next();
                    try
                    {
                        if (!await worker.WriteAsync(db, key, payload.AsMemory(0, size), n))
                        {
                            Failed($"{key}: etag conflict");
                            break;
                        }
                        Interlocked.Add(ref bytes, size);
                        Interlocked.Increment(ref smallDone);
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        Failed($"{key} after {Interlocked.Read(ref bytes) / 1e9:F2} GB: {ex.Message}");
                    }
                }
            })).ToArray();
            await Task.WhenAll([large, .. smalls]);
            var elapsed = clock.Elapsed;
            await sampling.CancelAsync();
            await sampler;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{bytes / 1e9:F2} GB of state in {elapsed.TotalSeconds:F0} s: {smallDone:N0} group/user writes, {largeDone:N0} campaign writes of 1.25 MB; data folder peak {peakDisk / 1e6:F0} MB, {failures} failures"));
            Assert.True(failures == 0, $"{failures} writes failed; first: {firstFailure}");
            Assert.Equal(SmallWrites / SmallWorkers * SmallWorkers, smallDone);
            Assert.True(bytes >= TargetBytes, $"only {bytes / 1e9:F2} GB written");
            Assert.Equal(42L, (long)await counted.GetDatabase().ScriptEvaluateAsync("redis.call('SET', KEYS[1], ARGV[1]) return tonumber(redis.call('GET', KEYS[1]))", ["soak/after"], [42]));
            Assert.True(peakDisk < PeakDiskLimit, $"the data folder reached {peakDisk / 1e6:F0} MB");
        }

        var read = 0;
        using (var restarted = EmbeddedGarnet.Start(FreePort.Get(), _dataDir))
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(restarted.ConnectionString);
            var db = connection.GetDatabase();
            for (var key = 0; key < CampaignKeys; key++)
            {
                Assert.Equal(campaignETags[key], (await StoreScripts.ReadAsync(db, "soak/state/campaign/" + key)).ETag);
            }
            foreach (var (key, etag) in small.SelectMany(worker => worker.ETags))
            {
                var stored = await db.HashGetAsync(key, "etag");
                Assert.True(stored == etag, $"{key}: etag {stored} after the restart, {etag} written last");
                read++;
            }
        }
        output.WriteLine($"after a restart every state read back: {CampaignKeys} campaigns, {read:N0} groups and users");
    }

    /// <summary>One writer's groups and users (its own keys, so it knows their etags): counted writes with figures.</summary>
    private sealed class SmallWorker(int id)
    {
        private readonly Random _random = new(id);

        public Dictionary<string, string> ETags { get; } = [];

        public (string Key, int Size) Next()
        {
            var user = _random.Next(4) == 0;
            var index = _random.Next(user ? UserKeys : GroupKeys) / SmallWorkers * SmallWorkers + id;
            var key = user ? $"soak/state/referral/o-{index}/referral" : $"soak/state/order/g-{index}/order";
            return (key, _random.Next(512, 2049));
        }

        public async Task<bool> WriteAsync(IDatabase db, string key, ReadOnlyMemory<byte> data, long n)
        {
            var isNew = !ETags.TryGetValue(key, out var etag);
            var next = Guid.NewGuid().ToString("N");
            // A payment's figures: two counters, a ledger entry, and the group in its campaign's set when it is new.
            RedisKey[] keys = isNew
                ? [key, "soak/stats/all", "soak/stats/campaign-1", "soak/ledger/2026-12-02", "soak/groups/campaign-1"]
                : [key, "soak/stats/all", "soak/stats/campaign-1", "soak/ledger/2026-12-02"];
            // CountedGrainStorage's ARGV: etags, data, the figures' retention, no expiry of the state, the counters, the
            // ledger entry, the group set, and no other writes.
            RedisValue[] args = [etag ?? "", next, data, 34_560_000, "", 2, "paid", 1, "paid", 1, 1, $"{id}-{n}", "payment:990", isNew ? 1 : 0];
            args = isNew ? [.. args, key, 0] : [.. args, 0];
            var result = (int)await db.ScriptEvaluateAsync(CountedGrainStorage.WriteScript, keys, args);
            if (result != 0)
            {
                return false;
            }
            ETags[key] = next;
            return true;
        }
    }

    private static long DirectorySize(string path)
    {
        long size = 0;
        try
        {
            foreach (var file in new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                try
                {
                    size += file.Length;
                }
                catch (FileNotFoundException)
                {
                    // Truncated away while counting.
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            // A checkpoint folder removed while counting.
        }
        return size;
    }

    private static long Setting(string name, long fallback) =>
        long.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);
}
