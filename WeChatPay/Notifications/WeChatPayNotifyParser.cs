using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Notifications;

/// <summary>
/// Turns notify bodies into verified notifications, or refuses them with a
/// <see cref="WeChatPayProtocolException"/> whose <see cref="WeChatPayProtocolException.Reason"/> says why.
/// Nothing here touches state: callers act only on what comes back.
/// </summary>
public sealed class WeChatPayNotifyParser
{
    private readonly IOptionsMonitor<WeChatPayOptions> _options;

    public WeChatPayNotifyParser(IOptionsMonitor<WeChatPayOptions> options) => _options = options;

    /// <summary>Parses and verifies a payment notify: size, XML, <c>return_code</c>, appid, mch_id, then the
    /// signature with the notify's own <c>sign_type</c> (the configured one when absent) over every field.</summary>
    /// <exception cref="WeChatPayProtocolException">the notify is not authentic or not well formed.</exception>
    public PaymentNotification ParsePaymentNotify(ReadOnlySpan<byte> body)
    {
        var options = _options.CurrentValue;
        var message = ParseEnvelope(body, options);

        var signType = options.GetSignType();
        if (message[WeChatPaySignature.SignTypeField] is { } named && !WeChatPaySignTypes.TryParse(named, out signType))
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.UnsupportedSignType, $"Unknown sign_type '{named}'.");
        }
        if (!message.Contains(WeChatPaySignature.SignField))
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.BadSignature, "The notify is not signed.");
        }
        if (!message.HasValidSignature(options.ApiKey, signType))
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.BadSignature, "The notify's signature does not verify.");
        }

        var isSuccess = message.GetRequired("result_code") == "SUCCESS";
        return new PaymentNotification(
            isSuccess,
            message["err_code"],
            message.GetRequired("out_trade_no"),
            isSuccess ? message.GetRequired("transaction_id") : message["transaction_id"],
            message.GetRequiredInt64("total_fee"),
            message.GetOptionalInt64("cash_fee"),
            message.GetOptionalInt64("settlement_total_fee"),
            message["fee_type"] ?? "CNY",
            message["openid"],
            message["trade_type"],
            message["bank_type"],
            WeChatPayTime.ParseCompactOrNull(message["time_end"]),
            message["attach"],
            ReadCoupons(message),
            signType,
            message);
    }

    /// <summary>Parses a refund notify: size, XML, <c>return_code</c>, appid, mch_id, then decrypts
    /// <c>req_info</c> with the merchant key.</summary>
    /// <exception cref="WeChatPayProtocolException">the notify is not authentic or not well formed.</exception>
    public RefundNotification ParseRefundNotify(ReadOnlySpan<byte> body)
    {
        var options = _options.CurrentValue;
        var message = ParseEnvelope(body, options);
        var plain = RefundNotifyCipher.Decrypt(message.GetRequired("req_info"), options.ApiKey);
        WeChatPayMessage info;
        try
        {
            info = WeChatPayXml.Parse(plain, WeChatPayXml.DefaultMaxBytes, rootName: "root");
        }
        catch (WeChatPayProtocolException ex)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.DecryptionFailed, "req_info did not decrypt to a refund record.", ex);
        }
        return new RefundNotification(
            info.GetRequired("out_trade_no"),
            info["transaction_id"],
            info.GetRequired("out_refund_no"),
            info["refund_id"],
            info.GetRequiredInt64("total_fee"),
            info.GetRequiredInt64("refund_fee"),
            info.GetOptionalInt64("settlement_refund_fee"),
            RefundRecord.ParseStatus(info.GetRequired("refund_status")),
            WeChatPayTime.ParseDashedOrNull(info["success_time"]),
            info["refund_recv_accout"],
            info["refund_account"],
            info["refund_request_source"],
            info);
    }

    private static WeChatPayMessage ParseEnvelope(ReadOnlySpan<byte> body, WeChatPayOptions options)
    {
        var message = WeChatPayXml.Parse(body, WeChatPayXml.DefaultMaxBytes);
        if (message["return_code"] != "SUCCESS")
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.ReturnCodeFail, "return_code is not SUCCESS.");
        }
        if (message["appid"] != options.AppId)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.AppIdMismatch, "The notify is for another appid.");
        }
        if (message["mch_id"] != options.MchId)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.MchIdMismatch, "The notify is for another mch_id.");
        }
        return message;
    }

    private static List<PaymentCoupon> ReadCoupons(WeChatPayMessage message)
    {
        var count = message.GetOptionalInt64("coupon_count") ?? 0;
        if (count is < 0 or > 100)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.InvalidField, "coupon_count is out of range.");
        }
        var coupons = new List<PaymentCoupon>((int)count);
        for (var n = 0; n < count; n++)
        {
            coupons.Add(new PaymentCoupon(
                message.GetRequired($"coupon_id_{n}"),
                message.GetRequiredInt64($"coupon_fee_{n}"),
                message[$"coupon_type_{n}"]));
        }
        return coupons;
    }
}
