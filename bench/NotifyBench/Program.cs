using System.Runtime.InteropServices;
using GroupPay.NotifyBench;

// GroupPay's notify-path benchmark (bench/README.md). `run` measures; `serve …` are the processes it starts.
AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.KillAll();
try
{
    switch (args.FirstOrDefault())
    {
        case "serve":
            return await ComparisonServers.RunAsync(args[1..]);
        case "heap" when args.Length >= 2:
            // The same breakdown that --heap adds to path 3, for any .NET process: heap <pid> [live groups].
            Console.WriteLine(HeapBreakdown.Describe(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture),
                args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1));
            return 0;
        case "run" when args.Skip(1).Any(a => a is "-h" or "--help"):
            Console.WriteLine(BenchOptions.Usage);
            return 0;
        case "run":
        case null:
            var options = BenchOptions.Parse(args.Skip(1).ToList());
            using (var stop = new CancellationTokenSource())
            {
                // Ctrl-C or SIGTERM: stop measuring, then stop every process started (the finally blocks).
                using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
                using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
                return await NotifyBenchmark.RunAsync(options, stop.Token);

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
            Console.WriteLine(BenchOptions.Usage);
            return args[0] is "-h" or "--help" or "help" ? 0 : 2;
    }
}
catch (ArgumentException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    await Console.Error.WriteLineAsync(BenchOptions.Usage);
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
