using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Tests;

public sealed class OptionsValidationTests
{
    private static Dictionary<string, string?> Valid() => new()
    {
        ["WeChatPay:AppId"] = "wx2421b1c4370ec43b",
        ["WeChatPay:MchId"] = "10000100",
        ["WeChatPay:ApiKey"] = "192006250b4c09247ec02edce69f6a2d",
        ["WeChatPay:BaseUrl"] = "http://127.0.0.1:5999",
        ["WeChatPay:NotifyUrl"] = "https://shop.example/wechatpay/notify",
        ["WeChatPay:RefundNotifyUrl"] = "https://shop.example/wechatpay/refund-notify",
    };

    private static async Task<string?> StartFailure(Action<Dictionary<string, string?>> change)
    {
        var settings = Valid();
        change(settings);
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddWeChatPay();
        using var host = builder.Build();
        try
        {
            await host.StartAsync();
            await host.StopAsync();
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return ex.Message;
        }
    }

    [Fact]
    public async Task StartsWithAValidConfiguration() => Assert.Null(await StartFailure(_ => { }));

    [Theory]
    [InlineData("WeChatPay:ApiKey", null, "WeChatPay:ApiKey")]
    [InlineData("WeChatPay:ApiKey", "short", "WeChatPay:ApiKey must be exactly 32 characters")]
    [InlineData("WeChatPay:AppId", null, "WeChatPay:AppId is required")]
    [InlineData("WeChatPay:MchId", "", "WeChatPay:MchId is required")]
    [InlineData("WeChatPay:NotifyUrl", null, "WeChatPay:NotifyUrl is required")]
    [InlineData("WeChatPay:NotifyUrl", "/wechatpay/notify", "WeChatPay:NotifyUrl must be an absolute http(s) URL")]
    [InlineData("WeChatPay:RefundNotifyUrl", "https://shop.example/r?x=1", "WeChatPay:RefundNotifyUrl must not have a query string")]
    [InlineData("WeChatPay:BaseUrl", "api.mch.weixin.qq.com", "WeChatPay:BaseUrl must be an absolute http(s) URL")]
    [InlineData("WeChatPay:SignType", "SHA1", "WeChatPay:SignType must be MD5 or HMAC-SHA256")]
    [InlineData("WeChatPay:MaxAttempts", "9", "WeChatPay:MaxAttempts must be between 1 and 5")]
    [InlineData("WeChatPay:BaseUrl", "https://api.mch.weixin.qq.com", "WeChatPay:CertificatePath is required against the real WeChat Pay host")]
    [InlineData("WeChatPay:CertificatePath", "/nonexistent/apiclient_cert.p12", "WeChatPay:CertificatePath '/nonexistent/apiclient_cert.p12' does not exist")]
    public async Task RefusesToStartNamingTheBadKey(string key, string? value, string expected)
    {
        var message = await StartFailure(settings => settings[key] = value);
        Assert.NotNull(message);
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }
}
