using System.Net;

namespace GroupPay.Gateway.Tests;

/// <summary>Campaigns defined through <c>/admin</c> (X-Admin-Key) and listed through <c>/api/campaigns</c>; the stats.</summary>
[Collection(GatewayCollection.Name)]
public sealed class CampaignAdminTests(GatewayFixture fixture)
{
    private static readonly string[] CampaignFields =
        ["campaignId", "title", "soloPriceFen", "groupPriceFen", "groupSize", "windowMinutes", "stock", "remainingStock", "active", "imageUrl", "description"];

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-admin-key-0000000000000")]
    [InlineData("")]
    public async Task AdminEndpointsRefuseAMissingOrWrongKey(string? key)
    {
        var campaignId = "c" + Guid.NewGuid().ToString("N")[..10];
        using var put = GatewayFixture.AdminRequest(HttpMethod.Put, $"/admin/campaigns/{campaignId}", GatewayFixture.Campaign(), key);
        using var stats = GatewayFixture.AdminRequest(HttpMethod.Get, "/admin/stats", key: key);

        await Json.ProblemAsync(await fixture.Anonymous.SendAsync(put), HttpStatusCode.Unauthorized, "admin-key");
        await Json.ProblemAsync(await fixture.Anonymous.SendAsync(stats), HttpStatusCode.Unauthorized, "admin-key");
        using var campaign = await fixture.Anonymous.GetAsync($"/api/campaigns/{campaignId}");
        Assert.Equal(HttpStatusCode.NotFound, campaign.StatusCode);
    }

    [Fact]
    public async Task AWrongKeyIsRefusedBeforeTheBodyIsRead()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/admin/campaigns/c1") { Content = new StringContent("{not json", null, "application/json") };

        await Json.ProblemAsync(await fixture.Anonymous.SendAsync(request), HttpStatusCode.Unauthorized, "admin-key");
    }

    [Theory]
    [InlineData("groupSize", 1, "groupSize must be between 2 and 20")]
    [InlineData("groupSize", 21, "groupSize must be between 2 and 20")]
    [InlineData("soloPriceFen", 0, "soloPriceFen must be greater than 0")]
    [InlineData("groupPriceFen", 0, "groupPriceFen must be greater than 0")]
    [InlineData("windowMinutes", 0, "windowMinutes must be at least 1")]
    [InlineData("perUserLimit", 101, "perUserLimit must be between 1 and 100")]
    [InlineData("stockShards", 65, "stockShards must be between 0 (automatic) and 64")]
    public async Task AnInvalidCampaignIsRefusedWithTheRule(string field, int value, string rule)
    {
        var body = new Dictionary<string, object>
        {
            ["title"] = "拼团",
            ["soloPriceFen"] = 1990,
            ["groupPriceFen"] = 990,
            ["groupSize"] = 3,
            ["windowMinutes"] = 60,
            ["stock"] = 10,
            [field] = value,
        };
        var campaignId = "c" + Guid.NewGuid().ToString("N")[..10];
        using var request = GatewayFixture.AdminRequest(HttpMethod.Put, $"/admin/campaigns/{campaignId}", body);

        var problem = await Json.ProblemAsync(await fixture.Anonymous.SendAsync(request), HttpStatusCode.BadRequest, "invalid-campaign");

        Assert.Equal(rule, problem.GetProperty("detail").GetString());
        using var campaign = await fixture.Anonymous.GetAsync($"/api/campaigns/{campaignId}");
        Assert.Equal(HttpStatusCode.NotFound, campaign.StatusCode);
    }

