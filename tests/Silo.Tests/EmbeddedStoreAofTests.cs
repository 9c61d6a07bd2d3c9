using GroupPay.Testing;
using StackExchange.Redis;

namespace GroupPay.Silo.Tests;

/// <summary>The embedded store's AOF stays bounded: once it passes <see cref="EmbeddedGarnet.AofSizeLimit"/>, Garnet
/// takes a checkpoint, and a restart recovers from the checkpoint plus the AOF after it.</summary>
public sealed class EmbeddedStoreAofTests : IDisposable
{
    private const int StateSize = 1_250_000;
    private const long AofLimitBytes = 256L << 20;
    private readonly string _dataDir = Directory.CreateTempSubdirectory("grouppay-aof-").FullName;

    [Fact]
    public async Task CheckpointsOnceTheAofPassesItsLimitAndRecoversEveryStateFromIt()
    {
        var stored = new Dictionary<string, (string ETag, byte[] Data)>();
        using (var store = EmbeddedGarnet.Start(FreePort.Get(), _dataDir))
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(store.ConnectionString);
            var db = connection.GetDatabase();
            var before = await LastSaveAsync(db);
            long written = 0;
            for (var i = 0; written <= 2 * AofLimitBytes; i++)
            {
                written += await WriteAsync(db, stored, "campaign/" + (i % 4), StateSize, i);
            }
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (await LastSaveAsync(db) == before)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no checkpoint within 30 s after {written / 1e6:F0} MB of state writes");
                await Task.Delay(200);
            }
            // Written after the checkpoint: recovered by replaying the AOF that follows it.
            for (var i = 0; i < 6; i++)
            {
                await WriteAsync(db, stored, "order/" + (i % 3), 600, i);
            }
        }
        using (var restarted = EmbeddedGarnet.Start(FreePort.Get(), _dataDir))
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(restarted.ConnectionString);
            var db = connection.GetDatabase();
            foreach (var (key, (etag, data)) in stored)
            {
                var (readETag, readData) = await StoreScripts.ReadAsync(db, key);
                Assert.Equal(etag, readETag);
                Assert.True(data.AsSpan().SequenceEqual(readData), $"{key}: the data read back differs from the last written");
            }
        }
    }

    private static async Task<long> WriteAsync(IDatabase db, Dictionary<string, (string ETag, byte[] Data)> stored, string key, int size, int n)
    {
        var data = new byte[size];
        Random.Shared.NextBytes(data);
        BitConverter.TryWriteBytes(data, n);
        var etag = await StoreScripts.OrleansWriteAsync(db, key, stored.TryGetValue(key, out var last) ? last.ETag : null, data);
        Assert.NotNull(etag);
        stored[key] = (etag, data);
        return size;
    }

    private static async Task<long> LastSaveAsync(IDatabase db) => (long)await db.ExecuteAsync("LASTSAVE");

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);
}
