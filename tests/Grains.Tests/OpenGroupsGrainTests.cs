using GroupPay.Grains.Campaigns;

namespace GroupPay.Grains.Tests;

/// <summary>A campaign's newest groups (凑团): newest first, each once, bounded.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OpenGroupsGrainTests(ClusterFixture fixture)
{
    private IOpenGroupsGrain Campaign() => fixture.Client.GetGrain<IOpenGroupsGrain>("c-" + Guid.NewGuid().ToString("N")[..10]);

    [Fact]
    public async Task ListsTheNewestGroupsFirstEachOnce()
    {
        var groups = Campaign();
        await groups.AddAsync("g1aaaaaa");
        await groups.AddAsync("g2bbbbbb");
        await groups.AddAsync("g3cccccc");
        await groups.AddAsync("g1aaaaaa"); // started again: to the front, not twice

        Assert.Equal(["g1aaaaaa", "g3cccccc", "g2bbbbbb"], await groups.RecentAsync(10));
        Assert.Equal(["g1aaaaaa", "g3cccccc"], await groups.RecentAsync(2));
        Assert.Empty(await groups.RecentAsync(0));
    }

    [Fact]
    public async Task KeepsOnlyTheNewestHundred()
    {
        var groups = Campaign();
        for (var i = 0; i < IOpenGroupsGrain.Capacity + 20; i++)
        {
            await groups.AddAsync($"g{i:D8}");
        }

        var recent = await groups.RecentAsync(1000);

        Assert.Equal(IOpenGroupsGrain.Capacity, recent.Count);
        Assert.Equal($"g{IOpenGroupsGrain.Capacity + 19:D8}", recent[0]);
        Assert.Equal("g00000020", recent[^1]);
    }

    [Fact]
    public async Task ACampaignWithoutGroupsListsNone()
    {
        Assert.Empty(await Campaign().RecentAsync(10));
    }
}
