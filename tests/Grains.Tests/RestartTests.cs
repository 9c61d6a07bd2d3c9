using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Referrals;

namespace GroupPay.Grains.Tests;

/// <summary>Everything survives all silos stopping: state in Redis, reminders in Redis.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RestartTests(ClusterFixture fixture)
{
    [Fact]
    public async Task GroupsAndLedgersSurviveAFullRestartAndPendingRemindersStillFire()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        var friend = ClusterFixture.NewUser();
        var group = fixture.Client.GetGrain<IOrderGrain>(groupId);
        await group.CreateAsync(new CreateGroup(campaignId, leader, null));
        await fixture.PayAsync(groupId, leader);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Open);
        await group.JoinAsync(friend, null);
        var before = await fixture.GroupAsync(groupId, friend);
        var statsBefore = await ClusterFixture.EventuallyAsync(() => fixture.StatsAsync(campaignId), s => s.PaymentsPaid == 1 && s.GroupsOpened == 1 && s.Joined == 1 && s.SeedUsers == 1);
        var campaignBefore = await fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync();
        var code = (await fixture.Client.GetGrain<IReferralGrain>(leader).GetProfileAsync()).ReferralCode;

        await fixture.RestartClusterAsync();

        Assert.Equal(statsBefore, await fixture.StatsAsync(campaignId));
        Assert.Equal(campaignBefore, await fixture.Client.GetGrain<ICampaignGrain>(campaignId).GetAsync());
        Assert.Equal(code, (await fixture.Client.GetGrain<IReferralGrain>(leader).GetProfileAsync()).ReferralCode);

        var after = await fixture.GroupAsync(groupId, friend);
        Assert.Equal(before.Status, after.Status);
        Assert.Equal(before.Slots, after.Slots);
        Assert.Equal(before.Deadline, after.Deadline);
        Assert.Equal(1, after.MySlot);

        // The friend's hold lapses on the new cluster: the reminder registered before the restart fires.
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(16));
        var lapsed = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Slots[1].Status == SlotStatus.Free, seconds: 60);
        Assert.Equal(SlotStatus.Free, lapsed.Slots[1].Status);
    }
}
