using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace GroupPay.Gateway.Tests;

/// <summary>Groups and payments through the H5 API, paid at the sandbox cashier, notified back through the gateway.</summary>
[Collection(GatewayCollection.Name)]
public sealed class GroupApiTests(GatewayFixture fixture)
{
    private static readonly string[] GroupFields = ["groupId", "campaignId", "status", "groupSize", "paidCount", "shareUrl", "slots", "mySlot", "myRefunds"];
    private static readonly string[] SlotFields = ["index", "status", "isLeader", "isMine", "paidOnBehalf"];

    [Fact]
    public async Task CreatingAGroupAnswers201WithItsLocationAndTheLeadersHeldSlot()
    {
        var campaignId = await fixture.DefineCampaignAsync(groupSize: 3);
        using var leader = await fixture.SignInAsync();
        var me = await leader.GetJsonAsync("/api/me");

        using var response = await leader.PostJsonAsync("/api/groups", new { campaignId });

        var group = await Json.ReadAsync(response, HttpStatusCode.Created);
        var groupId = group.GetProperty("groupId").GetString()!;
        Assert.Matches("^[0-9a-z]{12}$", groupId);
        Assert.Equal($"/api/groups/{groupId}", response.Headers.Location?.OriginalString);
        Assert.Equal(GroupFields, group.PropertyNames());
        Assert.Equal(campaignId, group.GetProperty("campaignId").GetString());
        Assert.Equal("pending", group.GetProperty("status").GetString());
        Assert.Equal(3, group.GetProperty("groupSize").GetInt32());
        Assert.Equal(0, group.GetProperty("paidCount").GetInt32());
        Assert.Equal(0, group.GetProperty("mySlot").GetInt32());
        Assert.Equal(
            new Uri(fixture.GatewayUrl, $"/g/{groupId}?ref={me.GetProperty("referralCode").GetString()}").ToString(),
            group.GetProperty("shareUrl").GetString());
        var slots = group.GetProperty("slots").EnumerateArray().ToList();
        Assert.Equal(3, slots.Count);
        // A slot with a member names them by a tag (never an openid); a free one has none.
        Assert.All(slots, s => Assert.Equal(s.GetProperty("status").GetString() == "free" ? SlotFields : [.. SlotFields, "member"], s.PropertyNames()));
        Assert.Equal(me.GetProperty("openid").GetString()![^4..], slots[0].GetProperty("member").GetString());
        Assert.Empty(group.GetProperty("myRefunds").EnumerateArray());
        Assert.Equal(("held", true, true, false), Slot(slots[0]));
        Assert.Equal(("free", false, false, false), Slot(slots[1]));
        Assert.Equal(("free", false, false, false), Slot(slots[2]));
    }

