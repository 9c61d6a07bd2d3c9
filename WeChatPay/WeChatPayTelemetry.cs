using System.Diagnostics;

namespace GroupPay.WeChatPay;

/// <summary>The library's activity source: one client span per WeChat Pay call.</summary>
public static class WeChatPayTelemetry
{
    public const string ActivitySourceName = "GroupPay.WeChatPay";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}
