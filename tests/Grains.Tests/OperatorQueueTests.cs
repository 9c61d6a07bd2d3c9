using System.Diagnostics.Metrics;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using StackExchange.Redis;

namespace GroupPay.Grains.Tests;

/// <summary>The operator queue: items raised by the system, listed, counted, retried and resolved by operators.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OperatorQueueTests(ClusterFixture fixture)
{
    /// <summary>Before any other test's items (the queue is shared; it lists oldest first).</summary>
    private static readonly DateTimeOffset LongAgo = new(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private IOperatorQueueGrain Queue => fixture.Client.GetGrain<IOperatorQueueGrain>(0);

    private static string NewItemId(string prefix = "test") => $"{prefix}:{Guid.NewGuid():N}";

    private static OperatorItemReport Report(
        string itemId,
        OperatorItemKind kind = OperatorItemKind.NotifyAnomaly,
        string summary = "The notify's amount differs from the attempt.",
        string? lastAnswer = "total_fee=1",
        DateTimeOffset? at = null,
        string? groupId = null,
        string? outTradeNo = null) =>
        new(itemId, kind, groupId, outTradeNo, 990, summary, lastAnswer, ["orderquery"], at ?? DateTimeOffset.UnixEpoch.AddYears(40));

    private async Task<OperatorItem> ItemAsync(string itemId) => (await Queue.GetAsync(itemId))!;

    [Fact]
    public async Task RaisingAReportOpensAnItemWithItsFirstSighting()
    {
        var itemId = NewItemId();
        var report = Report(itemId);

        await Queue.RaiseAsync(report);

        var item = await ItemAsync(itemId);
        Assert.Equal(
            (itemId, OperatorItemKind.NotifyAnomaly, OperatorItemStatus.Open, 990L, report.Summary, "total_fee=1", 1),
            (item.ItemId, item.Kind, item.Status, item.AmountFen, item.Summary, item.LastAnswer, item.Reports));
        Assert.Equal((report.At, report.At), (item.FirstSeen, item.LastSeen));
        Assert.Equal(["orderquery"], item.Tried);
        Assert.Equal([new OperatorAction(report.At, "system", "raised", report.Summary)], item.Actions);
    }

    [Fact]
    public async Task RaisingTheSameReportAgainCountsItWithoutFloodingTheLog()
    {
        var itemId = NewItemId();
        var first = Report(itemId);
        await Queue.RaiseAsync(first);

        await Queue.RaiseAsync(first with { At = first.At.AddMinutes(1) });
        await Queue.RaiseAsync(first with { At = first.At.AddMinutes(2) });
        await Queue.RaiseAsync(first with { At = first.At.AddMinutes(3), LastAnswer = "total_fee=2", AmountFen = 1990 });

        var item = await ItemAsync(itemId);
        Assert.Equal((4, first.At, first.At.AddMinutes(3)), (item.Reports, item.FirstSeen, item.LastSeen));
        Assert.Equal(("total_fee=2", 1990L), (item.LastAnswer, item.AmountFen));
        Assert.Equal(["raised", "reported-again"], item.Actions.Select(a => a.Action));
        Assert.Equal(first.At.AddMinutes(3), item.Actions[1].At);
        Assert.Single(await AllAsync(new OperatorItemQuery(Kind: OperatorItemKind.NotifyAnomaly)), i => i.ItemId == itemId);
    }

    [Fact]
    public async Task AResolvedItemRaisedAgainIsReopened()
    {
        var itemId = NewItemId();
        var report = Report(itemId);
        await Queue.RaiseAsync(report);
        await Queue.ResolveAsync(itemId, "ops-alice", "Refunded in the merchant console.");

        await Queue.RaiseAsync(report with { At = report.At.AddHours(1) });

        var item = await ItemAsync(itemId);
        Assert.Equal((OperatorItemStatus.Open, 2), (item.Status, item.Reports));
        Assert.Equal(["raised", "resolved", "reopened"], item.Actions.Select(a => a.Action));
        Assert.Contains(await AllAsync(new OperatorItemQuery()), i => i.ItemId == itemId);
        Assert.DoesNotContain(await AllAsync(new OperatorItemQuery(OperatorItemStatus.Resolved)), i => i.ItemId == itemId);
    }

    [Fact]
    public async Task ResolvingNeedsANoteAndLogsWhoAndWhen()
    {
        var itemId = NewItemId();
        await Queue.RaiseAsync(Report(itemId));

        var noNote = await Assert.ThrowsAsync<InvalidRequestException>(() => Queue.ResolveAsync(itemId, "ops-alice", " "));
        Assert.Equal("note is required", noNote.Message);
        var noActor = await Assert.ThrowsAsync<InvalidRequestException>(() => Queue.ResolveAsync(itemId, "", "done"));
        Assert.Equal("actor is required", noActor.Message);
        await Assert.ThrowsAsync<InvalidRequestException>(() => Queue.ResolveAsync(itemId, "ops-alice", new string('x', 501)));
        await Assert.ThrowsAsync<InvalidRequestException>(() => Queue.ResolveAsync(itemId, new string('a', 65), "done"));
        Assert.Equal(OperatorItemStatus.Open, (await ItemAsync(itemId)).Status);

        var resolved = await Queue.ResolveAsync(itemId, "ops-alice", "Refunded in the merchant console.");

        Assert.Equal(OperatorItemStatus.Resolved, resolved.Status);
        Assert.Equal(new OperatorAction(fixture.Time.GetUtcNow(), "ops-alice", "resolved", "Refunded in the merchant console."), resolved.Actions[^1]);
        var stored = await ItemAsync(itemId);
        Assert.Equal(OperatorItemStatus.Resolved, stored.Status);
        Assert.Equal(resolved.Actions, stored.Actions);
        Assert.Contains(await AllAsync(new OperatorItemQuery(OperatorItemStatus.Resolved)), i => i.ItemId == itemId);
        Assert.DoesNotContain(await AllAsync(new OperatorItemQuery()), i => i.ItemId == itemId);
        var unknown = await Assert.ThrowsAsync<UnknownOperatorItemException>(() => Queue.ResolveAsync(NewItemId(), "ops-alice", "done"));
        Assert.Equal("unknown-item", unknown.Code);
    }

    [Fact]
    public async Task SettlingResolvesAnItemAsTheSystemAndIgnoresUnknownOnes()
    {
        var itemId = NewItemId("refund");
        await Queue.RaiseAsync(Report(itemId, OperatorItemKind.RefundStuck));

        await Queue.SettleAsync(itemId, "The refund succeeded.");
        await Queue.SettleAsync(itemId, "The refund succeeded.");
        await Queue.SettleAsync(NewItemId(), "Nothing to settle.");

        var item = await ItemAsync(itemId);
        Assert.Equal(OperatorItemStatus.Resolved, item.Status);
        Assert.Equal(new OperatorAction(fixture.Time.GetUtcNow(), "system", "settled", "The refund succeeded."), Assert.Single(item.Actions, a => a.Action == "settled"));
    }

    [Fact]
    public async Task ListingFiltersByKindAndPagesOldestFirst()
    {
        var ids = Enumerable.Range(0, 5).Select(_ => NewItemId("list")).ToList();
        for (var i = ids.Count - 1; i >= 0; i--)
        {
            await Queue.RaiseAsync(Report(ids[i], OperatorItemKind.ReconciliationMismatch, at: LongAgo.AddMinutes(i)));
        }
        var otherKind = NewItemId("list");
        await Queue.RaiseAsync(Report(otherKind, OperatorItemKind.EffectFailing, at: LongAgo));
        try
        {
            var query = new OperatorItemQuery(Kind: OperatorItemKind.ReconciliationMismatch, Limit: 2);
            var first = await Queue.ListAsync(query);
            var second = await Queue.ListAsync(query with { After = first.Next });
            var third = await Queue.ListAsync(query with { After = second.Next });

            Assert.Equal(ids[..2], first.Items.Select(i => i.ItemId));
            Assert.Equal(ids[1], first.Next);
            Assert.Equal(ids[2..4], second.Items.Select(i => i.ItemId));
            Assert.Equal(ids[4], third.Items[0].ItemId);
            Assert.All(first.Items.Concat(second.Items).Concat(third.Items), i => Assert.Equal(OperatorItemKind.ReconciliationMismatch, i.Kind));

            // A page boundary that was resolved in the meantime still continues where it was.
            await Queue.ResolveAsync(ids[1], "ops-bob", "Bill line matched by hand.");
            Assert.Equal(ids[2..4], (await Queue.ListAsync(query with { After = ids[1] })).Items.Select(i => i.ItemId));
            Assert.Equal([ids[1]], (await Queue.ListAsync(new OperatorItemQuery(OperatorItemStatus.Resolved, OperatorItemKind.ReconciliationMismatch, 1)))
                .Items.Select(i => i.ItemId));

            await Assert.ThrowsAsync<InvalidRequestException>(() => Queue.ListAsync(query with { Limit = 0 }));
            await Assert.ThrowsAsync<InvalidRequestException>(() => Queue.ListAsync(query with { Limit = 201 }));
            await Assert.ThrowsAsync<InvalidRequestException>(() => Queue.ListAsync(query with { After = NewItemId("never") }));
        }
        finally
        {
            foreach (var id in ids.Append(otherKind))
            {
                await Queue.ResolveAsync(id, "test", "cleanup");
            }
        }
    }

    [Fact]
    public async Task CountsAreByKindWithTheOldestOpenItem()
    {
        var before = await Queue.CountsAsync();
        var ids = new[] { NewItemId(), NewItemId(), NewItemId() };
        await Queue.RaiseAsync(Report(ids[0], OperatorItemKind.ExternalRefund, at: LongAgo.AddSeconds(-7)));
        await Queue.RaiseAsync(Report(ids[1], OperatorItemKind.ExternalRefund, at: LongAgo));
        await Queue.RaiseAsync(Report(ids[2], OperatorItemKind.RefundAbnormal, at: LongAgo));
        try
        {
            var counts = await Queue.CountsAsync();

            Assert.Equal(Enum.GetValues<OperatorItemKind>(), counts.OpenByKind.Keys.Order());
            Assert.Equal(before.OpenByKind[OperatorItemKind.ExternalRefund] + 2, counts.OpenByKind[OperatorItemKind.ExternalRefund]);
            Assert.Equal(before.OpenByKind[OperatorItemKind.RefundAbnormal] + 1, counts.OpenByKind[OperatorItemKind.RefundAbnormal]);
            Assert.Equal(before.OpenByKind[OperatorItemKind.RefundStuck], counts.OpenByKind[OperatorItemKind.RefundStuck]);
            Assert.Equal(LongAgo.AddSeconds(-7), counts.OldestOpen);

            await Queue.ResolveAsync(ids[0], "ops-alice", "Partial refund accepted by the buyer.");
            var after = await Queue.CountsAsync();
            Assert.Equal(before.OpenByKind[OperatorItemKind.ExternalRefund] + 1, after.OpenByKind[OperatorItemKind.ExternalRefund]);
            Assert.Equal(LongAgo, after.OldestOpen);
        }
        finally
        {
            await Queue.ResolveAsync(ids[1], "test", "cleanup");
            await Queue.ResolveAsync(ids[2], "test", "cleanup");
        }
    }

    [Fact]
    public async Task TheGaugesReportTheOpenItemsByKindAndTheOldestOpenAge()
    {
        var services = fixture.Cluster.Silos[0].ServiceProvider;
        var meters = services.GetRequiredService<IMeterFactory>();
        using var open = new MetricCollector<int>(meters, OperatorQueueMetrics.MeterName, OperatorQueueMetrics.OpenItemsName);
        using var age = new MetricCollector<double>(meters, OperatorQueueMetrics.MeterName, OperatorQueueMetrics.OldestOpenAgeName);
        var itemId = NewItemId();
        await Queue.RaiseAsync(Report(itemId, OperatorItemKind.RefundRefused, at: LongAgo));
        try
        {
            await services.GetRequiredService<OperatorQueueMetrics>().RefreshAsync();
            var counts = await Queue.CountsAsync();

            open.RecordObservableInstruments();
            age.RecordObservableInstruments();

            var reported = open.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["kind"]!, m => m.Value);
            Assert.Equal(OperatorItemKinds.All.Order(), reported.Keys.Order());
            Assert.Equal(counts.OpenByKind.ToDictionary(p => OperatorItemKinds.Name(p.Key), p => p.Value), reported);
            Assert.Equal("refund-refused", OperatorItemKinds.Name(OperatorItemKind.RefundRefused));
            Assert.True(reported["refund-refused"] >= 1);
            Assert.Equal((fixture.Time.GetUtcNow() - LongAgo).TotalSeconds, Assert.Single(age.GetMeasurementSnapshot()).Value);
        }
        finally
        {
            await Queue.ResolveAsync(itemId, "test", "cleanup");
        }
    }

    [Fact]
    public async Task RetryIsRefusedForAnItemThatIsNotARefund()
    {
        var itemId = NewItemId();
        await Queue.RaiseAsync(Report(itemId, OperatorItemKind.NotifyAnomaly, groupId: ClusterFixture.NewGroupId(), outTradeNo: "x"));

        var refused = await Assert.ThrowsAsync<InvalidRequestException>(() => Queue.RetryAsync(itemId, "ops-alice", null));

        Assert.Equal($"Only refund items can be retried; '{itemId}' is NotifyAnomaly.", refused.Message);
        Assert.Equal(["raised"], (await ItemAsync(itemId)).Actions.Select(a => a.Action));
        await Assert.ThrowsAsync<UnknownOperatorItemException>(() => Queue.RetryAsync(NewItemId(), "ops-alice", null));
    }

    [Fact]
    public async Task RetryingARefundItemAsksTheOrderGrainAndLogsWhoRetried()
    {
        var campaignId = await fixture.DefineCampaignAsync();
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await fixture.Client.GetGrain<IOrderGrain>(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));
        var paid = await fixture.PayAsync(groupId, leader);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Open);
        var itemId = $"refund:{paid.OutTradeNo}";
        await Queue.RaiseAsync(Report(itemId, OperatorItemKind.RefundRefused, "WeChat refused the refund: NOTENOUGH.", "NOTENOUGH",
            groupId: groupId, outTradeNo: paid.OutTradeNo));

        var retried = await Queue.RetryAsync(itemId, "ops-alice", "Balance topped up.");

        Assert.Equal(OperatorItemStatus.Open, retried.Status);
        Assert.Equal(new OperatorAction(fixture.Time.GetUtcNow(), "ops-alice", "retried", "Balance topped up."), retried.Actions[^1]);
        Assert.Equal(retried.Actions, (await ItemAsync(itemId)).Actions);
        // The payment was never being refunded, so the order grain left it as it was.
        var group = await fixture.GroupAsync(groupId);
        Assert.Equal((GroupStatus.Open, 1, SlotStatus.Paid), (group.Status, group.PaidCount, group.Slots[0].Status));

        await Queue.ResolveAsync(itemId, "test", "cleanup");
        var resolved = await Assert.ThrowsAsync<InvalidRequestException>(() => Queue.RetryAsync(itemId, "ops-alice", null));
        Assert.Equal($"Item '{itemId}' is resolved; only open items can be retried.", resolved.Message);
    }

    [Fact]
    public async Task RetryForAnUnknownGroupSurfacesTheOrderGrainsErrorAndLogsNothing()
    {
        var groupId = ClusterFixture.NewGroupId();
        var itemId = NewItemId("refund");
        await Queue.RaiseAsync(Report(itemId, OperatorItemKind.RefundStuck, groupId: groupId, outTradeNo: TradeNumbers.OutTradeNo(groupId, 1)));

        var error = await Assert.ThrowsAsync<UnknownGroupException>(() => Queue.RetryAsync(itemId, "ops-alice", "try again"));

        Assert.Equal("unknown-group", error.Code);
        Assert.Equal(["raised"], (await ItemAsync(itemId)).Actions.Select(a => a.Action));
        await Queue.ResolveAsync(itemId, "test", "cleanup");
    }

    [Fact]
    public async Task AnItemKeepsItsLastHundredActionsAndCountsTheDroppedOnes()
    {
        var itemId = NewItemId();
        var report = Report(itemId);
        for (var i = 0; i < 130; i++)
        {
            await Queue.RaiseAsync(report with { Summary = $"Seen with answer #{i}.", At = report.At.AddMinutes(i) });
        }

        var item = await ItemAsync(itemId);

        Assert.Equal(OperatorItemRules.MaxActions, item.Actions.Count);
        Assert.Equal(130 - OperatorItemRules.MaxActions, item.EarlierActions);
        Assert.Equal(130, item.Reports);
        Assert.Equal(("Seen with answer #30.", "Seen with answer #129."), (item.Actions[0].Note, item.Actions[^1].Note));
        await Queue.ResolveAsync(itemId, "test", "cleanup");
    }

    [Fact]
    public async Task AFailedWriteFailsTheCallAndTheNextCallSeesOnlyWhatWasStored()
    {
        var itemId = NewItemId("fail");
        var report = Report(itemId);
        await Queue.RaiseAsync(report);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.RedisConnectionString);
        var db = redis.GetDatabase();
        var key = Assert.Single(redis.GetServer(redis.GetEndPoints()[0]).Keys(pattern: $"*{itemId}*").ToList());
        var stored = await db.HashGetAllAsync(key);

        // The store breaks for this one record (it no longer holds a hash), so the item's next write fails in Redis.
        await db.KeyDeleteAsync(key);
        await db.StringSetAsync(key, "not a grain state");
        var failed = await Assert.ThrowsAnyAsync<Exception>(() => Queue.RaiseAsync(report with { Summary = "Changed.", At = report.At.AddMinutes(1) }));
        Assert.Contains("WRONGTYPE", failed.ToString(), StringComparison.Ordinal);

        // The store recovers with what it held; the unsaved change is nowhere.
        await db.KeyDeleteAsync(key);
        await db.HashSetAsync(key, stored);
        var item = await ItemAsync(itemId);
        Assert.Equal((1, report.Summary, report.At), (item.Reports, item.Summary, item.LastSeen));
        Assert.Equal(["raised"], item.Actions.Select(a => a.Action));

        await Queue.RaiseAsync(report with { Summary = "Changed.", At = report.At.AddMinutes(2) });
        var after = await ItemAsync(itemId);
        Assert.Equal((2, "Changed.", report.At.AddMinutes(2)), (after.Reports, after.Summary, after.LastSeen));
        await Queue.ResolveAsync(itemId, "test", "cleanup");
    }

    private async Task<List<OperatorItem>> AllAsync(OperatorItemQuery query)
    {
        var items = new List<OperatorItem>();
        for (var page = await Queue.ListAsync(query with { Limit = 200 }); ; page = await Queue.ListAsync(query with { Limit = 200, After = page.Next }))
        {
            items.AddRange(page.Items);
            if (page.Next is null)
            {
                return items;
            }
        }
    }
}
