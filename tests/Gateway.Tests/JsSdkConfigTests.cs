using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace GroupPay.Gateway.Tests;

/// <summary><c>GET /api/wechat/jssdk-config</c>: a <c>wx.config</c> for one of this site's pages, signed with the cluster's
/// ticket, that the sandbox (standing in for WeChat's check inside the client) accepts.</summary>
[Collection(GatewayCollection.Name)]
public sealed class JsSdkConfigTests(GatewayFixture fixture)
{
    private string Page(string pathAndQuery) => new Uri(fixture.GatewayUrl, pathAndQuery).ToString();

    private async Task<JsonElement> ConfigAsync(string url, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await fixture.Anonymous.GetAsync("/api/wechat/jssdk-config?url=" + Uri.EscapeDataString(url));
        return await Json.ReadAsync(response, expected);
    }

    private async Task<bool> WeChatAcceptsAsync(JsonElement config, string url)
    {
        var query = $"appId={config.GetProperty("appId").GetString()}&timestamp={config.GetProperty("timestamp").GetInt64()}"
            + $"&nonceStr={config.GetProperty("nonceStr").GetString()}&signature={config.GetProperty("signature").GetString()}&url={Uri.EscapeDataString(url)}";
        var verdict = await fixture.Sandbox.GetFromJsonAsync<JsonElement>("/sandbox/jssdk/verify?" + query);
        return verdict.GetProperty("ok").GetBoolean();
    }

    private async Task<int> TicketFetchesAsync() =>
        (await fixture.Sandbox.GetFromJsonAsync<JsonElement>("/sandbox/jssdk")).GetProperty("ticketFetches").GetInt32();

    [Fact]
    public async Task ASharePagesConfigIsSignedForThatPageWithoutItsFragment()
    {
        var url = Page("/g/abcdef123456?ref=abcd2345");

        var config = await ConfigAsync(url + "#members");

        Assert.Equal(GatewayFixture.AppId, config.GetProperty("appId").GetString());
        Assert.Equal(["updateAppMessageShareData", "updateTimelineShareData"],
            config.GetProperty("jsApiList").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(16, config.GetProperty("nonceStr").GetString()!.Length);
        Assert.True(await WeChatAcceptsAsync(config, url));
        Assert.False(await WeChatAcceptsAsync(config, Page("/g/abcdef123456")));
    }

    [Fact]
    public async Task PagesKeepUsingOneTicketAcrossCalls()
    {
        await ConfigAsync(Page("/"));
        var fetches = await TicketFetchesAsync();

        for (var i = 0; i < 10; i++)
        {
            Assert.True(await WeChatAcceptsAsync(await ConfigAsync(Page($"/g/abcdef12345{i}")), Page($"/g/abcdef12345{i}")));
        }

        Assert.Equal(fetches, await TicketFetchesAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("/g/abcdef123456")]
    [InlineData("ftp://127.0.0.1/g/abcdef123456")]
    [InlineData("https://evil.example/g/abcdef123456")]
    [InlineData("javascript:alert(1)")]
    public async Task AUrlThatIsNotOneOfThisSitesPagesIsRefused(string url)
    {
        var problem = await ConfigAsync(url, HttpStatusCode.BadRequest);

        Assert.Equal("invalid-request", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task AnOverlongUrlIsRefused()
    {
        var problem = await ConfigAsync(Page("/g/abcdef123456?x=" + new string('a', 2100)), HttpStatusCode.BadRequest);

        Assert.Equal("invalid-request", problem.GetProperty("code").GetString());
    }
}
