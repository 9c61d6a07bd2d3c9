using System.Security.Cryptography;
using System.Text;

namespace GroupPay.WeChatPay.OfficialAccount;

/// <summary>
/// The JS-SDK's <c>wx.config</c> signature: SHA-1 (lower-case hex) over
/// <c>jsapi_ticket=…&amp;noncestr=…&amp;timestamp=…&amp;url=…</c>, keys in that (ASCII) order, values unescaped, the
/// URL of the page as the browser has it without its <c>#</c> part (docs/wechatpay.md §11).
/// </summary>
public static class JsSdkSignature
{
    public static string Sign(string jsapiTicket, string nonceStr, long timestamp, string url)
    {
        ArgumentException.ThrowIfNullOrEmpty(jsapiTicket);
        ArgumentException.ThrowIfNullOrEmpty(nonceStr);
        ArgumentException.ThrowIfNullOrEmpty(url);
        var text = $"jsapi_ticket={jsapiTicket}&noncestr={nonceStr}&timestamp={timestamp}&url={PageUrl(url)}";
#pragma warning disable CA5350 // WeChat defines the signature as SHA-1; it is not ours to choose.
        return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5350
    }

    /// <summary>The URL as signed: everything before the first <c>#</c>.</summary>
    public static string PageUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var hash = url.IndexOf('#', StringComparison.Ordinal);
        return hash < 0 ? url : url[..hash];
    }
}
