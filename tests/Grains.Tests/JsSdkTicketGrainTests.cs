using System.Net.Http.Json;
using System.Text.Json;
using GroupPay.Grains.Sharing;
using GroupPay.WeChatPay.OfficialAccount;

namespace GroupPay.Grains.Tests;

/// <summary>The cluster's JS-SDK ticket against the sandbox's official-account API: fetched once for many callers,
/// refreshed ahead of expiry, and a failure answered plainly and not retried on every call.</summary>
[Collection(ClusterCollection.Name)]
public sealed class JsSdkTicketGrainTests(ClusterFixture fixture)
{
    // Each test its own activation (the cluster uses key 0), so one test's ticket is not another's.
    private static long _nextKey = 1000 + Random.Shared.Next(1_000_000);

    private IJsSdkTicketGrain NewHolder() => fixture.Client.GetGrain<IJsSdkTicketGrain>(Interlocked.Increment(ref _nextKey));

    private async Task<(int Tokens, int Tickets)> FetchesAsync()
    {
        var counts = await fixture.Sandbox.GetFromJsonAsync<JsonElement>("/sandbox/jssdk");
        return (counts.GetProperty("tokenFetches").GetInt32(), counts.GetProperty("ticketFetches").GetInt32());
    }

    [Fact]
    public async Task ManyCallersAtOnceCauseOneTokenAndOneTicketFetch()
    {
        var holder = NewHolder();
        var before = await FetchesAsync();

        var tickets = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => holder.GetAsync()));

        Assert.Single(tickets.Select(t => t.Ticket).Distinct());
        Assert.Equal((before.Tokens + 1, before.Tickets + 1), await FetchesAsync());
        // The ticket signs a wx.config the sandbox's stand-in accepts.
        var signature = JsSdkSignature.Sign(tickets[0].Ticket, "Wm3WZYTPz0wzccnW", 1414587457, "http://127.0.0.1:5000/g/abcdef123456");
        var verdict = await fixture.Sandbox.GetFromJsonAsync<JsonElement>(
            $"/sandbox/jssdk/verify?appId={ClusterFixture.AppId}&timestamp=1414587457&nonceStr=Wm3WZYTPz0wzccnW&signature={signature}&url={Uri.EscapeDataString("http://127.0.0.1:5000/g/abcdef123456")}");
        Assert.True(verdict.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task AnAgeingTicketIsStillServedWhileTheNextOneIsFetched()
    {
        var holder = NewHolder();
        var first = await holder.GetAsync();
        var before = await FetchesAsync();

        // Into the last ten minutes of the ticket's life: still handed out, and a new one is fetched beside the call.
        await fixture.AdvanceAsync(first.ExpiresAt - fixture.Time.GetUtcNow() - TimeSpan.FromMinutes(5));
        Assert.Equal(first.Ticket, (await holder.GetAsync()).Ticket);
        var next = await ClusterFixture.EventuallyAsync(holder.GetAsync, t => t.Ticket != first.Ticket);

        Assert.True(next.ExpiresAt > first.ExpiresAt);
        Assert.Equal((before.Tokens + 1, before.Tickets + 1), await FetchesAsync());
    }

    [Fact]
    public async Task WhenWeChatFailsTheCallerHearsItAndTheNextTryWaitsHalfAMinute()
    {
        var holder = NewHolder();
        await fixture.SetFaultsAsync(new { officialAccountErrors = 1 });
        try
        {
            var failure = await Assert.ThrowsAsync<WeChatUnavailableException>(holder.GetAsync);
            Assert.Contains("errcode -1", failure.Message, StringComparison.Ordinal);
            var afterFailure = await FetchesAsync();

            // Within the quiet half minute: refused at once, WeChat not asked again.
            await Assert.ThrowsAsync<WeChatUnavailableException>(holder.GetAsync);
            Assert.Equal(afterFailure, await FetchesAsync());

            await fixture.AdvanceAsync(TimeSpan.FromSeconds(31));
            Assert.False(string.IsNullOrEmpty((await holder.GetAsync()).Ticket));
        }
        finally
        {
            await fixture.ResetFaultsAsync();
        }
    }
}
