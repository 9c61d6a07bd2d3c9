using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Garnet;
using Microsoft.Extensions.Logging;

namespace GroupPay.Silo;

/// <summary>
/// Garnet (a Redis-protocol server) in this process, on 127.0.0.1, persisting every write to an append-only file
/// in <see cref="DataDir"/> and replaying it on the next start. Lua scripting is on: all three Orleans Redis
/// providers need <c>EVAL</c> (clustering hangs silently without it).
/// </summary>
public sealed class EmbeddedGarnet : IDisposable
{
    private readonly GarnetServer _server;

    private EmbeddedGarnet(GarnetServer server, int port, string dataDir)
    {
        _server = server;
        Port = port;
        DataDir = dataDir;
    }

    public int Port { get; }

    public string DataDir { get; }

    /// <summary><c>127.0.0.1:port</c>, for StackExchange.Redis and the Orleans providers.</summary>
    public string ConnectionString => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The AOF written since the last checkpoint that makes Garnet take the next one. The files are cut in
    /// whole segments (1 GB), so the data folder peaks at about two segments plus a checkpoint (1.6 GB measured while
    /// 16 GB of scripts were written at ~370 MB/s).</summary>
    public const string AofSizeLimit = "256m";

    /// <summary>
    /// The command line the server is started with. <c>--device-type RandomAccess</c>: the native device needs a newer
    /// glibc than Debian 12's and dies on the first AOF flush; <c>--aof-commit-freq 0</c>: each write is committed
    /// before it is acknowledged; <c>--lua-transaction-mode</c>: a script runs as one step over the keys it declares,
    /// as in Redis (without it, two scripts on one key interleave, and the Orleans providers' etag check, a read then a
    /// write, lets a stale activation overwrite a newer state); <c>--aof-size-limit</c>: once the AOF holds more than
    /// <see cref="AofSizeLimit"/> since the last checkpoint, Garnet takes a checkpoint (checked every second) and drops
    /// the AOF before it. Without it the AOF grows by every byte written and is never truncated: when its disk filled,
    /// every write failed ("ERR Lua encountered an error: Unexpected Lua error", an ENOSPC inside <c>redis.call</c>).
    /// </summary>
    public static string[] Arguments(int port, string dataDir) =>
    [
        "--bind", "127.0.0.1",
        "--port", port.ToString(CultureInfo.InvariantCulture),
        "--lua",
        "--lua-transaction-mode",
        "--aof",
        "--aof-commit-freq", "0",
        "--aof-size-limit", AofSizeLimit,
        "--aof-size-limit-enforce-frequency", "1",
        "--checkpointdir", dataDir,
        "--recover",
        "--device-type", "RandomAccess",
        "-q",
    ];

    /// <summary>Starts the server; throws when the port is taken or the data cannot be recovered.</summary>
    public static EmbeddedGarnet Start(int port, string dataDir, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        var fullPath = Path.GetFullPath(dataDir);
        Directory.CreateDirectory(fullPath);
        var server = new GarnetServer(Arguments(port, fullPath), loggerFactory is null ? null : new PrefixedLoggerFactory(loggerFactory));
        try
        {
            server.Start();
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return new EmbeddedGarnet(server, port, fullPath);
    }

    public void Dispose() => _server.Dispose();

    /// <summary>Puts Garnet's many categories (Options, TsavoriteKV, …) under <c>Garnet.</c>, so that one
    /// <c>Logging:LogLevel:Garnet</c> rule governs them.</summary>
    private sealed class PrefixedLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => inner.CreateLogger("Garnet." + categoryName);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose()
        {
            // The host owns the inner factory.
        }
    }

    /// <summary>Whether a Redis-protocol server answers <c>PING</c> at <paramref name="endPoint"/> (any reply counts,
    /// an authentication error too).</summary>
    public static async Task<bool> AnswersAsync(EndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(endPoint, cts.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n"), SocketFlags.None, cts.Token);
            var buffer = new byte[64];
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return read > 0 && buffer[0] is (byte)'+' or (byte)'-';
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
