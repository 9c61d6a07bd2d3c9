using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace GroupPay.WeChatPay.Protocol;

/// <summary>
/// APIv2 signatures (docs/wechatpay.md §1): every non-empty field except <c>sign</c>, ordinal order,
/// <c>k=v</c> joined with <c>&amp;</c>, then <c>&amp;key=API_KEY</c>; MD5 or HMAC-SHA256 (keyed with the
/// API key), upper-case hex.
/// </summary>
public static class WeChatPaySignature
{
    public const string SignField = "sign";
    public const string SignTypeField = "sign_type";

    /// <summary>The string that is hashed (<c>stringSignTemp</c> in WeChat's docs).</summary>
    public static string BuildSigningString(IEnumerable<KeyValuePair<string, string>> fields, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);

        var signed = fields
            .Where(f => f.Key != SignField && !string.IsNullOrEmpty(f.Value))
            .OrderBy(f => f.Key, StringComparer.Ordinal);
        var builder = new StringBuilder(256);
        foreach (var (key, value) in signed)
        {
            builder.Append(key).Append('=').Append(value).Append('&');
        }
        return builder.Append("key=").Append(apiKey).ToString();
    }

    /// <summary>Computes the upper-case hex signature of <paramref name="fields"/>.</summary>
    public static string Sign(IEnumerable<KeyValuePair<string, string>> fields, string apiKey, WeChatPaySignType signType)
    {
        var text = BuildSigningString(fields, apiKey);
        var maxBytes = Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            var length = Encoding.UTF8.GetBytes(text, rented);
            var data = rented.AsSpan(0, length);
            Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
            var written = signType switch
            {
#pragma warning disable CA5351 // APIv2 mandates MD5 signatures.
                WeChatPaySignType.Md5 => MD5.HashData(data, hash),
#pragma warning restore CA5351
                WeChatPaySignType.HmacSha256 => HMACSHA256.HashData(Encoding.UTF8.GetBytes(apiKey), data, hash),
                _ => throw new ArgumentOutOfRangeException(nameof(signType), signType, null),
            };
            return Convert.ToHexString(hash[..written]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Checks the <c>sign</c> field of <paramref name="fields"/> against a fresh signature, in constant
    /// time and ignoring hex case. A missing or empty <c>sign</c> never verifies.
    /// </summary>
    public static bool Verify(IEnumerable<KeyValuePair<string, string>> fields, string apiKey, WeChatPaySignType signType)
    {
        ArgumentNullException.ThrowIfNull(fields);
        string? received = null;
        foreach (var (key, value) in fields)
        {
            if (key == SignField)
            {
                received = value;
                break;
            }
        }
        return received is { Length: > 0 } && Matches(Sign(fields, apiKey, signType), received);
    }

    /// <summary>Constant-time, case-insensitive comparison of two hex signatures.</summary>
    public static bool Matches(string expected, string received)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(received);
        if (expected.Length != received.Length || received.Length > 128)
        {
            return false;
        }
        Span<byte> a = stackalloc byte[expected.Length];
        Span<byte> b = stackalloc byte[received.Length];
        var ascii = true;
        for (var i = 0; i < expected.Length; i++)
        {
            ascii &= char.IsAscii(expected[i]) & char.IsAscii(received[i]);
            a[i] = (byte)char.ToUpperInvariant(expected[i]);
            b[i] = (byte)char.ToUpperInvariant(received[i]);
        }
        return CryptographicOperations.FixedTimeEquals(a, b) & ascii;
    }
}
