using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;
using Orleans.Concurrency;

namespace GroupPay.Grains.Stats;

/// <summary>The figures live in Redis (<see cref="RedisTallyStore"/>), so this grain keeps no state and any silo
/// may serve it.</summary>
[GrainType("stats"), StatelessWorker]
public sealed class StatsGrain(RedisTallyStore store) : Grain, IStatsGrain
{
    private const int RecountParallelism = 32;

    public async Task AddAsync(string batchId, IReadOnlyList<CounterIncrement> increments)
    {
        ArgumentException.ThrowIfNullOrEmpty(batchId);
        ArgumentNullException.ThrowIfNull(increments);
        if (increments.Count > 0)
        {
            await store.AddAsync(batchId, [.. increments]);
        }
    }

    public async Task<GrowthStats> GetAsync(string scope)
    {
        var c = await store.ReadCountersAsync(scope);
        long Get(Counter counter) => c.GetValueOrDefault(counter);
        return new GrowthStats(
            Get(Counter.PaymentsCreated), Get(Counter.PaymentsPaid), Get(Counter.GroupsOpened), Get(Counter.GroupsCompleted),
            Get(Counter.GroupsFailed), Get(Counter.SeedUsers), Get(Counter.NewUsers), Get(Counter.LinkOpened), Get(Counter.Joined), Get(Counter.Paid),
            Get(Counter.PaymentsRefunded));
    }

    public async Task<RecountReport> RecountAsync(string campaignId)
    {
        ArgumentException.ThrowIfNullOrEmpty(campaignId);
        var stored = new Dictionary<Counter, long>();
        var groups = 0;
        // The groups a page at a time, each page's reads in parallel (a campaign has thousands of groups).
        await foreach (var page in store.CampaignGroupsAsync(campaignId).Chunk(RecountParallelism))
        {
            var read = await Task.WhenAll(page.Select(groupId => GrainFactory.GetGrain<IOrderGrain>(groupId).GetCountsAsync()));
            foreach (var counts in read)
            {
                groups++;
                foreach (var (field, value) in counts.Counts)
                {
                    var (counter, inCampaign, _) = TallyField.Parse(field);
                    if (inCampaign)
                    {
                        stored[counter] = stored.GetValueOrDefault(counter) + value;
                    }
                }
            }
        }
        var live = await store.ReadCountersAsync(campaignId);
        // Seed and new users are the users' facts and link opens have none: only what groups count is recounted.
        var recounted = GroupCounters.Select(c => new CounterDifference(c, stored.GetValueOrDefault(c), live.GetValueOrDefault(c))).ToList();
        return new RecountReport(campaignId, groups, recounted);
    }

    private static readonly Counter[] GroupCounters =
    [
        Counter.PaymentsCreated, Counter.PaymentsPaid, Counter.PaymentsRefunded, Counter.GroupsOpened, Counter.GroupsCompleted,
        Counter.GroupsFailed, Counter.Joined, Counter.Paid,
    ];
}
