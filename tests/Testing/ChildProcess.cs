using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace GroupPay.Testing;

/// <summary>
/// A built .NET app (<c>dotnet app.dll</c>) run as a child process with its own environment: output captured for
/// diagnostics, graceful stop with SIGTERM, hard kill of the whole tree; disposing kills it if it still runs.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    /// <summary>Configuration families a child never inherits from the test process, so tests stay isolated.</summary>
    private static readonly string[] IsolatedPrefixes =
        ["ConnectionStrings__", "Orleans__", "WeChatPay__", "WeChat__", "Gateway__", "Sandbox__", "Redis__", "OTEL_", "Logging__"];

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>How failure messages name it (e.g. "silo on port 11111").</summary>
    public string Name { get; }

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

    /// <summary>Starts <c>dotnet <paramref name="assemblyPath"/> <paramref name="arguments"/></c> in the assembly's folder
    /// with <paramref name="environment"/> on top of a clean copy of this process's (a null value removes a variable).</summary>
    public static ChildProcess Start(
        string name, string assemblyPath, IEnumerable<string> arguments, IEnumerable<KeyValuePair<string, string?>> environment)
    {
        if (!File.Exists(assemblyPath))
        {
            throw new FileNotFoundException($"{name}: not built at {assemblyPath}.", assemblyPath);
        }
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(assemblyPath)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assemblyPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var key in start.Environment.Keys.Where(k => IsolatedPrefixes.Any(p => k.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToList())
        {
            start.Environment.Remove(key);
        }
        start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        start.Environment.Remove("DOTNET_ENVIRONMENT");
        // Plain lines, no colours: easier to read in a failure message.
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        start.Environment["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled";
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
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
        throw new InvalidOperationException($"{Name} {why} while waiting for \"{text}\". Output:\n{Output}");
    }

    /// <summary>Waits until <paramref name="url"/> answers 2xx (a health endpoint).</summary>
    /// <exception cref="InvalidOperationException">the process exited first, or the time ran out.</exception>
    public async Task WaitForHttpAsync(Uri url, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var until = DateTime.UtcNow + timeout;
        while (!_process.HasExited && DateTime.UtcNow < until)
        {
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Too slow to answer yet.
            }
            await Task.Delay(100, cancellationToken);
        }
        var why = _process.HasExited ? $"exited with code {_process.ExitCode}" : $"did not answer within {timeout}";
        throw new InvalidOperationException($"{Name} {why} at {url}. Output:\n{Output}");
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

    /// <summary>Hard kill (SIGKILL) of the process and every process it started, as a crash or an OOM kill would.</summary>
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
            throw new InvalidOperationException($"{Name} did not exit within {timeout}. Output:\n{Output}");
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