    [Fact]
    public async Task TheGroupShowsNoOpenidsToAnyone()
    {
        var campaignId = await fixture.DefineCampaignAsync(groupSize: 2);
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        using var friend = await fixture.SignInAsync();

        using var anonymous = await fixture.Anonymous.GetAsync($"/api/groups/{groupId}");
        var anonymousBody = await anonymous.Content.ReadAsStringAsync();
        var asFriend = await friend.GetJsonAsync($"/api/groups/{groupId}");
        var asLeader = await leader.GetJsonAsync($"/api/groups/{groupId}");

        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        var seenAnonymously = JsonDocument.Parse(anonymousBody).RootElement;
        Assert.False(seenAnonymously.TryGetProperty("mySlot", out _));
        Assert.All(seenAnonymously.GetProperty("slots").EnumerateArray(), s => Assert.False(s.GetProperty("isMine").GetBoolean()));
        Assert.Equal(new Uri(fixture.GatewayUrl, $"/g/{groupId}").ToString(), seenAnonymously.GetProperty("shareUrl").GetString());
        Assert.False(asFriend.TryGetProperty("mySlot", out _));
        Assert.All(asFriend.GetProperty("slots").EnumerateArray(), s => Assert.False(s.GetProperty("isMine").GetBoolean()));
        Assert.Equal(0, asLeader.GetProperty("mySlot").GetInt32());
        foreach (var body in new[] { anonymousBody, asFriend.ToString(), asLeader.ToString() })
        {
            Assert.DoesNotContain(leader.Openid, body, StringComparison.Ordinal);
            Assert.DoesNotContain(friend.Openid, body, StringComparison.Ordinal);
            Assert.DoesNotContain("o-gw-", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PayingReturnsTheJsapiParametersAndTheCashierOpensTheGroup()
    {
        var campaignId = await fixture.DefineCampaignAsync(groupSize: 2);
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;

        var payment = await leader.PayAsync(groupId);

        Assert.Equal(["outTradeNo", "amountFen", "expiresAt", "jsapi"], payment.PropertyNames());
        Assert.Equal($"{groupId}P1", payment.GetProperty("outTradeNo").GetString());
        Assert.Equal(990, payment.GetProperty("amountFen").GetInt64());
        Assert.EndsWith("Z", payment.GetProperty("expiresAt").GetString(), StringComparison.Ordinal);
        Assert.True(payment.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        var jsapi = payment.GetProperty("jsapi");
        Assert.Equal(["appId", "timeStamp", "nonceStr", "package", "signType", "paySign"], jsapi.PropertyNames());
        Assert.Equal(GatewayFixture.AppId, jsapi.GetProperty("appId").GetString());
        Assert.StartsWith("prepay_id=", jsapi.GetProperty("package").GetString(), StringComparison.Ordinal);
        Assert.Equal("MD5", jsapi.GetProperty("signType").GetString());
        Assert.Matches("^[0-9A-F]{32}$", jsapi.GetProperty("paySign").GetString());

        // Asking again while the attempt is live returns the same attempt.
        var again = await leader.PayAsync(groupId);
        Assert.Equal(payment.GetProperty("outTradeNo").GetString(), again.GetProperty("outTradeNo").GetString());
        Assert.Equal(jsapi.GetProperty("package").GetString(), again.GetProperty("jsapi").GetProperty("package").GetString());

        await fixture.PayAtCashierAsync(payment, leader.Openid);

        var group = await GatewayFixture.EventuallyAsync(
            () => leader.GetJsonAsync($"/api/groups/{groupId}"), g => g.GetProperty("status").GetString() == "open");
        Assert.Equal("open", group.GetProperty("status").GetString());
        Assert.Equal(1, group.GetProperty("paidCount").GetInt32());
        Assert.EndsWith("Z", group.GetProperty("deadline").GetString(), StringComparison.Ordinal);
        Assert.Equal(("paid", true, true, false), Slot(group.GetProperty("slots")[0]));
    }

    [Fact]
    public async Task AFriendPaysOnBehalfAndTheGroupCompletes()
    {
        var campaignId = await fixture.DefineCampaignAsync(groupSize: 2);
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        await fixture.PayAtCashierAsync(await leader.PayAsync(groupId), leader.Openid);
        await OpenedAsync(leader, groupId);
        using var member = await fixture.SignInAsync();
        using var payer = await fixture.SignInAsync();

        // The member joins (holding slot 1) and shares a pay-for-me link; the friend pays slot 1.
        var memberAttempt = await member.PayAsync(groupId);
        var onBehalf = await payer.PayAsync(groupId, slot: 1);
        Assert.NotEqual(memberAttempt.GetProperty("outTradeNo").GetString(), onBehalf.GetProperty("outTradeNo").GetString());
        await fixture.PayAtCashierAsync(onBehalf, payer.Openid);

        var group = await GatewayFixture.EventuallyAsync(
            () => member.GetJsonAsync($"/api/groups/{groupId}"), g => g.GetProperty("status").GetString() == "complete");
        Assert.Equal("complete", group.GetProperty("status").GetString());
        Assert.Equal(1, group.GetProperty("mySlot").GetInt32());
        Assert.Equal(("paid", false, true, true), Slot(group.GetProperty("slots")[1]));
        Assert.Equal(2, group.GetProperty("paidCount").GetInt32());
    }

    [Fact]
    public async Task PayingForASlotPastItsAttemptCapIsAConflictThatChangesNothing()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        await fixture.PayAtCashierAsync(await leader.PayAsync(groupId), leader.Openid);
        await OpenedAsync(leader, groupId);
        using var member = await fixture.SignInAsync();
        var memberAttempt = await member.PayAsync(groupId);
        string? last = memberAttempt.GetProperty("outTradeNo").GetString();
        // The fixture's silos allow 4 attempts per slot: the member's and three friends'.
        var friends = new List<Browser>();
        for (var n = 0; n < 3; n++)
        {
            var friend = await fixture.SignInAsync();
            friends.Add(friend);
            last = (await friend.PayAsync(groupId, slot: 1)).GetProperty("outTradeNo").GetString();
        }
        using var oneTooMany = await fixture.SignInAsync();

        await Json.ProblemAsync(await oneTooMany.PayResponseAsync(groupId, slot: 1), HttpStatusCode.Conflict, "too-many-attempts");

        // The last friend's attempt is still the slot's live one: asking again gets it back.
        Assert.Equal(last, (await friends[^1].PayAsync(groupId, slot: 1)).GetProperty("outTradeNo").GetString());
        friends.ForEach(f => f.Dispose());
    }

    [Fact]
    public async Task PayingForYourOwnSlotByNumberIsAConflict()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;

        await Json.ProblemAsync(await leader.PayResponseAsync(groupId, slot: 0), HttpStatusCode.Conflict, "own-slot-on-behalf");
    }

    [Fact]
    public async Task JoiningBeforeTheLeaderPaidIsAConflict()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        using var friend = await fixture.SignInAsync();

        await Json.ProblemAsync(await friend.PayResponseAsync(groupId), HttpStatusCode.Conflict, "group-closed");
    }

    [Fact]
    public async Task PayingAPaidSlotAgainIsAConflict()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        await fixture.PayAtCashierAsync(await leader.PayAsync(groupId), leader.Openid);
        await OpenedAsync(leader, groupId);
        using var friend = await fixture.SignInAsync();

        await Json.ProblemAsync(await leader.PayResponseAsync(groupId), HttpStatusCode.Conflict, "already-paid");
        await Json.ProblemAsync(await friend.PayResponseAsync(groupId, slot: 0), HttpStatusCode.Conflict, "already-paid");
    }

