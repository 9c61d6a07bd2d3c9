using System.Net;
using Microsoft.Playwright;

namespace GroupPay.EndToEnd.Tests;

/// <summary>
/// The H5 page in a real browser (Debian's Chromium, headless, driven by Playwright): sign in through the WeChat
/// authorize page, start a group, pay at the cashier that stands in for WeixinJSBridge, and watch the group open.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class H5BrowserTests(SystemFixture system)
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task ALeaderStartsAGroupAndPaysInTheBrowserAndSeesItOpen()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: ./test.sh installs Debian's chromium (apt-get install chromium).");
        var title = "浏览器拼团 " + Guid.NewGuid().ToString("N")[..6];
        using (var admin = system.NewBrowser())
        {
            var (status, body) = await admin.PutJsonAsync($"/admin/campaigns/h5{Guid.NewGuid():N}"[..20], new
            {
                title,
                soloPriceFen = 2990,
                groupPriceFen = 1990,
                groupSize = 2,
                windowMinutes = 60,
                holdMinutes = 15,
                stock = 10,
                perUserLimit = 1,
                inviterRewardFen = 0,
                rewardFreezeMinutes = 0,
                virtualFill = false,
            }, SystemFixture.AdminKey);
            Assert.True(status == HttpStatusCode.OK, $"{(int)status} {body}");
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new() { BaseURL = system.GatewayUrl.ToString(), Locale = "zh-CN" });
        page.SetDefaultTimeout(30_000);

        await page.GotoAsync("/");
        await page.Locator(".card").Filter(new() { HasText = title }).GetByRole(AriaRole.Button).First.ClickAsync();

        // Not signed in yet: the gateway sends the browser to WeChat's authorize page (the sandbox's), where the user
        // continues as themselves.
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/connect/oauth2/authorize"));
        var openid = "o-h5-" + Guid.NewGuid().ToString("N")[..10];
        await page.Locator("input[name=openid]").FillAsync(openid);
        await page.Locator("form button[type=submit]").ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(system.GatewayUrl.ToString())));

        // Signed in and back: start the group (again, now that there is a session), then pay.
        if (!page.Url.Contains("/g/", StringComparison.Ordinal))
        {
            await page.Locator(".card").Filter(new() { HasText = title }).GetByRole(AriaRole.Button).First.ClickAsync();
        }
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/g/[0-9a-z]+"));
        await page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("Pay my share") }).ClickAsync();

        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/sandbox/cashier"));
        await page.Locator("#pay").ClickAsync();

        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/g/[0-9a-z]+"));
        await page.GetByText("拼团中 open").First.WaitForAsync();
        var screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(screenshots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, "group-open.png"), FullPage = true });
    }
}
