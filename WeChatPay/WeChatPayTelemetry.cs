using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace GroupPay.WeChatPay;

/// <summary>The library's activity source (one client span per WeChat Pay call) and its meter: each HTTP attempt's
/// duration, by API and outcome (<c>success</c> or the <see cref="Client.WeChatPayErrorCode"/>), so latency and error
/// codes per API are one histogram.</summary>
public static class WeChatPayTelemetry
{
    public const string ActivitySourceName = "GroupPay.WeChatPay";
    public const string MeterName = "GroupPay.WeChatPay";
    public const string CallDurationName = "grouppay.wechatpay.call.duration";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> CallDuration = Meter.CreateHistogram<double>(
        CallDurationName, unit: "s", description: "One HTTP attempt of a WeChat Pay API call, by api and outcome (success or the error code)");

    internal static void RecordCall(string api, string outcome, TimeSpan duration) =>
        CallDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("api", api), new KeyValuePair<string, object?>("outcome", outcome));
}
