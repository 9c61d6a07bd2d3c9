using System.Text.Json.Serialization;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>The JSON the cashier receives: the <c>getBrandWCPayRequest</c> parameters plus the payer's openid.</summary>
internal sealed record CashierPayRequest(
    string? AppId, string? TimeStamp, string? NonceStr, string? Package, string? SignType, string? PaySign, string? Openid);

/// <summary>The cashier's answer, shaped like WeixinJSBridge's callback argument.</summary>
internal sealed record CashierReply(
    [property: JsonPropertyName("err_msg")] string ErrMsg,
    [property: JsonPropertyName("err_desc"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ErrDesc = null,
    [property: JsonPropertyName("transactionId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TransactionId = null)
{
    public const string Ok = "get_brand_wcpay_request:ok";
    public const string Fail = "get_brand_wcpay_request:fail";
}

internal enum CashierFailure
{
    None,
    BadRequest,
    Conflict,
}

/// <summary>
/// Stands in for <c>WeixinJSBridge.invoke('getBrandWCPayRequest', …)</c> (docs/wechatpay.md §3): checks paySign with
/// the merchant key and the unifiedorder sign type, the appId, the prepay's lifetime and that the payer is the
/// openid the prepay was made for.
/// </summary>
internal sealed class Cashier(SandboxStore store, PaymentDesk desk, TimeProvider clock, IOptions<SandboxMerchantOptions> merchant)
{
    public const string PayerMismatch = "下单账号与支付账号不一致，请核实后再支付";
    public const string BadSignature = "支付验证签名失败";

    private readonly SandboxMerchantOptions _merchant = merchant.Value;

    public (CashierFailure Failure, CashierReply Reply) Pay(CashierPayRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request is not { AppId: { } appId, TimeStamp: { } timeStamp, NonceStr: { } nonceStr, Package: { } package, SignType: { } signType, PaySign: { } paySign }
            || string.IsNullOrEmpty(request.Openid))
        {
            return Refuse(CashierFailure.BadRequest, "调用支付JSAPI缺少参数");
        }
        var parameters = new JsapiPayParameters(appId, timeStamp, nonceStr, package, signType, paySign);
        if (!parameters.HasValidPaySign(_merchant.ApiKey))
        {
            return Refuse(CashierFailure.BadRequest, BadSignature);
        }
        if (!string.Equals(appId, _merchant.AppId, StringComparison.Ordinal))
        {
            return Refuse(CashierFailure.BadRequest, "appId与商户号不匹配");
        }
        if (parameters.PrepayId is not { } prepayId || store.FindByPrepayId(prepayId) is not { } order)
        {
            return Refuse(CashierFailure.BadRequest, "prepay_id无效");
        }
        var now = clock.GetUtcNow();
        lock (order.Gate)
        {
            if (order.SignType.ToWireName() != signType)
            {
                return Refuse(CashierFailure.BadRequest, BadSignature);
            }
            if (order.Terms.Openid is { } openid && !string.Equals(openid, request.Openid, StringComparison.Ordinal))
            {
                return Refuse(CashierFailure.BadRequest, PayerMismatch);
            }
            switch (order.State)
            {
                case OrderState.Success:
                    return Refuse(CashierFailure.Conflict, "该订单已支付");
                case OrderState.Closed:
                    return Refuse(CashierFailure.Conflict, "该订单已关闭");
            }
            if (order.Prepay.Id != prepayId || order.Prepay.ExpiresAt <= now)
            {
                return Refuse(CashierFailure.Conflict, "prepay_id已过期，请重新下单");
            }
            if (order.Terms.TimeExpire is { } timeExpire && timeExpire <= now)
            {
                return Refuse(CashierFailure.Conflict, "交易有效截止时间非法");
            }
        }
        return desk.Pay(order, request.Openid, evenIfClosed: false, out var payment) switch
        {
            PayOutcome.Paid => (CashierFailure.None, new CashierReply(CashierReply.Ok, TransactionId: payment!.TransactionId)),
            PayOutcome.AlreadyPaid => Refuse(CashierFailure.Conflict, "该订单已支付"),
            _ => Refuse(CashierFailure.Conflict, "该订单已关闭"),
        };
    }

    /// <summary>What the cashier page shows for a prepay: amount, body, and the openid it was made for.</summary>
    public (long TotalFee, string Body, string? Openid, string TradeState)? Describe(string? package)
    {
        if (package is null || !package.StartsWith(JsapiPayParameters.PackagePrefix, StringComparison.Ordinal)
            || store.FindByPrepayId(package[JsapiPayParameters.PackagePrefix.Length..]) is not { } order)
        {
            return null;
        }
        lock (order.Gate)
        {
            return (order.Terms.TotalFee, order.Terms.Body, order.Terms.Openid, order.TradeState);
        }
    }

    private static (CashierFailure, CashierReply) Refuse(CashierFailure failure, string description) =>
        (failure, new CashierReply(CashierReply.Fail, description));
}
