using System.Net;
using System.Net.Http.Json;

namespace GroupPay.Gateway.Tests;

/// <summary><c>POST /api/groups</c> under a client request id (<c>x-requestid</c>): a retried create is the same group
/// and holds one unit of stock, however often it is sent.</summary>
[Collection(GatewayCollection.Name)]
public sealed class IdempotentCreateTests(GatewayFixture fixture)
{
    [Fact]
    public async Task ARetriedCreateReturnsTheSameGroupAndHoldsOneUnit()
    {
        // A limit above one, so that a second hold would show in the stock rather than as the per-user limit's 409.
        var campaignId = await fixture.DefineCampaignAsync(stock: 5, perUserLimit: 5);
        using var leader = await fixture.SignInAsync();
        var requestId = Guid.NewGuid().ToString();

        var first = await Json.ReadAsync(await CreateAsync(leader, campaignId, requestId), HttpStatusCode.Created);
        using var retried = await CreateAsync(leader, campaignId, requestId);
        var again = await Json.ReadAsync(retried, HttpStatusCode.Created);
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await CreateAsync(leader, campaignId, requestId);
            return (await Json.ReadAsync(response, HttpStatusCode.Created)).GetProperty("groupId").GetString();
        }));

        var groupId = first.GetProperty("groupId").GetString();
        Assert.Matches("^[0-9a-z]{12}$", groupId);
        Assert.Equal(groupId, again.GetProperty("groupId").GetString());
        Assert.Equal($"/api/groups/{groupId}", retried.Headers.Location?.OriginalString);
        Assert.All(concurrent, id => Assert.Equal(groupId, id));
        Assert.Equal(4, (await leader.GetJsonAsync($"/api/campaigns/{campaignId}")).GetProperty("remainingStock").GetInt32());
        var mine = await leader.GetJsonAsync("/api/me/groups");
        Assert.Single(mine.EnumerateArray(), g => g.GetProperty("groupId").GetString() == groupId);
    }

    [Fact]
    public async Task ANewRequestIdOrNoneStartsAnotherGroup()
    {
        var campaignId = await fixture.DefineCampaignAsync(stock: 5, perUserLimit: 5);
        using var leader = await fixture.SignInAsync();

        var one = await GroupIdAsync(await CreateAsync(leader, campaignId, Guid.NewGuid().ToString()));
        var two = await GroupIdAsync(await CreateAsync(leader, campaignId, Guid.NewGuid().ToString()));
        var three = await GroupIdAsync(await CreateAsync(leader, campaignId, requestId: null));
        var four = await GroupIdAsync(await CreateAsync(leader, campaignId, requestId: null));

        Assert.Equal(4, new[] { one, two, three, four }.Distinct().Count());
        Assert.Equal(1, (await leader.GetJsonAsync($"/api/campaigns/{campaignId}")).GetProperty("remainingStock").GetInt32());
    }

    [Fact]
    public async Task OneRequestIdOfTwoUsersIsTwoGroups()
    {
        var campaignId = await fixture.DefineCampaignAsync(stock: 5);
        using var alice = await fixture.SignInAsync();
        using var bob = await fixture.SignInAsync();
        var requestId = Guid.NewGuid().ToString();

        var hers = await GroupIdAsync(await CreateAsync(alice, campaignId, requestId));
        var his = await GroupIdAsync(await CreateAsync(bob, campaignId, requestId));

        Assert.NotEqual(hers, his);
        Assert.Equal(0, (await bob.GetJsonAsync($"/api/groups/{his}")).GetProperty("mySlot").GetInt32());
    }

    [Fact]
    public async Task ARequestIdReusedForAnotherCampaignIsAConflictThatHoldsNothing()
    {
        var campaignId = await fixture.DefineCampaignAsync(stock: 5);
        var other = await fixture.DefineCampaignAsync(stock: 5);
        using var leader = await fixture.SignInAsync();
        var requestId = Guid.NewGuid().ToString();
        await GroupIdAsync(await CreateAsync(leader, campaignId, requestId));

        using var reused = await CreateAsync(leader, other, requestId);

        await Json.ProblemAsync(reused, HttpStatusCode.Conflict, "request-id-reused");
        Assert.Equal(5, (await leader.GetJsonAsync($"/api/campaigns/{other}")).GetProperty("remainingStock").GetInt32());
    }

    [Theory]
    [InlineData("short")]
    [InlineData("has spaces in it")]
    [InlineData("slash/in-the-request-id")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789")]
    public async Task AMalformedRequestIdIsRefusedAndHoldsNothing(string requestId)
    {
        var campaignId = await fixture.DefineCampaignAsync(stock: 5);
        using var leader = await fixture.SignInAsync();

        using var response = await CreateAsync(leader, campaignId, requestId);

        var problem = await Json.ProblemAsync(response, HttpStatusCode.BadRequest, "invalid-request");
        Assert.Contains("x-requestid", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(5, (await leader.GetJsonAsync($"/api/campaigns/{campaignId}")).GetProperty("remainingStock").GetInt32());
    }

    private static async Task<HttpResponseMessage> CreateAsync(Browser user, string campaignId, string? requestId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/groups") { Content = JsonContent.Create(new { campaignId }) };
        if (requestId is not null)
        {
            request.Headers.TryAddWithoutValidation("x-requestid", requestId);
        }
        return await user.Http.SendAsync(request);
    }

    private static async Task<string> GroupIdAsync(HttpResponseMessage response)
    {
        using (response)
        {
            return (await Json.ReadAsync(response, HttpStatusCode.Created)).GetProperty("groupId").GetString()!;
        }
    }
}
