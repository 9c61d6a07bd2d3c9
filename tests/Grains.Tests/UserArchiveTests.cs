using GroupPay.Grains.Referrals;
using Npgsql;
using StackExchange.Redis;

namespace GroupPay.Grains.Tests;

/// <summary>Users archived as soon as they settle, with a retention of an hour (the tests delete the keys to stand in
/// for their expiry).</summary>
public sealed class UserArchiveFixture : PostgresArchiveFixture
{
    protected override Dictionary<string, string?> RetentionSettings => new()
    {
        ["Referrals:Retention"] = "01:00:00",
        ["Referrals:ArchiveAfter"] = "00:00:00",
    };
}

/// <summary>What a user's keys look like in the grain store.</summary>
internal sealed class UserKeys(ClusterFixture fixture) : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _redis = new(() => ConnectionMultiplexer.ConnectAsync(fixture.StoreConnectionString));

    public string State(string openid) => $"{fixture.ServiceId}/state/referral/{openid}/referral";

    public string Code(string code) => $"{fixture.ServiceId}/state/referral-code/{code}/code";

    public string Ledger(string openid, string name) => $"{fixture.ServiceId}/referral/{openid}/{name}";

    /// <summary>Every key of the user that leaves the grain store with their state (the China days' counts expire
    /// by themselves).</summary>
    public IEnumerable<string> All(string openid, string? code) =>
        [State(openid), .. new[] { "invitees", "rewards", "order", "grants", "unarchived" }.Select(n => Ledger(openid, n)), .. code is null ? [] : new[] { Code(code) }];

    private async Task<IDatabase> DbAsync() => (await _redis.Value).GetDatabase();

    /// <summary>The key's time to live: null when it has none, <see cref="TimeSpan.Zero"/> when it does not exist.</summary>
    public async Task<TimeSpan?> TtlAsync(string key)
    {
        var db = await DbAsync();
        return await db.KeyExistsAsync(key) ? await db.KeyTimeToLiveAsync(key) : TimeSpan.Zero;
    }

    public async Task<bool> ExistsAsync(string key) => await (await DbAsync()).KeyExistsAsync(key);

    /// <summary>Stands in for Redis' expiry of the keys.</summary>
    public async Task DeleteAsync(IEnumerable<string> keys) => await (await DbAsync()).KeyDeleteAsync([.. keys.Select(k => (RedisKey)k)]);

    public async ValueTask DisposeAsync()
    {
        if (_redis.IsValueCreated)
        {
            await (await _redis.Value).DisposeAsync();
        }
    }
}

public sealed class UserArchiveTests(UserArchiveFixture fixture) : IClassFixture<UserArchiveFixture>
{
    private static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    private IReferralGrain User(string openid) => fixture.Client.GetGrain<IReferralGrain>(openid);

