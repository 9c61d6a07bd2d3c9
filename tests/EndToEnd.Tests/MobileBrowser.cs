using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace GroupPay.EndToEnd.Tests;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright, as a phone in WeChat: 375 × 812, WeChat's user agent, zh-CN.
/// Each <see cref="NewPhoneAsync"/> is one person's phone (its own cookies and storage). No WeixinJSBridge here, so the
/// app pays through the sandbox cashier, as it does in any browser outside WeChat.
/// </summary>
public sealed partial class MobileBrowser : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    public const string WeChatUserAgent =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 " +
        "MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly SystemFixture _system;
    private readonly List<string> _policyViolations = [];

    private MobileBrowser(IPlaywright playwright, IBrowser browser, SystemFixture system)
    {
        _playwright = playwright;
        _browser = browser;
        _system = system;
    }

    /// <summary>Where the test run keeps its screenshots (bin/…/screenshots).</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static async Task<MobileBrowser> LaunchAsync(SystemFixture system)
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: ./test.sh installs Debian's chromium (apt-get install chromium).");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return new MobileBrowser(playwright, browser, system);
    }

    public async Task<IPage> NewPhoneAsync()
    {
        var context = await _browser.NewContextAsync(new()
        {
            BaseURL = _system.GatewayUrl.ToString(),
            Locale = "zh-CN",
            TimezoneId = "America/New_York", // the app must show China time whatever the phone's zone
            UserAgent = WeChatUserAgent,
            ViewportSize = new() { Width = 375, Height = 812 },
            DeviceScaleFactor = 2,
            IsMobile = true,
            HasTouch = true,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        // The gateway's Content-Security-Policy (docs/api.md §3.6) must not block anything the app needs. Vant's icon
        // font is a data: URL with a fallback on Alibaba's CDN, which the policy blocks on purpose (no CDN).
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal)
                && !message.Text.Contains("//at.alicdn.com/", StringComparison.Ordinal))
            {
                lock (_policyViolations)
                {
                    _policyViolations.Add(message.Text);
                }
            }
        };
        return page;
    }

    /// <summary>On WeChat's (the sandbox's) authorize page: continue as <paramref name="openid"/>, a listed test user's
    /// button when it is one, else the form.</summary>
    public static async Task ContinueAsAsync(IPage page, string openid)
    {
        await page.WaitForURLAsync(AuthorizePage());
        var listed = page.Locator("ul.users a", new() { HasTextString = openid });
        if (await listed.CountAsync() > 0)
        {
            await listed.First.ClickAsync();
        }
        else
        {
            await page.Locator("input[name=openid]").FillAsync(openid);
            await page.Locator("form button[type=submit]").ClickAsync();
        }
    }

    /// <summary>At the sandbox cashier (WeixinJSBridge's stand-in): pay, and come back to the app.</summary>
    public async Task PayAtCashierAsync(IPage page)
    {
        await page.WaitForURLAsync(new Regex("/sandbox/cashier"));
        await page.Locator("#pay").ClickAsync();
        await page.WaitForURLAsync(new Regex("^" + Regex.Escape(_system.GatewayUrl.ToString()) + "g/"));
    }

    public static async Task ScreenshotAsync(IPage page, string name, bool fullPage = true)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = fullPage });
    }

    /// <summary>The page as a shopper reads it: Chinese only (no English status or error words; the ¥ amounts, numbers
    /// and short codes are fine), and nothing wider than the 375 px screen.</summary>
    public static async Task AssertChineseAndFitsAsync(IPage page)
    {
        var text = await page.Locator("body").InnerTextAsync();
        var english = EnglishWord().Matches(text).Select(m => m.Value).Distinct().ToList();
        Assert.True(english.Count == 0, $"English on {page.Url}: {string.Join(", ", english)}\n{text}");
        var scrollWidth = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.True(scrollWidth <= 375, $"{page.Url} is {scrollWidth} px wide at 375 px");
        // The app clips sideways overflow, so look at each element too: none may reach past the screen's right edge.
        var wide = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('body *')].filter(e => { const r = e.getBoundingClientRect(); " +
            "return r.width > 0 && r.height > 0 && r.right > window.innerWidth + 1; }).map(e => e.tagName + '.' + e.className)");
        Assert.True(wide.Length == 0, $"{page.Url}: wider than 375 px: {string.Join(", ", wide.Take(5))}");
    }

    public static Regex AuthorizePage() => new("/connect/oauth2/authorize");

    // Three or more Latin letters in a row: a word. (Referral codes are digits and lower-case letters: the rewards
    // page shows one, so it is not checked with this.)
    [GeneratedRegex("[A-Za-z]{3,}")]
    private static partial Regex EnglishWord();

    /// <summary>Closes the browser; fails the test if any page reported a Content Security Policy violation.</summary>
    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        lock (_policyViolations)
        {
            Assert.True(_policyViolations.Count == 0, "Content Security Policy violations: " + string.Join(Environment.NewLine, _policyViolations));
        }
    }
}