    [Fact]
    public async Task JoiningWhenEverySlotIsPaidOrHeldIsAConflict()
    {
        var campaignId = await fixture.DefineCampaignAsync(groupSize: 2);
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        await fixture.PayAtCashierAsync(await leader.PayAsync(groupId), leader.Openid);
        await OpenedAsync(leader, groupId);
        using var first = await fixture.SignInAsync();
        using var second = await fixture.SignInAsync();
        await first.PayAsync(groupId);

        await Json.ProblemAsync(await second.PayResponseAsync(groupId), HttpStatusCode.Conflict, "group-full");
    }

    [Fact]
    public async Task WeChatPayFailingIsABadGatewayAndTheNextTryWorks()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        // Every try of the client's (it retries SYSTEMERROR) is answered SYSTEMERROR.
        using (var faults = await fixture.Sandbox.PostAsJsonAsync("/sandbox/faults", new { systemErrors = new { unifiedorder = 3 } }))
        {
            Assert.Equal(HttpStatusCode.OK, faults.StatusCode);
        }
        try
        {
            await Json.ProblemAsync(await leader.PayResponseAsync(groupId), HttpStatusCode.BadGateway, "payment-provider");
        }
        finally
        {
            using var reset = await fixture.Sandbox.DeleteAsync("/sandbox/faults");
        }

