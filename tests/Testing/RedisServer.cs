using GroupPay.Silo;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace GroupPay.Testing;

/// <summary>
/// A Redis-protocol server for tests: the Redis named by <c>GROUPPAY_TEST_REDIS</c> (host:port; CI starts Debian's
/// redis-server), else an embedded Garnet on a free 127.0.0.1 port with a temporary data folder, deleted on dispose.
/// Use it as an xunit fixture or through <see cref="StartAsync"/>; give each cluster a
/// <see cref="ClusterIdentity.Unique"/> identity, since tests share the server.
/// </summary>
public sealed class RedisServer : IAsyncLifetime, IAsyncDisposable
{
    public const string EnvironmentVariable = "GROUPPAY_TEST_REDIS";

    private static readonly Lazy<Task<RedisServer>> SharedServer = new(StartSharedAsync);
    private EmbeddedGarnet? _garnet;
    private string? _dataDir;

    /// <summary>For StackExchange.Redis and the Orleans providers, e.g. <c>127.0.0.1:41234</c>.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>True when this process hosts the server (Garnet), false for an external Redis.</summary>
    public bool IsEmbedded => _garnet is not null;

    public static async Task<RedisServer> StartAsync(bool embedded = false)
    {
        var server = new RedisServer { _embedded = embedded };
        await server.InitializeAsync();
        return server;
    }

    private bool _embedded;

    /// <summary>Stops the embedded server (every connection refused), waits <paramref name="downtime"/>, and starts it
    /// again on the same port and data, as a Redis restart does.</summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        var garnet = _garnet ?? throw new InvalidOperationException("Only an embedded store can be restarted by a test.");
        var port = int.Parse(ConnectionString[(ConnectionString.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        garnet.Dispose();
        _garnet = null;
        await Task.Delay(downtime);
        _garnet = EmbeddedGarnet.Start(port, _dataDir!, NullLoggerFactory.Instance);
    }

    /// <summary>One server for the whole test process, started on first use and stopped (its data deleted) when the
    /// process exits: cheaper than one per fixture. Isolate clusters with <see cref="ClusterIdentity.Unique"/>.</summary>
    public static Task<RedisServer> SharedAsync() => SharedServer.Value;

    public Task InitializeAsync()
    {
        if (!_embedded && Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } external)
        {
            ConnectionString = external;
            return Task.CompletedTask;
        }
        _dataDir = Directory.CreateTempSubdirectory("grouppay-garnet-").FullName;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _garnet = EmbeddedGarnet.Start(FreePort.Get(), _dataDir, NullLoggerFactory.Instance);
                break;
            }
            catch (Exception) when (attempt < 3)
            {
                // The free port was taken between the probe and the bind: take another.
            }
        }
        ConnectionString = _garnet.ConnectionString;
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _garnet?.Dispose();
        _garnet = null;
        if (_dataDir is not null && Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        return Task.CompletedTask;
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    private static async Task<RedisServer> StartSharedAsync()
    {
        var server = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().GetAwaiter().GetResult();
        return server;
    }
}
