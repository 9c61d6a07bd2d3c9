using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary>The sandbox refuses to start with a missing or invalid setting, naming the key.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("WeChatPay:ApiKey", null)]
    [InlineData("WeChatPay:ApiKey", "too-short")]
    [InlineData("WeChatPay:AppId", null)]
    [InlineData("WeChatPay:MchId", "")]
    [InlineData("WeChat:AppSecret", null)]
    [InlineData("Sandbox:TimeScale", "0")]
    [InlineData("Sandbox:RefundNotifyUrl", "http://merchant.example/refund?x=1")]
    [InlineData("Sandbox:FeeRate", "1")]
    [InlineData("Sandbox:FeeRate", "-0.006")]
    [InlineData("Sandbox:FeeRate", "0.00601")]
    [InlineData("Sandbox:BillReadyAfter", "1.00:00:00")]
    public async Task StartFailsNamingTheMissingOrInvalidKey(string key, string? value)
    {
        await using var app = SandboxServer.Build(new Dictionary<string, string?> { [key] = value ?? "" });

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());

        var messages = failure is AggregateException aggregate ? aggregate.Flatten().InnerExceptions : [failure];
        Assert.Contains(messages, m => m is OptionsValidationException && m.Message.Contains(key, StringComparison.Ordinal));
    }
}
