using System.Globalization;

namespace GroupPay.NotifyBench;

/// <summary>The runtime's pauses in a gateway or silo process, as recorded by the startup hook in bench/GcPauses, and
/// summarised over one phase of the run.</summary>
internal static class GcPauseLog
{
    private static string HookDll => Path.Combine(AppContext.BaseDirectory, "GroupPay.GcPauses.dll");

    /// <summary>The variables that load the hook into a process and name its log.</summary>
    public static Dictionary<string, string> Variables(string logFile) => new()
    {
        ["DOTNET_STARTUP_HOOKS"] = HookDll,
        ["GROUPPAY_GC_PAUSE_LOG"] = logFile,
    };

    /// <summary>The pauses that ended between <paramref name="fromUtc"/> and <paramref name="toUtc"/>.</summary>
    public static GcPauses Read(string logFile, DateTime fromUtc, DateTime toUtc)
    {
        var pauses = new List<(string Kind, double Ms, long Promoted)>();
        long? firstAllocated = null, lastAllocated = null;
        if (File.Exists(logFile))
        {
            using var reader = new StreamReader(new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            while (reader.ReadLine() is { } line)
            {
                var fields = line.Split(',');
                if (fields.Length is not (4 or 6) || !long.TryParse(fields[0], CultureInfo.InvariantCulture, out var ticks))
                {
                    continue;
                }
                var end = new DateTime(ticks, DateTimeKind.Utc);
                if (end >= fromUtc && end <= toUtc)
                {
                    var promoted = fields.Length == 6 ? long.Parse(fields[5], CultureInfo.InvariantCulture) : -1;
                    pauses.Add((Kind(fields[2], fields[3]), long.Parse(fields[1], CultureInfo.InvariantCulture) / 1000.0, promoted));
                    if (fields.Length == 6)
                    {
                        lastAllocated = long.Parse(fields[4], CultureInfo.InvariantCulture);
                        firstAllocated ??= lastAllocated;
                    }
                }
            }
        }
        return new GcPauses(pauses, toUtc - fromUtc, lastAllocated - firstAllocated);
    }

    private static string Kind(string generation, string type) => type switch
    {
        "0" => $"gen{generation}",
        "1" => "gen2 background (start)",
        "2" => $"gen{generation} during a background gen2",
        _ => "a background gen2's own",
    };
}

/// <summary>A phase's pauses: counts, total and longest, overall and by kind of collection (with the mean bytes each
/// kind kept), and the bytes allocated between the phase's first and last pause (null for a log without them).</summary>
internal sealed record GcPauses(IReadOnlyList<(string Kind, double Ms, long Promoted)> Pauses, TimeSpan Phase, long? AllocatedBytes)
{
    public double TotalMs => Pauses.Sum(p => p.Ms);

    public double MaxMs => Pauses.Count == 0 ? 0 : Pauses.Max(p => p.Ms);

    public int Over(double ms) => Pauses.Count(p => p.Ms > ms);

    /// <summary>Bytes allocated per unit of work in the phase (null when the log has no allocation figures).</summary>
    public double? AllocatedPer(long units) => AllocatedBytes is { } bytes && units > 0 ? (double)bytes / units : null;

    private static string Kept(IEnumerable<(string Kind, double Ms, long Promoted)> pauses)
    {
        var promoted = pauses.Where(p => p.Promoted >= 0).Select(p => p.Promoted).ToList();
        return promoted.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $", kept {promoted.Average() / (1 << 20):0.0} MiB");
    }

    public override string ToString()
    {
        if (Pauses.Count == 0)
        {
            return "no pauses";
        }
        var kinds = Pauses.GroupBy(p => p.Kind).OrderByDescending(g => g.Count())
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} ×{g.Count()} (mean {g.Average(p => p.Ms):0.0}, max {g.Max(p => p.Ms):0.0} ms{Kept(g)})"));
        return string.Create(CultureInfo.InvariantCulture,
            $"{Pauses.Count} pauses, {TotalMs:0} ms in all ({TotalMs / Math.Max(1, Phase.TotalMilliseconds):P1} of the phase), longest {MaxMs:0.0} ms, {Over(10)} over 10 ms, {Over(50)} over 50 ms: {string.Join(", ", kinds)}");
    }
}
