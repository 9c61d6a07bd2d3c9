using GroupPay.NotifyBench;

// GroupPay's notify-path benchmark (bench/README.md). `run` measures; `serve …` are the processes it starts.
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
        return await BenchMain.RunAsync(stop => NotifyBenchmark.RunAsync(BenchOptions.Parse(args.Skip(1).ToList()), stop), BenchOptions.Usage);
    default:
        Console.WriteLine(BenchOptions.Usage);
        return args[0] is "-h" or "--help" or "help" ? 0 : 2;
}
