using System.Net;
using System.Text;
using GroupPay.WeChatPay.Protocol;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary>What every merchant API call goes through: format, sign type, signature, merchant identity.</summary>
public sealed class MerchantEnvelopeTests
{
    [Fact]
    public async Task RefusesARequestWhoseFieldWasChangedAfterSigning()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var request = SandboxServer.SignRequest(SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo()));
        var tampered = new WeChatPayMessage(request.Select(f => f.Key == "total_fee" ? new KeyValuePair<string, string>(f.Key, "1") : f));

        var response = await sandbox.PostAsync("/pay/unifiedorder", tampered);

        SandboxServer.AssertReturnFail(response, "签名错误");
    }

    [Fact]
    public async Task RefusesARequestSignedWithAnotherKey()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var request = SandboxServer.SignRequest(SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo()), apiKey: "00000000000000000000000000000000");

        SandboxServer.AssertReturnFail(await sandbox.PostAsync("/pay/unifiedorder", request), "签名错误");
    }

    [Fact]
    public async Task AcceptsHmacSha256WhenTheRequestDeclaresItAndSignsTheAnswerTheSameWay()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        var response = await sandbox.UnifiedOrderAsync(SandboxServer.NewOutTradeNo(), signType: WeChatPaySignType.HmacSha256);

        SandboxServer.AssertSuccess(response);
        Assert.Equal(64, response.GetRequired("sign").Length);
        Assert.True(response.HasValidSignature(SandboxServer.ApiKey, WeChatPaySignType.HmacSha256));
    }

    [Fact]
    public async Task RefusesAnHmacSignatureWhenSignTypeIsAbsentBecauseAbsentMeansMd5()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo());
        fields["appid"] = SandboxServer.AppId;
        fields["mch_id"] = SandboxServer.MchId;
        fields["nonce_str"] = WeChatPayNonce.Create();
        var request = new WeChatPayMessage(fields).SignWith(SandboxServer.ApiKey, WeChatPaySignType.HmacSha256);

        SandboxServer.AssertReturnFail(await sandbox.PostAsync("/pay/unifiedorder", request), "签名错误");
    }

    [Fact]
    public async Task RefusesAnUnknownSignType()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo());
        fields["sign_type"] = "SHA1";

        SandboxServer.AssertReturnFail(await sandbox.CallAsync("/pay/unifiedorder", fields), "sign_type参数错误");
    }

    [Theory]
    [InlineData("<xml><appid>wx2421b1c4370ec43b</appid>")]
    [InlineData("{\"appid\":\"wx2421b1c4370ec43b\"}")]
    [InlineData("<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><appid>&e;</appid></xml>")]
    [InlineData("<xml><appid><nested>1</nested></appid></xml>")]
    public async Task AnswersMalformedXmlOrADtdWithXmlFormatError(string body)
    {
        await using var sandbox = await SandboxServer.StartAsync();

        SandboxServer.AssertReturnFail(await sandbox.PostRawAsync("/pay/unifiedorder", Encoding.UTF8.GetBytes(body)), "XML格式错误");
    }

    [Fact]
    public async Task AnswersABodyOverTheCapWithXmlFormatError()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo());
        fields["detail"] = new string('x', 70 * 1024);

        var response = await sandbox.PostRawAsync("/pay/unifiedorder", WeChatPayXml.SerializeToUtf8(SandboxServer.SignRequest(fields)));

        SandboxServer.AssertReturnFail(response, "XML格式错误");
    }

    [Fact]
    public async Task AnswersAnEmptyBodyWithPostDataEmpty()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        SandboxServer.AssertReturnFail(await sandbox.PostRawAsync("/pay/orderquery", []), "post数据为空");
    }

    [Theory]
    [InlineData("/pay/unifiedorder")]
    [InlineData("/secapi/pay/refund")]
    public async Task AnswersGetWithRequirePostMethod(string path)
    {
        await using var sandbox = await SandboxServer.StartAsync();

        using var response = await sandbox.Http.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        SandboxServer.AssertReturnFail(WeChatPayXml.Parse(await response.Content.ReadAsByteArrayAsync()), "请使用post方法");
    }

    [Theory]
    [InlineData("mch_id", "10000999", "MCHID_NOT_EXIST")]
    [InlineData("appid", "wx0000000000000000", "APPID_MCHID_NOT_MATCH")]
    [InlineData("appid", "not-an-appid", "APPID_NOT_EXIST")]
    public async Task RefusesAnotherMerchantsIdentityWithWeChatsErrorCode(string field, string value, string errCode)
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo());
        fields[field] = value;

        SandboxServer.AssertFail(await sandbox.CallAsync("/pay/unifiedorder", fields), errCode);
    }

    [Fact]
    public async Task RefusesANonceLongerThan32Characters()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = SandboxServer.UnifiedOrderFields(SandboxServer.NewOutTradeNo());
        fields["nonce_str"] = new string('n', 33);

        SandboxServer.AssertFail(await sandbox.CallAsync("/pay/unifiedorder", fields), "INVALID_REQUEST");
    }
}
