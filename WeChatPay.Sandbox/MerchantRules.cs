using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>WeChat's field formats for the merchant API (docs/wechatpay.md §2.1, §5.3).</summary>
internal static partial class MerchantRules
{
    public const int MaxNonceLength = 32;

    /// <summary><c>wx</c> + 16 letters or digits.</summary>
    public static bool IsAppId(string value) => AppIdPattern().IsMatch(value);

    /// <summary>6..32 of <c>[0-9A-Za-z_-|*]</c>.</summary>
    public static bool IsOutTradeNo(string value) => OutTradeNoPattern().IsMatch(value);

    /// <summary>1..64 of <c>[0-9A-Za-z_-|*@]</c>.</summary>
    public static bool IsOutRefundNo(string value) => OutRefundNoPattern().IsMatch(value);

    /// <summary>An absolute http(s) URL of at most 256 characters without a query string.</summary>
    public static bool IsNotifyUrl(string value) =>
        value.Length <= 256
        && Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Query.Length == 0
        && uri.Fragment.Length == 0;

    /// <summary>An amount in fen: digits only, 1..int.MaxValue (WeChat's Int).</summary>
    public static bool TryParseFee(string? value, out long fee) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out fee) && fee is > 0 and <= int.MaxValue;

    public static bool IsIpAddress(string value) => value.Length <= 64 && IPAddress.TryParse(value, out _);

    /// <summary>At most <paramref name="max"/> characters, none outside the Basic Multilingual Plane (WeChat
    /// accepts only 1–3-byte UTF-8, so no emoji).</summary>
    public static bool IsText(string value, int max) => value.Length <= max && !value.Any(char.IsSurrogate);

    [GeneratedRegex("^wx[0-9A-Za-z]{16}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex AppIdPattern();

    [GeneratedRegex("^[0-9A-Za-z_\\-|*]{6,32}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex OutTradeNoPattern();

    [GeneratedRegex("^[0-9A-Za-z_\\-|*@]{1,64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex OutRefundNoPattern();
}
