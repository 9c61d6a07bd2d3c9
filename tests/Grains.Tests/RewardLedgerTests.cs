using GroupPay.Grains.Ledger;
using GroupPay.Grains.Referrals;

namespace GroupPay.Grains.Tests;

/// <summary>The reward ledger's rules over the user's state, without Redis or a grain.</summary>
public sealed class RewardLedgerTests
{
    private static readonly DateTimeOffset Earned = new(2026, 12, 1, 23, 30, 0, TimeSpan.FromHours(8));

    [Fact]
    public void AStoredRewardReadsBackAsWrittenWhateverItsCampaignIdHolds()
    {
        var reward = new StoredReward(7, "gabcP2", "camp|with|bars", 150, RewardStatus.Granted, Earned, Earned.AddHours(1));
        Assert.Equal(reward, StoredReward.Parse("gabcP2", reward.Format()));
        var unscheduled = reward with { GrantAt = null, Status = RewardStatus.Pending };
        Assert.Equal(unscheduled, StoredReward.Parse("gabcP2", unscheduled.Format()));
    }

    [Fact]
    public void ANewRewardIsNumberedCountedAndWrittenWithItsChinaDaysCount()
    {
        var state = new ReferralState();
        var writes = new CountedChanges();
        var reward = RewardLedger.Add(state, "o-a", new RewardEntry("gabcP2", "c1", 150, 5, Earned), writes);

        Assert.Equal((1L, 1L, 150L), (reward.Sequence, state.RewardCount, state.PendingFen));
        Assert.Equal(
            [
                new StoreWrite(StoreCommand.HashSet, "referral/o-a/rewards", "gabcP2", reward.Format()),
                new StoreWrite(StoreCommand.SortedSetAdd, "referral/o-a/order", "1", "gabcP2"),
                new StoreWrite(StoreCommand.HashIncrement, "referral/o-a/day/2026-12-01", "c1", "1"),
            ],
            writes.Writes);
        Assert.False(writes.MovesCounters); // a reward is no figure: the state's revision stays
    }

    [Fact]
    public void AdmissionRefusesARecordedPaymentNothingAndAFullDay()
    {
        var entry = new RewardEntry("gabcP2", "c1", 150, DailyCap: 2, Earned);
        Assert.True(RewardLedger.Admits(entry, recorded: false, earnedThatDay: 1));
        Assert.False(RewardLedger.Admits(entry, recorded: true, earnedThatDay: 0));
        Assert.False(RewardLedger.Admits(entry, recorded: false, earnedThatDay: 2));
        Assert.False(RewardLedger.Admits(entry with { AmountFen = 0 }, recorded: false, earnedThatDay: 0));
    }

    [Fact]
    public void TheStateKeepsTheNewestPageAndMovesTotalsWithEveryChange()
    {
        var state = new ReferralState();
        var rewards = Enumerable.Range(0, RewardLedger.RecentCount + 5)
            .Select(i => RewardLedger.Add(state, "o-a", new RewardEntry($"p{i:d2}", "c1", 100, 100, Earned), new CountedChanges()))
            .ToList();
        Assert.Equal(RewardLedger.RecentCount, state.RecentRewards.Count);
        Assert.Equal("p05", state.RecentRewards[0].PaymentId);

        var writes = new CountedChanges();
        var scheduled = RewardLedger.Schedule(state, "o-a", rewards[^1], Earned.AddHours(2), Earned, writes)!;
        Assert.Equal(new StoreWrite(StoreCommand.SortedSetAdd, "referral/o-a/grants", RewardLedger.Score(Earned.AddHours(2).ToUnixTimeMilliseconds()), "p24"), writes.Writes[^1]);
        Assert.Null(RewardLedger.Schedule(state, "o-a", scheduled, Earned, Earned, new CountedChanges())); // once
        Assert.Null(RewardLedger.Grant(state, "o-a", scheduled, Earned.AddHours(1), new CountedChanges())); // not yet

        writes = new CountedChanges();
        RewardLedger.Reverse(state, "o-a", scheduled, writes);
        Assert.Equal(new StoreWrite(StoreCommand.SortedSetRemove, "referral/o-a/grants", "p24"), writes.Writes[^1]);
        RewardLedger.Reverse(state, "o-a", rewards[0], new CountedChanges()); // an old one, on no page the state keeps
        Assert.Equal((2300L, 0L, 200L), (state.PendingFen, state.GrantedFen, state.ReversedFen));
        Assert.Equal(RewardStatus.Reversed, state.RecentRewards[^1].Status);

        var page = RewardLedger.RecentPage(state, 3)!.Value;
        Assert.Equal(["p24", "p23", "p22"], page.Lines.Select(l => l.PaymentId));
        Assert.Equal(23L, page.Next);
        Assert.Null(RewardLedger.RecentPage(state, RewardLedger.RecentCount + 1)); // needs the ledger
    }
}
