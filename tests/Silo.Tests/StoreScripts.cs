using StackExchange.Redis;

namespace GroupPay.Silo.Tests;

/// <summary>The state writes the silos send to the store: Orleans' Redis grain storage script and the counted storage's.</summary>
internal static class StoreScripts
{
    /// <summary>Microsoft.Orleans.Persistence.Redis 10.4.2's write script, as its <c>RedisGrainStorage</c> sends it.</summary>
    public const string OrleansWrite = """
        local etag = redis.call('HGET', KEYS[1], 'etag')
        if ((not etag or etag == '') and (not ARGV[1] or ARGV[1] == '')) or etag == ARGV[1] then
          redis.call('HMSET', KEYS[1], 'etag', ARGV[2], 'data', ARGV[3])
          if ARGV[4] ~= '-1' then
            redis.call('EXPIRE', KEYS[1], ARGV[4])
          end
          return 0
        else
          return -1
        end
        """;

    /// <summary>Writes <paramref name="data"/> under <paramref name="key"/> as Orleans' storage does; returns the new
    /// etag, or null when <paramref name="etag"/> was not the stored one.</summary>
    public static async Task<string?> OrleansWriteAsync(IDatabase db, string key, string? etag, ReadOnlyMemory<byte> data)
    {
        var next = Guid.NewGuid().ToString("N");
        var result = (int)await db.ScriptEvaluateAsync(OrleansWrite, [key], [etag ?? "", next, data, "-1"]);
        return result == 0 ? next : null;
    }

    /// <summary>The stored etag and data of a state.</summary>
    public static async Task<(string? ETag, byte[]? Data)> ReadAsync(IDatabase db, string key)
    {
        var fields = await db.HashGetAsync(key, ["etag", "data"]);
        return (fields[0].IsNull ? null : (string?)fields[0], fields[1].IsNull ? null : (byte[]?)fields[1]);
    }
}
