using System.Collections.Concurrent;
using GroupPay.Client;
using GroupPay.Grains.Orders;
using GroupPay.Samples.FulfilmentWorker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GroupPay.Gateway.Tests;

/// <summary>A shop's own service on the cluster (docs/clients.md): the sample fulfilment worker, an Orleans client
/// through <c>AddGroupPayClient</c>, hears of a group completed through the H5 API and ships it once.</summary>
[Collection(GatewayCollection.Name)]
public sealed class FulfilmentWorkerTests(GatewayFixture fixture)
{
    [Fact]
    public async Task TheWorkerShipsACompletedGroupExactlyOnce()
    {
        var shipper = new RecordingShipper();
        using var worker = await StartWorkerAsync(shipper);

        var campaignId = await fixture.DefineCampaignAsync(groupSize: 2);
        using var leader = await fixture.SignInAsync();
        var groupId = (await leader.CreateGroupAsync(campaignId)).GetProperty("groupId").GetString()!;
        await fixture.PayAtCashierAsync(await leader.PayAsync(groupId), leader.Openid);
        await GatewayFixture.EventuallyAsync(() => leader.GetJsonAsync($"/api/groups/{groupId}"), g => g.GetProperty("status").GetString() == "open");
        using var member = await fixture.SignInAsync();
        await fixture.PayAtCashierAsync(await member.PayAsync(groupId), member.Openid);

        var shipped = await GatewayFixture.EventuallyAsync(() => Task.FromResult(shipper.Of(groupId)), s => s.Count > 0);
        // Several more reads of the feed, and the group is still shipped once.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var parcel = Assert.Single(shipper.Of(groupId));
        Assert.Equal(campaignId, parcel.CampaignId);
        Assert.Equal([leader.Openid, member.Openid], parcel.Members);
        Assert.Single(shipped);

        await worker.StopAsync();
    }

    [Fact]
    public async Task TheFeedKeepsACompletionOnceAndReadsFromACursor()
    {
        var feed = fixture.Grains.GetGrain<ICompletedGroupsGrain>(0);
        var group = new CompletedGroup("feedtest" + Guid.NewGuid().ToString("N")[..8], "c-feed", DateTimeOffset.UtcNow, ["o-a", "o-b"]);

        await feed.AppendAsync(group);
        await feed.AppendAsync(group);

        var all = await ReadAllAsync(feed, 0);
        var entry = Assert.Single(all, e => e.Group.GroupId == group.GroupId);
        var after = await feed.ReadAsync(entry.Sequence, ICompletedGroupsGrain.MaxPage);
        Assert.DoesNotContain(after.Entries, e => e.Group.GroupId == group.GroupId);
        Assert.True(after.Cursor >= entry.Sequence);
        Assert.Equal(0, after.Missed);
        await Assert.ThrowsAsync<GroupPay.Grains.InvalidRequestException>(() => feed.ReadAsync(0, ICompletedGroupsGrain.MaxPage + 1));
    }

    private static async Task<List<CompletedGroupEntry>> ReadAllAsync(ICompletedGroupsGrain feed, long after)
    {
        var entries = new List<CompletedGroupEntry>();
        while (true)
        {
            var page = await feed.ReadAsync(after, ICompletedGroupsGrain.MaxPage);
            entries.AddRange(page.Entries);
            if (page.Entries.Count == 0)
            {
                return entries;
            }
            after = page.Cursor;
        }
    }

    private async Task<IHost> StartWorkerAsync(RecordingShipper shipper)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(fixture.ClusterSettings)
        {
            ["Fulfilment:PollInterval"] = "00:00:00.200",
        });
        builder.AddGroupPayClient();
        builder.Services.AddSingleton<IShipper>(shipper);
        builder.Services.AddFulfilment();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private sealed class RecordingShipper : IShipper
    {
        private readonly ConcurrentQueue<CompletedGroup> _shipped = new();

        public List<CompletedGroup> Of(string groupId) => [.. _shipped.Where(g => g.GroupId == groupId)];

        public Task ShipAsync(CompletedGroup group, CancellationToken cancellationToken)
        {
            _shipped.Enqueue(group);
            return Task.CompletedTask;
        }
    }
}
