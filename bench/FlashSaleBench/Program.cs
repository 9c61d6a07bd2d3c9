using GroupPay.NotifyBench;

namespace GroupPay.FlashSaleBench;

/// <summary>GroupPay's flash-sale benchmark (bench/README.md). <c>run</c> measures; <c>serve garnet</c> is the fallback
/// store it starts when redis-server is missing.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
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
                return await BenchMain.RunAsync(stop => FlashSaleBenchmark.RunAsync(FlashSaleOptions.Parse(args.Skip(1).ToList()), stop), FlashSaleOptions.Usage);
            default:
                Console.WriteLine(FlashSaleOptions.Usage);
                return args[0] is "-h" or "--help" or "help" ? 0 : 2;
        }
    }
}
