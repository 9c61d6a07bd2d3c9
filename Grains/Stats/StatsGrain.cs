namespace GroupPay.Grains.Stats;

[GenerateSerializer, Alias("grouppay.StatsState")]
public sealed class StatsState
{
    /// <summary>Scope → counter → value.</summary>
    [Id(0)] public Dictionary<string, Dictionary<Counter, long>> Counters { get; set; } = [];

    /// <summary>Source (a silo's flusher) → the last batch applied.</summary>
    [Id(1)] public Dictionary<string, long> LastSequence { get; set; } = [];
}

[GrainType("stats")]
public sealed class StatsGrain(
    [PersistentState("stats", GrainStorage.Name)] IPersistentState<StatsState> state) : Grain, IStatsGrain
{
    public async Task AddAsync(string source, long sequence, IReadOnlyList<CounterIncrement> increments)
    {
        ArgumentNullException.ThrowIfNull(increments);
        if (state.State.LastSequence.TryGetValue(source, out var last) && sequence <= last)
        {
            return;
        }
        foreach (var increment in increments)
        {
            if (!state.State.Counters.TryGetValue(increment.Scope, out var counters))
            {
                state.State.Counters[increment.Scope] = counters = [];
            }
            counters[increment.Counter] = checked(counters.GetValueOrDefault(increment.Counter) + increment.Amount);
        }
        state.State.LastSequence[source] = sequence;
        await state.WriteOrReloadAsync(this);
    }

    public Task<GrowthStats> GetAsync(string scope)
    {
        var c = state.State.Counters.GetValueOrDefault(scope) ?? [];
        long Get(Counter counter) => c.GetValueOrDefault(counter);
        return Task.FromResult(new GrowthStats(
            Get(Counter.PaymentsCreated), Get(Counter.PaymentsPaid), Get(Counter.GroupsOpened), Get(Counter.GroupsCompleted),
            Get(Counter.GroupsFailed), Get(Counter.SeedUsers), Get(Counter.NewUsers), Get(Counter.LinkOpened), Get(Counter.Joined), Get(Counter.Paid)));
    }
}
