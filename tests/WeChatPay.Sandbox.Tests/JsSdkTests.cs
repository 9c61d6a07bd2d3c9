using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.WeChatPay.OfficialAccount;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary>The official account's access token and JS-SDK ticket, fetched with the library's client, and the check
/// the sandbox's <c>wx</c> stand-in makes of a <c>wx.config</c> signature.</summary>
public sealed class JsSdkTests
{
    private const string PageUrl = "http://127.0.0.1:5000/g/abcdef123456?ref=Q7K2M9";

    private static (ServiceProvider Services, IOfficialAccountClient Client) ClientFor(SandboxServer sandbox, string secret = SandboxServer.AppSecret)
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["WeChatPay:AppId"] = SandboxServer.AppId,
                ["WeChatPay:MchId"] = SandboxServer.MchId,
                ["WeChatPay:ApiKey"] = SandboxServer.ApiKey,
                ["WeChatPay:NotifyUrl"] = "http://127.0.0.1:1/wechatpay/notify",
                ["WeChatPay:RefundNotifyUrl"] = "http://127.0.0.1:1/wechatpay/refund-notify",
                ["WeChatPay:BaseUrl"] = sandbox.BaseAddress.ToString(),
                ["WeChat:AppSecret"] = secret,
                ["WeChat:ApiBaseUrl"] = sandbox.BaseAddress.ToString(),
            }).Build())
            .AddWeChatPay()
            .AddWeChatOfficialAccount()
            .BuildServiceProvider();
        return (services, services.GetRequiredService<IOfficialAccountClient>());
    }

    private static async Task<string> TicketAsync(IOfficialAccountClient client)
    {
        var token = await client.GetAccessTokenAsync();
        Assert.True(token.IsSuccess, token.Error);
        var ticket = await client.GetJsapiTicketAsync(token.Credential!.Value);
        Assert.True(ticket.IsSuccess, ticket.Error);
        Assert.Equal(TimeSpan.FromSeconds(7200), ticket.Credential!.Lifetime);
        return ticket.Credential.Value;
    }

    private static async Task<JsonElement> VerifyAsync(SandboxServer sandbox, string url, string signature, long timestamp = 1414587457)
    {
        var query = $"appId={SandboxServer.AppId}&timestamp={timestamp}&nonceStr=Wm3WZYTPz0wzccnW&signature={signature}&url={Uri.EscapeDataString(url)}";
        using var response = await sandbox.Http.GetAsync(new Uri("/sandbox/jssdk/verify?" + query, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task ATicketFromATokenSignsAConfigTheStandInAccepts()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var (services, client) = ClientFor(sandbox);
        await using var _ = services;

        var ticket = await TicketAsync(client);
        var signature = JsSdkSignature.Sign(ticket, "Wm3WZYTPz0wzccnW", 1414587457, PageUrl);

        Assert.True((await VerifyAsync(sandbox, PageUrl, signature)).GetProperty("ok").GetBoolean());
        // The fragment is not signed; another page, nonce or timestamp is another signature.
        Assert.True((await VerifyAsync(sandbox, PageUrl + "#top", signature)).GetProperty("ok").GetBoolean());
        var other = await VerifyAsync(sandbox, "http://127.0.0.1:5000/g/abcdef123456", signature);
        Assert.False(other.GetProperty("ok").GetBoolean());
        Assert.Equal("config:invalid signature", other.GetProperty("errMsg").GetString());
        Assert.False((await VerifyAsync(sandbox, PageUrl, signature, timestamp: 1414587458)).GetProperty("ok").GetBoolean());
        var counts = await sandbox.Http.GetFromJsonAsync<JsonElement>(new Uri("/sandbox/jssdk", UriKind.Relative));
        Assert.Equal(1, counts.GetProperty("tokenFetches").GetInt32());
        Assert.Equal(1, counts.GetProperty("ticketFetches").GetInt32());
    }

    [Fact]
    public async Task AWrongSecretIsRefusedWithWeChatsCode()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var (services, client) = ClientFor(sandbox, secret: "not-the-secret-0000000000000000");
        await using var _ = services;

        var token = await client.GetAccessTokenAsync();

        Assert.False(token.IsSuccess);
        Assert.Equal(40125, token.ErrCode);
    }

    [Fact]
    public async Task AReplacedTokenWorksFiveMoreMinutesThenIsRejected()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var (services, client) = ClientFor(sandbox);
        await using var _ = services;
        var first = (await client.GetAccessTokenAsync()).Credential!.Value;
        Assert.True((await client.GetAccessTokenAsync()).IsSuccess);

        Assert.True((await client.GetJsapiTicketAsync(first)).IsSuccess);
        (await sandbox.Http.PostAsJsonAsync(new Uri("/sandbox/clock/advance", UriKind.Relative), new { seconds = 301 })).EnsureSuccessStatusCode();
        var late = await client.GetJsapiTicketAsync(first);

        Assert.False(late.IsSuccess);
        Assert.True(late.TokenRejected);
        Assert.Equal(40001, late.ErrCode);
    }

    [Fact]
    public async Task AnInjectedFaultAnswersSystemBusyOnce()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var (services, client) = ClientFor(sandbox);
        await using var _ = services;
        (await sandbox.Http.PostAsJsonAsync(new Uri("/sandbox/faults", UriKind.Relative), new { officialAccountErrors = 1 })).EnsureSuccessStatusCode();

        var failed = await client.GetAccessTokenAsync();

        Assert.Equal(-1, failed.ErrCode);
        Assert.False(failed.TokenRejected);
        Assert.True((await client.GetAccessTokenAsync()).IsSuccess);
    }

    [Fact]
    public async Task TheStandInScriptCallsBackThisSandbox()
    {
        await using var sandbox = await SandboxServer.StartAsync();

        using var response = await sandbox.Http.GetAsync(new Uri("/jssdk/jweixin.js", UriKind.Relative));
        var script = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/javascript", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(sandbox.BaseAddress.ToString().TrimEnd('/') + "/sandbox/jssdk/verify", script, StringComparison.Ordinal);
        Assert.Contains("updateAppMessageShareData", script, StringComparison.Ordinal);
    }
}
