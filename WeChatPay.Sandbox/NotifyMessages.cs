using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>The bodies WeChat POSTs to a notify_url (wechatpay.md §4.1, §5.5).</summary>
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
    /// HMAC-SHA256). The caller holds the order's lock.</summary>
    public static byte[] Payment(SandboxOrder order, string apiKey)
    {
        var payment = order.Payment ?? throw new InvalidOperationException($"Order {order.OutTradeNo} is not paid.");
        var message = new WeChatPayMessage()
            .Add("return_code", "SUCCESS")
            .Add("appid", order.Terms.AppId)
            .Add("mch_id", order.Terms.MchId)
            .Add("device_info", order.Terms.DeviceInfo)
            .Add("nonce_str", WeChatPayNonce.Create())
            .Add("result_code", "SUCCESS")
            .Add("openid", payment.PayerOpenid)
            .Add("is_subscribe", "N")
            .Add("trade_type", order.Terms.TradeType)
            .Add("bank_type", "CFT")
            .Add("total_fee", order.Terms.TotalFee)
            .Add("fee_type", "CNY")
            .Add("cash_fee", payment.CashFee);
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

    /// <summary>The refund notify of a settled refund: no outer sign, the details AES-encrypted in <c>req_info</c>.
    /// The caller holds the order's lock.</summary>
    public static byte[] Refund(SandboxRefund refund, string apiKey)
    {
        var order = refund.Order;
        var payment = order.Payment ?? throw new InvalidOperationException($"Order {order.OutTradeNo} is not paid.");
        var successAt = refund.SuccessAt ?? throw new InvalidOperationException($"Refund {refund.OutRefundNo} has not succeeded.");
        var details = new WeChatPayMessage()
            .Add("transaction_id", payment.TransactionId)
            .Add("out_trade_no", order.OutTradeNo)
            .Add("refund_id", refund.RefundId)
            .Add("out_refund_no", refund.OutRefundNo)
            .Add("total_fee", order.Terms.TotalFee)
            .Add("refund_fee", refund.RefundFee)
            .Add("settlement_refund_fee", refund.RefundFee)
            .Add("refund_status", "SUCCESS")
            .Add("success_time", WeChatPayTime.FormatDashed(successAt))
            .Add("refund_recv_accout", RefundApi.RefundRecvAccount)
            .Add("refund_account", refund.RefundAccount)
            .Add("refund_request_source", "API");
        var reqInfo = RefundNotifyCipher.Encrypt(WeChatPayXml.Serialize(details, "root"), apiKey);
        return WeChatPayXml.SerializeToUtf8(new WeChatPayMessage()
            .Add("return_code", "SUCCESS")
            .Add("appid", order.Terms.AppId)
            .Add("mch_id", order.Terms.MchId)
            .Add("nonce_str", WeChatPayNonce.Create())
            .Add("req_info", reqInfo));
    }
}
