using GroupPay.Grains.Orders;
using GroupPay.WeChatPay;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace GroupPay.Grains.Tests;

/// <summary>The <c>GroupPay</c> meters the runbook's alerts read, through OpenTelemetry's in-memory exporter while a
/// group completes in the cluster (in this process): each stored change counted once, by campaign, with its amount.</summary>
[Collection(ClusterCollection.Name)]
public sealed class MetricsTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ACompletedGroupIsCountedOnceWithItsAmountsAndItsWeChatCalls()
    {
        var exported = new List<Metric>();
        using var meters = Sdk.CreateMeterProviderBuilder()
            .AddMeter(OrderMetrics.MeterName, WeChatPayTelemetry.MeterName)
            .AddInMemoryExporter(exported)
            .Build();
        var campaignId = await fixture.DefineCampaignAsync(ClusterFixture.Campaign(groupSize: 2));
        var groupId = ClusterFixture.NewGroupId();
        var leader = ClusterFixture.NewUser();
        await fixture.Client.GetGrain<IOrderGrain>(groupId).CreateAsync(new CreateGroup(campaignId, leader, null));

        await fixture.PayAsync(groupId, leader);
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Open);
        await fixture.PayAsync(groupId, ClusterFixture.NewUser());
        await ClusterFixture.EventuallyAsync(() => fixture.GroupAsync(groupId), g => g.Status == GroupStatus.Complete);
        // Read twice: a group read (and the notify a retry would redeliver) adds nothing.
        await fixture.GroupAsync(groupId, leader);

        exported.Clear();
        meters.ForceFlush();

        Assert.Equal(2, Sum(exported, "grouppay.payments.created", campaignId));
        Assert.Equal(2 * 990, Sum(exported, "grouppay.payments.created.amount", campaignId));
        Assert.Equal(2, Sum(exported, "grouppay.payments.paid", campaignId));
        Assert.Equal(2 * 990, Sum(exported, "grouppay.payments.paid.amount", campaignId));
        Assert.Equal(1, Sum(exported, "grouppay.groups.opened", campaignId));
        Assert.Equal(1, Sum(exported, "grouppay.groups.completed", campaignId));
        Assert.Equal(0, Sum(exported, "grouppay.groups.failed", campaignId));
        Assert.Equal(0, Sum(exported, "grouppay.payments.refunded", campaignId));
        Assert.True(Calls(exported, "unifiedorder", "success") >= 2);
        Assert.Contains(exported, m => m.Name == OutboxMetrics.EffectsPendingName);
    }

    /// <summary>The sum of a counter's points tagged with the campaign (other tests' campaigns are counted too).</summary>
    private static long Sum(List<Metric> exported, string name, string campaignId)
    {
        long sum = 0;
        foreach (var metric in exported.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                foreach (var tag in point.Tags)
                {
                    if (tag.Key == "campaign" && Equals(tag.Value, campaignId))
                    {
                        sum += point.GetSumLong();
                    }
                }
            }
        }
        return sum;
    }

    private static long Calls(List<Metric> exported, string api, string outcome)
    {
        long count = 0;
        foreach (var metric in exported.Where(m => m.Name == WeChatPayTelemetry.CallDurationName))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var tags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                }
                if (Equals(tags.GetValueOrDefault("api"), api) && Equals(tags.GetValueOrDefault("outcome"), outcome))
                {
                    count += point.GetHistogramCount();
                }
            }
        }
        return count;
    }
}
