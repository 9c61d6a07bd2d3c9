using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary>WeChat OAuth2 (snsapi_base): the authorize page, the code redirect and the code exchange.</summary>
public sealed class OAuthTests
{
    private const string RedirectUri = "http://127.0.0.1:5000/auth/callback?returnUrl=%2Fgroups%2F7";

    private static string AuthorizeQuery(string appId = SandboxServer.AppId, string? redirectUri = RedirectUri, string state = "st-123") =>
        $"appid={appId}" + (redirectUri is null ? "" : "&redirect_uri=" + Uri.EscapeDataString(redirectUri)) +
        $"&response_type=code&scope=snsapi_base&state={state}";

    private static async Task<Uri> ConfirmAsync(SandboxServer sandbox, string openid, string state = "st-123")
    {
        using var response = await sandbox.Http.GetAsync(new Uri($"/connect/oauth2/authorize/confirm?{AuthorizeQuery(state: state)}&openid={openid}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        return response.Headers.Location!;
    }

    private static async Task<JsonElement> ExchangeAsync(SandboxServer sandbox, string code, string secret = SandboxServer.AppSecret, string appId = SandboxServer.AppId)
    {
        using var response = await sandbox.Http.GetAsync(new Uri(
            $"/sns/oauth2/access_token?appid={appId}&secret={Uri.EscapeDataString(secret)}&code={code}&grant_type=authorization_code", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string CodeOf(Uri redirect) => QueryHelpers.ParseQuery(redirect.Query)["code"].ToString();

    [Fact]
    public async Task TheAuthorizePageOffersTheConfiguredTestUsers()
    {
        await using var sandbox = await SandboxServer.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:TestUsers:0"] = "o-test-zhang",
            ["Sandbox:TestUsers:1"] = "o-test-wang",
        });

        using var response = await sandbox.Http.GetAsync(new Uri("/connect/oauth2/authorize?" + AuthorizeQuery(), UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("o-test-zhang", html, StringComparison.Ordinal);
        Assert.Contains("o-test-wang", html, StringComparison.Ordinal);
        Assert.DoesNotContain("o-sandbox-alice", html, StringComparison.Ordinal);
        Assert.Contains("/connect/oauth2/authorize/confirm?", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAuthorizePageOffersDefaultTestUsersWhenNoneAreConfigured()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        var html = await sandbox.Http.GetStringAsync(new Uri("/connect/oauth2/authorize?" + AuthorizeQuery(), UriKind.Relative));

        Assert.Contains(SandboxServer.Alice, html, StringComparison.Ordinal);
        Assert.Contains(SandboxServer.Bob, html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wx0000000000000000", RedirectUri)]
    [InlineData(SandboxServer.AppId, null)]
    [InlineData(SandboxServer.AppId, "/relative/callback")]
    public async Task AuthorizeWithAForeignAppIdOrWithoutARedirectUriIsAnErrorPage(string appId, string? redirectUri)
    {
        await using var sandbox = await SandboxServer.StartAsync();

        using var response = await sandbox.Http.GetAsync(new Uri("/connect/oauth2/authorize?" + AuthorizeQuery(appId, redirectUri), UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ConfirmRedirectsToTheRedirectUriWithCodeAndStateKeepingItsQuery()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        var location = await ConfirmAsync(sandbox, SandboxServer.Alice, state: "st-456");

        Assert.Equal("http://127.0.0.1:5000/auth/callback", location.GetLeftPart(UriPartial.Path));
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal("/groups/7", query["returnUrl"].ToString());
        Assert.Equal("st-456", query["state"].ToString());
        Assert.False(string.IsNullOrEmpty(query["code"].ToString()));
    }

    [Fact]
    public async Task TheCodeIsExchangedForAnAccessTokenNamingTheChosenOpenid()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var code = CodeOf(await ConfirmAsync(sandbox, SandboxServer.Bob));

        var token = await ExchangeAsync(sandbox, code);

        Assert.Equal(SandboxServer.Bob, token.GetProperty("openid").GetString());
        Assert.Equal("snsapi_base", token.GetProperty("scope").GetString());
        Assert.Equal(7200, token.GetProperty("expires_in").GetInt32());
        Assert.False(string.IsNullOrEmpty(token.GetProperty("access_token").GetString()));
        Assert.False(string.IsNullOrEmpty(token.GetProperty("refresh_token").GetString()));
        Assert.False(token.TryGetProperty("errcode", out _));
    }

    [Fact]
    public async Task ACodeCanBeExchangedOnlyOnce()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var code = CodeOf(await ConfirmAsync(sandbox, SandboxServer.Alice));
        await ExchangeAsync(sandbox, code);

        var again = await ExchangeAsync(sandbox, code);

        Assert.Equal(40029, again.GetProperty("errcode").GetInt32());
        Assert.Equal("invalid code", again.GetProperty("errmsg").GetString());
    }

    [Fact]
    public async Task ACodeExpiresAfterFiveMinutes()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var code = CodeOf(await ConfirmAsync(sandbox, SandboxServer.Alice));

        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));

        Assert.Equal(40029, (await ExchangeAsync(sandbox, code)).GetProperty("errcode").GetInt32());
    }

    [Fact]
    public async Task AnUnknownCodeIsInvalid()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        Assert.Equal(40029, (await ExchangeAsync(sandbox, "never-issued")).GetProperty("errcode").GetInt32());
    }

    [Fact]
    public async Task AWrongSecretIsRefusedAndDoesNotSpendTheCode()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var code = CodeOf(await ConfirmAsync(sandbox, SandboxServer.Alice));

        var refused = await ExchangeAsync(sandbox, code, secret: "wrong-secret");

        Assert.Equal(40125, refused.GetProperty("errcode").GetInt32());
        Assert.Equal("invalid appsecret", refused.GetProperty("errmsg").GetString());
        Assert.Equal(SandboxServer.Alice, (await ExchangeAsync(sandbox, code)).GetProperty("openid").GetString());
    }

    [Fact]
    public async Task AWrongAppIdIsRefused()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        var refused = await ExchangeAsync(sandbox, "any", appId: "wx0000000000000000");

        Assert.Equal(40013, refused.GetProperty("errcode").GetInt32());
    }

    [Fact]
    public async Task AWrongGrantTypeIsRefused()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        var refused = await sandbox.GetJsonAsync(
            $"/sns/oauth2/access_token?appid={SandboxServer.AppId}&secret={SandboxServer.AppSecret}&code=x&grant_type=client_credential");

        Assert.Equal(40002, refused.GetProperty("errcode").GetInt32());
    }
}
