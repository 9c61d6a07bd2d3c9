using GroupPay.Testing;

namespace GroupPay.Silo.Tests;

public sealed class SiloConfigurationTests
{
    [Theory]
    [InlineData("WeChatPay__ApiKey", "too-short", "WeChatPay:ApiKey")]
    [InlineData("WeChatPay__NotifyUrl", null, "WeChatPay:NotifyUrl")]
    [InlineData("Orleans__SiloPort", "70000", "Orleans:SiloPort")]
    [InlineData("Orleans__MinimumReminderPeriod", "soon", "Orleans:MinimumReminderPeriod")]
    [InlineData("Redis__Embedded", "maybe", "Redis:Embedded")]
    [InlineData("Orleans__HealthPort", "0", "Orleans:HealthPort")]
    [InlineData("Reconciliation__CatchUpDays", "0", "Reconciliation:CatchUpDays")]
    [InlineData("WeChatPay__AllowSandbox", null, "WeChatPay:BaseUrl")]
    [InlineData("WeChatPay__AllowSandbox", "maybe", "WeChatPay:AllowSandbox")]
    [InlineData("Reconciliation__GiveUpAfter", "09:00:00", "Reconciliation:GiveUpAfter")]
    public async Task RefusesToStartWithInvalidSettingAndNamesTheKey(string variable, string? value, string key)
    {
        await using var silo = SiloProcess.Launch(new SiloProcessOptions
        {
            // Nothing needs to answer here: the settings are checked before anything connects.
            RedisConnectionString = "127.0.0.1:" + FreePort.Get(),
            Cluster = ClusterIdentity.Unique("bad-config"),
            Environment = new Dictionary<string, string?> { [variable] = value },
        });

        var exitCode = await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        var refusals = silo.Output.Split('\n').Where(l => l.StartsWith("GroupPay silo refuses to start: ", StringComparison.Ordinal)).ToList();
        var refusal = Assert.Single(refusals);
        Assert.Contains(key, refusal, StringComparison.Ordinal);
        Assert.DoesNotContain(SiloProcessOptions.DemoWeChatPay["WeChatPay__ApiKey"], silo.Output, StringComparison.Ordinal);
    }
}
