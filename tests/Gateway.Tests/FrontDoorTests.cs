using System.Net;
using System.Net.Http.Json;
using System.Text;
using GroupPay.Gateway.Infrastructure;

namespace GroupPay.Gateway.Tests;

/// <summary>Security at the front door (docs/api.md §3.6): secure session cookies, the cross-site check of cookie
/// requests, the pages' security headers, body limits and the caps on event streams and admin calls.</summary>
[Collection(GatewayCollection.Name)]
public sealed class FrontDoorTests(GatewayFixture fixture)
{
    [Fact]
    public async Task OutsideDevelopmentTheSessionAndSignInCookiesAreSecure()
    {
        // The fixture turns Gateway:SecureCookies off (its clients speak plain http); unset, Production means secure.
        var secure = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:SecureCookies"] = null });
        using var browser = fixture.NewBrowser(secure);

        using var login = await browser.GetAsync("/auth/login?returnUrl=/");
        var correlation = Assert.Single(login.Headers.GetValues("Set-Cookie"), c => c.StartsWith("grouppay.oauth=", StringComparison.Ordinal));
        Assert.True(IsSecure(correlation), correlation);
        // A browser sends a Secure cookie back over https only; here it is carried over plain http by hand.
        browser.Cookies.Add(secure, new System.Net.Cookie("grouppay.oauth", correlation.Split(';')[0]["grouppay.oauth=".Length..], "/auth"));
        using var confirm = await browser.Http.GetAsync(Browser.ConfirmUrl(login.Headers.Location!, GatewayFixture.NewUser()));
        using var callback = await browser.Http.GetAsync(confirm.Headers.Location!);

        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        var session = Assert.Single(callback.Headers.GetValues("Set-Cookie"), c => c.StartsWith("grouppay.session=", StringComparison.Ordinal));
        Assert.True(IsSecure(session), session);
        Assert.Contains("httponly", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", session, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TheFixturesGatewayWithSecureCookiesOffSetsThemWithoutSecure()
    {
        using var browser = fixture.NewBrowser();
        using var callback = await browser.AuthorizeAsync("/", GatewayFixture.NewUser());

        var session = Assert.Single(callback.Headers.GetValues("Set-Cookie"), c => c.StartsWith("grouppay.session=", StringComparison.Ordinal));
        Assert.False(IsSecure(session), session);
    }

    [Theory]
    [InlineData("Origin", "https://evil.example")]
    [InlineData("Origin", "http://127.0.0.1")]
    [InlineData("Origin", "null")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    public async Task ACookieRequestFromAnotherSiteIsRefused(string header, string value)
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var browser = await fixture.SignInAsync();

        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/groups") { Content = JsonContent.Create(new { campaignId }) };
        create.Headers.Add(header, value);
        using var created = await browser.Http.SendAsync(create);
        using var logout = new HttpRequestMessage(HttpMethod.Post, "/auth/logout");
        logout.Headers.Add(header, value);
        using var loggedOut = await browser.Http.SendAsync(logout);

        await Json.ProblemAsync(created, HttpStatusCode.Forbidden, "cross-site");
        await Json.ProblemAsync(loggedOut, HttpStatusCode.Forbidden, "cross-site");
        var groups = await browser.GetJsonAsync("/api/me/groups");
        Assert.Equal(0, groups.GetArrayLength());
    }

    [Theory]
    [InlineData(true, "cross-site")] // Origin decides when present
    [InlineData(false, "same-origin")]
    [InlineData(false, "none")]
    public async Task ACookieRequestFromTheSiteItselfIsAllowed(bool ownOrigin, string fetchSite)
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var browser = await fixture.SignInAsync();

        using var create = new HttpRequestMessage(HttpMethod.Post, "/api/groups") { Content = JsonContent.Create(new { campaignId }) };
        if (ownOrigin)
        {
            create.Headers.Add("Origin", fixture.GatewayUrl.GetLeftPart(UriPartial.Authority));
        }
        create.Headers.Add("Sec-Fetch-Site", fetchSite);
        using var created = await browser.Http.SendAsync(create);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task RequestsWithoutASessionOrToAdminAndNotifiesAreNotChecked()
    {
        using var anonymous = new HttpRequestMessage(HttpMethod.Post, "/auth/logout");
        anonymous.Headers.Add("Origin", "https://evil.example");
        using var loggedOut = await fixture.Anonymous.SendAsync(anonymous);
        Assert.Equal(HttpStatusCode.NoContent, loggedOut.StatusCode);

        using var admin = GatewayFixture.AdminRequest(HttpMethod.Put, "/admin/campaigns/c" + Guid.NewGuid().ToString("N")[..10], GatewayFixture.Campaign());
        admin.Headers.Add("Origin", "https://evil.example");
        admin.Headers.Add("Cookie", "grouppay.session=whatever");
        using var defined = await fixture.Anonymous.SendAsync(admin);
        Assert.Equal(HttpStatusCode.OK, defined.StatusCode);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/g/abcdef123456")]
    [InlineData("/orders")]
    [InlineData("/nosuchpage")]
    public async Task ThePagesCarryAContentSecurityPolicyNamingTheSandbox(string path)
    {
        using var response = await fixture.Anonymous.GetAsync(path);

        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var sandbox = fixture.SandboxUrl.GetLeftPart(UriPartial.Authority);
        var policy = Directives(Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("'self'", policy["default-src"]);
        Assert.Equal("'self' " + sandbox, policy["script-src"]);
        Assert.Equal("'self' " + sandbox, policy["connect-src"]);
        Assert.Equal("'self' data: https:", policy["img-src"]);
        Assert.Equal("'self' 'unsafe-inline'", policy["style-src"]);
        Assert.Equal("'self' data:", policy["font-src"]); // Vant's icon font
        Assert.Equal("'none'", policy["frame-ancestors"]);
        Assert.Equal("strict-origin-when-cross-origin", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public void AgainstWeChatsHostThePolicyNamesWeChatsScriptAndNoSandbox()
    {
        var policy = Directives(FrontDoor.ContentSecurityPolicy("https://api.mch.weixin.qq.com"));

        Assert.Equal("'self' https://res.wx.qq.com", policy["script-src"]);
        Assert.Equal("'self'", policy["connect-src"]);
    }

    [Theory]
    [InlineData("/api/campaigns")]
    [InlineData("/health/live")]
    [InlineData("/api/nosuch")]
    public async Task EveryAnswerSaysNoSniff(string path)
    {
        using var response = await fixture.Anonymous.GetAsync(path);

        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.False(response.Headers.Contains("Content-Security-Policy"));
    }

    [Theory]
    [InlineData("/api/groups")]
    [InlineData("/auth/logout")]
    public async Task ABodyOverTheLimitIs413(string path)
    {
        using var browser = await fixture.SignInAsync();
        using var content = new StringContent("{\"campaignId\":\"" + new string('a', 17 * 1024) + "\"}", Encoding.UTF8, "application/json");

        using var response = await browser.Http.PostAsync(path, content);

        await Json.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Fact]
    public async Task ABodyOverTheLimitIs413AlsoWhenChunked()
    {
        using var browser = await fixture.SignInAsync();
        var json = "{\"campaignId\":\"" + new string('a', 17 * 1024) + "\"}";
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/groups") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await browser.Http.SendAsync(request);

        await Json.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Fact]
    public async Task EventStreamsAreCappedPerUserAndFreedWhenOneEnds()
    {
        var limited = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:EventStreams:PerUser"] = "2" });
        var campaignId = await fixture.DefineCampaignAsync();
        using var user = await fixture.SignInAsync(gateway: limited);
        using var other = await fixture.SignInAsync(gateway: limited);
        var groupId = (await user.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        var events = $"/api/groups/{groupId}/events";
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var first = await user.Http.GetAsync(events, HttpCompletionOption.ResponseHeadersRead, guard.Token);
        using var second = await user.Http.GetAsync(events, HttpCompletionOption.ResponseHeadersRead, guard.Token);
        using var third = await user.Http.GetAsync(events, HttpCompletionOption.ResponseHeadersRead, guard.Token);
        using var others = await other.Http.GetAsync(events, HttpCompletionOption.ResponseHeadersRead, guard.Token);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        await Json.ProblemAsync(third, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.True(third.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, others.StatusCode);

        first.Dispose(); // the client goes away: its stream ends and frees its place
        var again = await GatewayFixture.EventuallyAsync(
            async () =>
            {
                var response = await user.Http.GetAsync(events, HttpCompletionOption.ResponseHeadersRead, guard.Token);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    response.Dispose();
                }
                return response;
            },
            response => response.StatusCode == HttpStatusCode.OK);
        again.Dispose();
    }

    [Fact]
    public async Task EventStreamsAreCappedPerIp()
    {
        var limited = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:EventStreams:PerIp"] = "1" });
        var campaignId = await fixture.DefineCampaignAsync();
        using var user = await fixture.SignInAsync(gateway: limited);
        using var other = await fixture.SignInAsync(gateway: limited);
        var groupId = (await user.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        using var first = await user.Http.GetAsync($"/api/groups/{groupId}/events", HttpCompletionOption.ResponseHeadersRead, guard.Token);
        using var second = await other.Http.GetAsync($"/api/groups/{groupId}/events", HttpCompletionOption.ResponseHeadersRead, guard.Token);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await Json.ProblemAsync(second, HttpStatusCode.TooManyRequests, "rate-limited");
    }

    [Fact]
    public async Task AdminCallsAreLimitedPerIpBeforeTheKeyIsChecked()
    {
        var limited = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:RateLimit:AdminPerIp"] = "3" });
        using var client = new HttpClient { BaseAddress = limited };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var wrong = GatewayFixture.AdminRequest(HttpMethod.Get, "/admin/operator/items", key: "not-the-admin-key-0000");
            using var refused = await client.SendAsync(wrong);
            statuses.Add(refused.StatusCode);
        }
        using var right = GatewayFixture.AdminRequest(HttpMethod.Get, "/admin/operator/items");
        using var limitedAnswer = await client.SendAsync(right);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        await Json.ProblemAsync(limitedAnswer, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.True(limitedAnswer.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        // The rest of the site is not affected.
        using var campaigns = await client.GetAsync("/api/campaigns");
        Assert.Equal(HttpStatusCode.OK, campaigns.StatusCode);
    }

    private static bool IsSecure(string setCookie) =>
        setCookie.Split(';').Any(part => part.Trim().Equals("secure", StringComparison.OrdinalIgnoreCase));

    private static Dictionary<string, string> Directives(string policy) =>
        policy.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => d.Split(' ', 2))
            .ToDictionary(d => d[0], d => d.Length > 1 ? d[1] : "");
}
