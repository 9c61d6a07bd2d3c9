namespace GroupPay.WeChatPay.Protocol;

/// <summary>The two APIv2 signature algorithms (docs/wechatpay.md §1).</summary>
public enum WeChatPaySignType
{
    Md5,
    HmacSha256,
}

public static class WeChatPaySignTypes
{
    public const string Md5Name = "MD5";
    public const string HmacSha256Name = "HMAC-SHA256";

    public static string ToWireName(this WeChatPaySignType signType) => signType switch
    {
        WeChatPaySignType.Md5 => Md5Name,
        WeChatPaySignType.HmacSha256 => HmacSha256Name,
        _ => throw new ArgumentOutOfRangeException(nameof(signType), signType, null),
    };

    /// <summary>Parses a <c>sign_type</c> value; WeChat's names are upper case and exact.</summary>
    public static bool TryParse(string? value, out WeChatPaySignType signType)
    {
        switch (value)
        {
            case Md5Name:
                signType = WeChatPaySignType.Md5;
                return true;
            case HmacSha256Name:
                signType = WeChatPaySignType.HmacSha256;
                return true;
            default:
                signType = default;
                return false;
        }
    }
}
