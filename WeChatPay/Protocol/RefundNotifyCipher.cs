using System.Security.Cryptography;
using System.Text;

namespace GroupPay.WeChatPay.Protocol;

/// <summary>
/// The refund notify's <c>req_info</c> (docs/wechatpay.md §5.5): AES-256-ECB with PKCS#7 padding, the key being
/// the 32 ASCII characters of the lower-case MD5 hex of the API key.
/// </summary>
public static class RefundNotifyCipher
{
    /// <summary>Decrypts Base64 <paramref name="reqInfo"/> to its UTF-8 XML text.</summary>
    /// <exception cref="WeChatPayProtocolException">not Base64, wrong length or padding, or not UTF-8.</exception>
    public static string Decrypt(string reqInfo, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(reqInfo);
        byte[] cipherText;
        try
        {
            cipherText = Convert.FromBase64String(reqInfo);
        }
        catch (FormatException ex)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.DecryptionFailed, "req_info is not Base64.", ex);
        }
        if (cipherText.Length == 0 || cipherText.Length % 16 != 0)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.DecryptionFailed, "req_info is not a whole number of AES blocks.");
        }
        try
        {
            using var aes = CreateAes(DeriveKey(apiKey));
            var plain = aes.DecryptEcb(cipherText, PaddingMode.PKCS7);
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(plain);
        }
        catch (Exception ex) when (ex is CryptographicException or DecoderFallbackException)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.DecryptionFailed, "req_info does not decrypt with this key.", ex);
        }
    }

    /// <summary>Encrypts <paramref name="plainText"/> the way WeChat does (used by the sandbox).</summary>
    public static string Encrypt(string plainText, string apiKey)
    {
        ArgumentNullException.ThrowIfNull(plainText);
        using var aes = CreateAes(DeriveKey(apiKey));
        return Convert.ToBase64String(aes.EncryptEcb(Encoding.UTF8.GetBytes(plainText), PaddingMode.PKCS7));
    }

    /// <summary>The AES key: lower-case MD5 hex of the API key, always 32 characters (leading zeros kept).</summary>
    public static byte[] DeriveKey(string apiKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
#pragma warning disable CA5351 // WeChat derives the req_info key with MD5.
        var hex = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(apiKey)));
#pragma warning restore CA5351
        return Encoding.ASCII.GetBytes(hex);
    }

    internal static byte[] EncryptWithRawKey(byte[] plain, byte[] key)
    {
        using var aes = CreateAes(key);
        return aes.EncryptEcb(plain, PaddingMode.PKCS7);
    }

    internal static byte[] DecryptWithRawKey(byte[] cipherText, byte[] key)
    {
        using var aes = CreateAes(key);
        return aes.DecryptEcb(cipherText, PaddingMode.PKCS7);
    }

    private static Aes CreateAes(byte[] key)
    {
        var aes = Aes.Create();
        aes.Key = key;
        return aes;
    }
}
