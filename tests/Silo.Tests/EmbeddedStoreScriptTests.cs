using GroupPay.Testing;
using StackExchange.Redis;

namespace GroupPay.Silo.Tests;

/// <summary>The embedded store runs a script as one step, as Redis does: the Orleans providers' etag checks (read the
/// etag, then write) and the counted storage's figures depend on it.</summary>
public sealed class EmbeddedStoreScriptTests : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("grouppay-script-").FullName;

    [Fact]
    public async Task ConcurrentReadThenWriteScriptsOnOneKeyLoseNoUpdate()
    {
        using var store = EmbeddedGarnet.Start(FreePort.Get(), _dataDir);
        const string Increment = "local v = tonumber(redis.call('GET', KEYS[1]) or '0') redis.call('SET', KEYS[1], v + 1) return v + 1";
        const int Clients = 8;
        const int Each = 400;
        var connections = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => ConnectionMultiplexer.ConnectAsync(store.ConnectionString)));
        try
        {
            await Task.WhenAll(connections.Select(connection => Task.Run(async () =>
            {
                var db = connection.GetDatabase();
                for (var i = 0; i < Each; i++)
                {
                    await db.ScriptEvaluateAsync(Increment, ["counter"]);
                }
            })));
            Assert.Equal(Clients * Each, (long)await connections[0].GetDatabase().StringGetAsync("counter"));
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    public void Dispose() => Directory.Delete(_dataDir, recursive: true);
}
