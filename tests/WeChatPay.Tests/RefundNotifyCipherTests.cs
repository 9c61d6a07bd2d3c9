using System.Text;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Tests;

public sealed class RefundNotifyCipherTests
{
    [Fact]
    public void DecryptsSkitsAesEcbVector()
    {
        // docs/wechatpay.md §10 V5: the key is used as given (32 ASCII bytes).
        var plain = RefundNotifyCipher.DecryptWithRawKey(
            Convert.FromBase64String("l/aL5GyVfl/tw3Lww6GvCQ=="),
            Encoding.ASCII.GetBytes("01234567890abcdefedcba9876543210"));
        Assert.Equal("SKIT is great!", Encoding.UTF8.GetString(plain));
    }

    [Fact]
    public void EncryptsWechatpayPhpsAesEcbVector()
    {
        // §10 V6.
        var cipher = RefundNotifyCipher.EncryptWithRawKey(Encoding.UTF8.GetBytes("hello"), Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef"));
        Assert.Equal("pZwJZBLuy3mDACEQT4YTBw==", Convert.ToBase64String(cipher));
    }

    [Fact]
    public void DerivesTheKeyAsLowerCaseMd5HexOfTheApiKey()
    {
        // MD5("192006250b4c09247ec02edce69f6a2d"), independently known: check shape and case.
        var key = Encoding.ASCII.GetString(RefundNotifyCipher.DeriveKey("192006250b4c09247ec02edce69f6a2d"));
        Assert.Equal(32, key.Length);
        Assert.Equal(key.ToLowerInvariant(), key);
        Assert.Matches("^[0-9a-f]{32}$", key);
    }

    [Fact]
    public void KeepsLeadingZerosOfTheDerivedKey()
    {
        // WxJava's BigInteger bug dropped leading zeros. Find an API key whose MD5 starts with 0.
        var apiKey = Enumerable.Range(0, 10_000)
            .Select(i => $"key{i:D29}")
            .First(k => Encoding.ASCII.GetString(RefundNotifyCipher.DeriveKey(k)).StartsWith('0'));
        Assert.Equal(32, RefundNotifyCipher.DeriveKey(apiKey).Length);
        Assert.Equal("<root/>", RefundNotifyCipher.Decrypt(RefundNotifyCipher.Encrypt("<root/>", apiKey), apiKey));
    }

    [Fact]
    public void RoundTripsWithTheApiKey()
    {
        const string apiKey = "192006250b4c09247ec02edce69f6a2d";
        const string plain = "<root><out_refund_no><![CDATA[131811191610442717309]]></out_refund_no><refund_fee><![CDATA[3960]]></refund_fee></root>";
        Assert.Equal(plain, RefundNotifyCipher.Decrypt(RefundNotifyCipher.Encrypt(plain, apiKey), apiKey));
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    [InlineData("")]
    public void RefusesMalformedReqInfo(string reqInfo)
    {
        var ex = Assert.Throws<WeChatPayProtocolException>(() => RefundNotifyCipher.Decrypt(reqInfo, "192006250b4c09247ec02edce69f6a2d"));
        Assert.Equal(WeChatPayRejectReason.DecryptionFailed, ex.Reason);
    }

    [Fact]
    public void RefusesReqInfoEncryptedWithAnotherKey()
    {
        var reqInfo = RefundNotifyCipher.Encrypt("<root><a>1</a></root>", "00000000000000000000000000000000");
        var ex = Assert.Throws<WeChatPayProtocolException>(() => RefundNotifyCipher.Decrypt(reqInfo, "192006250b4c09247ec02edce69f6a2d"));
        Assert.Equal(WeChatPayRejectReason.DecryptionFailed, ex.Reason);
    }
}
