using System.Text.Json.Serialization;

namespace GroupPay.WeChatPay.Protocol;

/// <summary>
/// The object handed to <c>WeixinJSBridge.invoke('getBrandWCPayRequest', …)</c> (docs/wechatpay.md §3.3): the
/// property names are WeChat's, case included. <c>paySign</c> covers the other five fields.
/// </summary>
public sealed record JsapiPayParameters(
    string AppId,
    string TimeStamp,
    string NonceStr,
    string Package,
    string SignType,
    string PaySign)
{
    public const string PackagePrefix = "prepay_id=";

    /// <summary>Signs fresh parameters for <paramref name="prepayId"/>.</summary>
    public static JsapiPayParameters Create(
        string appId, string prepayId, string apiKey, WeChatPaySignType signType, DateTimeOffset now, string? nonceStr = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(appId);
        ArgumentException.ThrowIfNullOrEmpty(prepayId);
        var timeStamp = WeChatPayTime.FormatUnixSeconds(now);
        var nonce = nonceStr ?? WeChatPayNonce.Create();
        var package = PackagePrefix + prepayId;
        var signTypeName = signType.ToWireName();
        var paySign = WeChatPaySignature.Sign(SignedFields(appId, timeStamp, nonce, package, signTypeName), apiKey, signType);
        return new JsapiPayParameters(appId, timeStamp, nonce, package, signTypeName, paySign);
    }

    /// <summary>The prepay id inside <see cref="Package"/>, or null when the package is not <c>prepay_id=…</c>.</summary>
    [JsonIgnore]
    public string? PrepayId =>
        Package.StartsWith(PackagePrefix, StringComparison.Ordinal) && Package.Length > PackagePrefix.Length
            ? Package[PackagePrefix.Length..]
            : null;

    /// <summary>True when <see cref="PaySign"/> matches, with the algorithm <see cref="SignType"/> names.</summary>
    public bool HasValidPaySign(string apiKey) =>
        WeChatPaySignTypes.TryParse(SignType, out var signType)
        && WeChatPaySignature.Matches(
            WeChatPaySignature.Sign(SignedFields(AppId, TimeStamp, NonceStr, Package, SignType), apiKey, signType),
            PaySign);

    private static KeyValuePair<string, string>[] SignedFields(
        string appId, string timeStamp, string nonceStr, string package, string signType) =>
    [
        new("appId", appId),
        new("timeStamp", timeStamp),
        new("nonceStr", nonceStr),
        new("package", package),
        new("signType", signType),
    ];
}
