using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Tests;

/// <summary>Bad settings stop the gateway at start, each named by its key (no cluster needed to find out).</summary>
public sealed class ConfigurationTests
{
    /// <summary>Settings a gateway starts with, pointing at nothing (Redis and the hosts on port 1).</summary>
    internal static Dictionary<string, string?> Valid() => new()
    {
        ["ConnectionStrings:Redis"] = "127.0.0.1:1",
        ["WeChatPay:AppId"] = GatewayFixture.AppId,
        ["WeChatPay:MchId"] = GatewayFixture.MchId,
        ["WeChatPay:ApiKey"] = GatewayFixture.ApiKey,
        ["WeChatPay:BaseUrl"] = "http://127.0.0.1:1",
        ["WeChatPay:NotifyUrl"] = "http://127.0.0.1:1/wechatpay/notify",
        ["WeChatPay:RefundNotifyUrl"] = "http://127.0.0.1:1/wechatpay/refund-notify",
        ["WeChat:AppSecret"] = GatewayFixture.AppSecret,
        ["Gateway:PublicBaseUrl"] = "https://shop.example",
        ["Logging:LogLevel:Default"] = "None",
    };

    [Theory]
    [InlineData("WeChat:AppSecret", null, "WeChat:AppSecret is required (env WeChat__AppSecret).")]
    [InlineData("WeChat:OAuthBaseUrl", "open.weixin.qq.com", "WeChat:OAuthBaseUrl must be an absolute http(s) URL, not 'open.weixin.qq.com' (env WeChat__OAuthBaseUrl).")]
    [InlineData("WeChat:ApiBaseUrl", "ftp://api.weixin.qq.com", "WeChat:ApiBaseUrl must be an absolute http(s) URL, not 'ftp://api.weixin.qq.com' (env WeChat__ApiBaseUrl).")]
    [InlineData("Gateway:AdminKey", "short", "Gateway:AdminKey must be at least 16 characters (env Gateway__AdminKey).")]
    [InlineData("Gateway:PublicBaseUrl", "shop.example", "Gateway:PublicBaseUrl must be an absolute URL (env Gateway__PublicBaseUrl).")]
    [InlineData("Gateway:RateLimit:PerUser", "0", "Gateway:RateLimit:PerUser must be at least 1 (env Gateway__RateLimit__PerUser).")]
    [InlineData("Gateway:PublicBaseUrl", null, "Gateway:PublicBaseUrl is required in Production (env Gateway__PublicBaseUrl)")]
    [InlineData("Gateway:RateLimit:AdminPerIp", "0", "Gateway:RateLimit:AdminPerIp must be at least 1 (env Gateway__RateLimit__AdminPerIp).")]
    [InlineData("Gateway:EventStreams:PerUser", "0", "Gateway:EventStreams:PerUser must be at least 1 (env Gateway__EventStreams__PerUser).")]
    [InlineData("Gateway:EventStreams:PerIp", "0", "Gateway:EventStreams:PerIp must be at least 1 (env Gateway__EventStreams__PerIp).")]
    [InlineData("Gateway:RateLimit:Window", "00:00:00", "Gateway:RateLimit:Window must be between 1 second and 1 day (env Gateway__RateLimit__Window).")]
    [InlineData("Gateway:Cluster:ResponseTimeout", "00:00:00", "Gateway:Cluster:ResponseTimeout must be between 100 ms and 5 minutes (env Gateway__Cluster__ResponseTimeout).")]
    [InlineData("Gateway:Cluster:ReadTimeout", "00:00:00", "Gateway:Cluster:ReadTimeout must be between 50 ms and 5 minutes (env Gateway__Cluster__ReadTimeout).")]
    [InlineData("Gateway:DataProtection:CertificatePath", "/no/such/keyring.pfx", "Gateway:DataProtection:CertificatePath '/no/such/keyring.pfx' does not exist (env Gateway__DataProtection__CertificatePath).")]
    public async Task ABadSettingStopsTheGatewayNamingTheKey(string key, string? value, string message)
    {
        var settings = Valid();
        settings[key] = value;
        await using var gateway = GatewayHost.Create(["--urls", "http://127.0.0.1:0", "--environment", "Production"], builder =>
            builder.Configuration.AddInMemoryCollection(settings));

        var refusal = await Assert.ThrowsAsync<OptionsValidationException>(() => gateway.StartAsync());

        Assert.Contains(refusal.Failures, failure => failure.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheClusterTimeoutsReachTheOrleansClient()
    {
        var settings = Valid();
        settings["Gateway:Cluster:ResponseTimeout"] = "00:00:07";
        await using var gateway = GatewayHost.Create(["--urls", "http://127.0.0.1:0", "--environment", "Production"], builder =>
            builder.Configuration.AddInMemoryCollection(settings));

        var messaging = gateway.Services.GetRequiredService<IOptions<Orleans.Configuration.ClientMessagingOptions>>().Value;
        var gateways = gateway.Services.GetRequiredService<IOptions<Orleans.Configuration.GatewayOptions>>().Value;

        Assert.Equal((TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(5)), (messaging.ResponseTimeout, gateways.GatewayListRefreshPeriod));
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Staging")]
    public async Task PublicBaseUrlIsOptionalOutsideProduction(string environment)
    {
        var settings = Valid();
        settings["Gateway:PublicBaseUrl"] = null;
        await using var gateway = GatewayHost.Create(["--urls", "http://127.0.0.1:0", "--environment", environment], builder =>
            builder.Configuration.AddInMemoryCollection(settings));

        Assert.Null(gateway.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.PublicBaseUrl);
    }
}
