using StackExchange.Redis;

namespace GroupPay.Grains.Ledger;

/// <summary>One Redis connection, made on first use (once, however many callers race for it) with the options
/// <paramref name="configure"/> gives.</summary>
internal sealed class LazyRedisConnection(Func<ConfigurationOptions> configure) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _connection;

    public async Task<IDatabase> DatabaseAsync()
    {
        if (_connection is { } connected)
        {
            return connected.GetDatabase();
        }
        await _connecting.WaitAsync().ConfigureAwait(false);
        try
        {
            _connection ??= await ConnectionMultiplexer.ConnectAsync(configure()).ConfigureAwait(false);
            return _connection.GetDatabase();
        }
        finally
        {
            _connecting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _connection, null) is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
