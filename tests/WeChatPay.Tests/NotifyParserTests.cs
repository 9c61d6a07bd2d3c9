using System.Text;
using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Tests;

public sealed class NotifyParserTests
{
    private const string AppId = "wx2421b1c4370ec43b";
    private const string MchId = "10000100";
    private const string ApiKey = "192006250b4c09247ec02edce69f6a2d";

    private static WeChatPayNotifyParser Parser(string signType = "MD5") => new(new StaticOptions(new WeChatPayOptions
    {
        AppId = AppId,
        MchId = MchId,
        ApiKey = ApiKey,
        SignType = signType,
        NotifyUrl = "https://shop.example/wechatpay/notify",
        RefundNotifyUrl = "https://shop.example/wechatpay/refund-notify",
    }));

    private static WeChatPayMessage PaidNotify() => new WeChatPayMessage()
        .Add("appid", AppId)
        .Add("attach", "支付测试")
        .Add("bank_type", "CFT")
        .Add("fee_type", "CNY")
        .Add("is_subscribe", "Y")
        .Add("mch_id", MchId)
        .Add("nonce_str", "5d2b6c2a8db53831f7eda20af46e531c")
        .Add("openid", "oUpF8uMEb4qRXf22hE3X68TekukE")
        .Add("out_trade_no", "1409811653")
        .Add("result_code", "SUCCESS")
        .Add("return_code", "SUCCESS")
        .Add("time_end", "20140903131540")
        .Add("total_fee", "1")
        .Add("cash_fee", "1")
        .Add("trade_type", "JSAPI")
        .Add("transaction_id", "1004400740201409030005092168");

    private static byte[] Xml(WeChatPayMessage message) => WeChatPayXml.SerializeToUtf8(message);

    [Fact]
    public void AcceptsASignedPaymentNotify()
    {
        var notify = Parser().ParsePaymentNotify(Xml(PaidNotify().SignWith(ApiKey, WeChatPaySignType.Md5)));
        Assert.True(notify.IsSuccess);
        Assert.Equal("1409811653", notify.OutTradeNo);
        Assert.Equal("1004400740201409030005092168", notify.TransactionId);
        Assert.Equal(1, notify.TotalFee);
        Assert.Equal("oUpF8uMEb4qRXf22hE3X68TekukE", notify.OpenId);
        Assert.Equal("支付测试", notify.Attach);
        Assert.Equal(new DateTimeOffset(2014, 9, 3, 13, 15, 40, TimeSpan.FromHours(8)), notify.TimeEnd);
        Assert.Equal(WeChatPaySignType.Md5, notify.SignType);
        Assert.Empty(notify.Coupons);
    }

    [Fact]
    public void AcceptsANotifyWithCouponFieldsAndAMissingCouponType()
    {
        var message = PaidNotify();
        var withCoupons = new WeChatPayMessage(message.Where(f => f.Key is not ("total_fee" or "cash_fee")))
            .Add("total_fee", "100").Add("cash_fee", "90").Add("coupon_fee", "10").Add("coupon_count", "1")
            .Add("coupon_id_0", "10000").Add("coupon_fee_0", "10")
            .SignWith(ApiKey, WeChatPaySignType.Md5);
        var notify = Parser().ParsePaymentNotify(Xml(withCoupons));
        Assert.Equal(100, notify.TotalFee);
        Assert.Equal(90, notify.CashFee);
        Assert.Equal(10, notify.CouponFee);
        Assert.Equal(new PaymentCoupon("10000", 10, null), Assert.Single(notify.Coupons));
    }

    [Fact]
    public void VerifiesWithTheNotifysOwnSignType()
    {
        // Configured MD5, but the notify says HMAC-SHA256 (WxJava#1407): its own sign_type wins.
        var message = PaidNotify().Add("sign_type", "HMAC-SHA256").SignWith(ApiKey, WeChatPaySignType.HmacSha256);
        Assert.Equal(WeChatPaySignType.HmacSha256, Parser("MD5").ParsePaymentNotify(Xml(message)).SignType);
    }

