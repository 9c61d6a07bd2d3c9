using System.Net;
using GroupPay.Grains.Orders;

namespace GroupPay.Gateway.Tests;

/// <summary>
/// The gateway while part of its cluster is unavailable (a cluster of its own: it freezes and kills silos). A silo is
/// frozen (SIGSTOP: a hung host, no TCP reset) while it hosts a group: the group's H5 read and its pay answer 503
/// <c>unavailable</c> with <c>Retry-After</c> instead of hanging for Orleans' 30 s and then a bare 500; readiness stays
/// up on the other silo; once the cluster has declared the frozen silo dead the group is read again; and with no silo
/// left the gateway is NotReady and still answers 503, not 500.
/// </summary>
public sealed class ClusterOutageTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task CallsToAnUnavailableSiloAnswerUnavailableAndReadinessFollowsTheGatewaysConnection()
    {
        var campaignId = await fixture.DefineCampaignAsync(groupSize: 2);
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        // Bounded: before this gateway had a response timeout, these calls waited 30 s.
        using var anonymous = new HttpClient { BaseAddress = fixture.GatewayUrl, Timeout = TimeSpan.FromSeconds(15) };
        (await anonymous.GetAsync($"/api/groups/{groupId}")).EnsureSuccessStatusCode();

        var group = fixture.Grains.GetGrain<IOrderGrain>(groupId);
        var host = await fixture.Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(group);
        Assert.NotNull(host);
        var victim = fixture.Silos.Single(s => s.Options.SiloPort == host.Endpoint.Port);
        var survivor = fixture.Silos.Single(s => s != victim);
        await victim.FreezeAsync();
        try
        {
            using (var read = await anonymous.GetAsync($"/api/groups/{groupId}"))
            {
                await Json.ProblemAsync(read, HttpStatusCode.ServiceUnavailable, "unavailable");
                Assert.Equal(TimeSpan.FromSeconds(2), read.Headers.RetryAfter?.Delta);
            }
            // A pay waits up to Gateway:Cluster:ResponseTimeout (12 s, above a pay's WeChat budget) plus Orleans' timer slack.
            using (var pay = await leader.PayResponseAsync(groupId).WaitAsync(TimeSpan.FromSeconds(25)))
            {
                await Json.ProblemAsync(pay, HttpStatusCode.ServiceUnavailable, "unavailable");
            }
            using (var ready = await anonymous.GetAsync("/health/ready"))
            {
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            }

            // The survivor declares the frozen silo dead; the group activates there from the store.
            var status = await GatewayFixture.EventuallyAsync(
                async () =>
                {
                    using var read = await anonymous.GetAsync($"/api/groups/{groupId}");
                    return read.StatusCode;
                },
                s => s == HttpStatusCode.OK,
                seconds: 60);
            Assert.Equal(HttpStatusCode.OK, status);
        }
        finally
        {
            await victim.ThawAsync();
        }

        // No silo left: the gateway reaches nothing, says so, and answers 503 (not 500) to reads.
        await survivor.KillAsync();
        await victim.KillAsync();
        using (var ready = await anonymous.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }
        using (var read = await anonymous.GetAsync($"/api/groups/{groupId}"))
        {
            await Json.ProblemAsync(read, HttpStatusCode.ServiceUnavailable, "unavailable");
        }
    }
}
