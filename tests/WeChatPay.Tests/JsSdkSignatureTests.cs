using GroupPay.WeChatPay.OfficialAccount;

namespace GroupPay.WeChatPay.Tests;

public sealed class JsSdkSignatureTests
{
    // WeChat's published JS-SDK signing example (JS-SDK documentation, appendix 1).
    private const string Ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg";

    [Fact]
    public void SignsWeChatsPublishedExample() =>
        Assert.Equal("f4d90daf4b3bca3078ab155816175ba34c443a7b",
            JsSdkSignature.Sign(Ticket, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com"));

    [Fact]
    public void LeavesTheFragmentOutOfTheSignedUrl() =>
        Assert.Equal(JsSdkSignature.Sign(Ticket, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com"),
            JsSdkSignature.Sign(Ticket, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com#wechat_redirect"));

    [Fact]
    public void SignsTheQueryAsTheBrowserHasIt()
    {
        // The query is part of the page URL and is signed unescaped and unsorted.
        var withQuery = JsSdkSignature.Sign(Ticket, "Wm3WZYTPz0wzccnW", 1414587457, "https://shop.example/g/abc123?ref=Q7K2M9&from=timeline");
        Assert.NotEqual(withQuery, JsSdkSignature.Sign(Ticket, "Wm3WZYTPz0wzccnW", 1414587457, "https://shop.example/g/abc123"));
        Assert.Equal(40, withQuery.Length);
    }
}