    [Fact]
    public void FallsBackToTheConfiguredSignTypeWhenTheNotifyNamesNone()
    {
        // HMAC merchant, notify without sign_type (WxJava#1633).
        var message = PaidNotify().SignWith(ApiKey, WeChatPaySignType.HmacSha256);
        Assert.Equal(WeChatPaySignType.HmacSha256, Parser("HMAC-SHA256").ParsePaymentNotify(Xml(message)).SignType);
        Assert.Equal(WeChatPayRejectReason.BadSignature, Refusal(() => Parser("MD5").ParsePaymentNotify(Xml(message))));
    }

    [Fact]
    public void RefusesAnUnknownSignType() =>
        Assert.Equal(WeChatPayRejectReason.UnsupportedSignType,
            Refusal(() => Parser().ParsePaymentNotify(Xml(PaidNotify().Add("sign_type", "RSA").SignWith(ApiKey, WeChatPaySignType.Md5)))));

    [Fact]
    public void RefusesAForgedSignature()
    {
        var message = PaidNotify().SignWith("00000000000000000000000000000000", WeChatPaySignType.Md5);
        Assert.Equal(WeChatPayRejectReason.BadSignature, Refusal(() => Parser().ParsePaymentNotify(Xml(message))));
    }

    [Fact]
    public void RefusesAnAmountChangedAfterSigning()
    {
        var signed = PaidNotify().SignWith(ApiKey, WeChatPaySignType.Md5);
        var xml = Encoding.UTF8.GetString(Xml(signed)).Replace("<total_fee><![CDATA[1]]>", "<total_fee><![CDATA[100]]>", StringComparison.Ordinal);
        Assert.Equal(WeChatPayRejectReason.BadSignature, Refusal(() => Parser().ParsePaymentNotify(Encoding.UTF8.GetBytes(xml))));
    }

    [Fact]
    public void RefusesANotifyWithoutSign()
    {
        // WxJava#1890: a forged notify with no sign must not skip verification.
        Assert.Equal(WeChatPayRejectReason.BadSignature, Refusal(() => Parser().ParsePaymentNotify(Xml(PaidNotify()))));
    }

    [Fact]
    public void RefusesANotifyForAnotherMerchant()
    {
        var otherApp = new WeChatPayMessage(PaidNotify().Where(f => f.Key != "appid")).Add("appid", "wxother").SignWith(ApiKey, WeChatPaySignType.Md5);
        var otherMch = new WeChatPayMessage(PaidNotify().Where(f => f.Key != "mch_id")).Add("mch_id", "999").SignWith(ApiKey, WeChatPaySignType.Md5);
        Assert.Equal(WeChatPayRejectReason.AppIdMismatch, Refusal(() => Parser().ParsePaymentNotify(Xml(otherApp))));
        Assert.Equal(WeChatPayRejectReason.MchIdMismatch, Refusal(() => Parser().ParsePaymentNotify(Xml(otherMch))));
    }

    [Fact]
    public void RefusesReturnCodeFail()
    {
        var message = new WeChatPayMessage([new("return_code", "FAIL"), new("return_msg", "x")]);
        Assert.Equal(WeChatPayRejectReason.ReturnCodeFail, Refusal(() => Parser().ParsePaymentNotify(Xml(message))));
    }

    [Fact]
    public void RefusesASignedNotifyWithoutAnAmount()
    {
        var message = new WeChatPayMessage(PaidNotify().Where(f => f.Key != "total_fee")).SignWith(ApiKey, WeChatPaySignType.Md5);
        Assert.Equal(WeChatPayRejectReason.InvalidField, Refusal(() => Parser().ParsePaymentNotify(Xml(message))));
    }