    [Fact]
    public async Task TheProductImageAndDescriptionAreKeptAndAnsweredToTheH5App()
    {
        var campaignId = "c" + Guid.NewGuid().ToString("N")[..10];
        var body = new Dictionary<string, object>
        {
            ["title"] = "拼团",
            ["soloPriceFen"] = 1990,
            ["groupPriceFen"] = 990,
            ["groupSize"] = 3,
            ["stock"] = 10,
            ["imageUrl"] = " /images/demo-peach.svg ",
            ["description"] = "阳山水蜜桃 6 只装\r\n产地直发",
        };
        using var put = GatewayFixture.AdminRequest(HttpMethod.Put, $"/admin/campaigns/{campaignId}", body);
        var defined = await Json.ReadAsync(await fixture.Anonymous.SendAsync(put), HttpStatusCode.OK);
        Assert.Equal("/images/demo-peach.svg", defined.GetProperty("imageUrl").GetString());
        Assert.Equal("阳山水蜜桃 6 只装\n产地直发", defined.GetProperty("description").GetString());

        var one = await Json.ReadAsync(await fixture.Anonymous.GetAsync($"/api/campaigns/{campaignId}"), HttpStatusCode.OK);
        Assert.Equal("/images/demo-peach.svg", one.GetProperty("imageUrl").GetString());
        Assert.Equal("阳山水蜜桃 6 只装\n产地直发", one.GetProperty("description").GetString());

        // Redefined without them: the campaign has none (a definition is the whole offer).
        using var again = GatewayFixture.AdminRequest(HttpMethod.Put, $"/admin/campaigns/{campaignId}", GatewayFixture.Campaign());
        var redefined = await Json.ReadAsync(await fixture.Anonymous.SendAsync(again), HttpStatusCode.OK);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, redefined.GetProperty("imageUrl").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, redefined.GetProperty("description").ValueKind);
    }

    [Theory]
    [InlineData("imageUrl", "javascript:alert(1)", "imageUrl must be an http(s) URL or a local path (/…) of up to 512 characters")]
    [InlineData("imageUrl", "//evil.example/x.png", "imageUrl must be an http(s) URL or a local path (/…) of up to 512 characters")]
    [InlineData("imageUrl", "/images/a b.png", "imageUrl must be an http(s) URL or a local path (/…) of up to 512 characters")]
    [InlineData("imageUrl", "https://img.example/\"onerror=\"x.png", "imageUrl must be an http(s) URL or a local path (/…) of up to 512 characters")]
    [InlineData("description", "\u0007bell", "description must be up to 500 characters without control characters (line breaks allowed)")]
    public async Task AnInvalidImageUrlOrDescriptionIsRefusedWithTheRule(string field, string value, string rule)
    {
        var body = new Dictionary<string, object>
        {
            ["title"] = "拼团",
            ["soloPriceFen"] = 1990,
            ["groupPriceFen"] = 990,
            ["groupSize"] = 3,
            ["stock"] = 10,
            [field] = value,
        };
        var campaignId = "c" + Guid.NewGuid().ToString("N")[..10];
        using var request = GatewayFixture.AdminRequest(HttpMethod.Put, $"/admin/campaigns/{campaignId}", body);

        var problem = await Json.ProblemAsync(await fixture.Anonymous.SendAsync(request), HttpStatusCode.BadRequest, "invalid-campaign");

        Assert.Equal(rule, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ADescriptionLongerThan500CharactersIsRefused()
    {
        var body = new Dictionary<string, object>
        {
            ["title"] = "拼团",
            ["soloPriceFen"] = 1990,
            ["groupPriceFen"] = 990,
            ["groupSize"] = 3,
            ["stock"] = 10,
            ["description"] = new string('桃', 501),
        };
        using var request = GatewayFixture.AdminRequest(HttpMethod.Put, $"/admin/campaigns/c{Guid.NewGuid():N}"[..20], body);

        await Json.ProblemAsync(await fixture.Anonymous.SendAsync(request), HttpStatusCode.BadRequest, "invalid-campaign");
    }

    [Fact]
    public async Task MalformedAdminInputIsABadRequest()
    {
        using var missing = GatewayFixture.AdminRequest(HttpMethod.Put, "/admin/campaigns/c-missing", new { title = "x", soloPriceFen = 100 });
        var problem = await Json.ProblemAsync(await fixture.Anonymous.SendAsync(missing), HttpStatusCode.BadRequest, "invalid-campaign");
        Assert.Equal("groupPriceFen is required", problem.GetProperty("detail").GetString());

        using var badJson = GatewayFixture.AdminRequest(HttpMethod.Put, "/admin/campaigns/c-bad");
        badJson.Content = new StringContent("{\"title\":", null, "application/json");
        await Json.ProblemAsync(await fixture.Anonymous.SendAsync(badJson), HttpStatusCode.BadRequest, "invalid-request");

        using var badId = GatewayFixture.AdminRequest(HttpMethod.Put, "/admin/campaigns/bad%20id!", GatewayFixture.Campaign());
        await Json.ProblemAsync(await fixture.Anonymous.SendAsync(badId), HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task ADefinedCampaignIsAnsweredAndListed()
    {
        var campaignId = "c" + Guid.NewGuid().ToString("N")[..10];
        using var put = GatewayFixture.AdminRequest(HttpMethod.Put, $"/admin/campaigns/{campaignId}", GatewayFixture.Campaign(groupSize: 2, stock: 7));

        var defined = await Json.ReadAsync(await fixture.Anonymous.SendAsync(put), HttpStatusCode.OK);

        Assert.Equal(CampaignFields, defined.PropertyNames());
        Assert.Equal(campaignId, defined.GetProperty("campaignId").GetString());
        Assert.Equal("拼团 · 网关测试", defined.GetProperty("title").GetString());
        Assert.Equal(1990, defined.GetProperty("soloPriceFen").GetInt64());
        Assert.Equal(990, defined.GetProperty("groupPriceFen").GetInt64());
        Assert.Equal(2, defined.GetProperty("groupSize").GetInt32());
        Assert.Equal(60, defined.GetProperty("windowMinutes").GetInt32());
        Assert.Equal(7, defined.GetProperty("stock").GetInt32());
        Assert.Equal(7, defined.GetProperty("remainingStock").GetInt32());
        Assert.True(defined.GetProperty("active").GetBoolean());

        var one = await Json.ReadAsync(await fixture.Anonymous.GetAsync($"/api/campaigns/{campaignId}"), HttpStatusCode.OK);
        Assert.Equal(defined.ToString(), one.ToString());
        var all = await Json.ReadAsync(await fixture.Anonymous.GetAsync("/api/campaigns"), HttpStatusCode.OK);
        Assert.Contains(all.EnumerateArray(), c => c.GetProperty("campaignId").GetString() == campaignId);
    }

    [Fact]
    public async Task AHeldSlotTakesAUnitOfRemainingStock()
    {
        var campaignId = await fixture.DefineCampaignAsync(stock: 5);
        using var leader = await fixture.SignInAsync();

        await leader.CreateGroupAsync(campaignId);

        var campaign = await leader.GetJsonAsync($"/api/campaigns/{campaignId}");
        Assert.Equal(4, campaign.GetProperty("remainingStock").GetInt32());
    }

    [Fact]
    public async Task StartingAGroupInASoldOutCampaignIsAConflict()
    {
        var campaignId = await fixture.DefineCampaignAsync(stock: 1);
        using var first = await fixture.SignInAsync();
        using var second = await fixture.SignInAsync();
        await first.CreateGroupAsync(campaignId);

        await Json.ProblemAsync(await second.PostJsonAsync("/api/groups", new { campaignId }), HttpStatusCode.Conflict, "campaign-closed");
        Assert.Equal(0, (await second.GetJsonAsync($"/api/campaigns/{campaignId}")).GetProperty("remainingStock").GetInt32());
    }

    [Fact]
    public async Task AnUnknownCampaignIsNotFound()
    {
        await Json.ProblemAsync(await fixture.Anonymous.GetAsync("/api/campaigns/no-such-campaign"), HttpStatusCode.NotFound, "unknown-campaign");
        using var leader = await fixture.SignInAsync();
        await Json.ProblemAsync(await leader.PostJsonAsync("/api/groups", new { campaignId = "no-such-campaign" }), HttpStatusCode.NotFound, "unknown-campaign");
    }

    [Fact]
    public async Task StatsHaveTheContractsShapeAndCountOpenedShareLinks()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var leader = await fixture.SignInAsync();
        var group = await leader.CreateGroupAsync(campaignId);
        var shareUrl = new Uri(group.GetProperty("shareUrl").GetString()!);
        var groupId = group.GetProperty("groupId").GetString();

        // A friend opens the shared link (anonymous) twice; a page opened without ?ref= is not a share.
        using var opened = await fixture.Anonymous.GetAsync($"/api/groups/{groupId}{shareUrl.Query}");
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
        using var again = await fixture.Anonymous.GetAsync($"/api/groups/{groupId}{shareUrl.Query}");
        using var direct = await fixture.Anonymous.GetAsync($"/api/groups/{groupId}");

        var stats = await GatewayFixture.EventuallyAsync(
            () => AdminStatsAsync(campaignId), s => s.GetProperty("funnel").GetProperty("linkOpened").GetInt64() >= 2);

        Assert.Equal(
            ["paymentsCreated", "paymentsPaid", "paymentsRefunded", "paymentSuccessRate", "groupsOpened", "groupsCompleted", "groupsFailed", "seedUsers", "newUsers",
             "fissionK", "fissionKValid", "viralK", "funnel"],
            stats.PropertyNames());
        Assert.Equal(["linkOpened", "joined", "paid"], stats.GetProperty("funnel").PropertyNames());
        Assert.Equal(2, stats.GetProperty("funnel").GetProperty("linkOpened").GetInt64());
        Assert.Equal(0, stats.GetProperty("paymentsCreated").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, stats.GetProperty("paymentSuccessRate").ValueKind);
        Assert.False(stats.GetProperty("fissionKValid").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, stats.GetProperty("fissionK").ValueKind);

        var total = await AdminStatsAsync(null);
        Assert.True(total.GetProperty("funnel").GetProperty("linkOpened").GetInt64() >= 2);
    }

    [Fact]
    public async Task ARecountComparesTheStoredGroupsWithTheLiveCounters()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var leader = await fixture.SignInAsync();
        await leader.CreateGroupAsync(campaignId);

        var recount = await GatewayFixture.EventuallyAsync(
            async () =>
            {
                using var request = GatewayFixture.AdminRequest(HttpMethod.Get, $"/admin/stats/recount?campaignId={campaignId}");
                return await Json.ReadAsync(await fixture.Anonymous.SendAsync(request), HttpStatusCode.OK);
            },
            r => r.GetProperty("groups").GetInt32() == 1);
        Assert.Equal(["campaignId", "groups", "matches", "counters"], recount.PropertyNames());
        Assert.True(recount.GetProperty("matches").GetBoolean());
        Assert.Contains(recount.GetProperty("counters").EnumerateArray(), c => c.GetProperty("counter").GetString() == "paymentsPaid");

        using var missing = GatewayFixture.AdminRequest(HttpMethod.Get, "/admin/stats/recount");
        await Json.ProblemAsync(await fixture.Anonymous.SendAsync(missing), HttpStatusCode.BadRequest, "invalid-request");
    }

    private async Task<System.Text.Json.JsonElement> AdminStatsAsync(string? campaignId)
    {
        using var request = GatewayFixture.AdminRequest(HttpMethod.Get, campaignId is null ? "/admin/stats" : $"/admin/stats?campaignId={campaignId}");
        return await Json.ReadAsync(await fixture.Anonymous.SendAsync(request), HttpStatusCode.OK);
    }
}
