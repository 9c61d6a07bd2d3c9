using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>The gateway's metrics on the project's <c>GroupPay</c> meter.</summary>
public sealed class GatewayTelemetry : IDisposable
{
    public const string MeterName = "GroupPay";

    /// <summary>Outcomes are a small fixed set: each is converted once.</summary>
    private static readonly ConcurrentDictionary<string, string> OutcomeNames = new(StringComparer.Ordinal);

    private readonly Meter _meter;
    private readonly Counter<long> _notifies;
    private readonly Counter<long> _groupReads;

    public GatewayTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _notifies = _meter.CreateCounter<long>("grouppay.wechatpay.notifies", description: "WeChat Pay notifies by kind and outcome");
        _groupReads = _meter.CreateCounter<long>(GroupReadsInstrument, description: "Grain calls the group event streams make, by kind (read, watch)");
    }

    public const string GroupReadsInstrument = "grouppay.gateway.event_stream.grain_calls";

    /// <summary>Counts one grain call made for the event streams: <c>read</c> (a viewer's snapshot) or <c>watch</c> (a
    /// gateway's subscription or its renewal).</summary>
    public void EventStreamCalled(string kind) => _groupReads.Add(1, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>Counts one notify: <paramref name="kind"/> is <c>payment</c> or <c>refund</c>; the outcome, in
    /// kebab case (<c>Applied</c> counts as <c>applied</c>, <c>BadSignature</c> as <c>bad-signature</c>), is
    /// <c>applied</c>, <c>duplicate</c>, <c>refunding</c>, <c>ignored</c>, a refund state, <c>error</c>, or why it was
    /// refused (a protocol reason or the grain's error code).</summary>
    public void NotifyHandled(string kind, string outcome) =>
        _notifies.Add(1, new KeyValuePair<string, object?>("kind", kind),
            new KeyValuePair<string, object?>("outcome", OutcomeNames.GetOrAdd(outcome, KebabCase)));

    private static string KebabCase(string name)
    {
        var text = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && name[i - 1] != '-')
            {
                text.Append('-');
            }
            text.Append(char.ToLowerInvariant(name[i]));
        }
        return text.ToString();
    }

    public void Dispose() => _meter.Dispose();
}