    [Fact]
    public void RefusesADtdNotify() =>
        Assert.Equal(WeChatPayRejectReason.DtdProhibited,
            Refusal(() => Parser().ParsePaymentNotify("<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><return_code>&x;</return_code></xml>"u8)));

    [Fact]
    public void AcceptsARefundNotifyThatDecryptsWithTheMerchantKey()
    {
        var body = RefundNotifyBody(ApiKey);
        var notify = Parser().ParseRefundNotify(body);
        Assert.Equal("131811191610442717309", notify.OutRefundNo);
        Assert.Equal("G1409811653", notify.OutTradeNo);
        Assert.Equal(3960, notify.RefundFee);
        Assert.Equal(3960, notify.TotalFee);
        Assert.Equal(RefundStatus.Success, notify.Status);
        Assert.Equal(new DateTimeOffset(2018, 11, 19, 16, 24, 13, TimeSpan.FromHours(8)), notify.SuccessTime);
    }

    [Fact]
    public void RefusesARefundNotifyEncryptedWithAnotherKey() =>
        Assert.Equal(WeChatPayRejectReason.DecryptionFailed, Refusal(() => Parser().ParseRefundNotify(RefundNotifyBody("ffffffffffffffffffffffffffffffff"))));

    [Fact]
    public void RefusesARefundNotifyForAnotherMerchant()
    {
        var message = new WeChatPayMessage().Add("return_code", "SUCCESS").Add("appid", AppId).Add("mch_id", "999")
            .Add("req_info", RefundNotifyCipher.Encrypt("<root/>", ApiKey));
        Assert.Equal(WeChatPayRejectReason.MchIdMismatch, Refusal(() => Parser().ParseRefundNotify(Xml(message))));
    }

    [Fact]
    public void TheSuccessReplyIsExactlyWeChatsDocument()
    {
        Assert.Equal(
            "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>",
            Encoding.UTF8.GetString(WeChatPayNotifyReply.Success.Span));
        Assert.True(WeChatPayNotifyReply.IsSuccess(WeChatPayNotifyReply.Success.Span));
        Assert.False(WeChatPayNotifyReply.IsSuccess(Encoding.UTF8.GetBytes(WeChatPayNotifyReply.SuccessXml + "\n")));
        Assert.False(WeChatPayNotifyReply.IsSuccess(WeChatPayNotifyReply.Fail("busy")));
        Assert.Equal("FAIL", WeChatPayXml.Parse(WeChatPayNotifyReply.Fail("busy"))["return_code"]);
    }

    private static byte[] RefundNotifyBody(string encryptionKey)
    {
        var info = WeChatPayXml.Serialize(
        [
            new("out_refund_no", "131811191610442717309"), new("out_trade_no", "G1409811653"),
            new("refund_account", "REFUND_SOURCE_RECHARGE_FUNDS"), new("refund_fee", "3960"),
            new("refund_id", "50000408942018111907145868882"), new("refund_recv_accout", "支付用户零钱"),
            new("refund_request_source", "API"), new("refund_status", "SUCCESS"), new("settlement_refund_fee", "3960"),
            new("settlement_total_fee", "3960"), new("success_time", "2018-11-19 16:24:13"), new("total_fee", "3960"),
            new("transaction_id", "4200000215201811190261405420"),
        ], "root");
        return Xml(new WeChatPayMessage().Add("return_code", "SUCCESS").Add("appid", AppId).Add("mch_id", MchId)
            .Add("nonce_str", "TeqClE3i0mvn3DrK").Add("req_info", RefundNotifyCipher.Encrypt(info, encryptionKey)));
    }

    private static WeChatPayRejectReason Refusal(Action parse) => Assert.Throws<WeChatPayProtocolException>(parse).Reason;

    private sealed class StaticOptions(WeChatPayOptions value) : IOptionsMonitor<WeChatPayOptions>
    {
        public WeChatPayOptions CurrentValue => value;

        public WeChatPayOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<WeChatPayOptions, string?> listener) => null;
    }
}
