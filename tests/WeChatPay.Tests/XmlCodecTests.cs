using System.Text;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Tests;

public sealed class XmlCodecTests
{
    [Fact]
    public void ReadsPlainAndCdataValuesInOrder()
    {
        var message = WeChatPayXml.Parse("<xml><appid><![CDATA[wx2421b1c4370ec43b]]></appid><total_fee>1</total_fee><attach><![CDATA[支付测试]]></attach></xml>");
        Assert.Equal(["appid", "total_fee", "attach"], message.Select(f => f.Key));
        Assert.Equal("wx2421b1c4370ec43b", message["appid"]);
        Assert.Equal(1, message.GetRequiredInt64("total_fee"));
        Assert.Equal("支付测试", message["attach"]);
    }

    [Fact]
    public void WritesEveryValueInCdataAndSkipsEmptyOnes()
    {
        var xml = WeChatPayXml.Serialize([new("return_code", "SUCCESS"), new("err_code", ""), new("body", "a<b&c")]);
        Assert.Equal("<xml><return_code><![CDATA[SUCCESS]]></return_code><body><![CDATA[a<b&c]]></body></xml>", xml);
    }

    [Fact]
    public void RoundTripsAValueContainingTheCdataTerminator()
    {
        var xml = WeChatPayXml.Serialize([new("detail", "{\"x\":\"]]>\"}")]);
        Assert.Equal("{\"x\":\"]]>\"}", WeChatPayXml.Parse(xml)["detail"]);
    }

    [Fact]
    public void ReadsAnEmptyRoot() => Assert.Empty(WeChatPayXml.Parse("<xml/>"));

    [Fact]
    public void ReadsAnotherRootWhenAsked() =>
        Assert.Equal("1", WeChatPayXml.Parse("<root><a>1</a></root>", rootName: "root")["a"]);

    [Fact]
    public void RefusesADtd()
    {
        var ex = Assert.Throws<WeChatPayProtocolException>(() => WeChatPayXml.Parse("<!DOCTYPE xml [<!ENTITY a \"b\">]><xml><appid>&a;</appid></xml>"u8));
        Assert.Equal(WeChatPayRejectReason.DtdProhibited, ex.Reason);
    }

    [Fact]
    public void RefusesAnExternalEntityPayload()
    {
        // The shape of wechatpay-php's invalid.xxe_injection.sample.xml.
        const string xxe = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE xml [\n<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n<xml><return_code>SUCCESS</return_code><attach>&xxe;</attach></xml>";
        var ex = Assert.Throws<WeChatPayProtocolException>(() => WeChatPayXml.Parse(Encoding.UTF8.GetBytes(xxe)));
        Assert.Equal(WeChatPayRejectReason.DtdProhibited, ex.Reason);
    }

    [Fact]
    public void RefusesABillionLaughsPayload()
    {
        const string laughs = "<!DOCTYPE xml [<!ENTITY l0 \"ha\"><!ENTITY l1 \"&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;\"><!ENTITY l2 \"&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;\">]><xml><a>&l2;</a></xml>";
        Assert.Equal(WeChatPayRejectReason.DtdProhibited, Assert.Throws<WeChatPayProtocolException>(() => WeChatPayXml.Parse(laughs)).Reason);
    }

    [Fact]
    public void RefusesAnOversizeBody()
    {
        var big = Encoding.UTF8.GetBytes("<xml><a>" + new string('x', WeChatPayXml.DefaultMaxBytes) + "</a></xml>");
        Assert.Equal(WeChatPayRejectReason.Oversize, Assert.Throws<WeChatPayProtocolException>(() => WeChatPayXml.Parse(big)).Reason);
    }

    [Fact]
    public async Task StopsReadingABodyPastTheCap()
    {
        using var stream = new MemoryStream(new byte[1_000_000]);
        var ex = await Assert.ThrowsAsync<WeChatPayProtocolException>(() => WeChatPayXml.ReadBodyAsync(stream, 64 * 1024));
        Assert.Equal(WeChatPayRejectReason.Oversize, ex.Reason);
        Assert.True(stream.Position <= 64 * 1024 + 16 * 1024, "read far past the cap");
    }

    [Fact]
    public async Task ReadsABodyUpToTheCap()
    {
        var bytes = Encoding.UTF8.GetBytes("<xml><a>" + new string('x', 40_000) + "</a></xml>");
        using var stream = new MemoryStream(bytes);
        Assert.Equal(bytes, await WeChatPayXml.ReadBodyAsync(stream, 64 * 1024));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not xml")]
    [InlineData("<xml><a>1</a>")]
    [InlineData("<xml><a>1</b></xml>")]
    [InlineData("<other><a>1</a></other>")]
    [InlineData("<xml><a><b>nested</b></a></xml>")]
    [InlineData("<xml><a>1</a><a>2</a></xml>")]
    [InlineData("<xml>loose text<a>1</a></xml>")]
    [InlineData("<xml><a>1</a></xml><xml/>")]
    [InlineData("<xml xmlns=\"urn:x\"><a>1</a></xml>")]
    public void RefusesMalformedOrNonFlatXml(string xml) =>
        Assert.Equal(WeChatPayRejectReason.Malformed, Assert.Throws<WeChatPayProtocolException>(() => WeChatPayXml.Parse(Encoding.UTF8.GetBytes(xml))).Reason);

    [Fact]
    public void RefusesInvalidUtf8() =>
        Assert.Equal(WeChatPayRejectReason.Malformed, Assert.Throws<WeChatPayProtocolException>(() => WeChatPayXml.Parse(new byte[] { 0x3c, 0x78, 0xff, 0xfe })).Reason);

    [Fact]
    public void IgnoresCommentsAndProcessingInstructions()
    {
        var message = WeChatPayXml.Parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- hi --><xml>\n  <a>1</a>\n  <!-- x --><b><![CDATA[2]]></b>\n</xml>");
        Assert.Equal(["a", "b"], message.Select(f => f.Key));
    }
}