        var payment = await leader.PayAsync(groupId);
        Assert.Equal($"{groupId}P2", payment.GetProperty("outTradeNo").GetString());
    }

    [Fact]
    public async Task AnUnknownGroupIsNotFound()
    {
        using var user = await fixture.SignInAsync();

        await Json.ProblemAsync(await fixture.Anonymous.GetAsync("/api/groups/zzzzzzzzzzzz"), HttpStatusCode.NotFound, "unknown-group");
        await Json.ProblemAsync(await user.PayResponseAsync("zzzzzzzzzzzz"), HttpStatusCode.NotFound, "unknown-group");
        await Json.ProblemAsync(await user.GetAsync("/api/groups/zzzzzzzzzzzz/events"), HttpStatusCode.NotFound, "unknown-group");
    }

    [Fact]
    public async Task MalformedInputIsABadRequest()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        using var user = await fixture.SignInAsync();
        var groupId = (await user.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;

        await Json.ProblemAsync(await fixture.Anonymous.GetAsync("/api/groups/NOT-A-GROUP"), HttpStatusCode.BadRequest, "invalid-request");
        await Json.ProblemAsync(await user.PayResponseAsync("short"), HttpStatusCode.BadRequest, "invalid-request");
        await Json.ProblemAsync(await user.PayResponseAsync(groupId, slot: 20), HttpStatusCode.BadRequest, "invalid-request");
        await Json.ProblemAsync(await user.PayResponseAsync(groupId, slot: -1), HttpStatusCode.BadRequest, "invalid-request");
        await Json.ProblemAsync(await user.PayResponseAsync(groupId, referralCode: "NOT A CODE"), HttpStatusCode.BadRequest, "invalid-request");
        await Json.ProblemAsync(await user.PostJsonAsync("/api/groups", new { }), HttpStatusCode.BadRequest, "invalid-request");
        await Json.ProblemAsync(await user.PostJsonAsync("/api/groups", new { campaignId = "bad id!" }), HttpStatusCode.BadRequest, "invalid-request");
        await Json.ProblemAsync(await user.PostJsonAsync("/api/groups", null), HttpStatusCode.BadRequest, "invalid-request");
        using var broken = new StringContent("{\"slot\":", null, "application/json");
        await Json.ProblemAsync(await user.Http.PostAsync($"/api/groups/{groupId}/pay", broken), HttpStatusCode.BadRequest, "invalid-request");
        using var wrongType = new StringContent("{\"slot\":\"one\"}", null, "application/json");
        await Json.ProblemAsync(await user.Http.PostAsync($"/api/groups/{groupId}/pay", wrongType), HttpStatusCode.BadRequest, "invalid-request");
        // A slot beyond this group's size reaches the grain, which refuses it the same way.
        await Json.ProblemAsync(await user.PayResponseAsync(groupId, slot: 5), HttpStatusCode.BadRequest, "invalid-request");
    }

    [Fact]
    public async Task MyRewardsPageNewestFirstWithTheTotalsOfAllOfThem()
    {
        using var inviter = await fixture.SignInAsync();
        var grain = fixture.Grains.GetGrain<Grains.Referrals.IReferralGrain>(inviter.Openid);
        for (var i = 0; i < 25; i++)
        {
            await grain.AddPendingRewardAsync(new Grains.Referrals.RewardEntry($"gpage{i:d5}P2", "c1", 100, DailyCap: 100, DateTimeOffset.UtcNow));
        }

        var ids = new List<string>();
        string? after = null;
        do
        {
            var page = await inviter.GetJsonAsync("/api/me/rewards?limit=10" + (after is null ? "" : "&after=" + after));
            Assert.Equal(2500, page.GetProperty("pendingFen").GetInt64());
            ids.AddRange(page.GetProperty("rewards").EnumerateArray().Select(r => r.GetProperty("paymentId").GetString()!));
            after = page.GetProperty("next").GetString();
        }
        while (after is not null);
        Assert.Equal([.. Enumerable.Range(0, 25).Reverse().Select(i => $"gpage{i:d5}P2")], ids);
        Assert.Equal(20, (await inviter.GetJsonAsync("/api/me/rewards")).GetProperty("rewards").GetArrayLength()); // the default page

        foreach (var query in (string[])["limit=0", "limit=101", "after=abc", "after=0", "after=-5", "after=%2B5"])
        {
            using var refused = await inviter.Http.GetAsync("/api/me/rewards?" + query);
            await Json.ProblemAsync(refused, HttpStatusCode.BadRequest, "invalid-request");
        }
    }

    [Fact]
    public async Task MyGroupsAndRewardsFollowAReferredFriendsPayment()
    {
        var campaignId = await fixture.DefineCampaignAsync(groupSize: 2, inviterRewardFen: 150);
        using var leader = await fixture.SignInAsync();
        var group = await leader.CreateGroupAsync(campaignId);
        var groupId = group.GetProperty("groupId").GetString()!;
        var referralCode = new Uri(group.GetProperty("shareUrl").GetString()!).Query["?ref=".Length..];
        await fixture.PayAtCashierAsync(await leader.PayAsync(groupId), leader.Openid);
        await OpenedAsync(leader, groupId);
        using var friend = await fixture.SignInAsync();

        await fixture.PayAtCashierAsync(await friend.PayAsync(groupId, referralCode: referralCode), friend.Openid);

        var rewards = await GatewayFixture.EventuallyAsync(
            () => leader.GetJsonAsync("/api/me/rewards"), r => r.GetProperty("rewards").GetArrayLength() == 1);
        Assert.Equal(["referralCode", "invitedCount", "pendingFen", "grantedFen", "reversedFen", "rewards", "next"], rewards.PropertyNames());
        Assert.Equal(JsonValueKind.Null, rewards.GetProperty("next").ValueKind);
        Assert.Equal(referralCode, rewards.GetProperty("referralCode").GetString());
        Assert.Equal(1, rewards.GetProperty("invitedCount").GetInt32());
        Assert.Equal(150, rewards.GetProperty("pendingFen").GetInt64());
        Assert.Equal(0, rewards.GetProperty("grantedFen").GetInt64());
        var reward = rewards.GetProperty("rewards")[0];
        Assert.Equal(["paymentId", "amountFen", "status"], reward.PropertyNames());
        Assert.Equal($"{groupId}P2", reward.GetProperty("paymentId").GetString());
        Assert.Equal(150, reward.GetProperty("amountFen").GetInt64());
        Assert.Equal("pending", reward.GetProperty("status").GetString());

        var leaderGroups = await leader.GetJsonAsync("/api/me/groups");
        var friendGroups = await friend.GetJsonAsync("/api/me/groups");
        Assert.Equal(groupId, Assert.Single(leaderGroups.EnumerateArray()).GetProperty("groupId").GetString());
        var friendsGroup = Assert.Single(friendGroups.EnumerateArray());
        Assert.Equal(groupId, friendsGroup.GetProperty("groupId").GetString());
        Assert.Equal(1, friendsGroup.GetProperty("mySlot").GetInt32());
        Assert.Equal("complete", friendsGroup.GetProperty("status").GetString());
        Assert.DoesNotContain(leader.Openid, friendGroups.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MyGroupsListsTheNewestFirst()
    {
        using var user = await fixture.SignInAsync();
        Assert.Equal(0, (await user.GetJsonAsync("/api/me/groups")).GetArrayLength());
        var first = (await user.CreateGroupAsync(await fixture.DefineCampaignAsync())).GetProperty("groupId").GetString();
        var second = (await user.CreateGroupAsync(await fixture.DefineCampaignAsync())).GetProperty("groupId").GetString();

        var groups = await user.GetJsonAsync("/api/me/groups");

        Assert.Equal([second, first], groups.EnumerateArray().Select(g => g.GetProperty("groupId").GetString()));
    }

    private static async Task OpenedAsync(Browser viewer, string groupId)
    {
        var group = await GatewayFixture.EventuallyAsync(
            () => viewer.GetJsonAsync($"/api/groups/{groupId}"), g => g.GetProperty("status").GetString() == "open");
        Assert.Equal("open", group.GetProperty("status").GetString());
    }

    private static (string?, bool, bool, bool) Slot(JsonElement slot) => (
        slot.GetProperty("status").GetString(),
        slot.GetProperty("isLeader").GetBoolean(),
        slot.GetProperty("isMine").GetBoolean(),
        slot.GetProperty("paidOnBehalf").GetBoolean());
}
