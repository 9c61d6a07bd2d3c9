using GroupPay.Grains.Referrals;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace GroupPay.Grains.Tests;

/// <summary>The user's state stays the same size however many people they invite (the issue's "a user with 100,000
/// invitees reads and writes in bounded time", measured in bytes written, never in time), and a state written before
/// the ledger left it still loads.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ReferralScaleTests(ClusterFixture fixture, ITestOutputHelper output) : IAsyncDisposable
{
    /// <summary>What every write of the user's state stores, at most.</summary>
    private const int StateBound = 8 * 1024;

    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();
    private ConnectionMultiplexer? _redis;

    private IReferralGrain User(string openid) => fixture.Client.GetGrain<IReferralGrain>(openid);

    private async Task<IDatabase> RedisAsync() =>
        (_redis ??= await ConnectionMultiplexer.ConnectAsync(fixture.RedisConnectionString)).GetDatabase();

    private string StateKey(string openid) => $"{fixture.ServiceId}/state/referral/{openid}/referral";

    /// <summary>The bytes the last write stored (the Redis hash's <c>data</c> field: what every write writes).</summary>
    private async Task<long> StoredBytesAsync(string openid) => (await (await RedisAsync()).HashGetAsync(StateKey(openid), "data")).Length();

    [Fact]
    public async Task AUserWith100000InviteesWritesTheSameFewBytesAsOneWith1000()
    {
        var inviter = ClusterFixture.NewUser();
        var earned = fixture.Time.GetUtcNow();
        var (invitees, rewards) = (0, 0);

        async Task GrowToAsync(int inviteeCount, int rewardCount)
        {
            // Many calls in flight: the grain takes them one at a time, without a client round trip between them.
            for (; invitees < inviteeCount; invitees += 500)
            {
                var from = invitees;
                await Task.WhenAll(Enumerable.Range(from, 500).Select(i => User(inviter).AddInviteeAsync($"o-invitee-{i:d7}")));
            }
            for (; rewards < rewardCount; rewards += 500)
            {
                var from = rewards;
                await Task.WhenAll(Enumerable.Range(from, 500).Select(i =>
                    User(inviter).AddPendingRewardAsync(new RewardEntry($"gscale{i:d7}P1", "c1", 100, DailyCap: int.MaxValue, earned))));
            }
            // A write of every kind at this size: a reversal, and a grant of one scheduled now.
            await User(inviter).ReverseRewardAsync($"gscale{rewardCount - 1:d7}P1");
            await User(inviter).ScheduleGrantAsync($"gscale{rewardCount - 2:d7}P1", earned);
        }

        await GrowToAsync(1_000, 1_000);
        var atThousand = await StoredBytesAsync(inviter);
        var summary = await User(inviter).GetRewardsAsync();
        Assert.Equal((1_000, 99_800L, 100L, 100L), (summary.InvitedCount, summary.PendingFen, summary.GrantedFen, summary.ReversedFen));

        // 100,000 invitees and 25,000 rewards (a reward costs a state write: more would only make the test slower).
        await GrowToAsync(100_000, 25_000);
        var atHundredThousand = await StoredBytesAsync(inviter);
        summary = await User(inviter).GetRewardsAsync();
        Assert.Equal((100_000, 2_499_600L, 200L, 200L), (summary.InvitedCount, summary.PendingFen, summary.GrantedFen, summary.ReversedFen));
        Assert.Equal(ReferralLimits.DefaultRewardPage, summary.Rewards.Count);

        Assert.True(atHundredThousand < StateBound, $"state {atHundredThousand} B");
        // The same record: only the counters' and sequence numbers' varints are a byte or two wider.
        Assert.True(atHundredThousand - atThousand <= 64, $"state {atThousand} B at 1,000 invitees, {atHundredThousand} B at 100,000");
        output.WriteLine($"referral state: {atThousand} B at 1,000 invitees and rewards, {atHundredThousand} B at 100,000 invitees and 25,000 rewards");
    }

    [Fact]
    public async Task AStateWrittenWithItsInviteesAndRewardsInsideLoadsAndMovesThemToTheLedger()
    {
        var openid = ClusterFixture.NewUser();
        var china = TimeSpan.FromHours(8);
        var day = new DateTimeOffset(2026, 11, 20, 10, 0, 0, china);
        var old = new ReferralState { HasPaid = true, FirstPaymentId = "gold00001P1", Invitees = ["o-old-1", "o-old-2", "o-old-3"] };
        for (var i = 0; i < 25; i++)
        {
            old.Rewards[$"gold{i:d5}P2"] = new Reward
            {
                CampaignId = "c1",
                AmountFen = 100,
                EarnedAt = day + TimeSpan.FromMinutes(i),
                Status = i switch { 0 => RewardStatus.Granted, 1 => RewardStatus.Reversed, _ => RewardStatus.Pending },
                // One was scheduled and is due: the old activation's reminder may be gone, the ledger's sweep grants it.
                GrantAt = i == 2 ? fixture.Time.GetUtcNow() - TimeSpan.FromMinutes(1) : null,
            };
        }
        var data = _services.GetRequiredService<Serializer>().SerializeToArray(old);
        await (await RedisAsync()).HashSetAsync(StateKey(openid), [new HashEntry("etag", "written-by-the-old-code"), new HashEntry("data", data)]);

        var summary = await User(openid).GetRewardsAsync();
        Assert.Equal((3, 2400L, 100L), (summary.InvitedCount, summary.PendingFen + summary.GrantedFen, summary.ReversedFen));
        Assert.Equal([.. Enumerable.Range(5, 20).Reverse().Select(i => $"gold{i:d5}P2")], summary.Rewards.Select(r => r.PaymentId));
        var older = await User(openid).GetRewardPageAsync(20, summary.Next);
        Assert.Equal(["gold00004P2", "gold00003P2", "gold00002P2", "gold00001P2", "gold00000P2"], older.Rewards.Select(r => r.PaymentId));
        Assert.Null(older.Next);
        // The scheduled one, due already, is granted by the sweep (the migration registered its reminder).
        await fixture.AdvanceAsync(TimeSpan.FromMinutes(2));
        summary = await ClusterFixture.EventuallyAsync(User(openid).GetRewardsAsync, r => r.GrantedFen == 200);
        Assert.Equal((2200L, 200L, 100L), (summary.PendingFen, summary.GrantedFen, summary.ReversedFen));

        // Stored again without them, and every idempotency still holds.
        byte[] storedData = (await (await RedisAsync()).HashGetAsync(StateKey(openid), "data"))!;
        var stored = _services.GetRequiredService<Serializer>().Deserialize<ReferralState>(storedData)!;
        Assert.Equal((0, 0, 25L, true), (stored.Invitees.Count, stored.Rewards.Count, stored.RewardCount, stored.HasPaid));
        await User(openid).AddInviteeAsync("o-old-2");
        await User(openid).AddPendingRewardAsync(new RewardEntry("gold00007P2", "c1", 100, DailyCap: 100, day));
        // The day's 25 old rewards count against its cap; the next China day's do not.
        await User(openid).AddPendingRewardAsync(new RewardEntry("gnew00001P2", "c1", 100, DailyCap: 25, day + TimeSpan.FromHours(1)));
        await User(openid).AddPendingRewardAsync(new RewardEntry("gnew00002P2", "c1", 100, DailyCap: 25, day + TimeSpan.FromDays(1)));
        await User(openid).ReverseRewardAsync("gold00000P2");
        summary = await User(openid).GetRewardsAsync();
        Assert.Equal((3, 2300L, 100L, 200L), (summary.InvitedCount, summary.PendingFen, summary.GrantedFen, summary.ReversedFen));
        Assert.Equal("gnew00002P2", summary.Rewards[0].PaymentId);
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
        await _services.DisposeAsync();
    }
}
