using System.Runtime.InteropServices;
using GroupPay.NotifyBench;

namespace GroupPay.FlashSaleBench;

/// <summary>GroupPay's flash-sale benchmark (bench/README.md). <c>run</c> measures; <c>serve garnet</c> is the fallback
/// store it starts when redis-server is missing.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.KillAll();
        try
        {
            switch (args.FirstOrDefault())
            {
                case "serve":
                    return await ComparisonServers.RunAsync(args[1..]);
                case "run" when args.Skip(1).Any(a => a is "-h" or "--help"):
                    Console.WriteLine(FlashSaleOptions.Usage);
                    return 0;
                case "run":
                case null:
                    var options = FlashSaleOptions.Parse(args.Skip(1).ToList());
                    using (var stop = new CancellationTokenSource())
                    {
                        // Ctrl-C or SIGTERM: stop selling, then stop every process started (the disposals).
                        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
                        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
                        return await FlashSaleBenchmark.RunAsync(options, stop.Token);

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
                default:
                    Console.WriteLine(FlashSaleOptions.Usage);
                    return args[0] is "-h" or "--help" or "help" ? 0 : 2;
            }
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            await Console.Error.WriteLineAsync(FlashSaleOptions.Usage);
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
}
