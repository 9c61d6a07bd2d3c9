using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace GroupPay.Silo;

/// <summary>
/// Runs before the silo and stops after it: decides which Redis the silo uses and, when the embedded store is allowed
/// and nothing answers at its endpoint, hosts Garnet in this process. A second silo pointed at the same endpoint finds
/// the first one's Garnet answering and uses it.
/// </summary>
internal sealed partial class RedisStoreHostedService(
    RedisStoreSettings settings,
    ILoggerFactory loggerFactory,
    ILogger<RedisStoreHostedService> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private EmbeddedGarnet? _garnet;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var display = ConfigurationOptions.Parse(settings.ConnectionString).ToString(includePassword: false);
        if (!settings.Embedded || settings.EmbeddedEndPoint is not { } endPoint)
        {
            LogUsingRedis(display);
            return;
        }
        if (await EmbeddedGarnet.AnswersAsync(endPoint, ProbeTimeout, cancellationToken))
        {
            LogUsingRunningServer(display);
            return;
        }
        try
        {
            _garnet = EmbeddedGarnet.Start(endPoint.Port, settings.DataDir, loggerFactory);
            LogStartedGarnet(_garnet.ConnectionString, _garnet.DataDir);
        }
        catch (Exception ex) when (ex is SocketException or IOException or InvalidOperationException)
        {
            // Another silo won the race for the port: use its server if it answers now.
            if (!await EmbeddedGarnet.AnswersAsync(endPoint, ProbeTimeout, cancellationToken))
            {
                throw;
            }
            LogUsingRunningServer(display);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_garnet is { } garnet)
        {
            _garnet = null;
            garnet.Dispose();
            LogStoppedGarnet(garnet.ConnectionString);
        }
        return Task.CompletedTask;
    }

    public void Dispose() => _garnet?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Store: Redis at {ConnectionString}")]
    private partial void LogUsingRedis(string connectionString);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store: the Redis-protocol server already answering at {ConnectionString} (another silo's embedded Garnet or a local Redis)")]
    private partial void LogUsingRunningServer(string connectionString);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store: embedded Garnet started at {ConnectionString}, data in {DataDir} (development store: other silos on this machine use it while this silo runs)")]
    private partial void LogStartedGarnet(string connectionString, string dataDir);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store: embedded Garnet at {ConnectionString} stopped")]
    private partial void LogStoppedGarnet(string connectionString);
}
