using System.Globalization;

namespace GroupPay.WeChatPay.Protocol;

/// <summary>WeChat Pay's wire times: Beijing time (UTC+8, no daylight saving) as <c>yyyyMMddHHmmss</c>
/// (<c>time_end</c>, <c>time_expire</c>) or <c>yyyy-MM-dd HH:mm:ss</c> (refund success time).</summary>
public static class WeChatPayTime
{
    public static readonly TimeSpan BeijingOffset = TimeSpan.FromHours(8);

    private const string CompactFormat = "yyyyMMddHHmmss";
    private const string DashedFormat = "yyyy-MM-dd HH:mm:ss";

    public static string FormatCompact(DateTimeOffset time) =>
        time.ToOffset(BeijingOffset).ToString(CompactFormat, CultureInfo.InvariantCulture);

    public static string FormatDashed(DateTimeOffset time) =>
        time.ToOffset(BeijingOffset).ToString(DashedFormat, CultureInfo.InvariantCulture);

    public static bool TryParseCompact(string? text, out DateTimeOffset time) => TryParse(text, CompactFormat, out time);

    public static bool TryParseDashed(string? text, out DateTimeOffset time) => TryParse(text, DashedFormat, out time);

    public static DateTimeOffset? ParseCompactOrNull(string? text) => TryParseCompact(text, out var time) ? time : null;

    public static DateTimeOffset? ParseDashedOrNull(string? text) => TryParseDashed(text, out var time) ? time : null;

    /// <summary>Unix seconds, as JSAPI's <c>timeStamp</c> wants them.</summary>
    public static string FormatUnixSeconds(DateTimeOffset time) =>
        time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    private static bool TryParse(string? text, string format, out DateTimeOffset time)
    {
        if (DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            time = new DateTimeOffset(local, BeijingOffset);
            return true;
        }
        time = default;
        return false;
    }
}
