using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using GroupPay.Testing;
using Microsoft.Playwright;

namespace GroupPay.EndToEnd.Tests;

/// <summary>
/// The H5 app (h5/, Vue 3 + Vant) in a real browser: Debian's Chromium, headless, as phones in WeChat (375 × 812,
/// WeChat's user agent), against every part as its own process. Sign-in goes through the sandbox's WeChat authorize
/// page, payment through its cashier (WeixinJSBridge's stand-in). The numbered bugs are issue 10's.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class H5BrowserTests(SystemFixture system)
{
    [Fact]
    public async Task ThreeSandboxUsersCompleteAGroupThroughTheShareLinkAndEveryPageUpdatesLive()
    {
        var (_, title) = await DefineCampaignAsync(groupSize: 3);
        await using var mobile = await MobileBrowser.LaunchAsync(system);
        var alice = await mobile.NewPhoneAsync();

        await alice.GotoAsync("/");
        var card = alice.Locator("[data-test=campaign]", new() { HasTextString = title });
        await card.WaitForAsync();
        var text = await card.InnerTextAsync();
        Assert.Contains("拼团价", text, StringComparison.Ordinal);
        Assert.Contains("¥19.90", text, StringComparison.Ordinal);
        Assert.Contains("单买价", text, StringComparison.Ordinal);
        Assert.Contains("¥29.90", text, StringComparison.Ordinal);
        Assert.Contains("拼团省 ¥10.00", text, StringComparison.Ordinal);
        Assert.Contains("3 人成团 · 24 小时内成团 · 剩余 10 件", text, StringComparison.Ordinal);
        Assert.Contains("产地直发", text, StringComparison.Ordinal);
        Assert.True(await card.Locator("img.product-image").EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"));
        await MobileBrowser.AssertChineseAndFitsAsync(alice);
        await MobileBrowser.ScreenshotAsync(alice, "home", fullPage: false); // the other tests' campaigns are listed too

        // Bug 3: signing in from 发起拼团 comes back and starts the group, without a second click.
        await card.Locator("[data-test=start]").ClickAsync();
        await MobileBrowser.ContinueAsAsync(alice, "o-sandbox-alice");
        await alice.Locator("[data-test=pay-mine]").WaitForAsync();
        Assert.Matches(new Regex("/g/[0-9a-z]+$"), alice.Url);
        // Bug 7: the header names who is signed in.
        Assert.Contains("爱丽丝", await alice.Locator("[data-test=who]").InnerTextAsync(), StringComparison.Ordinal);
        await MobileBrowser.AssertChineseAndFitsAsync(alice);
        await MobileBrowser.ScreenshotAsync(alice, "group-leader-unpaid");

        await alice.Locator("[data-test=pay-mine]").ClickAsync();
        await mobile.PayAtCashierAsync(alice);
        await Expect(alice.Locator("[data-test=status]"), "拼团中");
        await Expect(alice.Locator("[data-test=missing]"), "还差 2 人拼成");
        Assert.Matches(new Regex(@"剩余 (\d+天 )?\d\d:\d\d:\d\d"), await alice.Locator("[data-test=countdown]").InnerTextAsync());

        // 邀请好友: the link to copy and its QR code.
        await alice.Locator("[data-test=invite]").ClickAsync();
        var shareUrl = await alice.Locator("[data-test=share-url]").InnerTextAsync();
        Assert.Matches(new Regex("/g/[0-9a-z]+\\?ref=[0-9a-z]+$"), shareUrl);
        Assert.True(await alice.Locator("[data-test=share-qr]").EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"));
        await MobileBrowser.ScreenshotAsync(alice, "group-invite");
        await alice.Locator(".van-popup__close-icon").ClickAsync();

        // Bob opens the link, 参团支付 signs him in and goes on to pay (the join intent), at the cashier.
        var bob = await mobile.NewPhoneAsync();
        await bob.GotoAsync(shareUrl);
        await Expect(bob.Locator("[data-test=join]"), "参团支付 ¥19.90");
        await MobileBrowser.AssertChineseAndFitsAsync(bob);
        await bob.Locator("[data-test=join]").ClickAsync();
        await MobileBrowser.ContinueAsAsync(bob, "o-sandbox-bob");
        await mobile.PayAtCashierAsync(bob);
        await Expect(bob.Locator("[data-test=missing]"), "还差 1 人拼成");
        Assert.Contains("鲍勃", await bob.Locator("[data-test=who]").InnerTextAsync(), StringComparison.Ordinal);
        // The other members by their names (the sandbox's users), not 拼友N; Alice's page followed Bob's payment live.
        await Expect(bob.Locator("[data-test=members]"), "爱丽丝");
        await Expect(alice.Locator("[data-test=missing]"), "还差 1 人拼成");
        await Expect(alice.Locator("[data-test=members]"), "鲍勃");

        // Carol opens the same link and completes the group; the two other pages follow without a reload.
        var carol = await mobile.NewPhoneAsync();
        await carol.GotoAsync(shareUrl);
        await carol.Locator("[data-test=join]").ClickAsync();
        await MobileBrowser.ContinueAsAsync(carol, "o-sandbox-carol");
        await mobile.PayAtCashierAsync(carol);

        await Expect(carol.Locator("[data-test=status]"), "拼团成功");
        Assert.Contains("发货", await carol.Locator("[data-test=outcome]").InnerTextAsync(), StringComparison.Ordinal);
        await Expect(bob.Locator("[data-test=status]"), "拼团成功");
        // Alice's page was never reloaded: it followed the group live. An ended group offers 再开一团, not sharing.
        await Expect(alice.Locator("[data-test=status]"), "拼团成功");
        Assert.Equal(0, await alice.Locator("[data-test=invite]").CountAsync());
        await alice.Locator("[data-test=restart]").WaitForAsync();
        await MobileBrowser.AssertChineseAndFitsAsync(alice);
        await MobileBrowser.ScreenshotAsync(alice, "group-complete");

        await alice.GotoAsync("/orders");
        var order = alice.Locator("[data-test=order]", new() { HasTextString = title });
        await Expect(order, "拼团成功");
        Assert.Contains("团长", await order.InnerTextAsync(), StringComparison.Ordinal);
        await MobileBrowser.AssertChineseAndFitsAsync(alice);
        await MobileBrowser.ScreenshotAsync(alice, "orders");
    }

    [Fact]
    public async Task AVisitorIsNotOfferedToJoinAGroupWhoseFreeSlotsAreAllHeld()
    {
        // Bug 1: 参团支付 was offered and answered with an English alert.
        var (campaignId, _) = await DefineCampaignAsync(groupSize: 2);
        var groupId = await OpenGroupAsync(campaignId);
        using var holder = system.NewBrowser();
        await holder.SignInAsync(NewUser("holder"));
        await holder.StartPaymentAsync(groupId); // holds the last slot, not paid yet
        await using var mobile = await MobileBrowser.LaunchAsync(system);
        var visitor = await mobile.NewPhoneAsync();

        await visitor.GotoAsync($"/g/{groupId}");

        await visitor.Locator("[data-test=full]").WaitForAsync();
        Assert.Equal(0, await visitor.Locator("[data-test=join]").CountAsync());
        Assert.Equal(1, await visitor.Locator("[data-test=pay-for]").CountAsync());
        await MobileBrowser.AssertChineseAndFitsAsync(visitor);
        await MobileBrowser.ScreenshotAsync(visitor, "group-full");
    }

    [Fact]
    public async Task AMalformedRefOnAShareLinkIsDroppedAndTheJoinGoesThrough()
    {
        // Bug 2: ?ref=ABC was kept for the tab and made every pay fail with invalid-request.
        var (campaignId, title) = await DefineCampaignAsync(groupSize: 2);
        var groupId = await OpenGroupAsync(campaignId);
        await using var mobile = await MobileBrowser.LaunchAsync(system);
        var visitor = await mobile.NewPhoneAsync();
        // The home page lists the group under its campaign (凑团).
        await visitor.GotoAsync("/");
        var listed = visitor.Locator("[data-test=campaign]", new() { HasTextString = title }).Locator($"a[href='/g/{groupId}']");
        await Expect(listed, "还差 1 人");
        await MobileBrowser.AssertChineseAndFitsAsync(visitor);

        await visitor.GotoAsync($"/g/{groupId}?ref=ABC");
        await visitor.Locator("[data-test=join]").ClickAsync();
        await MobileBrowser.ContinueAsAsync(visitor, NewUser("visitor"));
        await mobile.PayAtCashierAsync(visitor);

        await Expect(visitor.Locator("[data-test=status]"), "拼团成功");
        Assert.Equal(0, await visitor.Locator("[data-test=error]").CountAsync());
    }

    [Fact]
    public async Task TheShareCardFriendsSeeCarriesTheViewersRefAndFollowsTheGroup()
    {
        // The JS-SDK share card, through the sandbox's wx stand-in: wx.config signed by the gateway and checked by the
        // sandbox, then the card for both WeChat menus, updated as the group fills.
        var (campaignId, title) = await DefineCampaignAsync(groupSize: 3);
        var groupId = await OpenGroupAsync(campaignId);
        await using var mobile = await MobileBrowser.LaunchAsync(system);
        var friend = await mobile.NewPhoneAsync();
        await friend.GotoAsync($"/g/{groupId}");
        await friend.WaitForFunctionAsync("() => window.wx?.__sandbox?.appMessage?.title?.includes('还差 2 人')");

        await friend.Locator("[data-test=join]").ClickAsync();
        await MobileBrowser.ContinueAsAsync(friend, NewUser("friend"));
        await mobile.PayAtCashierAsync(friend);
        await Expect(friend.Locator("[data-test=missing]"), "还差 1 人拼成");
        await friend.WaitForFunctionAsync("() => window.wx?.__sandbox?.appMessage?.title?.includes('还差 1 人')");

        var code = await friend.EvaluateAsync<string>("async () => (await (await fetch('/api/me')).json()).referralCode");
        var card = await friend.EvaluateAsync<JsonElement>("() => JSON.parse(JSON.stringify(window.wx.__sandbox))");
        Assert.True(card.GetProperty("configured").GetBoolean());
        var appMessage = card.GetProperty("appMessage");
        Assert.Equal($"还差 1 人！¥19.90 拼{title}", appMessage.GetProperty("title").GetString());
        Assert.Equal("无锡阳山产地直发，现摘现发。", appMessage.GetProperty("desc").GetString());
        Assert.Equal(new Uri(system.GatewayUrl, $"/g/{groupId}?ref={code}").ToString(), appMessage.GetProperty("link").GetString());
        Assert.Equal(new Uri(system.GatewayUrl, "/images/demo-peach.svg").ToString(), appMessage.GetProperty("imgUrl").GetString());
        Assert.Equal(appMessage.GetProperty("link").GetString(), card.GetProperty("timeline").GetProperty("link").GetString());
    }

    [Fact]
    public async Task EachPayerSeesTheirRefundAPaymentNotNeededAndAFailedGroups()
    {
        // A group that fails in a minute: its leader and a friend paid; the friend follows it on a phone.
        var (shortCampaign, _) = await DefineCampaignAsync(groupSize: 3, windowMinutes: 1);
        var failingGroup = await OpenGroupAsync(shortCampaign);
        using var member = system.NewBrowser();
        var memberId = NewUser("member");
        await member.SignInAsync(memberId);
        await member.PayAsync(failingGroup);

        // Bug 6: the leader starts paying their own share, a friend pays it first, then the leader's payment arrives.
        var (campaignId, _) = await DefineCampaignAsync(groupSize: 2);
        using var leader = system.NewBrowser();
        var leaderId = NewUser("leader");
        await leader.SignInAsync(leaderId);
        var (status, created) = await leader.PostJsonAsync("/api/groups", new { campaignId });
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {created}");
        var groupId = created.GetProperty("groupId").GetString()!;
        var leadersPayment = await leader.StartPaymentAsync(groupId);
        using var friend = system.NewBrowser();
        await friend.SignInAsync(NewUser("friend"));
        await friend.PayAsync(groupId, slot: 0);
        await Eventually.ValueAsync(() => leader.GetJsonAsync($"/api/groups/{groupId}"),
            (JsonElement g) => g.GetProperty("status").GetString() == "open", TimeSpan.FromSeconds(30));
        await leader.ConfirmAtCashierAsync(leadersPayment);

        await using var mobile = await MobileBrowser.LaunchAsync(system);
        var leaderPhone = await mobile.NewPhoneAsync();
        await leaderPhone.GotoAsync($"/g/{groupId}");
        await leaderPhone.Locator("[data-test=sign-in]").ClickAsync();
        await MobileBrowser.ContinueAsAsync(leaderPhone, leaderId);
        var notice = leaderPhone.Locator("[data-test=my-refund]");
        await Expect(notice, "已退款");
        Assert.Contains("没有用上", await notice.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("¥19.90", await notice.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("好友代付", await leaderPhone.Locator("[data-test=member]").First.InnerTextAsync(), StringComparison.Ordinal);
        await MobileBrowser.AssertChineseAndFitsAsync(leaderPhone);
        await MobileBrowser.ScreenshotAsync(leaderPhone, "group-payment-not-used-refunded");
        await leaderPhone.GotoAsync("/orders");
        await Expect(leaderPhone.Locator($"a[href='/g/{groupId}'] [data-test=order-refund]"), "¥19.90 已退款");

        // The failed group: the outcome names the refund, its amount and that it is back where it came from.
        var memberPhone = await mobile.NewPhoneAsync();
        await memberPhone.GotoAsync($"/g/{failingGroup}");
        await memberPhone.Locator("[data-test=sign-in]").ClickAsync();
        await MobileBrowser.ContinueAsAsync(memberPhone, memberId);
        var refund = memberPhone.Locator("[data-test=refund]");
        await Assertions.Expect(refund).ToContainTextAsync("已退款", new() { Timeout = 180_000 });
        Assert.Contains("¥19.90", await refund.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("原路退回", await memberPhone.Locator("[data-test=outcome]").InnerTextAsync(), StringComparison.Ordinal);
        await Expect(memberPhone.Locator("[data-test=status]"), "拼团失败");
        Assert.Equal(0, await memberPhone.Locator("[data-test=invite]").CountAsync());
        await MobileBrowser.AssertChineseAndFitsAsync(memberPhone);
        await MobileBrowser.ScreenshotAsync(memberPhone, "group-failed-refunded");
    }

    [Fact]
    public async Task TheGroupPagesFirstLoadStaysWithinItsSizeBudget()
    {
        // The issue's budget: the JS and CSS a phone downloads for its first view of a share link, gzipped, at most
        // 150 KB. The time to a usable page (the 参团支付 button shown, from navigation start) is measured and written
        // to bin/…/h5-first-load.txt, never asserted.
        var (campaignId, _) = await DefineCampaignAsync(groupSize: 2);
        var groupId = await OpenGroupAsync(campaignId);
        await using var mobile = await MobileBrowser.LaunchAsync(system);
        var assets = new HashSet<string>(StringComparer.Ordinal);
        var times = new List<double>();
        for (var load = 0; load < 5; load++)
        {
            var phone = await mobile.NewPhoneAsync(); // a new context each time: nothing cached
            var loaded = new List<string>();
            phone.Response += (_, response) =>
            {
                if (response.Request.ResourceType is "script" or "stylesheet" && response.Url.StartsWith(system.GatewayUrl.ToString(), StringComparison.Ordinal))
                {
                    lock (loaded)
                    {
                        loaded.Add(response.Url);
                    }
                }
            };
            await phone.GotoAsync($"/g/{groupId}");
            await phone.Locator("[data-test=join]").WaitForAsync();
            times.Add(await phone.EvaluateAsync<double>("() => performance.now()"));
            lock (loaded)
            {
                assets.UnionWith(loaded);
            }
            await phone.Context.CloseAsync();
        }

        using var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None });
        var report = new List<string>();
        long total = 0;
        foreach (var url in assets.Order(StringComparer.Ordinal))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.AcceptEncoding.ParseAdd("gzip");
            using var response = await http.SendAsync(request);
            var bytes = (await response.Content.ReadAsByteArrayAsync()).Length;
            Assert.Contains("gzip", response.Content.Headers.ContentEncoding);
            total += bytes;
            report.Add($"{bytes / 1024.0,8:F1} KB  {new Uri(url).AbsolutePath}");
        }
        times.Sort();
        report.Add($"{total / 1024.0,8:F1} KB  JS and CSS, gzipped, first load of /g/{{groupId}} ({assets.Count} files)");
        report.Add($"time to a usable group page (参团支付 shown), 5 cold loads: median {times[2]:F0} ms, min {times[0]:F0} ms, max {times[4]:F0} ms");
        await File.WriteAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "h5-first-load.txt"), report);
        Console.WriteLine(string.Join(Environment.NewLine, report));
        Assert.True(total <= 150 * 1024, string.Join(Environment.NewLine, report));
    }

    [Fact]
    public async Task AFriendPaysTheLeadersShareThroughTheAskAFriendLink()
    {
        // 找人代付: the leader has not paid; a friend opens the link with ?for=0 and pays the leader's slot (帮TA付).
        var (campaignId, _) = await DefineCampaignAsync(groupSize: 2);
        using var leader = system.NewBrowser();
        await leader.SignInAsync(NewUser("leader"));
        var (status, group) = await leader.PostJsonAsync("/api/groups", new { campaignId });
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {group}");
        var groupId = group.GetProperty("groupId").GetString()!;
        await using var mobile = await MobileBrowser.LaunchAsync(system);
        var friend = await mobile.NewPhoneAsync();

        await friend.GotoAsync($"/g/{groupId}?for=0");
        var help = friend.Locator("[data-test=help-request]");
        await Expect(help, "好友请你帮TA支付 ¥19.90");
        await MobileBrowser.ScreenshotAsync(friend, "group-pay-for-friend");
        await help.GetByRole(AriaRole.Button).ClickAsync();
        await MobileBrowser.ContinueAsAsync(friend, NewUser("friend"));
        await mobile.PayAtCashierAsync(friend);

        await Expect(friend.Locator("[data-test=status]"), "拼团中");
        await Expect(friend.Locator("[data-test=member]").First, "好友代付");
        var seen = await Eventually.ValueAsync(() => leader.GetJsonAsync($"/api/groups/{groupId}"),
            g => g.GetProperty("slots")[0].GetProperty("status").GetString() == "paid", TimeSpan.FromSeconds(30));
        Assert.True(seen.GetProperty("slots")[0].GetProperty("paidOnBehalf").GetBoolean());

        // Bug 8: Back to the cashier shows the order paid, not NOTPAY with a Pay button.
        await friend.GoBackAsync();
        await friend.Locator("#paid").WaitForAsync();
        Assert.Contains("SUCCESS", await friend.Locator("#state").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await friend.Locator("#pay").CountAsync());
    }

    [Theory]
    [InlineData("/nosuchpage")]
    [InlineData("/g/DoesNotExist")]
    [InlineData("/g/abc")]
    [InlineData("/g/doesnotexist")]
    public async Task UnknownPagesAndGroupsShowTheAppsNotFoundPageUnderTheirOwnUrl(string path)
    {
        // Bug 5: these showed the home page under the wrong URL, raw JSON or red English text.
        await using var mobile = await MobileBrowser.LaunchAsync(system);
        var page = await mobile.NewPhoneAsync();

        await page.GotoAsync(path);

        await Expect(page.Locator("[data-test=not-found]"), "页面不存在");
        Assert.EndsWith(path, new Uri(page.Url).AbsolutePath, StringComparison.Ordinal);
        await MobileBrowser.AssertChineseAndFitsAsync(page);
        if (path == "/g/doesnotexist")
        {
            await MobileBrowser.ScreenshotAsync(page, "not-found");
        }
    }

    [Fact]
    public async Task BackToTheAuthorizePageAfterSigningInShowsAChinesePageNotJson()
    {
        // Bug 4: choosing again on the authorize page reached by Back gave {"code":"invalid-state",…}.
        await using var mobile = await MobileBrowser.LaunchAsync(system);
        var page = await mobile.NewPhoneAsync();
        var openid = NewUser("back");
        await page.GotoAsync("/orders");
        await page.GetByRole(AriaRole.Button, new() { Name = "微信登录" }).ClickAsync();
        await MobileBrowser.ContinueAsAsync(page, openid);
        await page.Locator("[data-test=who]").WaitForAsync();

        await page.GoBackAsync();
        await MobileBrowser.ContinueAsAsync(page, openid);

        await page.Locator("[data-test=already-signed-in]").WaitForAsync();
        Assert.EndsWith("/signin-problem", new Uri(page.Url).AbsolutePath, StringComparison.Ordinal);
        await MobileBrowser.AssertChineseAndFitsAsync(page);
        await MobileBrowser.ScreenshotAsync(page, "signin-problem");
    }

    private static Task Expect(ILocator locator, string text) =>
        Assertions.Expect(locator).ToContainTextAsync(text, new() { Timeout = 30_000 });

    // Ends in digits: pages show a user as 微信用户 and their openid's last four characters, and the Chinese-only check
    // would take four hex letters for an English word.
    private static string NewUser(string name) =>
        $"o-h5-{name}-{Random.Shared.NextInt64(1_000_000_000_000, 10_000_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    private async Task<(string CampaignId, string Title)> DefineCampaignAsync(int groupSize, int windowMinutes = 1440)
    {
        var campaignId = $"h5{Guid.NewGuid():N}"[..20];
        // Digits only: the pages are checked for English words, and other tests' campaigns are listed too.
        var title = "阳山水蜜桃 " + Random.Shared.Next(100_000, 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var admin = system.NewBrowser();
        var (status, body) = await admin.PutJsonAsync($"/admin/campaigns/{campaignId}", new
        {
            title,
            description = "无锡阳山产地直发，现摘现发。",
            imageUrl = "/images/demo-peach.svg",
            soloPriceFen = 2990,
            groupPriceFen = 1990,
            groupSize,
            windowMinutes,
            holdMinutes = 15,
            stock = 10,
            perUserLimit = 2,
            inviterRewardFen = 0,
            rewardFreezeMinutes = 0,
            virtualFill = false,
        }, SystemFixture.AdminKey);
        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
        return (campaignId, title);
    }

    /// <summary>A group whose leader has paid: open, one slot paid.</summary>
    private async Task<string> OpenGroupAsync(string campaignId)
    {
        using var leader = system.NewBrowser();
        await leader.SignInAsync(NewUser("leader"));
        var (status, group) = await leader.PostJsonAsync("/api/groups", new { campaignId });
        Assert.True(status == HttpStatusCode.Created, $"{(int)status} {group}");
        var groupId = group.GetProperty("groupId").GetString()!;
        await leader.PayAsync(groupId);
        await Eventually.ValueAsync(() => leader.GetJsonAsync($"/api/groups/{groupId}"),
            (JsonElement g) => g.GetProperty("status").GetString() == "open", TimeSpan.FromSeconds(30));
        return groupId;
    }
}
