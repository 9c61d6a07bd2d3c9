using System.Globalization;
using System.Reflection;
using GroupPay.Silo;

namespace GroupPay.Testing;

/// <summary>
/// The real built silo (<c>dotnet GroupPay.Silo.dll</c>) as a child process, configured through environment
/// variables. Its output is captured for diagnostics; disposing kills it (the whole process tree) if it still runs.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private SiloProcess(SiloProcessOptions options, ChildProcess process)
    {
        Options = options;
        _process = process;
    }

    /// <summary>The silo's dll, built with this library (same configuration).</summary>
    public static string AssemblyPath { get; } = BuiltAssemblies.Path("GroupPay.SiloAssembly");

    public SiloProcessOptions Options { get; }

    public int ProcessId => _process.ProcessId;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.ExitCode;

    /// <summary>Everything the process wrote so far, stdout and stderr interleaved by line.</summary>
    public string Output => _process.Output;

    /// <summary>Starts the silo and waits until it has joined the cluster and its gateway accepts clients.</summary>
    /// <exception cref="InvalidOperationException">it exited or did not start in time (the message has its output).</exception>
    public static async Task<SiloProcess> StartAsync(SiloProcessOptions options, CancellationToken cancellationToken = default)
    {
        var silo = Launch(options);
        try
        {
            await silo.WaitForOutputAsync(SiloHost.StartedMessage, options.StartTimeout, cancellationToken);
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
        return silo;
    }

    /// <summary>Starts the process without waiting for it (for silos expected to refuse to start).</summary>
    public static SiloProcess Launch(SiloProcessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = options.EnvironmentName,
            ["ConnectionStrings__Redis"] = options.RedisConnectionString,
            ["Orleans__ClusterId"] = options.Cluster.ClusterId,
            ["Orleans__ServiceId"] = options.Cluster.ServiceId,
            ["Orleans__SiloPort"] = options.SiloPort.ToString(CultureInfo.InvariantCulture),
            ["Orleans__GatewayPort"] = options.GatewayPort.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in SiloProcessOptions.DemoWeChatPay)
        {
            environment[key] = value;
        }
        foreach (var (key, value) in options.Environment)
        {
            environment[key] = value;
        }
        return new SiloProcess(options, ChildProcess.Start($"Silo (port {options.SiloPort})", AssemblyPath, [], environment));
    }

    /// <summary>Waits until a line containing <paramref name="text"/> was written (earlier lines count).</summary>
    /// <exception cref="InvalidOperationException">the process exited first, or the time ran out.</exception>
    public Task WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _process.WaitForOutputAsync(text, timeout, cancellationToken);

    /// <summary>Graceful stop: SIGTERM, then the exit code (the tree is killed after <paramref name="timeout"/>).</summary>
    public Task<int> StopAsync(TimeSpan? timeout = null) => _process.StopAsync(timeout);

    /// <summary>Hard kill (SIGKILL) of the silo and every process it started, as a crash or an OOM kill would.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>Freezes the silo (SIGSTOP), as a hung host that sends no TCP reset: its connections stay open, it answers
    /// nothing. <see cref="ThawAsync"/> resumes it; disposing a frozen silo kills it.</summary>
    public Task FreezeAsync() => SignalAsync("STOP");

    /// <summary>Resumes a frozen silo (SIGCONT).</summary>
    public Task ThawAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, ProcessId.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {ProcessId} exited with {kill.ExitCode}");
        }
    }

    /// <summary>Waits for the process to exit by itself; kills it and throws when it has not within <paramref name="timeout"/>.</summary>
    public Task<int> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

/// <summary>Where the apps that tests run as processes were built (paths written into this assembly at build time).</summary>
public static class BuiltAssemblies
{
    public static string Silo => SiloProcess.AssemblyPath;

    public static string Gateway { get; } = Path("GroupPay.GatewayAssembly");

    public static string Sandbox { get; } = Path("GroupPay.SandboxAssembly");

    internal static string Path(string key) =>
        typeof(BuiltAssemblies).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
