using System.Globalization;
using System.Security.Cryptography;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>Ids shaped like WeChat's (length and prefix). Transaction and refund ids carry a process-wide
/// sequence number, so they are unique by construction.</summary>
internal static class SandboxIds
{
    private const string Digits = "0123456789";
    private const string Alphanumerics = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private static long _sequence;

    /// <summary><c>wx</c> + Beijing yyyyMMddHHmmss + 20 hex characters (36 characters; WeChat allows 64).</summary>
    public static string NewPrepayId(DateTimeOffset now) =>
        "wx" + WeChatPayTime.FormatCompact(now) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));

    /// <summary>28 digits starting with 42 (WeChat's are "generally 420…").</summary>
    public static string NewTransactionId(DateTimeOffset now) => "42000" + NextSequence() + BeijingDate(now) + RandomDigits(6);

    /// <summary>29 digits starting with 50 (the shape of WeChat's refund ids).</summary>
    public static string NewRefundId(DateTimeOffset now) => "50300" + NextSequence() + BeijingDate(now) + RandomDigits(7);

    public static string NewCouponId() => "2000000" + RandomDigits(6);

    /// <summary>An opaque token (OAuth code, access token).</summary>
    public static string NewToken(int length = 32) => RandomNumberGenerator.GetString(Alphanumerics, length);

    private static string NextSequence() =>
        (Interlocked.Increment(ref _sequence) % 1_000_000_000).ToString("D9", CultureInfo.InvariantCulture);

    private static string RandomDigits(int count) => RandomNumberGenerator.GetString(Digits, count);

    private static string BeijingDate(DateTimeOffset now) =>
        now.ToOffset(WeChatPayTime.BeijingOffset).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
