using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// What every merchant API call goes through before its own rules, in WeChat's order: read the body with a
/// cap, parse (no DTD), check <c>sign_type</c> and the signature, then <c>mch_id</c> / <c>appid</c>, injected
/// SYSTEMERRORs and <c>nonce_str</c>; then the API itself. Renders the reply signed with the request's sign type.
/// </summary>
internal sealed class MerchantApiProcessor(
    IOptions<SandboxMerchantOptions> merchant,
    FaultInjection faults,
    PayApi pay,
    RefundApi refund,
    BillApi bill)
{
    /// <summary>Request bodies above this are refused as XML format errors.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private readonly SandboxMerchantOptions _merchant = merchant.Value;

    public async Task<MerchantAnswer> ProcessAsync(Stream body, MerchantApi api, string? traceParent, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await WeChatPayXml.ReadBodyAsync(body, MaxBodyBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (WeChatPayProtocolException)
        {
            return MerchantAnswer.Xml(RenderReturnFail(MerchantMessages.XmlFormatError));
        }
        if (bytes.Length == 0)
        {
            return MerchantAnswer.Xml(RenderReturnFail(MerchantMessages.PostDataEmpty));
        }
        WeChatPayMessage message;
        try
        {
            message = WeChatPayXml.Parse(bytes, MaxBodyBytes);
        }
        catch (WeChatPayProtocolException)
        {
            return MerchantAnswer.Xml(RenderReturnFail(MerchantMessages.XmlFormatError));
        }
        var signType = WeChatPaySignType.Md5;
        if (message.TryGet(WeChatPaySignature.SignTypeField, out var signTypeName) && !WeChatPaySignTypes.TryParse(signTypeName, out signType))
        {
            return MerchantAnswer.Xml(RenderReturnFail(MerchantMessages.SignTypeError));
        }
        if (!message.HasValidSignature(_merchant.ApiKey, signType))
        {
            return MerchantAnswer.Xml(RenderReturnFail(MerchantMessages.SignError));
        }
        var request = new MerchantRequest(message, signType) { TraceParent = string.IsNullOrEmpty(traceParent) ? null : traceParent };
        if (api == MerchantApi.UnifiedOrder && faults.UnifiedOrderDelay is { Ticks: > 0 } delay)
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
        var reply = Handle(request, api);
        return reply.RawAnswer ?? MerchantAnswer.Xml(reply.Render(message, _merchant.ApiKey, signType));
    }

    /// <summary>The reply to a merchant API path called with another method than POST.</summary>
    public static string RequirePost() => RenderReturnFail(MerchantMessages.RequirePostMethod);

    private MerchantReply Handle(MerchantRequest request, MerchantApi api)
    {
        if (CheckMerchant(request) is { } refused)
        {
            return refused;
        }
        if (faults.TryConsumeSystemError(api))
        {
            // downloadbill's failures are return-level (unsigned), as its other answers are.
            return api == MerchantApi.DownloadBill ? MerchantReply.BillFail("SYSTEMERROR", null) : MerchantReply.Fail("SYSTEMERROR", "系统超时");
        }
        if (request["nonce_str"] is not { } nonce)
        {
            return MerchantReply.Fail("LACK_PARAMS", MerchantMessages.Missing("nonce_str"));
        }
        if (nonce.Length > MerchantRules.MaxNonceLength)
        {
            return MerchantReply.Fail("INVALID_REQUEST", MerchantMessages.BadFormat("nonce_str"));
        }
        return api switch
        {
            MerchantApi.UnifiedOrder => pay.UnifiedOrder(request),
            MerchantApi.OrderQuery => pay.OrderQuery(request),
            MerchantApi.CloseOrder => pay.CloseOrder(request),
            MerchantApi.Refund => refund.Refund(request),
            MerchantApi.RefundQuery => refund.RefundQuery(request),
            MerchantApi.DownloadBill => bill.Download(request),
            _ => throw new ArgumentOutOfRangeException(nameof(api), api, null),
        };
    }

    private MerchantReply? CheckMerchant(MerchantRequest request)
    {
        var mchId = request["mch_id"];
        if (mchId is null || !string.Equals(mchId, _merchant.MchId, StringComparison.Ordinal))
        {
            return MerchantReply.Fail("MCHID_NOT_EXIST", "商户号mch_id不存在");
        }
        var appId = request["appid"];
        if (appId is null || !MerchantRules.IsAppId(appId))
        {
            return MerchantReply.Fail("APPID_NOT_EXIST", "appid不存在");
        }
        if (!string.Equals(appId, _merchant.AppId, StringComparison.Ordinal))
        {
            return MerchantReply.Fail("APPID_MCHID_NOT_MATCH", "商户号mch_id与appid不匹配");
        }
        return null;
    }

    private static string RenderReturnFail(string message) =>
        MerchantReply.ReturnFail(message).Render(null, "", WeChatPaySignType.Md5);
}

/// <summary>WeChat's wording of the messages the sandbox sends.</summary>
internal static class MerchantMessages
{
    public const string XmlFormatError = "XML格式错误";
    public const string PostDataEmpty = "post数据为空";
    public const string RequirePostMethod = "请使用post方法";
    public const string SignTypeError = "sign_type参数错误";
    public const string SignError = "签名错误";
    public const string ReentryMismatch = "订单重入时，要求参数值与原请求一致，请核实后再调用";
    public const string OrderNotExist = "订单不存在";

    public static string Missing(string field) => "缺少参数" + field;

    public static string BadFormat(string field) => field + "参数格式错误";
}
