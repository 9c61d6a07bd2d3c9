using GroupPay.Grains.Orders;
using GroupPay.Testing;
using Npgsql;
using StackExchange.Redis;

namespace GroupPay.Grains.Tests;

/// <summary>A cluster whose archive is a real PostgreSQL (a database of its own), with the retention settings of the
/// fixture that derives from it.</summary>
public abstract class PostgresArchiveFixture : ClusterFixture
{
    private PostgresServer _postgres = null!;

    public string ArchiveConnection { get; private set; } = "";

    /// <summary>The settings (retention, archive delays) the fixture's tests need.</summary>
    protected abstract Dictionary<string, string?> RetentionSettings { get; }

    public override async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        ArchiveConnection = await _postgres.CreateDatabaseAsync();
        await base.InitializeAsync();
    }

    protected override Dictionary<string, string?> MerchantSettings()
    {
        var settings = base.MerchantSettings();
        settings["ConnectionStrings:Archive"] = ArchiveConnection;
        foreach (var (key, value) in RetentionSettings)
        {
            settings[key] = value;
        }
        return settings;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _postgres.DisposeAsync();
    }
}

/// <summary>Groups archived when settled, with a retention of seconds, so that a settled group leaves the grain store
/// within a test.</summary>
public sealed class ArchiveFixture : PostgresArchiveFixture
{
    protected override Dictionary<string, string?> RetentionSettings => new() { ["Orders:Retention"] = "00:00:03" };
}

public sealed class ArchiveTests(ArchiveFixture fixture) : IClassFixture<ArchiveFixture>
{
    private IOrderGrain Group(string groupId) => fixture.Client.GetGrain<IOrderGrain>(groupId);

    private async Task<T?> ArchivedAsync<T>(string sql, string groupId)
    {
        await using var connection = new NpgsqlConnection(fixture.ArchiveConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", groupId);
        return await command.ExecuteScalarAsync() is T value ? value : default;
    }

    private async Task<bool> StoredAsync(string groupId)
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.StoreConnectionString);
        return await redis.GetDatabase().KeyExistsAsync($"{fixture.ServiceId}/state/order/{groupId}/order");
    }

    [Fact]
    public async Task ACompletedGroupIsArchivedThenLeavesTheGrainStoreAndIsStillReadFromTheArchive()
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2));
        var groupId = ClusterFixture.NewGroupId();
        var (leader, friend) = (ClusterFixture.NewUser(), ClusterFixture.NewUser());
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        await fixture.PayAsync(groupId, leader);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Open);
        await fixture.PayAsync(groupId, friend);

        var status = await ClusterFixture.EventuallyAsync(() => ArchivedAsync<string>("SELECT status FROM grouppay_groups WHERE group_id = @id", groupId), s => s is not null);
        Assert.Equal("Complete", status);
        Assert.Equal(1980L, await ArchivedAsync<long>("SELECT paid_fen FROM grouppay_groups WHERE group_id = @id", groupId));
        Assert.Equal(2L, await ArchivedAsync<long>("SELECT count(*) FROM grouppay_payments WHERE group_id = @id AND kept", groupId));

        // The state expires from Redis by itself (retention 3 s here); a new activation reads the archive.
        Assert.False(await ClusterFixture.EventuallyAsync(() => StoredAsync(groupId), stored => !stored));
        await fixture.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var view = await Group(groupId).GetAsync(friend);
        Assert.Equal((GroupStatus.Complete, 2, (int?)1), (view.Status, view.PaidCount, view.MySlot));
        var payments = await Group(groupId).GetPaymentsAsync();
        Assert.Equal(2, payments.Payments.Count);
        Assert.False(await StoredAsync(groupId));
    }

    [Fact]
    public async Task AFailedGroupIsArchivedOnlyOnceEveryRefundSettled()
    {
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 3));
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        await fixture.PayAsync(groupId, leader);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Open);

        await fixture.AdvanceAsync(TimeSpan.FromMinutes(61));

        var failed = await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Slots[0].Status == SlotStatus.Refunded);
        Assert.Equal(GroupStatus.Failed, failed.Status);
        var refunded = await ClusterFixture.EventuallyAsync(
            () => ArchivedAsync<long>("SELECT refunded_fen FROM grouppay_groups WHERE group_id = @id", groupId), fen => fen > 0);
        Assert.Equal(990L, refunded);
        Assert.Equal(1L, await ArchivedAsync<long>("SELECT count(*) FROM grouppay_payments WHERE group_id = @id AND NOT kept AND refunded_at IS NOT NULL", groupId));
    }

    [Fact]
    public async Task AnOpenGroupIsNotArchived()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await Group(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        await fixture.PayAsync(groupId, leader);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Open);
        await Task.Delay(500);

        Assert.Null(await ArchivedAsync<string>("SELECT status FROM grouppay_groups WHERE group_id = @id", groupId));
        Assert.True(await StoredAsync(groupId));
    }
}
