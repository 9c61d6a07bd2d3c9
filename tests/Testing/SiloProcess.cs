using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using GroupPay.Silo;

namespace GroupPay.Testing;

/// <summary>
/// The real built silo (<c>dotnet GroupPay.Silo.dll</c>) as a child process, configured through environment
/// variables. Its output is captured for diagnostics; disposing kills it (the whole process tree) if it still runs.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly string[] InheritedPrefixes = ["ConnectionStrings__", "Orleans__", "WeChatPay__", "Redis__", "OTEL_", "Logging__"];
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];

    private SiloProcess(SiloProcessOptions options, Process process)
    {
        Options = options;
        _process = process;
    }

    /// <summary>The silo's dll, built with this library (same configuration).</summary>
    public static string AssemblyPath { get; } =
        typeof(SiloProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "GroupPay.SiloAssembly").Value!;

    public SiloProcessOptions Options { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Everything the process wrote so far, stdout and stderr interleaved by line.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

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
        if (!File.Exists(AssemblyPath))
        {
            throw new FileNotFoundException($"The silo is not built at {AssemblyPath}.", AssemblyPath);
        }
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(AssemblyPath)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(AssemblyPath);
        foreach (var key in start.Environment.Keys.Where(k => InheritedPrefixes.Any(p => k.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToList())
        {
            start.Environment.Remove(key);
        }
        var environment = start.Environment;
        environment["DOTNET_ENVIRONMENT"] = options.EnvironmentName;
        environment.Remove("ASPNETCORE_ENVIRONMENT");
        environment["ConnectionStrings__Redis"] = options.RedisConnectionString;
        environment["Orleans__ClusterId"] = options.Cluster.ClusterId;
        environment["Orleans__ServiceId"] = options.Cluster.ServiceId;
        environment["Orleans__SiloPort"] = options.SiloPort.ToString(CultureInfo.InvariantCulture);
        environment["Orleans__GatewayPort"] = options.GatewayPort.ToString(CultureInfo.InvariantCulture);
        // Plain lines, no colours: easier to read in a failure message.
        environment["Logging__Console__FormatterName"] = "simple";
        environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        environment["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled";
        foreach (var (key, value) in SiloProcessOptions.DemoWeChatPay)
        {
            environment[key] = value;
        }
        foreach (var (key, value) in options.Environment)
        {
            if (value is null)
            {
                environment.Remove(key);
            }
            else
            {
                environment[key] = value;
            }
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var silo = new SiloProcess(options, process);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Waits until a line containing <paramref name="text"/> was written (earlier lines count).</summary>
    /// <exception cref="InvalidOperationException">the process exited first, or the time ran out.</exception>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.ToString().Contains(text, StringComparison.Ordinal))
            {
                return;
            }
            _waiters.Add((text, seen));
        }
        var exited = _process.WaitForExitAsync(cancellationToken);
        var finished = await Task.WhenAny(seen.Task, exited, Task.Delay(timeout, cancellationToken));
        if (finished == seen.Task)
        {
            return;
        }
        cancellationToken.ThrowIfCancellationRequested();
        var why = finished == exited ? $"exited with code {_process.ExitCode}" : $"did not write it within {timeout}";
        throw new InvalidOperationException($"Silo (port {Options.SiloPort}) {why} while waiting for \"{text}\". Output:\n{Output}");
    }

    /// <summary>Graceful stop: SIGTERM, as a process manager sends it, then waits for the exit code. Kills the process
    /// tree if it has not exited within <paramref name="timeout"/> (default 60 s) and throws.</summary>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }
        return await WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>Hard kill (SIGKILL) of the silo and every process it started, as a crash or an OOM kill would.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for the process to exit by itself; kills it and throws when it has not within <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new InvalidOperationException($"Silo (port {Options.SiloPort}) did not exit within {timeout}. Output:\n{Output}");
        }
        // The exit is seen before the last redirected lines are read: WaitForExit() without a timeout drains them.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        List<TaskCompletionSource> seen = [];
        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var waiter in _waiters.Where(w => line.Contains(w.Text, StringComparison.Ordinal)).ToList())
            {
                _waiters.Remove(waiter);
                seen.Add(waiter.Seen);
            }
        }
        foreach (var tcs in seen)
        {
            tcs.TrySetResult();
        }
    }
}
