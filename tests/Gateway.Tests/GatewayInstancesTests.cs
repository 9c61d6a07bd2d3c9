using System.Net;
using System.Text;

namespace GroupPay.Gateway.Tests;

/// <summary>More gateway instances on the same cluster and Redis: shared sessions, rate limits, the admin switch.</summary>
[Collection(GatewayCollection.Name)]
public sealed class GatewayInstancesTests(GatewayFixture fixture)
{
    [Fact]
    public async Task ASessionFromOneGatewayIsAcceptedByAnotherSharingRedis()
    {
        var second = await fixture.StartGatewayAsync(new Dictionary<string, string?>());
        using var browser = await fixture.SignInAsync();

        using var elsewhere = new Browser(second);
        foreach (System.Net.Cookie cookie in browser.Cookies.GetCookies(fixture.GatewayUrl))
        {
            elsewhere.Cookies.Add(second, new System.Net.Cookie(cookie.Name, cookie.Value, cookie.Path));
        }
        var me = await elsewhere.GetJsonAsync("/api/me");

        Assert.Equal(browser.Openid, me.GetProperty("openid").GetString());
    }

    [Fact]
    public async Task ASignInStartedOnOneGatewayCanFinishOnAnother()
    {
        var second = await fixture.StartGatewayAsync(new Dictionary<string, string?>());
        using var browser = fixture.NewBrowser();
        using var login = await browser.GetAsync("/auth/login?returnUrl=/");
        using var confirm = await browser.Http.GetAsync(Browser.ConfirmUrl(login.Headers.Location!, GatewayFixture.NewUser()));
        var callback = new UriBuilder(confirm.Headers.Location!) { Port = second.Port }.Uri;

        using var done = await browser.Http.GetAsync(callback);

        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        using var me = await browser.Http.GetAsync(new Uri(second, "/api/me"));
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task MutationsBeyondTheUsersLimitAreRefusedWith429()
    {
        var limited = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:RateLimit:PerUser"] = "2" });
        var campaignId = await fixture.DefineCampaignAsync(stock: 100);
        using var user = await fixture.SignInAsync(gateway: limited);
        using var other = await fixture.SignInAsync(gateway: limited);

        using var first = await user.PostJsonAsync("/api/groups", new { campaignId = "no-such-campaign" });
        using var second = await user.PostJsonAsync("/api/groups", new { campaignId = "no-such-campaign" });
        using var third = await user.PostJsonAsync("/api/groups", new { campaignId });

        Assert.Equal(HttpStatusCode.NotFound, first.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
        await Json.ProblemAsync(third, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.True(third.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        // Reads are not limited, and another user has their own allowance.
        using var me = await user.GetAsync("/api/me");
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        using var others = await other.PostJsonAsync("/api/groups", new { campaignId });
        Assert.Equal(HttpStatusCode.Created, others.StatusCode);
    }

    [Fact]
    public async Task RequestsBeyondTheIpLimitAreRefusedButWeChatNotifiesNever()
    {
        var limited = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:RateLimit:PerIp"] = "3" });
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = limited };

        var logins = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var login = await client.GetAsync("/auth/login?returnUrl=/");
            logins.Add(login.StatusCode);
        }
        for (var i = 0; i < 6; i++)
        {
            using var body = new StringContent("<xml><return_code>FAIL</return_code></xml>", Encoding.UTF8, "text/xml");
            using var notify = await client.PostAsync("/wechatpay/notify", body);
            Assert.Equal(HttpStatusCode.OK, notify.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Redirect, HttpStatusCode.Redirect, HttpStatusCode.Redirect, HttpStatusCode.TooManyRequests], logins);
    }

    [Fact]
    public async Task AdminEndpointsAreNotFoundWhileNoKeyIsConfigured()
    {
        var keyless = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:AdminKey"] = null });
        using var client = new HttpClient { BaseAddress = keyless };

        using var stats = GatewayFixture.AdminRequest(HttpMethod.Get, "/admin/stats");
        using var put = GatewayFixture.AdminRequest(HttpMethod.Put, "/admin/campaigns/c-keyless", GatewayFixture.Campaign());

        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(stats)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(put)).StatusCode);
        using var items = GatewayFixture.AdminRequest(HttpMethod.Get, "/admin/operator/items");
        using var resolve = GatewayFixture.AdminRequest(HttpMethod.Post, "/admin/operator/items/x/resolve", new { actor = "ops", note = "n" });
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(items)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(resolve)).StatusCode);
        using var campaign = await client.GetAsync("/api/campaigns/c-keyless");
        Assert.Equal(HttpStatusCode.NotFound, campaign.StatusCode);
    }
}
