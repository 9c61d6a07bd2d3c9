using System.Net;
using System.Text.Json;

namespace GroupPay.Gateway.Tests;

/// <summary><c>GET /api/campaigns/{id}/groups</c>: the campaign's groups one can join (凑团), newest first, bounded.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenGroupsTests(GatewayFixture fixture)
{
    [Fact]
    public async Task ListsTheOpenGroupsWithAFreeSlotNewestFirst()
    {
        var campaignId = await fixture.DefineCampaignAsync(groupSize: 2);
        var older = await OpenGroupAsync(campaignId);
        var newer = await OpenGroupAsync(campaignId);
        using var pendingLeader = await fixture.SignInAsync();
        await pendingLeader.CreateGroupAsync(campaignId); // pending: its leader has not paid
        var full = await OpenGroupAsync(campaignId);
        using var holder = await fixture.SignInAsync();
        await holder.PayAsync(full); // holds the last slot

        var groups = await fixture.NewBrowser().GetJsonAsync($"/api/campaigns/{campaignId}/groups");

        Assert.Equal([newer, older], groups.EnumerateArray().Select(g => g.GetProperty("groupId").GetString()));
        var first = groups[0];
        Assert.Equal(["groupId", "groupSize", "paidCount", "freeSlots", "deadline"], first.PropertyNames());
        Assert.Equal(2, first.GetProperty("groupSize").GetInt32());
        Assert.Equal(1, first.GetProperty("paidCount").GetInt32());
        Assert.Equal(1, first.GetProperty("freeSlots").GetInt32());
        Assert.True(first.GetProperty("deadline").GetDateTime() > DateTime.UtcNow);

        var one = await fixture.NewBrowser().GetJsonAsync($"/api/campaigns/{campaignId}/groups?limit=1");
        Assert.Equal([newer], one.EnumerateArray().Select(g => g.GetProperty("groupId").GetString()));
    }

    [Fact]
    public async Task ACampaignWithoutGroupsListsNone()
    {
        var groups = await fixture.NewBrowser().GetJsonAsync($"/api/campaigns/c{Guid.NewGuid():N}"[..20] + "/groups");

        Assert.Equal(JsonValueKind.Array, groups.ValueKind);
        Assert.Equal(0, groups.GetArrayLength());
    }

    [Theory]
    [InlineData("/api/campaigns/demo/groups?limit=0")]
    [InlineData("/api/campaigns/demo/groups?limit=11")]
    [InlineData("/api/campaigns/demo/groups?limit=x")]
    [InlineData("/api/campaigns/bad%20id!/groups")]
    public async Task MalformedQueriesAreBadRequests(string path)
    {
        using var response = await fixture.Anonymous.GetAsync(path);

        await Json.ProblemAsync(response, HttpStatusCode.BadRequest, "invalid-request");
    }

    /// <summary>A group whose leader has paid: open, with its other slot free.</summary>
    private async Task<string> OpenGroupAsync(string campaignId)
    {
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        await fixture.PayAtCashierAsync(await leader.PayAsync(groupId), leader.Openid);
        await GatewayFixture.EventuallyAsync(() => leader.GetJsonAsync($"/api/groups/{groupId}"), g => g.GetProperty("status").GetString() == "open");
        return groupId;
    }
}
