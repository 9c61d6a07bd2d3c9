using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// The answer to a merchant API call: a return-level failure (format, signature: <c>return_code=FAIL</c>
/// and <c>return_msg</c>, unsigned), or a signed business answer with <c>result_code</c> SUCCESS or FAIL.
/// </summary>
internal sealed class MerchantReply
{
    private MerchantReply(string? returnFailMessage, string? errCode, string? errCodeDes, IReadOnlyList<KeyValuePair<string, string?>> fields)
    {
        ReturnFailMessage = returnFailMessage;
        ErrCode = errCode;
        ErrCodeDes = errCodeDes;
        Fields = fields;
    }

    public string? ReturnFailMessage { get; }

    public string? ErrCode { get; }

    public string? ErrCodeDes { get; }

    public IReadOnlyList<KeyValuePair<string, string?>> Fields { get; }

    /// <summary><c>return_code=FAIL</c>: the request could not be read or authenticated.</summary>
    public static MerchantReply ReturnFail(string message) => new(message, null, null, []);

    /// <summary><c>result_code=FAIL</c> with WeChat's <c>err_code</c> and <c>err_code_des</c>.</summary>
    public static MerchantReply Fail(string errCode, string errCodeDes) => new(null, errCode, errCodeDes, []);

    public static MerchantReply Success(params IReadOnlyList<KeyValuePair<string, string?>> fields) => new(null, null, null, fields);

    /// <summary>The XML WeChat would send: signed with the request's sign type unless it is a return-level failure.</summary>
    public string Render(WeChatPayMessage? request, string apiKey, WeChatPaySignType signType)
    {
        if (ReturnFailMessage is not null || request is null)
        {
            return WeChatPayXml.Serialize([new("return_code", "FAIL"), new("return_msg", ReturnFailMessage ?? "FAIL")]);
        }
        var message = new WeChatPayMessage()
            .Add("return_code", "SUCCESS")
            .Add("return_msg", "OK")
            .Add("appid", request["appid"])
            .Add("mch_id", request["mch_id"])
            .Add("device_info", request["device_info"])
            .Add("nonce_str", WeChatPayNonce.Create())
            .Add("result_code", ErrCode is null ? "SUCCESS" : "FAIL")
            .Add("err_code", ErrCode)
            .Add("err_code_des", ErrCodeDes);
        foreach (var (name, value) in Fields)
        {
            message.Add(name, value);
        }
        return WeChatPayXml.Serialize(message.SignWith(apiKey, signType));
    }
}

/// <summary>A merchant API request that passed the envelope checks: parsed, signature verified, our merchant.</summary>
internal sealed record MerchantRequest(WeChatPayMessage Message, WeChatPaySignType SignType)
{
    public string? this[string name] => Message[name];

    /// <summary>The call's W3C <c>traceparent</c> header, if it carried one.</summary>
    public string? TraceParent { get; init; }
}
