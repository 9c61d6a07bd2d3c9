using GroupPay.Grains.Stats;

namespace GroupPay.Grains.Tests;

public sealed class GrowthStatsTests
{
    private static GrowthStats Stats(long created = 0, long paid = 0, long opened = 0, long completed = 0, long seeds = 0, long newUsers = 0) =>
        new(created, paid, opened, completed, 0, seeds, newUsers, 0, 0, 0);

    [Fact]
    public void DerivesThePaymentAndGroupSuccessRates()
    {
        var stats = Stats(created: 8, paid: 6, opened: 4, completed: 3);
        Assert.Equal(0.75, stats.PaymentSuccessRate);
        Assert.Equal(0.75, stats.GroupSuccessRate);
        Assert.Null(Stats().PaymentSuccessRate);
        Assert.Null(Stats().GroupSuccessRate);
    }

    [Fact]
    public void DerivesTheSeedsFissionCoefficientOnlyWhereItIsDefined()
    {
        var stats = Stats(seeds: 10, newUsers: 100);
        Assert.True(stats.FissionKValid);
        Assert.Equal(2.0, stats.FissionK!.Value, precision: 12);
        Assert.Equal(10.0, stats.ViralK);

        Assert.False(Stats(seeds: 1, newUsers: 5).FissionKValid);
        Assert.Null(Stats(seeds: 1, newUsers: 5).FissionK);
        Assert.Equal(5.0, Stats(seeds: 1, newUsers: 5).ViralK);
        Assert.False(Stats(seeds: 5, newUsers: 0).FissionKValid);
        Assert.Null(Stats(seeds: 0, newUsers: 0).ViralK);
    }
}

[Collection(ClusterCollection.Name)]
public sealed class StatsGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task ABatchSentTwiceIsCountedOnce()
    {
        var scope = "c" + Guid.NewGuid().ToString("N")[..10];
        var stats = fixture.Client.GetGrain<IStatsGrain>(0);
        IReadOnlyList<CounterIncrement> batch = [new(scope, Counter.PaymentsCreated, 3), new(scope, Counter.PaymentsPaid, 2)];
        var source = "test-" + scope;

        await stats.AddAsync(source + "/1", batch);
        await stats.AddAsync(source + "/1", batch);
        await stats.AddAsync(source + "/2", [new(scope, Counter.PaymentsPaid, 1)]);

        var result = await stats.GetAsync(scope);
        Assert.Equal((3, 3), (result.PaymentsCreated, result.PaymentsPaid));
    }
}
