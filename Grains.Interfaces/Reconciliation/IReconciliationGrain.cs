using Orleans.Concurrency;

namespace GroupPay.Grains.Reconciliation;

/// <summary>
/// The reconciliation of one China-time day against WeChat's bill, keyed by the day as <c>yyyy-MM-dd</c>. Runs are
/// idempotent: a rerun replaces the report, updates the day's operator items and settles those that no longer
/// mismatch.
/// </summary>
[Alias("grouppay.IReconciliationGrain")]
public interface IReconciliationGrain : IGrainWithStringKey
{
    /// <summary>Downloads the day's bill, matches it against GroupPay's records, stores the report and raises one
    /// <c>reconciliation-mismatch</c> item per mismatch.</summary>
    /// <exception cref="BillNotReadyException">WeChat has not published the bill yet.</exception>
    /// <exception cref="PaymentProviderException">WeChat Pay failed or refused.</exception>
    /// <exception cref="InvalidRequestException">the key is not a day.</exception>
    [Alias("RunAsync"), ResponseTimeout("00:05:00")]
    Task<ReconciliationReport> RunAsync();

    /// <summary>The last run's report, or null when the day was never reconciled.</summary>
    [Alias("GetAsync"), ReadOnly]
    Task<ReconciliationReport?> GetAsync();
}

/// <summary>
/// Runs the daily reconciliation (key 0): an hourly reminder reconciles each of the last days whose bill is due
/// and not yet reconciled, and raises an item for a day whose bill cannot be had in time.
/// </summary>
[Alias("grouppay.IReconciliationScheduleGrain")]
public interface IReconciliationScheduleGrain : IGrainWithIntegerKey
{
    /// <summary>Registers the reminder (idempotent); every silo calls it at start.</summary>
    [Alias("StartAsync")]
    Task StartAsync();

    /// <summary>One round: what the reminder does (also callable, e.g. by tests). Returns the schedule after it.</summary>
    [Alias("TickAsync"), ResponseTimeout("00:30:00")]
    Task<ReconciliationSchedule> TickAsync();

    [Alias("GetAsync"), ReadOnly]
    Task<ReconciliationSchedule> GetAsync();
}

/// <summary>The days of the catch-up window and where each stands; when the reminder was first registered.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.ReconciliationSchedule")]
public sealed record ReconciliationSchedule(
    [property: Id(0)] IReadOnlyList<DateOnly> Reconciled,
    [property: Id(1)] IReadOnlyList<ScheduledDay> Pending,
    [property: Id(2)] DateTimeOffset? StartedAt);

/// <summary>A day not yet reconciled: how often it was tried, WeChat's last answer, whether it went to the queue.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.ScheduledDay")]
public sealed record ScheduledDay(
    [property: Id(0)] DateOnly Day,
    [property: Id(1)] int Tries,
    [property: Id(2)] string? LastAnswer,
    [property: Id(3)] bool Escalated);
