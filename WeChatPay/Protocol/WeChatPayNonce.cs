using System.Security.Cryptography;

namespace GroupPay.WeChatPay.Protocol;

/// <summary>Random <c>nonce_str</c> values: 32 characters from [0-9A-Za-z] (WeChat allows at most 32).</summary>
public static class WeChatPayNonce
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Create(int length = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 32);
        return RandomNumberGenerator.GetString(Alphabet, length);
    }
}
