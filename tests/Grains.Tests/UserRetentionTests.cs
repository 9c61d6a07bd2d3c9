using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Referrals;

namespace GroupPay.Grains.Tests;

public sealed class UserRetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AUserIsSettledOnlyWithNoPendingReward()
    {
        Assert.True(UserRetention.IsSettled(new ReferralState { GrantedFen = 100, ReversedFen = 100 }));
        Assert.False(UserRetention.IsSettled(new ReferralState { PendingFen = 100 }));
        Assert.False(UserRetention.IsSettled(new ReferralState { Rewards = { ["p1"] = new Reward { CampaignId = "c1", AmountFen = 0 } } }));
    }

    [Fact]
    public void AChangeMakesTheArchiveStaleMarksItsRewardsAndQueuesOneArchiving()
    {
        var state = new ReferralState { ArchivedAt = Now, GrantedFen = 100 };
        var writes = new CountedChanges()
            .Write(new StoreWrite(StoreCommand.HashSet, ReferralStore.RewardsKey("o1"), "p1", "1|100|1|0||c1"))
            .Write(new StoreWrite(StoreCommand.SortedSetAdd, ReferralStore.OrderKey("o1"), "1", "p1"));

        UserRetention.Changed(state, "o1", writes, Now, TimeSpan.FromMinutes(10));
        UserRetention.Changed(state, "o1", new CountedChanges(), Now, TimeSpan.FromMinutes(10));

        Assert.Null(state.ArchivedAt);
        Assert.Contains(new StoreWrite(StoreCommand.SetAdd, ReferralStore.UnarchivedKey("o1"), "r|p1"), writes.Writes);
        var archiving = Assert.Single(state.Outbox);
        Assert.Equal((EffectKind.Archive, Now + TimeSpan.FromMinutes(10)), (archiving.Kind, archiving.NotBefore));
    }

    [Fact]
    public void AnUnsettledUserIsNotQueued()
    {
        var state = new ReferralState { PendingFen = 100 };
        UserRetention.Changed(state, "o1", new CountedChanges(), Now, TimeSpan.Zero);
        Assert.Empty(state.Outbox);
    }

    [Fact]
    public void TheKeysExpireOnlyInTheWriteAfterTheArchiveBecameCurrent()
    {
        var retention = TimeSpan.FromDays(400);
        Assert.Equal(retention, UserRetention.Expiry(null, Now, retention));
        Assert.Equal(TimeSpan.MaxValue, UserRetention.Expiry(Now, null, retention));
        Assert.Null(UserRetention.Expiry(Now, Now, retention));
        Assert.Null(UserRetention.Expiry(null, null, retention));
    }

    [Fact]
    public void TheArchiveWalksTheLedgerOnceThenCopiesOnlyWhatChanged()
    {
        var state = new ReferralState { RewardCount = 3 };
        Assert.Equal(ArchiveStep.WalkRewards, UserRetention.NextStep(state));
        UserRetention.WalkedRewards(state, [new StoredReward(3, "p3", "c1", 100, RewardStatus.Granted, Now, Now)]);
        Assert.Equal(ArchiveStep.WalkInvitees, UserRetention.NextStep(state));
        UserRetention.WalkedInvitees(state, 17);
        Assert.Equal(ArchiveStep.WalkInvitees, UserRetention.NextStep(state));
        UserRetention.WalkedInvitees(state, 0);
        Assert.Equal(ArchiveStep.Changes, UserRetention.NextStep(state));

        var writes = new CountedChanges();
        Assert.True(UserRetention.ArchivedChanges("o1", ["r|p1", "i|o2"], writes));
        Assert.Equal(2, writes.Writes.Count(w => w.Command == StoreCommand.SetRemove));
        Assert.False(UserRetention.ArchivedChanges("o1", [.. Enumerable.Range(0, UserRetention.Batch).Select(i => $"r|p{i}")], new CountedChanges()));
        var (payments, invitees) = UserRetention.Parse(["r|p1", "i|o2"]);
        Assert.Equal(["p1"], payments);
        Assert.Equal(["o2"], invitees);
    }

    [Fact]
    public void AnArchivingFailingTooLongIsReportedOnce()
    {
        var state = new ReferralState();
        var archiving = new PendingEffect { Kind = EffectKind.Archive, Subject = UserRetention.ArchiveSubject, FailingSince = Now };
        Assert.True(UserRetention.RaiseFailingEffect(state, "o1", archiving, "timeout", Now));
        var raise = Assert.Single(state.Outbox);
        Assert.Equal(EffectKind.RaiseItem, raise.Kind);
        Assert.Equal("effect:user:o1:Archive", raise.Report!.ItemId);
        Assert.False(UserRetention.RaiseFailingEffect(state, "o1", raise, "down", Now));
    }

    [Fact]
    public void TheWakeReminderFollowsTheOutbox()
    {
        var state = new ReferralState();
        var period = TimeSpan.FromMinutes(1);
        Assert.Null(UserRetention.NextWake(state, Now, period));
        state.Outbox.Add(new PendingEffect { Kind = EffectKind.Archive, Subject = "user", NotBefore = Now });
        Assert.Equal(Now + period, UserRetention.NextWake(state, Now, period));
        state.Outbox[0].NotBefore = Now + TimeSpan.FromMinutes(10);
        Assert.Equal(Now + TimeSpan.FromMinutes(10), UserRetention.NextWake(state, Now, period));
    }
}
