using GroupPay.WeChatPay.Protocol;

namespace GroupPay.NotifyBench;

/// <summary>The sandbox's demo merchant (README): every process of the benchmark uses it.</summary>
internal static class Merchant
{
    public const string AppId = "wx2421b1c4370ec43b";
    public const string MchId = "10000100";
    public const string ApiKey = "192006250b4c09247ec02edce69f6a2d";
    public const string AppSecret = "sandbox-demo-app-secret-0000000000";

    /// <summary>A signed payment notify as WeChat sends it (docs/wechatpay.md §4.1; the sandbox's field order), MD5.</summary>
    public static byte[] PaymentNotify(string outTradeNo, string transactionId, long totalFee, string openid, string attach, DateTimeOffset paidAt)
    {
        var message = new WeChatPayMessage()
            .Add("return_code", "SUCCESS")
            .Add("appid", AppId)
            .Add("mch_id", MchId)
            .Add("nonce_str", WeChatPayNonce.Create())
            .Add("result_code", "SUCCESS")
            .Add("openid", openid)
            .Add("is_subscribe", "N")
            .Add("trade_type", "JSAPI")
            .Add("bank_type", "CFT")
            .Add("total_fee", totalFee)
            .Add("fee_type", "CNY")
            .Add("cash_fee", totalFee)
            .Add("transaction_id", transactionId)
            .Add("out_trade_no", outTradeNo)
            .Add("attach", attach)
            .Add("time_end", WeChatPayTime.FormatCompact(paidAt))
            .SignWith(ApiKey, WeChatPaySignType.Md5);
        return WeChatPayXml.SerializeToUtf8(message);
    }
}
