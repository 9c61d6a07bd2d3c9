using System.Text;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Notifications;

/// <summary>
/// The answers to a notify (docs/wechatpay.md §4.2). WeChat stops retrying only on the exact compact
/// SUCCESS document; anything else (FAIL, whitespace, JSON, a non-2xx status) makes it retry.
/// </summary>
public static class WeChatPayNotifyReply
{
    public const string ContentType = "application/xml; charset=utf-8";

    public const string SuccessXml =
        "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>";

    private static readonly byte[] SuccessUtf8 = Encoding.UTF8.GetBytes(SuccessXml);

    /// <summary>The exact SUCCESS bytes.</summary>
    public static ReadOnlyMemory<byte> Success => SuccessUtf8;

    /// <summary>A FAIL reply; WeChat retries on its schedule.</summary>
    public static byte[] Fail(string message)
    {
        ArgumentException.ThrowIfNullOrEmpty(message);
        return WeChatPayXml.SerializeToUtf8([new("return_code", "FAIL"), new("return_msg", message)]);
    }

    /// <summary>True only for the exact SUCCESS document, as WeChat reads an acknowledgement.</summary>
    public static bool IsSuccess(ReadOnlySpan<byte> reply) => reply.SequenceEqual(SuccessUtf8);
}
