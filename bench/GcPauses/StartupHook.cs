using System.Diagnostics.Tracing;
using System.Globalization;

#pragma warning disable CA1050 // The runtime finds a startup hook by this exact name in the global namespace.
/// <summary>Entry point of the startup hook (<c>DOTNET_STARTUP_HOOKS</c>): starts the pause recorder when
/// <c>GROUPPAY_GC_PAUSE_LOG</c> names a file.</summary>
internal static class StartupHook
#pragma warning restore CA1050
{
    public static void Initialize()
    {
        var path = Environment.GetEnvironmentVariable(GroupPay.GcPauses.PauseRecorder.LogVariable);
        if (!string.IsNullOrEmpty(path))
        {
            GroupPay.GcPauses.PauseRecorder.Start(path);
        }
    }
}

namespace GroupPay.GcPauses
{
    /// <summary>
    /// Listens to the runtime's GC events in-process and writes one line per suspension of the managed threads:
    /// <c>end (UTC ticks),pause (µs),generation,type,allocated,promoted</c>, where generation and type are those of the
    /// collection that started inside the suspension (GCStart's Depth and Type: 0 blocking, 1 background, 2 foreground
    /// during a background one), or <c>-1,-1</c> for a suspension without one (a background collection's own short
    /// pauses); allocated is the process's bytes allocated so far, promoted the bytes the collection kept (GCHeapStats:
    /// promoted out of the generations it collected; -1 when it reported none).
    /// </summary>
    internal sealed class PauseRecorder : EventListener
    {
        public const string LogVariable = "GROUPPAY_GC_PAUSE_LOG";

        private const int GcKeyword = 0x1;
        private const int GcStart = 1, RestartEeEnd = 3, GcHeapStats = 4, SuspendEeBegin = 9;

        private static StreamWriter? s_log;

        private DateTime _suspendedAt;
        private int _generation = -1, _type = -1;
        private long _promoted = -1;

        public static void Start(string path)
        {
            s_log = new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            // Listeners stay registered (and alive) until disposed: this one lives as long as the process.
            _ = new PauseRecorder();
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)GcKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            switch (e.EventId)
            {
                case SuspendEeBegin:
                    _suspendedAt = e.TimeStamp;
                    _generation = _type = -1;
                    _promoted = -1;
                    break;
                case GcStart when _suspendedAt != default:
                    _generation = Field(e, "Depth");
                    _type = Field(e, "Type");
                    break;
                case GcHeapStats when _suspendedAt != default && _generation >= 0:
                    _promoted = Enumerable.Range(0, _generation + 1).Sum(g => Long(e, $"TotalPromotedSize{g}"));
                    break;
                case RestartEeEnd when _suspendedAt != default:
                    var micros = (e.TimeStamp - _suspendedAt).Ticks / 10;
                    lock (s_log!)
                    {
                        s_log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{e.TimeStamp.ToUniversalTime().Ticks},{micros},{_generation},{_type},{GC.GetTotalAllocatedBytes()},{_promoted}"));
                    }
                    _suspendedAt = default;
                    break;
                default:
                    break;
            }
        }

        private static long Long(EventWrittenEventArgs e, string name)
        {
            var index = e.PayloadNames?.IndexOf(name) ?? -1;
            return index >= 0 && e.Payload?[index] is { } value ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : 0;
        }

        private static int Field(EventWrittenEventArgs e, string name)
        {
            var index = e.PayloadNames?.IndexOf(name) ?? -1;
            return index >= 0 && e.Payload?[index] is { } value ? Convert.ToInt32(value, CultureInfo.InvariantCulture) : -1;
        }
    }
}
