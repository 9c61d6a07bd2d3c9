using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Tests;

public sealed class SignatureTests
{
    // docs/wechatpay.md §10 V1/V2: WeChat's official signing example.
    private const string OfficialKey = "192006250b4c09247ec02edce69f6a2d";

    private static WeChatPayMessage OfficialExample() => new WeChatPayMessage()
        .Add("appid", "wxd930ea5d5a258f4f")
        .Add("mch_id", "10000100")
        .Add("device_info", "1000")
        .Add("body", "test")
        .Add("nonce_str", "ibuaiVcKdpRxkhJA");

    [Fact]
    public void BuildsTheOfficialSigningString()
    {
        Assert.Equal(
            "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d",
            WeChatPaySignature.BuildSigningString(OfficialExample(), OfficialKey));
    }

    [Fact]
    public void SignsTheOfficialExampleWithMd5() =>
        Assert.Equal("9A0A8659F005D6984697E2CA0A9CF3B7", WeChatPaySignature.Sign(OfficialExample(), OfficialKey, WeChatPaySignType.Md5));

    [Fact]
    public void SignsTheOfficialExampleWithHmacSha256() =>
        Assert.Equal(
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6",
            WeChatPaySignature.Sign(OfficialExample(), OfficialKey, WeChatPaySignType.HmacSha256));

    [Fact]
    public void VerifiesTheOfficialCallbackXml()
    {
        // §10 V3 (SKIT's callback verification test).
        var xml = "<xml><appid>wxd930ea5d5a258f4f</appid><mch_id>10000100</mch_id><device_info>1000</device_info><body>test</body><nonce_str>ibuaiVcKdpRxkhJA</nonce_str><sign>9A0A8659F005D6984697E2CA0A9CF3B7</sign></xml>";
        Assert.True(WeChatPayXml.Parse(xml).HasValidSignature(OfficialKey, WeChatPaySignType.Md5));
    }

    [Fact]
    public void SkipsEmptyFieldsAndTheSignField()
    {
        var fields = new KeyValuePair<string, string>[]
        {
            new("appid", "wxd930ea5d5a258f4f"), new("mch_id", "10000100"), new("device_info", "1000"),
            new("body", "test"), new("nonce_str", "ibuaiVcKdpRxkhJA"), new("attach", ""), new("sign", "WHATEVER"),
        };
        Assert.Equal("9A0A8659F005D6984697E2CA0A9CF3B7", WeChatPaySignature.Sign(fields, OfficialKey, WeChatPaySignType.Md5));
    }

    [Fact]
    public void SignsUnknownFieldsToo()
    {
        var withUnknown = OfficialExample().Add("promotion_detail", "{}");
        Assert.NotEqual("9A0A8659F005D6984697E2CA0A9CF3B7", WeChatPaySignature.Sign(withUnknown, OfficialKey, WeChatPaySignType.Md5));
        withUnknown.SignWith(OfficialKey, WeChatPaySignType.Md5);
        Assert.True(withUnknown.HasValidSignature(OfficialKey, WeChatPaySignType.Md5));
    }

    [Fact]
    public void IncludesSignTypeInTheSignedString()
    {
        var hmac = OfficialExample().Add("sign_type", "HMAC-SHA256");
        Assert.Contains("&sign_type=HMAC-SHA256&", WeChatPaySignature.BuildSigningString(hmac, OfficialKey), StringComparison.Ordinal);
        Assert.NotEqual(
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6",
            WeChatPaySignature.Sign(hmac, OfficialKey, WeChatPaySignType.HmacSha256));
        hmac.SignWith(OfficialKey, WeChatPaySignType.HmacSha256);
        Assert.Equal(64, hmac["sign"]!.Length);
        Assert.True(hmac.HasValidSignature(OfficialKey, WeChatPaySignType.HmacSha256));
        Assert.False(hmac.HasValidSignature(OfficialKey, WeChatPaySignType.Md5));
    }

    [Fact]
    public void SortsNamesByOrdinalNotCulture()
    {
        var fields = new WeChatPayMessage().Add("b", "1").Add("B", "2").Add("a_b", "3").Add("aB", "4");
        Assert.Equal("B=2&aB=4&a_b=3&b=1&key=k", WeChatPaySignature.BuildSigningString(fields, "k"));
    }

    [Fact]
    public void RejectsATamperedField()
    {
        var message = OfficialExample().SignWith(OfficialKey, WeChatPaySignType.Md5);
        var tampered = new WeChatPayMessage(message.Select(f => f.Key == "body" ? new KeyValuePair<string, string>("body", "test2") : f));
        Assert.False(tampered.HasValidSignature(OfficialKey, WeChatPaySignType.Md5));
    }

    [Fact]
    public void RejectsAnAddedField()
    {
        var message = OfficialExample().SignWith(OfficialKey, WeChatPaySignType.Md5).Add("total_fee", "1");
        Assert.False(message.HasValidSignature(OfficialKey, WeChatPaySignType.Md5));
    }

    [Fact]
    public void RejectsTheWrongKey()
    {
        var message = OfficialExample().SignWith(OfficialKey, WeChatPaySignType.Md5);
        Assert.False(message.HasValidSignature("192006250b4c09247ec02edce69f6a2e", WeChatPaySignType.Md5));
    }

    [Fact]
    public void RejectsAMessageWithoutSign() =>
        Assert.False(OfficialExample().HasValidSignature(OfficialKey, WeChatPaySignType.Md5));

    [Fact]
    public void ComparesSignaturesIgnoringHexCase()
    {
        var message = OfficialExample().Set("sign", "9a0a8659f005d6984697e2ca0a9cf3b7");
        Assert.True(message.HasValidSignature(OfficialKey, WeChatPaySignType.Md5));
    }

    [Theory]
    [InlineData("9A0A8659F005D6984697E2CA0A9CF3B")]
    [InlineData("9A0A8659F005D6984697E2CA0A9CF3B70")]
    [InlineData("9A0A8659F005D6984697E2CA0A9CF3Ƃ7")]
    [InlineData("ŁA0A8659F005D6984697E2CA0A9CF3B7")]
    public void RejectsSignaturesOfTheWrongLengthOrAlphabet(string received) =>
        Assert.False(WeChatPaySignature.Matches("9A0A8659F005D6984697E2CA0A9CF3B7", received));

    [Fact]
    public void SignsUtf8Values()
    {
        var message = new WeChatPayMessage().Add("body", "腾讯充值中心-QQ会员充值").Add("appid", "wx");
        var sign = WeChatPaySignature.Sign(message, OfficialKey, WeChatPaySignType.Md5);
        var bytes = System.Text.Encoding.UTF8.GetBytes("appid=wx&body=腾讯充值中心-QQ会员充值&key=" + OfficialKey);
#pragma warning disable CA5351 // the protocol's algorithm, recomputed independently
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.MD5.HashData(bytes)), sign);
#pragma warning restore CA5351
    }
}
