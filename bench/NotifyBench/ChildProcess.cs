using System.Diagnostics;
using System.Globalization;

namespace GroupPay.NotifyBench;

/// <summary>
/// A process the benchmark started: its stdout and stderr go straight to a log file (the shell's redirection, so
/// this process spends nothing copying them), it is stopped with SIGTERM and, failing that, killed. Every instance
/// is tracked so that an interrupted run still leaves nothing behind.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly List<ChildProcess> Running = [];
    private readonly Process _process;

    private ChildProcess(string name, string logPath, Process process)
    {
        Name = name;
        LogPath = logPath;
        _process = process;
    }

    public string Name { get; }

    public string LogPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>User + system CPU time the process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            try
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero;
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>, its output appended to
    /// <paramref name="logPath"/>. <paramref name="environment"/> is added to this process's environment.</summary>
    public static ChildProcess Start(
        string name, string fileName, IEnumerable<string> arguments, string logPath, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        // exec: the pid we hold is the program's own, so a signal reaches it directly. setsid: its own session, so a
        // Ctrl-C in the terminal reaches only this process, which then stops the others in order (the store last).
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("log=\"$1\"; shift; if command -v setsid >/dev/null; then set -- setsid \"$@\"; fi; exec \"$@\" >>\"$log\" 2>&1 </dev/null");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(logPath);
        start.ArgumentList.Add(fileName);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {name}.");
        var child = new ChildProcess(name, logPath, process);
        lock (Running)
        {
            Running.Add(child);
        }
        return child;
    }

    /// <summary>Waits until the log has a line containing <paramref name="text"/>.</summary>
    public async Task WaitForLogAsync(string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            if (File.Exists(LogPath) && (await File.ReadAllTextAsync(LogPath, cancellationToken)).Contains(text, StringComparison.Ordinal))
            {
                return;
            }
            ThrowIfGone(until, $"\"{text}\" in its log");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>Waits until <paramref name="check"/> succeeds (it is retried while it throws or returns false).</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> check, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await check())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or StackExchange.Redis.RedisException)
            {
                // not yet
            }
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfGone(until, what);
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>SIGTERM, then up to <paramref name="grace"/> for a clean exit, then SIGKILL.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            Signal("TERM");
            using var cts = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"  {Name} (pid {Id}) did not stop within {grace.TotalSeconds:0} s: killed");
                Kill();
            }
        }
        lock (Running)
        {
            Running.Remove(this);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(20));
        _process.Dispose();
    }

    /// <summary>Last resort (process exit, unhandled error): kills whatever is still running.</summary>
    public static void KillAll()
    {
        ChildProcess[] all;
        lock (Running)
        {
            all = [.. Running];
            Running.Clear();
        }
        foreach (var child in all)
        {
            child.Kill();
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private void ThrowIfGone(DateTime until, string what)
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before {what}; see {LogPath}:\n{Tail()}");
        }
        if (DateTime.UtcNow > until)
        {
            throw new TimeoutException($"{Name} did not show {what} in time; see {LogPath}:\n{Tail()}");
        }
    }

    private string Tail()
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogPath).TakeLast(30));
        }
        catch (IOException)
        {
            return "";
        }
    }
}
