namespace GroupPay.Grains.Reconciliation;

/// <summary>One day's reconciliation: the last report (at most <see cref="ReconciliationReport.MaxLines"/> lines) and the
/// operator items its run raised (as many), so a rerun settles those that no longer mismatch.</summary>
[GenerateSerializer, Alias("grouppay.ReconciliationState")]
public sealed class ReconciliationState
{
    [Id(0)] public ReconciliationReport? Report { get; set; }

    [Id(1)] public List<string> ItemIds { get; set; } = [];
}

/// <summary>The schedule's days within the catch-up window: those reconciled and those still pending.</summary>
[GenerateSerializer, Alias("grouppay.ReconciliationScheduleState")]
public sealed class ReconciliationScheduleState
{
    [Id(0)] public List<DateOnly> Reconciled { get; set; } = [];

    [Id(1)] public List<ScheduledDayRecord> Pending { get; set; } = [];

    [Id(2)] public DateTimeOffset? StartedAt { get; set; }
}

[GenerateSerializer, Alias("grouppay.ScheduledDayRecord")]
public sealed class ScheduledDayRecord
{
    [Id(0)] public DateOnly Day { get; set; }

    [Id(1)] public int Tries { get; set; }

    [Id(2)] public string? LastAnswer { get; set; }

    [Id(3)] public bool Escalated { get; set; }
}
