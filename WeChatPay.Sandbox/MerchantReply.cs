using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// The answer to a merchant API call: a return-level failure (format, signature: <c>return_code=FAIL</c>
/// and <c>return_msg</c>, unsigned), or a signed business answer with <c>result_code</c> SUCCESS or FAIL.
/// </summary>
internal sealed class MerchantReply
{
    private MerchantReply(
        string? returnFailMessage,
        string? errCode,
        string? errCodeDes,
        IReadOnlyList<KeyValuePair<string, string?>> fields,
        MerchantAnswer? raw = null)
    {
        ReturnFailMessage = returnFailMessage;
        ErrCode = errCode;
        ErrCodeDes = errCodeDes;
        Fields = fields;
        RawAnswer = raw;
    }

    public string? ReturnFailMessage { get; }

    public string? ErrCode { get; }

    public string? ErrCodeDes { get; }

    public IReadOnlyList<KeyValuePair<string, string?>> Fields { get; }

    /// <summary>An answer that is not the signed XML envelope (downloadbill's bill and its failures).</summary>
    public MerchantAnswer? RawAnswer { get; }

    /// <summary><c>return_code=FAIL</c>: the request could not be read or authenticated.</summary>
    public static MerchantReply ReturnFail(string message) => new(message, null, null, []);

    /// <summary><c>result_code=FAIL</c> with WeChat's <c>err_code</c> and <c>err_code_des</c>.</summary>
    public static MerchantReply Fail(string errCode, string errCodeDes) => new(null, errCode, errCodeDes, []);

    /// <summary>Bytes sent as they are (a bill).</summary>
    public static MerchantReply Raw(byte[] body, string contentType) => new(null, null, null, [], new MerchantAnswer(body, contentType));

    /// <summary>downloadbill's failure: unsigned <c>return_code=FAIL</c> with its own <c>return_msg</c> and <c>error_code</c>.</summary>
    public static MerchantReply BillFail(string returnMsg, string? errorCode) => Raw(
        WeChatPayXml.SerializeToUtf8(new WeChatPayMessage().Add("return_code", "FAIL").Add("return_msg", returnMsg).Add("error_code", errorCode)),
        MerchantApiEndpoints.XmlContentType);

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

/// <summary>What goes back on the wire.</summary>
internal sealed record MerchantAnswer(byte[] Body, string ContentType)
{
    public static MerchantAnswer Xml(string xml) => new(System.Text.Encoding.UTF8.GetBytes(xml), MerchantApiEndpoints.XmlContentType);
}

/// <summary>A merchant API request that passed the envelope checks: parsed, signature verified, our merchant.</summary>
internal sealed record MerchantRequest(WeChatPayMessage Message, WeChatPaySignType SignType)
{
    public string? this[string name] => Message[name];

    /// <summary>The call's W3C <c>traceparent</c> header, if it carried one.</summary>
    public string? TraceParent { get; init; }
}
