using Orleans.Concurrency;

namespace GroupPay.Grains.Stats;

/// <summary>
/// The growth figures, by campaign and in total. Every figure but the link opens is derived from stored facts: each
/// group (and each user, for seed and new users) stores what it counts with the change that made it true and delivers
/// it, at least once, to counters that apply each delivery once (docs/figures.md). Link opens have no stored fact (a
/// page view): the gateways pre-aggregate them and add them here.
/// </summary>
[Alias("grouppay.IStatsGrain")]
public interface IStatsGrain : IGrainWithIntegerKey
{
    /// <summary>Adds one flush of increments; a batch sent again under the same <paramref name="batchId"/> (within a
    /// day) is counted once.</summary>
    [Alias("AddAsync")]
    Task AddAsync(string batchId, IReadOnlyList<CounterIncrement> increments);

    /// <summary>The counters of one campaign, or of the whole shop for <see cref="StatsScope.Total"/>.</summary>
    [Alias("GetAsync"), ReadOnly]
    Task<GrowthStats> GetAsync(string scope);

    /// <summary>Recomputes a campaign's group figures from its stored groups and compares them with the live
    /// counters (an audit: both are written by the same script, so any difference is a defect to investigate).</summary>
    [Alias("RecountAsync"), ReadOnly]
    Task<RecountReport> RecountAsync(string campaignId);
}

/// <summary><see cref="IStatsGrain.RecountAsync"/>: the figures of the stored groups against the live counters.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.RecountReport")]
public sealed record RecountReport(
    [property: Id(0)] string CampaignId,
    [property: Id(1)] int Groups,
    [property: Id(2)] IReadOnlyList<CounterDifference> Counters)
{
    public bool Matches => Counters.All(c => c.Stored == c.Live);
}

[GenerateSerializer, Immutable, Alias("grouppay.CounterDifference")]
public sealed record CounterDifference([property: Id(0)] Counter Counter, [property: Id(1)] long Stored, [property: Id(2)] long Live);

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

    /// <summary>Payments whose money went back to the payer (GroupPay's refund, or one taken in from the console).</summary>
    PaymentsRefunded,
}

[GenerateSerializer, Immutable, Alias("grouppay.CounterIncrement")]
public sealed record CounterIncrement([property: Id(0)] string Scope, [property: Id(1)] Counter Counter, [property: Id(2)] long Amount);

/// <summary>docs/api.md §8.2 <c>GET /admin/stats</c>.</summary>
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
    [property: Id(9)] long Paid,
    [property: Id(10)] long PaymentsRefunded = 0)
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
