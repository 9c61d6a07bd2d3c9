using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace GroupPay.WeChatPay.IntegrationTests;

/// <summary>WeChat OAuth2 <c>snsapi_base</c> against the sandbox, the way the gateway will sign users in.</summary>
public sealed class OAuthRoundTripTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>, IDisposable
{
    private const string Callback = "https://shop.example/auth/callback";

    private readonly HttpClient _browser = new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(sandbox.SandboxUrl) };

    public void Dispose() => _browser.Dispose();

    private async Task<(string Code, string State)> SignInAsync(string openid, string state)
    {
        var authorize = $"/connect/oauth2/authorize?appid={SandboxFixture.AppId}&redirect_uri={Uri.EscapeDataString(Callback)}&response_type=code&scope=snsapi_base&state={state}";
        var page = await _browser.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("o-sandbox-alice", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var confirm = await _browser.GetAsync($"/connect/oauth2/authorize/confirm?appid={SandboxFixture.AppId}&redirect_uri={Uri.EscapeDataString(Callback)}&response_type=code&scope=snsapi_base&state={state}&openid={openid}");
        Assert.Equal(HttpStatusCode.Redirect, confirm.StatusCode);
        var location = confirm.Headers.Location!;
        Assert.StartsWith(Callback + "?", location.ToString(), StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(location.Query);
        return (query["code"].ToString(), query["state"].ToString());
    }

    private async Task<JsonElement> ExchangeAsync(string code, string secret = SandboxFixture.AppSecret) =>
        JsonDocument.Parse(await _browser.GetStringAsync(
            $"/sns/oauth2/access_token?appid={SandboxFixture.AppId}&secret={secret}&code={code}&grant_type=authorization_code")).RootElement;

    [Fact]
    public async Task ACodeFromTheAuthorizePageExchangesForTheChosenOpenid()
    {
        var (code, state) = await SignInAsync("o-sandbox-dave", "s1");
        Assert.Equal("s1", state);
        Assert.False(string.IsNullOrEmpty(code));

        var token = await ExchangeAsync(code);

        Assert.Equal("o-sandbox-dave", token.GetProperty("openid").GetString());
        Assert.Equal("snsapi_base", token.GetProperty("scope").GetString());
        Assert.False(string.IsNullOrEmpty(token.GetProperty("access_token").GetString()));
    }

    [Fact]
    public async Task ACodeIsSingleUse()
    {
        var (code, _) = await SignInAsync("o-sandbox-alice", "s2");
        Assert.Equal("o-sandbox-alice", (await ExchangeAsync(code)).GetProperty("openid").GetString());

        var reused = await ExchangeAsync(code);

        Assert.Equal(40029, reused.GetProperty("errcode").GetInt32());
        Assert.False(reused.TryGetProperty("openid", out _));
    }

    [Fact]
    public async Task AnUnknownCodeOrWrongSecretGetsNoOpenid()
    {
        Assert.Equal(40029, (await ExchangeAsync("not-a-code")).GetProperty("errcode").GetInt32());
        var (code, _) = await SignInAsync("o-sandbox-alice", "s3");
        Assert.True((await ExchangeAsync(code, "wrong-secret")).TryGetProperty("errcode", out _));
    }
}
