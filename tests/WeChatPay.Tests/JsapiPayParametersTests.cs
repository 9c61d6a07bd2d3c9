using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Tests;

public sealed class JsapiPayParametersTests
{
    [Fact]
    public void SignsTheOfficialJsapiExample()
    {
        // docs/wechatpay.md §10 V4.
        var parameters = JsapiPayParameters.Create(
            "wxd678efh567hg6787",
            "wx2017033010242291fcfe0db70013231072",
            "qazwsxedcrfvtgbyhnujmikolp111111",
            WeChatPaySignType.Md5,
            DateTimeOffset.FromUnixTimeSeconds(1490840662),
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS");

        Assert.Equal("22D9B4E54AB1950F51E0649E8810ACD6", parameters.PaySign);
        Assert.Equal("1490840662", parameters.TimeStamp);
        Assert.Equal("prepay_id=wx2017033010242291fcfe0db70013231072", parameters.Package);
        Assert.Equal("MD5", parameters.SignType);
        Assert.Equal("wx2017033010242291fcfe0db70013231072", parameters.PrepayId);
        Assert.True(parameters.HasValidPaySign("qazwsxedcrfvtgbyhnujmikolp111111"));
    }

    [Fact]
    public void UsesTheSameAlgorithmForPaySignAsTheOrder()
    {
        var parameters = JsapiPayParameters.Create("wxapp", "wxprepay", "qazwsxedcrfvtgbyhnujmikolp111111", WeChatPaySignType.HmacSha256, DateTimeOffset.UnixEpoch.AddYears(50));
        Assert.Equal("HMAC-SHA256", parameters.SignType);
        Assert.Equal(64, parameters.PaySign.Length);
        Assert.Equal(32, parameters.NonceStr.Length);
        Assert.True(parameters.HasValidPaySign("qazwsxedcrfvtgbyhnujmikolp111111"));
    }

    [Fact]
    public void DetectsATamperedPackage()
    {
        var parameters = JsapiPayParameters.Create("wxapp", "wxprepay1", "qazwsxedcrfvtgbyhnujmikolp111111", WeChatPaySignType.Md5, DateTimeOffset.UnixEpoch);
        Assert.False((parameters with { Package = "prepay_id=wxprepay2" }).HasValidPaySign("qazwsxedcrfvtgbyhnujmikolp111111"));
        Assert.False((parameters with { SignType = "RSA" }).HasValidPaySign("qazwsxedcrfvtgbyhnujmikolp111111"));
        Assert.False(parameters.HasValidPaySign("qazwsxedcrfvtgbyhnujmikolp111112"));
    }

    [Fact]
    public void SerializesWithWeChatsPropertyNames()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(
            JsapiPayParameters.Create("wxapp", "p", "qazwsxedcrfvtgbyhnujmikolp111111", WeChatPaySignType.Md5, DateTimeOffset.UnixEpoch, "n"),
            System.Text.Json.JsonSerializerOptions.Web);
        Assert.StartsWith("{\"appId\":\"wxapp\",\"timeStamp\":\"0\",\"nonceStr\":\"n\",\"package\":\"prepay_id=p\",\"signType\":\"MD5\",\"paySign\":\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("prepayId", json, StringComparison.Ordinal);
    }
}
