using System.Diagnostics.Metrics;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>The gateway's metrics on the project's <c>GroupPay</c> meter.</summary>
public sealed class GatewayTelemetry : IDisposable
{
    public const string MeterName = "GroupPay";

    private readonly Meter _meter;
    private readonly Counter<long> _notifies;

    public GatewayTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _notifies = _meter.CreateCounter<long>("grouppay.wechatpay.notifies", description: "WeChat Pay notifies by kind and outcome");
    }

    /// <summary>Counts one notify: <paramref name="kind"/> is <c>payment</c> or <c>refund</c>; the outcome is
    /// <c>applied</c>, <c>duplicate</c>, <c>refunding</c>, <c>ignored</c>, or why it was refused.</summary>
    public void NotifyHandled(string kind, string outcome) =>
        _notifies.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", outcome));

    public void Dispose() => _meter.Dispose();
}
