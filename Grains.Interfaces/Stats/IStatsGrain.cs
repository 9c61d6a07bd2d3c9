using Orleans.Concurrency;

namespace GroupPay.Grains.Stats;

/// <summary>Growth counters, by campaign and in total. Fed by per-silo pre-aggregation, never per notify.</summary>
[Alias("grouppay.IStatsGrain")]
public interface IStatsGrain : IGrainWithIntegerKey
{
    /// <summary>Adds one flush of increments from <paramref name="source"/>; a batch whose
    /// <paramref name="sequence"/> is not above the source's last one was applied already and is ignored.</summary>
    [Alias("AddAsync")]
    Task AddAsync(string source, long sequence, IReadOnlyList<CounterIncrement> increments);

    /// <summary>The counters of one campaign, or of the whole shop for <see cref="StatsScope.Total"/>.</summary>
    [Alias("GetAsync"), ReadOnly]
    Task<GrowthStats> GetAsync(string scope);
}

/// <summary>Counter scopes: a campaign id, or <see cref="Total"/> for the whole shop (distinct-user counters
/// are only additive within one scope).</summary>
public static class StatsScope
{
    public const string Total = "*";
}

public enum Counter
{
    PaymentsCreated,
    PaymentsPaid,
    GroupsOpened,
    GroupsCompleted,
    GroupsFailed,
    SeedUsers,
    NewUsers,
    LinkOpened,
    Joined,
    Paid,
}

[GenerateSerializer, Immutable, Alias("grouppay.CounterIncrement")]
public sealed record CounterIncrement([property: Id(0)] string Scope, [property: Id(1)] Counter Counter, [property: Id(2)] long Amount);

/// <summary>api.md <c>GET /admin/stats</c>.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.GrowthStats")]
public sealed record GrowthStats(
    [property: Id(0)] long PaymentsCreated,
    [property: Id(1)] long PaymentsPaid,
    [property: Id(2)] long GroupsOpened,
    [property: Id(3)] long GroupsCompleted,
    [property: Id(4)] long GroupsFailed,
    [property: Id(5)] long SeedUsers,
    [property: Id(6)] long NewUsers,
    [property: Id(7)] long LinkOpened,
    [property: Id(8)] long Joined,
    [property: Id(9)] long Paid)
{
    /// <summary>P = paid / created (0..1), null when nothing was created.</summary>
    public double? PaymentSuccessRate => PaymentsCreated == 0 ? null : (double)PaymentsPaid / PaymentsCreated;

    public double? GroupSuccessRate => GroupsOpened == 0 ? null : (double)GroupsCompleted / GroupsOpened;

    /// <summary>The seed's fission coefficient K = ln N_new / ln N_seed; valid only for N_seed &gt; 1 and N_new &gt; 0.</summary>
    public bool FissionKValid => SeedUsers > 1 && NewUsers > 0;

    public double? FissionK => FissionKValid ? Math.Log(NewUsers) / Math.Log(SeedUsers) : null;

    /// <summary>The standard viral coefficient k = N_new / N_seed.</summary>
    public double? ViralK => SeedUsers == 0 ? null : (double)NewUsers / SeedUsers;
}
