using System.Globalization;
using System.Text;
using Microsoft.Diagnostics.Runtime;

namespace GroupPay.NotifyBench;

/// <summary>What a process's managed heap holds, by type: attaches to it (suspending it while the heap is walked), so
/// the figures are exact for that moment. Unreachable objects not yet collected are counted too.</summary>
internal static class HeapBreakdown
{
    public static string Describe(int pid, int liveGroups, int top = 25)
    {
        using var target = DataTarget.AttachToProcess(pid, suspend: true);
        // The DAC ships beside the target's runtime (symbol-server downloads are off on Linux).
        var clr = target.ClrVersions[0];
        using var runtime = clr.CreateRuntime(Path.Combine(Path.GetDirectoryName(clr.ModuleInfo.FileName)!, "libmscordaccore.so"), ignoreMismatch: true);
        var byType = new Dictionary<string, (long Bytes, long Count)>();
        long total = 0, objects = 0;
        foreach (var obj in runtime.Heap.EnumerateObjects())
        {
            if (!obj.IsValid || obj.IsFree)
            {
                continue;
            }
            var size = (long)obj.Size;
            var name = obj.Type?.Name ?? "?";
            var (bytes, count) = byType.GetValueOrDefault(name);
            byType[name] = (bytes + size, count + 1);
            total += size;
            objects++;
        }
        var groups = Math.Max(1, liveGroups);
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"managed heap: {total / 1048576.0:0} MiB in {objects:N0} objects ({total / groups:N0} B and {objects / (double)groups:0.0} objects per live group); top {top} types:"));
        text.AppendLine("| type | MiB | objects | B per live group | objects per live group |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var (name, (bytes, count)) in byType.OrderByDescending(t => t.Value.Bytes).Take(top))
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| `{name.Replace("|", "\\|", StringComparison.Ordinal)}` | {bytes / 1048576.0:0.0} | {count:N0} | {bytes / groups:N0} | {count / (double)groups:0.00} |"));
        }
        // GC handles are roots every collection scans, gen0 included: a count that grows with live groups makes every
        // gen0 pause grow with them.
        var handles = runtime.EnumerateHandles().GroupBy(h => h.HandleKind).OrderByDescending(g => g.Count()).ToList();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"GC handles: {string.Join(", ", handles.Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} {g.Count():N0} ({g.Count() / (double)groups:0.00} per live group)")))}"));
        // The silo's side of the reminders (its reminder service's table and timers): the types that name them.
        var reminders = byType.Where(t => t.Key.Contains("Reminder", StringComparison.Ordinal)).ToList();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"types whose name contains \"Reminder\" ({reminders.Count}): {reminders.Sum(t => t.Value.Bytes) / 1048576.0:0.0} MiB in {reminders.Sum(t => t.Value.Count):N0} objects ({reminders.Sum(t => t.Value.Bytes) / groups:N0} B per live group); largest: {string.Join(", ", reminders.OrderByDescending(t => t.Value.Bytes).Take(4).Select(t => string.Create(CultureInfo.InvariantCulture, $"`{t.Key}` {t.Value.Bytes / 1048576.0:0.0} MiB")))}"));
        return text.ToString();
    }
}
