using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.Grains.Orders;

namespace GroupPay.Gateway.NotifyTests;

/// <summary>A silo dies between two payments of a group (its own cluster, since it kills a silo).</summary>
public sealed class SiloOutageTests(NotifyFixture fixture) : IClassFixture<NotifyFixture>
{
    [Fact]
    public async Task TheRemainingSiloCarriesOnAndNotifiesRefusedDuringTheOutageApplyOnRetry()
    {
        var (groupId, leader, attempt) = await fixture.PendingGroupAsync(groupSize: 2);
        var group = fixture.Client.GetGrain<IOrderGrain>(groupId);
        (await fixture.PayAtCashierAsync(attempt, leader)).EnsureSuccessStatusCode();
        await NotifyFixture.EventuallyAsync(() => group.GetAsync(null), g => g.Status == GroupStatus.Open);

        var friend = "o-gw-outage-" + Guid.NewGuid().ToString("N")[..6];
        var started = await group.PayAsync(new StartPayment(friend, null, "127.0.0.1", null));

        // Kill the silo that hosts the group, then pay at once: the notify reaches the gateway while the cluster
        // has not yet noticed. Whatever it answers then, WeChat's retries must land on the surviving silo.
        var host = await NotifyFixture.EventuallyAsync(
            async () =>
            {
                await group.GetAsync(null);
                return await fixture.Client.GetGrain<IManagementGrain>(0).GetActivationAddress(group);
            },
            address => address is not null,
            seconds: 10);
        Assert.NotNull(host);
        var victim = fixture.Silos.Single(s => s.Options.SiloPort == host.Endpoint.Port);
        await victim.KillAsync();
        (await fixture.PayAtCashierAsync(started, friend)).EnsureSuccessStatusCode();

        var complete = await NotifyFixture.EventuallyAsync(() => group.GetAsync(null), g => g.Status == GroupStatus.Complete, seconds: 60);
        Assert.Equal((GroupStatus.Complete, 2), (complete.Status, complete.PaidCount));
        var deliveries = await NotifyFixture.EventuallyAsync(
            () => fixture.Sandbox.GetFromJsonAsync<JsonElement>($"/sandbox/notifications?outTradeNo={started.OutTradeNo}"),
            n => n.EnumerateArray().Any(d => d.GetProperty("acked").GetBoolean()));
        Assert.Contains(deliveries.EnumerateArray(), d => d.GetProperty("acked").GetBoolean());
    }
}
