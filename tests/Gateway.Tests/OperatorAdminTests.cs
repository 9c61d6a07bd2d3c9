using System.Net;
using System.Text.Json;
using GroupPay.Grains.Operations;

namespace GroupPay.Gateway.Tests;

/// <summary>The operator queue through <c>/admin/operator</c> (X-Admin-Key): items raised as the grains raise them.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OperatorAdminTests(GatewayFixture fixture)
{
    private static readonly string[] ItemFields =
        ["itemId", "kind", "status", "groupId", "outTradeNo", "amountFen", "summary", "lastAnswer", "tried", "firstSeen", "lastSeen", "reports"];

    private static readonly DateTimeOffset SeenAt = new(2026, 3, 1, 8, 30, 0, TimeSpan.Zero);

    private IOperatorQueueGrain Queue => fixture.Grains.GetGrain<IOperatorQueueGrain>(0);

    private async Task<string> RaiseAsync(OperatorItemKind kind = OperatorItemKind.NotifyAnomaly, string? groupId = null, string? outTradeNo = null)
    {
        var itemId = $"gw-test:{Guid.NewGuid():N}";
        await Queue.RaiseAsync(new OperatorItemReport(
            itemId, kind, groupId, outTradeNo, 990, "The notify's payer differs from the attempt.", "openid=o-other", ["orderquery"], SeenAt));
        return itemId;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null, string? key = GatewayFixture.AdminKey)
    {
        using var request = GatewayFixture.AdminRequest(method, path, body, key);
        return await fixture.Anonymous.SendAsync(request);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-admin-key-0000000000000")]
    public async Task OperatorEndpointsRefuseAMissingOrWrongKey(string? key)
    {
        var itemId = await RaiseAsync();

        await Json.ProblemAsync(await SendAsync(HttpMethod.Get, "/admin/operator/items", key: key), HttpStatusCode.Unauthorized, "admin-key");
        await Json.ProblemAsync(await SendAsync(HttpMethod.Get, $"/admin/operator/items/{itemId}", key: key), HttpStatusCode.Unauthorized, "admin-key");
        await Json.ProblemAsync(await SendAsync(HttpMethod.Get, "/admin/operator/counts", key: key), HttpStatusCode.Unauthorized, "admin-key");
        await Json.ProblemAsync(
            await SendAsync(HttpMethod.Post, $"/admin/operator/items/{itemId}/resolve", new { actor = "x", note = "y" }, key), HttpStatusCode.Unauthorized, "admin-key");
        await Json.ProblemAsync(
            await SendAsync(HttpMethod.Post, $"/admin/operator/items/{itemId}/retry", new { actor = "x" }, key), HttpStatusCode.Unauthorized, "admin-key");
        Assert.Equal(OperatorItemStatus.Open, (await Queue.GetAsync(itemId))!.Status);
    }

    [Fact]
    public async Task AnItemIsListedWithoutItsLogAndReadWithIt()
    {
        var itemId = await RaiseAsync();

        var page = await Json.ReadAsync(await SendAsync(HttpMethod.Get, "/admin/operator/items?status=open&kind=notify-anomaly&limit=200"), HttpStatusCode.OK);
        var one = await Json.ReadAsync(await SendAsync(HttpMethod.Get, $"/admin/operator/items/{itemId}"), HttpStatusCode.OK);

        Assert.Equal(["items", "next"], page.PropertyNames());
        var listed = Assert.Single(page.GetProperty("items").EnumerateArray(), i => i.GetProperty("itemId").GetString() == itemId);
        Assert.Equal(ItemFields, listed.PropertyNames());
        Assert.All(page.GetProperty("items").EnumerateArray(), i => Assert.Equal("notify-anomaly", i.GetProperty("kind").GetString()));
        Assert.Equal([.. ItemFields, "actions", "earlierActions"], one.PropertyNames());
        Assert.Equal(
            (itemId, "notify-anomaly", "open", 990L, "openid=o-other", "2026-03-01T08:30:00Z", 1, 0),
            (one.GetProperty("itemId").GetString(), one.GetProperty("kind").GetString(), one.GetProperty("status").GetString(),
                one.GetProperty("amountFen").GetInt64(), one.GetProperty("lastAnswer").GetString(), one.GetProperty("firstSeen").GetString(),
                one.GetProperty("reports").GetInt32(), one.GetProperty("earlierActions").GetInt32()));
        Assert.Equal(JsonValueKind.Null, one.GetProperty("groupId").ValueKind);
        Assert.Equal("orderquery", Assert.Single(one.GetProperty("tried").EnumerateArray()).GetString());
        var raised = Assert.Single(one.GetProperty("actions").EnumerateArray());
        Assert.Equal(["at", "actor", "action", "note"], raised.PropertyNames());
        Assert.Equal(("2026-03-01T08:30:00Z", "system", "raised"),
            (raised.GetProperty("at").GetString(), raised.GetProperty("actor").GetString(), raised.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task ListingPagesWithNext()
    {
        await RaiseAsync(OperatorItemKind.EffectFailing);
        await RaiseAsync(OperatorItemKind.EffectFailing);

        var first = await Json.ReadAsync(await SendAsync(HttpMethod.Get, "/admin/operator/items?kind=effect-failing&limit=1"), HttpStatusCode.OK);
        var next = first.GetProperty("next").GetString()!;
        var second = await Json.ReadAsync(await SendAsync(HttpMethod.Get, $"/admin/operator/items?kind=effect-failing&limit=1&after={next}"), HttpStatusCode.OK);

        Assert.Equal(next, Assert.Single(first.GetProperty("items").EnumerateArray()).GetProperty("itemId").GetString());
        Assert.NotEqual(next, Assert.Single(second.GetProperty("items").EnumerateArray()).GetProperty("itemId").GetString());
    }

    [Fact]
    public async Task ResolvingNeedsAnActorAndANoteAndLogsThem()
    {
        var itemId = await RaiseAsync();
        var path = $"/admin/operator/items/{itemId}/resolve";

        var noNote = await Json.ProblemAsync(await SendAsync(HttpMethod.Post, path, new { actor = "ops-alice" }), HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal("note is required", noNote.GetProperty("detail").GetString());
        var noActor = await Json.ProblemAsync(await SendAsync(HttpMethod.Post, path, new { note = "done" }), HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal("actor is required", noActor.GetProperty("detail").GetString());
        var longNote = await Json.ProblemAsync(
            await SendAsync(HttpMethod.Post, path, new { actor = "ops-alice", note = new string('x', 501) }), HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal("note is at most 500 characters", longNote.GetProperty("detail").GetString());
        await Json.ProblemAsync(await SendAsync(HttpMethod.Post, path), HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal(OperatorItemStatus.Open, (await Queue.GetAsync(itemId))!.Status);

        var resolved = await Json.ReadAsync(
            await SendAsync(HttpMethod.Post, path, new { actor = "ops-alice", note = "Payer confirmed by phone." }), HttpStatusCode.OK);

        Assert.Equal("resolved", resolved.GetProperty("status").GetString());
        var last = resolved.GetProperty("actions").EnumerateArray().Last();
        Assert.Equal(("ops-alice", "resolved", "Payer confirmed by phone."),
            (last.GetProperty("actor").GetString(), last.GetProperty("action").GetString(), last.GetProperty("note").GetString()));
        Assert.EndsWith("Z", last.GetProperty("at").GetString());
        Assert.Equal(OperatorItemStatus.Resolved, (await Queue.GetAsync(itemId))!.Status);
    }

    [Fact]
    public async Task RetryingARefundItemOfARealGroupIsLoggedAndOtherKindsAreRefused()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        var payment = await leader.PayAsync(groupId);
        await fixture.PayAtCashierAsync(payment, leader.Openid);
        await GatewayFixture.EventuallyAsync(() => leader.GetJsonAsync($"/api/groups/{groupId}"), g => g.GetProperty("status").GetString() == "open");
        var refund = await RaiseAsync(OperatorItemKind.RefundRefused, groupId, payment.GetProperty("outTradeNo").GetString());
        var anomaly = await RaiseAsync();

        var retried = await Json.ReadAsync(
            await SendAsync(HttpMethod.Post, $"/admin/operator/items/{refund}/retry", new { actor = "ops-bob", note = "Balance topped up." }), HttpStatusCode.OK);
        var refused = await Json.ProblemAsync(
            await SendAsync(HttpMethod.Post, $"/admin/operator/items/{anomaly}/retry", new { actor = "ops-bob" }), HttpStatusCode.BadRequest, "invalid-request");

        Assert.Equal("open", retried.GetProperty("status").GetString());
        var last = retried.GetProperty("actions").EnumerateArray().Last();
        Assert.Equal(("ops-bob", "retried", "Balance topped up."),
            (last.GetProperty("actor").GetString(), last.GetProperty("action").GetString(), last.GetProperty("note").GetString()));
        Assert.Equal($"Only refund items can be retried; '{anomaly}' is NotifyAnomaly.", refused.GetProperty("detail").GetString());
        Assert.Equal(["raised"], (await Queue.GetAsync(anomaly))!.Actions.Select(a => a.Action));
    }

    [Fact]
    public async Task AnUnknownItemIsNotFound()
    {
        var itemId = $"gw-test:{Guid.NewGuid():N}";

        await Json.ProblemAsync(await SendAsync(HttpMethod.Get, $"/admin/operator/items/{itemId}"), HttpStatusCode.NotFound, "unknown-item");
        await Json.ProblemAsync(
            await SendAsync(HttpMethod.Post, $"/admin/operator/items/{itemId}/resolve", new { actor = "ops", note = "n" }), HttpStatusCode.NotFound, "unknown-item");
        await Json.ProblemAsync(
            await SendAsync(HttpMethod.Post, $"/admin/operator/items/{itemId}/retry", new { actor = "ops" }), HttpStatusCode.NotFound, "unknown-item");
        Assert.Null(await Queue.GetAsync(itemId));
    }

    [Theory]
    [InlineData("/admin/operator/items?status=closed", "status is open or resolved.")]
    [InlineData("/admin/operator/items?kind=refund", "kind is one of refund-stuck, refund-refused, refund-abnormal, notify-anomaly, external-refund, reconciliation-mismatch, effect-failing.")]
    [InlineData("/admin/operator/items?limit=0", "limit is between 1 and 200.")]
    [InlineData("/admin/operator/items?limit=201", "limit is between 1 and 200.")]
    [InlineData("/admin/operator/items?after=bad%20id", "after: An item id is 1..160 of [0-9A-Za-z:_./-].")]
    [InlineData("/admin/operator/items/bad%20id!", "An item id is 1..160 of [0-9A-Za-z:_./-].")]
    public async Task BadQueriesAndIdsAreBadRequests(string path, string detail)
    {
        var problem = await Json.ProblemAsync(await SendAsync(HttpMethod.Get, path), HttpStatusCode.BadRequest, "invalid-request");

        Assert.Equal(detail, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task MalformedInputChangesNothing()
    {
        var itemId = await RaiseAsync();

        await Json.ProblemAsync(await SendAsync(HttpMethod.Get, "/admin/operator/items?limit=many"), HttpStatusCode.BadRequest, "invalid-request");
        await Json.ProblemAsync(
            await SendAsync(HttpMethod.Post, $"/admin/operator/items/{new string('a', 161)}/resolve", new { actor = "ops", note = "n" }),
            HttpStatusCode.BadRequest, "invalid-request");
        using var badJson = GatewayFixture.AdminRequest(HttpMethod.Post, $"/admin/operator/items/{itemId}/resolve");
        badJson.Content = new StringContent("{\"actor\":", null, "application/json");
        await Json.ProblemAsync(await fixture.Anonymous.SendAsync(badJson), HttpStatusCode.BadRequest, "invalid-request");
        await Json.ProblemAsync(
            await SendAsync(HttpMethod.Post, $"/admin/operator/items/{itemId}/retry", new { actor = new string('a', 65) }), HttpStatusCode.BadRequest, "invalid-request");

        var item = (await Queue.GetAsync(itemId))!;
        Assert.Equal((OperatorItemStatus.Open, 1), (item.Status, item.Actions.Count));
    }

    [Fact]
    public async Task CountsNameEveryKindAndTheOldestOpenItem()
    {
        await RaiseAsync(OperatorItemKind.RefundStuck);

        var counts = await Json.ReadAsync(await SendAsync(HttpMethod.Get, "/admin/operator/counts"), HttpStatusCode.OK);
        var expected = await Queue.CountsAsync();

        Assert.Equal(["openByKind", "oldestOpen"], counts.PropertyNames());
        Assert.Equal(OperatorItemKinds.All, counts.GetProperty("openByKind").PropertyNames());
        Assert.Equal(
            expected.OpenByKind.ToDictionary(p => OperatorItemKinds.Name(p.Key), p => p.Value),
            counts.GetProperty("openByKind").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32()));
        Assert.True(counts.GetProperty("openByKind").GetProperty("refund-stuck").GetInt32() >= 1);
        Assert.Equal(expected.OldestOpen!.Value.UtcDateTime, counts.GetProperty("oldestOpen").GetDateTime().ToUniversalTime());
    }
}
