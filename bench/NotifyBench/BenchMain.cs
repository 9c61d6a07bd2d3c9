using System.Runtime.InteropServices;

namespace GroupPay.NotifyBench;

/// <summary>What both benchmarks' <c>Main</c> do around a run: Ctrl-C or SIGTERM cancels it (and the disposals stop
/// every process it started), a bad option prints the usage (exit 2), an interruption exits 130, and no child process
/// outlives the benchmark.</summary>
internal static class BenchMain
{
    public static async Task<int> RunAsync(Func<CancellationToken, Task<int>> run, string usage)
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.KillAll();
        try
        {
            using var stop = new CancellationTokenSource();
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
            return await run(stop.Token);

            void Cancel(PosixSignalContext context)
            {
                context.Cancel = true;
                if (!stop.IsCancellationRequested)
                {
                    Console.Error.WriteLine("Stopping: cleaning up every process this run started…");
                    stop.Cancel();
                }
            }
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            await Console.Error.WriteLineAsync(usage);
            return 2;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("Interrupted.");
            return 130;
        }
        finally
        {
            ChildProcess.KillAll();
        }
    }

    /// <summary>The value at percentile <paramref name="p"/> of <paramref name="sorted"/> (nearest rank), or null.</summary>
    public static long? Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}
