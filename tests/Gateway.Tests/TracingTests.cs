using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.Grains.Orders;

namespace GroupPay.Gateway.Tests;

/// <summary>OpenTelemetry: one trace from the H5 request through the grain call on a silo to the WeChat Pay call.</summary>
[Collection(GatewayCollection.Name)]
public sealed class TracingTests(GatewayFixture fixture)
{
    [Fact]
    public async Task APaymentsTraceRunsFromTheRequestThroughTheGrainToUnifiedOrder()
    {
        var traced = await fixture.StartGatewayAsync(fixture.Collector.ExporterSettings);
        var campaignId = await fixture.DefineCampaignAsync();
        using var leader = await fixture.SignInAsync(gateway: traced);
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        // The H5 request comes from inside a trace (as from an instrumented proxy): the HTTP client sends its traceparent.
        var traceId = ActivityTraceId.CreateRandom();
        using (new Activity("h5 request").SetParentId(traceId, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start())
        {
            using var response = await leader.PostJsonAsync($"/api/groups/{groupId}/pay", new { });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The silo's unifiedorder call reached WeChat Pay (the sandbox) inside the caller's trace...
        var order = await fixture.Sandbox.GetFromJsonAsync<JsonElement>($"/sandbox/orders/{TradeNumbers.OutTradeNo(groupId, 1)}");
        var traceParent = order.GetProperty("traceParent").GetString();
        Assert.NotNull(traceParent);
        Assert.Equal(traceId.ToHexString(), traceParent.Split('-')[1]);
        // ...and both processes exported their spans of it, under their service names.
        Assert.True(await GatewayFixture.EventuallyAsync(() => Task.FromResult(fixture.Collector.HasSpan(GatewayHost.ServiceName, traceId.ToHexString())), found => found),
            "the gateway exported no span of the trace");
        Assert.True(await GatewayFixture.EventuallyAsync(() => Task.FromResult(fixture.Collector.HasSpan("grouppay-silo", traceId.ToHexString())), found => found),
            "the silo exported no span of the trace");
    }
}
