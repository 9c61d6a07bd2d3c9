using System.Diagnostics;
using Npgsql;

namespace GroupPay.Testing;

/// <summary>
/// A PostgreSQL server for tests: the one named by <c>GROUPPAY_TEST_POSTGRES</c> (a connection string), else Debian's
/// <c>postgres</c> (<c>/usr/lib/postgresql/*/bin</c>; <c>test.sh</c> installs it) started on a free 127.0.0.1 port in a
/// temporary folder, as the <c>postgres</c> user when the tests run as root (the server refuses root), and removed on
/// dispose. Each test gets a database of its own from <see cref="CreateDatabaseAsync"/>.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string EnvironmentVariable = "GROUPPAY_TEST_POSTGRES";

    private Process? _server;
    private string? _dir;

    /// <summary>The server's maintenance database.</summary>
    public string ConnectionString { get; private set; } = "";

    public static async Task<PostgresServer> StartAsync()
    {
        var server = new PostgresServer();
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } external)
        {
            server.ConnectionString = external;
            return server;
        }
        await server.StartLocalAsync();
        return server;
    }

    /// <summary>A new, empty database on the server: its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "grouppay_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    private async Task StartLocalAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "postgres"))).Order().LastOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql; ./test.sh does it), and GROUPPAY_TEST_POSTGRES names no server.");
        }
        _dir = Directory.CreateTempSubdirectory("grouppay-postgres-").FullName;
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await RunAsync("chown", ["postgres", _dir]);
        }
        var data = Path.Combine(_dir, "data");
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "grouppay", "--no-sync", "-E", "UTF8"], asRoot);
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort.Get();
            _server = Process.Start(Command(Path.Combine(bin, "postgres"),
                ["-D", data, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", _dir, "-c", "listen_addresses=127.0.0.1", "-F"], asRoot))!;
            // Its log is read and dropped, so that a full pipe never blocks it.
            _server.OutputDataReceived += (_, _) => { };
            _server.ErrorDataReceived += (_, _) => { };
            _server.BeginOutputReadLine();
            _server.BeginErrorReadLine();
            ConnectionString = $"Host=127.0.0.1;Port={port};Username=grouppay;Database=postgres;Pooling=true";
            if (await ReadyAsync())
            {
                return;
            }
            KillServer();
            if (attempt == 3)
            {
                throw new InvalidOperationException("PostgreSQL did not start.");
            }
        }
    }

    private async Task<bool> ReadyAsync()
    {
        for (var i = 0; i < 100 && !_server!.HasExited; i++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString);
                await connection.OpenAsync();
                return true;
            }
            catch (NpgsqlException)
            {
                await Task.Delay(100);
            }
        }
        return false;
    }

    private static ProcessStartInfo Command(string program, IEnumerable<string> arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asPostgres)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", program })
            {
                start.ArgumentList.Add(argument);
            }
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return start;
    }

    private static async Task RunAsync(string program, IEnumerable<string> arguments, bool asPostgres = false)
    {
        using var process = Process.Start(Command(program, arguments, asPostgres))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {await output}{await error}");
        }
    }

    private void KillServer()
    {
        if (_server is { HasExited: false })
        {
            // runuser passes the signal on; the whole tree goes.
            _server.Kill(entireProcessTree: true);
            _server.WaitForExit(10_000);
        }
        _server?.Dispose();
        _server = null;
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        KillServer();
        if (_dir is not null && Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
        return ValueTask.CompletedTask;
    }
}