    private async Task<T?> ArchivedAsync<T>(string sql, string openid)
    {
        await using var connection = new NpgsqlConnection(fixture.ArchiveConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", openid);
        return await command.ExecuteScalarAsync() is T value ? value : default;
    }

    private static bool Expires(TimeSpan? ttl) => ttl is { } t && t > TimeSpan.Zero && t <= Retention;

    /// <summary>An inviter with a code, one invitee bound through it, and <paramref name="rewards"/> rewards for that
    /// invitee's payments, the first reversed and the rest granted: settled.</summary>
    private async Task<(string Inviter, string Code, string Invitee)> SettledInviterAsync(int rewards)
    {
        var (inviter, invitee) = (ClusterFixture.NewUser(), ClusterFixture.NewUser());
        var code = (await User(inviter).GetProfileAsync()).ReferralCode;
        Assert.Equal(BindingOutcome.Bound, (await User(invitee).BindInviterAsync(code)).Outcome);
        var now = fixture.Time.GetUtcNow();
        for (var i = 0; i < rewards; i++)
        {
            await User(inviter).AddPendingRewardAsync(new RewardEntry($"{inviter}P{i:d2}", "c1", 100, DailyCap: 1000, now));
        }
        await User(inviter).ReverseRewardAsync($"{inviter}P00");
        for (var i = 1; i < rewards; i++)
        {
            await User(inviter).ScheduleGrantAsync($"{inviter}P{i:d2}", now);
        }
        return (inviter, code, invitee);
    }

    [Fact]
    public async Task ASettledUserIsArchivedWithEveryRewardAndTheirKeysGetTheExpiry()
    {
        await using var keys = new UserKeys(fixture);
        var (inviter, code, invitee) = await SettledInviterAsync(rewards: 3);

        var granted = await ClusterFixture.EventuallyAsync(
            () => ArchivedAsync<long?>("SELECT granted_fen FROM grouppay_users WHERE openid = @id AND invited_count = 1", inviter), fen => fen is 200);
        Assert.Equal(200L, granted);
        Assert.Equal(code, await ArchivedAsync<string>("SELECT referral_code FROM grouppay_users WHERE openid = @id", inviter));
        Assert.Equal(100L, await ArchivedAsync<long>("SELECT reversed_fen FROM grouppay_users WHERE openid = @id", inviter));
        Assert.Equal(2L, await ArchivedAsync<long>("SELECT count(*) FROM grouppay_rewards WHERE openid = @id AND status = 'granted'", inviter));
        Assert.Equal(1L, await ArchivedAsync<long>("SELECT count(*) FROM grouppay_rewards WHERE openid = @id AND status = 'reversed'", inviter));
        Assert.Equal(invitee, await ArchivedAsync<string>("SELECT invitee_openid FROM grouppay_invitees WHERE inviter_openid = @id", inviter));
        Assert.Equal(inviter, await ClusterFixture.EventuallyAsync(
            () => ArchivedAsync<string>("SELECT inviter_openid FROM grouppay_users WHERE openid = @id", invitee), o => o is not null));

        // The archive became current first; then the state, the ledger and the code carry the expiry.
        Assert.True(Expires(await ClusterFixture.EventuallyAsync(() => keys.TtlAsync(keys.State(inviter)), Expires)));
        foreach (var key in new[] { keys.Ledger(inviter, "rewards"), keys.Ledger(inviter, "order"), keys.Ledger(inviter, "invitees"), keys.Code(code) })
        {
            Assert.True(Expires(await keys.TtlAsync(key)), key);
        }
        Assert.False(await keys.ExistsAsync(keys.Ledger(inviter, "unarchived"))); // every change archived
    }

    [Fact]
    public async Task AUserWithAPendingRewardIsNotArchived()
    {
        await using var keys = new UserKeys(fixture);
        var inviter = ClusterFixture.NewUser();
        await User(inviter).AddPendingRewardAsync(new RewardEntry($"{inviter}P1", "c1", 100, DailyCap: 10, fixture.Time.GetUtcNow()));
        await User(inviter).GetProfileAsync();
        await Task.Delay(500);

        Assert.Null(await ArchivedAsync<string>("SELECT openid FROM grouppay_users WHERE openid = @id", inviter));
        Assert.Null(await ArchivedAsync<string>("SELECT status FROM grouppay_rewards WHERE openid = @id", inviter));
        Assert.Null(await keys.TtlAsync(keys.State(inviter)));
        Assert.Null(await keys.TtlAsync(keys.Ledger(inviter, "rewards")));
    }

    [Fact]
    public async Task ALaterChangeRemovesTheExpiryUntilTheArchiveHasItToo()
    {
        await using var keys = new UserKeys(fixture);
        var (inviter, code, _) = await SettledInviterAsync(rewards: 2);
        Assert.True(Expires(await ClusterFixture.EventuallyAsync(() => keys.TtlAsync(keys.State(inviter)), Expires)));

        // A new pending reward: not settled, so not archived; the keys stay for good meanwhile.
        var now = fixture.Time.GetUtcNow();
        await User(inviter).AddPendingRewardAsync(new RewardEntry($"{inviter}P99", "c1", 100, DailyCap: 1000, now));
        foreach (var key in keys.All(inviter, code).Where(k => !k.EndsWith("/grants", StringComparison.Ordinal) && !k.EndsWith("/unarchived", StringComparison.Ordinal)))
        {
            Assert.True(await keys.TtlAsync(key) is null, key);
        }
        Assert.True(await keys.ExistsAsync(keys.Ledger(inviter, "unarchived")));
        Assert.Null(await ArchivedAsync<string>("SELECT status FROM grouppay_rewards WHERE openid = @id AND payment_id LIKE '%P99'", inviter));

        // Granted: settled again, archived again, and only then expiring again.
        await User(inviter).ScheduleGrantAsync($"{inviter}P99", now);
        Assert.Equal("granted", await ClusterFixture.EventuallyAsync(
            () => ArchivedAsync<string>("SELECT status FROM grouppay_rewards WHERE openid = @id AND payment_id LIKE '%P99'", inviter), s => s is not null));
        Assert.True(Expires(await ClusterFixture.EventuallyAsync(() => keys.TtlAsync(keys.State(inviter)), Expires)));
        Assert.Equal(200L, await ArchivedAsync<long>("SELECT granted_fen FROM grouppay_users WHERE openid = @id", inviter));
        Assert.True(Expires(await keys.TtlAsync(keys.Code(code))));
    }

    [Fact]
    public async Task AfterTheKeysExpireTheProfileCodeBindingAndRewardsAreReadFromTheArchive()
    {
        await using var keys = new UserKeys(fixture);
        var (inviter, code, invitee) = await SettledInviterAsync(rewards: 25);
        Assert.True(Expires(await ClusterFixture.EventuallyAsync(() => keys.TtlAsync(keys.State(inviter)), Expires)));
        Assert.True(Expires(await ClusterFixture.EventuallyAsync(() => keys.TtlAsync(keys.State(invitee)), Expires)));
        var before = await User(inviter).GetRewardsAsync();
        var beforePage = await User(inviter).GetRewardPageAsync(20, before.Next);

        // Both users' keys and the code's expire (deleted here), and their activations are gone.
        await keys.DeleteAsync([.. keys.All(inviter, code), .. keys.All(invitee, null)]);
        await fixture.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.False(await keys.ExistsAsync(keys.State(inviter)));

        // The code still resolves to its owner (read from the archive), and nobody else can claim it.
        Assert.Equal(inviter, await fixture.Client.GetGrain<IReferralCodeGrain>(code).ResolveAsync());
        Assert.False(await fixture.Client.GetGrain<IReferralCodeGrain>(code).ClaimAsync(ClusterFixture.NewUser()));
        // The invitee's binding is back.
        Assert.Equal(inviter, await User(invitee).GetInviterAsync());
        Assert.Equal(BindingOutcome.AlreadyBound, (await User(invitee).BindInviterAsync(code)).Outcome);

        var profile = await User(inviter).GetProfileAsync();
        Assert.Equal(code, profile.ReferralCode);
        var after = await User(inviter).GetRewardsAsync();
        Assert.Equal((before.PendingFen, before.GrantedFen, before.ReversedFen, before.InvitedCount), (after.PendingFen, after.GrantedFen, after.ReversedFen, after.InvitedCount));
        Assert.Equal(before.Rewards, after.Rewards);
        var afterPage = await User(inviter).GetRewardPageAsync(20, after.Next);
        Assert.Equal(beforePage.Rewards, afterPage.Rewards);
        Assert.Equal(5, afterPage.Rewards.Count);
        Assert.True(await keys.ExistsAsync(keys.State(inviter)));

        // A reward already archived is not added twice; a new invitee binds through the expired code.
        await User(inviter).AddPendingRewardAsync(new RewardEntry($"{inviter}P03", "c1", 100, DailyCap: 1000, fixture.Time.GetUtcNow()));
        var newcomer = ClusterFixture.NewUser();
        Assert.Equal(new InviterBinding(BindingOutcome.Bound, inviter), await User(newcomer).BindInviterAsync(code));
        var now = await User(inviter).GetRewardsAsync();
        Assert.Equal((before.PendingFen, before.GrantedFen, 2), (now.PendingFen, now.GrantedFen, now.InvitedCount));
        Assert.Equal(2L, await ClusterFixture.EventuallyAsync(
            () => ArchivedAsync<long>("SELECT count(*) FROM grouppay_invitees WHERE inviter_openid = @id", inviter), n => n == 2));
        Assert.Equal(inviter, await fixture.Client.GetGrain<IReferralCodeGrain>(code).ResolveAsync());
    }
}

/// <summary>Without an archive nothing about a user expires.</summary>
[Collection(ClusterCollection.Name)]
public sealed class UserRetentionWithoutArchiveTests(ClusterFixture fixture)
{
    [Fact]
    public async Task WithNoArchiveConfiguredASettledUsersKeysNeverExpire()
    {
        await using var keys = new UserKeys(fixture);
        var (inviter, invitee) = (ClusterFixture.NewUser(), ClusterFixture.NewUser());
        var user = fixture.Client.GetGrain<IReferralGrain>(inviter);
        var code = (await user.GetProfileAsync()).ReferralCode;
        await fixture.Client.GetGrain<IReferralGrain>(invitee).BindInviterAsync(code);
        var now = fixture.Time.GetUtcNow();
        await user.AddPendingRewardAsync(new RewardEntry($"{inviter}P1", "c1", 100, DailyCap: 10, now));
        await user.ScheduleGrantAsync($"{inviter}P1", now);
        Assert.Equal(100, (await user.GetRewardsAsync()).GrantedFen);
        await Task.Delay(500);

        foreach (var key in new[] { keys.State(inviter), keys.Ledger(inviter, "rewards"), keys.Ledger(inviter, "order"), keys.Ledger(inviter, "invitees"), keys.Code(code) })
        {
            Assert.True(await keys.ExistsAsync(key), key);
            Assert.True(await keys.TtlAsync(key) is null, key);
        }
        Assert.False(await keys.ExistsAsync(keys.Ledger(inviter, "unarchived")));
    }
}
