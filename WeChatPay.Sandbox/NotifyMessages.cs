using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>The bodies WeChat POSTs to a notify_url (docs/wechatpay.md §4.1, §5.5).</summary>
internal static class NotifyMessages
{
    /// <summary>WeChat's retry schedule after the first try (§4.3): 15 retries, 24h04m in all, before scaling.</summary>
    public static IReadOnlyList<TimeSpan> RetrySchedule { get; } =
    [
        TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(3),
        TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(30),
        TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(60), TimeSpan.FromHours(3), TimeSpan.FromHours(3),
        TimeSpan.FromHours(3), TimeSpan.FromHours(6), TimeSpan.FromHours(6),
    ];

    /// <summary>The payment notify of a paid order, signed with the order's sign type (<c>sign_type</c> included for
    /// HMAC-SHA256). <paramref name="forged"/> replaces the amount or payer (still signed correctly). The caller holds the order's lock.</summary>
    public static byte[] Payment(SandboxOrder order, string apiKey, NotifyOverrideRequest? forged = null)
    {
        var payment = order.Payment ?? throw new InvalidOperationException($"Order {order.OutTradeNo} is not paid.");
        var totalFee = forged?.TotalFee ?? order.Terms.TotalFee;
        var message = new WeChatPayMessage()
            .Add("return_code", "SUCCESS")
            .Add("appid", order.Terms.AppId)
            .Add("mch_id", order.Terms.MchId)
            .Add("device_info", order.Terms.DeviceInfo)
            .Add("nonce_str", WeChatPayNonce.Create())
            .Add("result_code", "SUCCESS")
            .Add("openid", forged?.Openid ?? payment.PayerOpenid)
            .Add("is_subscribe", "N")
            .Add("trade_type", order.Terms.TradeType)
            .Add("bank_type", "CFT")
            .Add("total_fee", totalFee)
            .Add("fee_type", "CNY")
            .Add("cash_fee", Math.Max(totalFee - payment.CouponFee, 0));
        foreach (var (name, value) in PayApi.CouponFields(payment))
        {
            message.Add(name, value);
        }
        message
            .Add("transaction_id", payment.TransactionId)
            .Add("out_trade_no", order.OutTradeNo)
            .Add("attach", order.Terms.Attach)
            .Add("time_end", WeChatPayTime.FormatCompact(payment.PaidAt));
        if (order.SignType == WeChatPaySignType.HmacSha256)
        {
            message.Add(WeChatPaySignature.SignTypeField, WeChatPaySignTypes.HmacSha256Name);
        }
        return WeChatPayXml.SerializeToUtf8(message.SignWith(apiKey, order.SignType));
    }

    /// <summary>The refund notify of a settled refund (SUCCESS, REFUNDCLOSE or CHANGE; success_time only for SUCCESS): no outer
    /// sign, the details AES-encrypted in <c>req_info</c>. The caller holds the order's lock.</summary>
    public static byte[] Refund(SandboxRefund refund, string apiKey)
    {
        var order = refund.Order;
        var payment = order.Payment ?? throw new InvalidOperationException($"Order {order.OutTradeNo} is not paid.");
        if (refund.Status == RefundStatus.Processing)
        {
            throw new InvalidOperationException($"Refund {refund.OutRefundNo} has not settled.");
        }
        var details = new WeChatPayMessage()
            .Add("transaction_id", payment.TransactionId)
            .Add("out_trade_no", order.OutTradeNo)
            .Add("refund_id", refund.RefundId)
            .Add("out_refund_no", refund.OutRefundNo)
            .Add("total_fee", order.Terms.TotalFee)
            .Add("refund_fee", refund.RefundFee)
            .Add("settlement_refund_fee", refund.RefundFee)
            .Add("refund_status", refund.StatusName)
            .Add("success_time", refund.SuccessAt is { } successAt ? WeChatPayTime.FormatDashed(successAt) : null)
            .Add("refund_recv_accout", RefundApi.RefundRecvAccount)
            .Add("refund_account", refund.RefundAccount)
            .Add("refund_request_source", refund.RequestSource);
        var reqInfo = RefundNotifyCipher.Encrypt(WeChatPayXml.Serialize(details, "root"), apiKey);
        return WeChatPayXml.SerializeToUtf8(new WeChatPayMessage()
            .Add("return_code", "SUCCESS")
            .Add("appid", order.Terms.AppId)
            .Add("mch_id", order.Terms.MchId)
            .Add("nonce_str", WeChatPayNonce.Create())
            .Add("req_info", reqInfo));
    }
}
