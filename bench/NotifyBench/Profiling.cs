using System.Diagnostics;
using System.Globalization;

namespace GroupPay.NotifyBench;

/// <summary>
/// CPU profile of the gateway and the silos with Linux perf (Debian's linux-perf): samples on CPU only, JIT-compiled
/// methods named through the runtime's perf maps (<c>DOTNET_PerfMapEnabled=1</c>, set on those processes when
/// profiling). Writes <c>perf.data</c> and text reports: CPU by process, by module, and the top methods per process.
/// </summary>
internal static class Profiling
{
    public const string PerfMapVariable = "DOTNET_PerfMapEnabled";

    public static string? FindPerf() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "perf"))
            .FirstOrDefault(File.Exists);

    /// <summary>Starts sampling <paramref name="processes"/> for <paramref name="duration"/>; it stops by itself.</summary>
    public static (ChildProcess Recorder, string DataFile) Start(string perf, IReadOnlyList<ChildProcess> processes, TimeSpan duration, string dir)
    {
        Directory.CreateDirectory(dir);
        var data = Path.Combine(dir, "perf.data");
        var recorder = ChildProcess.Start("perf record", perf,
        [
            "record", "-F", "499", "-g", "-o", data,
            "-p", string.Join(',', processes.Select(p => p.Id.ToString(CultureInfo.InvariantCulture))),
            "--", "sleep", duration.TotalSeconds.ToString("0", CultureInfo.InvariantCulture),
        ], Path.Combine(dir, "perf-record.log"));
        return (recorder, data);
    }

    /// <summary>Waits for the recorder, then writes the reports (all processes by thread kind and module; then each
    /// process's modules and top methods); returns their paths.</summary>
    public static async Task<List<string>> FinishAsync(string perf, (ChildProcess Recorder, string DataFile) recording, IReadOnlyList<ChildProcess> processes, TimeSpan wait)
    {
        var (recorder, data) = recording;
        var until = DateTime.UtcNow + wait;
        while (!recorder.HasExited && DateTime.UtcNow < until)
        {
            await Task.Delay(200);
        }
        await recorder.StopAsync(TimeSpan.FromSeconds(15));
        if (!File.Exists(data))
        {
            return [$"no perf data (see {recorder.LogPath})"];
        }
        var dir = Path.GetDirectoryName(data)!;
        var reports = new List<string>();
        var all = Path.Combine(dir, "cpu-all.txt");
        await File.WriteAllTextAsync(all, await ReportAsync(perf, data, "comm,dso", null, "0.3"));
        reports.Add(all);
        foreach (var process in processes)
        {
            var file = Path.Combine(dir, $"cpu-{process.Name.Replace(' ', '-')}.txt");
            var pid = process.Id.ToString(CultureInfo.InvariantCulture);
            await File.WriteAllTextAsync(file,
                $"== {process.Name} (pid {pid}): by module ==\n" + await ReportAsync(perf, data, "dso", pid, "0.5")
                + $"\n== {process.Name} (pid {pid}): by method (self) ==\n" + await ReportAsync(perf, data, "dso,sym", pid, "0.2"));
            reports.Add(file);
        }
        return reports;
    }

    private static async Task<string> ReportAsync(string perf, string data, string sort, string? pid, string percentLimit)
    {
        var start = new ProcessStartInfo(perf) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["report", "-i", data, "--stdio", "--no-children", "-g", "none", "--sort", sort, "--percent-limit", percentLimit])
        {
            start.ArgumentList.Add(argument);
        }
        if (pid is not null)
        {
            start.ArgumentList.Add("--pid");
            start.ArgumentList.Add(pid);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        _ = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        // perf's comment lines aside, and the long IL signatures shortened to the method's name.
        return string.Join('\n', (await output).Split('\n').Where(line => line.Length > 0 && !line.StartsWith('#')).Select(Shorten)) + "\n";
    }

    private static string Shorten(string line)
    {
        // "… [.] instance void [Asm] Ns.Type::Method(args)[OptimizedTier1]" → "… [.] Ns.Type::Method [OptimizedTier1]"
        var open = line.IndexOf("::", StringComparison.Ordinal);
        if (open < 0)
        {
            return line;
        }
        var paren = line.IndexOf('(', open);
        var tier = line.LastIndexOf('[');
        return paren < 0 ? line : line[..paren] + (tier > paren ? " " + line[tier..] : "");
    }
}
