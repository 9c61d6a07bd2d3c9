using StackExchange.Redis;

namespace GroupPay.NotifyBench;

/// <summary>
/// The one Redis-protocol server paths 2 and 3 both write to: Debian's redis-server when it is installed (append-only
/// file, fsync every second, as a production Redis is usually run), else an embedded Garnet in its own process.
/// </summary>
internal sealed class StoreServer : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private StoreServer(ChildProcess process, string description, int port, ConnectionMultiplexer admin)
    {
        _process = process;
        Description = description;
        Port = port;
        Admin = admin;
    }

    public string Description { get; }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public ChildProcess Process => _process;

    /// <summary>A connection allowed to run INFO (command counts per phase).</summary>
    public ConnectionMultiplexer Admin { get; }

    public static async Task<StoreServer> StartAsync(string kind, string dataDir, string logDir, CancellationToken cancellationToken)
    {
        var redisServer = FindOnPath("redis-server");
        if (kind == "redis-server" && redisServer is null)
        {
            throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server), or use --store garnet.");
        }
        var useRedis = kind != "garnet" && redisServer is not null;
        // Every run starts from an empty store (an --out directory used before holds the last run's append-only file).
        if (Directory.Exists(dataDir))
        {
            Directory.Delete(dataDir, recursive: true);
        }
        Directory.CreateDirectory(dataDir);
        var port = FreePort.Get();
        ChildProcess process;
        string description;
        if (useRedis)
        {
            process = ChildProcess.Start("redis-server", redisServer!,
            [
                "--bind", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--dir", dataDir, "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no",
            ], Path.Combine(logDir, "redis-server.log"));
            description = "redis-server " + await VersionAsync(redisServer!) + " (AOF, appendfsync everysec)";
        }
        else
        {
            process = ChildProcess.Start("garnet", "dotnet", [Layout.SelfDll, "serve", "garnet", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", dataDir],
                Path.Combine(logDir, "garnet.log"));
            description = "Garnet 2.2.8, embedded in its own process (AOF, commit on every write)";
        }
        ConnectionMultiplexer? admin = null;
        await process.WaitUntilAsync(async () =>
        {
            admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true,abortConnect=true,connectTimeout=1000");
            return true;
        }, "answering PING", TimeSpan.FromSeconds(60), cancellationToken);
        return new StoreServer(process, description, port, admin!);
    }

    /// <summary>Calls per command since the server started (INFO commandstats), e.g. <c>hset</c> → 40000.</summary>
    public async Task<IReadOnlyDictionary<string, long>> CommandCountsAsync()
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            var info = await Admin.GetServer(Admin.GetEndPoints()[0]).InfoAsync("commandstats");
            foreach (var pair in info.SelectMany(group => group))
            {
                // cmdstat_hset: calls=40000,usec=…
                var name = pair.Key.StartsWith("cmdstat_", StringComparison.Ordinal) ? pair.Key["cmdstat_".Length..] : pair.Key;
                var calls = pair.Value.Split(',').FirstOrDefault(p => p.StartsWith("calls=", StringComparison.Ordinal));
                if (calls is not null && long.TryParse(calls["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture, out var n))
                {
                    counts[name.ToLowerInvariant()] = n;
                }
            }
        }
        catch (RedisException)
        {
            // a server without commandstats: the report just lacks that line
        }
        return counts;
    }

    /// <summary>The commands Redis logged as slower than its <c>slowlog-log-slower-than</c> (10 ms by default) since
    /// it started: how many, and the longest few with their duration and first arguments. Null without SLOWLOG.</summary>
    public async Task<string?> SlowCommandsAsync()
    {
        try
        {
            var entries = await Admin.GetServer(Admin.GetEndPoints()[0]).SlowlogGetAsync(128);
            if (entries.Length == 0)
            {
                return "no command took longer than Redis' slow-log threshold (10 ms)";
            }
            var longest = entries.OrderByDescending(e => e.Duration).Take(3)
                .Select(e => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{e.Duration.TotalMilliseconds:0.0} ms `{string.Join(' ', e.Arguments.Take(3).Select(a => a.ToString()))}`"));
            return $"{entries.Length} command(s) took longer than Redis' slow-log threshold (10 ms); longest: {string.Join(", ", longest)}";
        }
        catch (RedisException)
        {
            return null; // a server without SLOWLOG (Garnet)
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Admin.DisposeAsync();
        await _process.DisposeAsync();
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    private static async Task<string> VersionAsync(string redisServer)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(redisServer, "--version") { RedirectStandardOutput = true })!;
        var text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        // "Redis server v=7.0.15 sha=…"
        return text.Split(' ').FirstOrDefault(p => p.StartsWith("v=", StringComparison.Ordinal))?[2..] ?? "?";
    }
}
