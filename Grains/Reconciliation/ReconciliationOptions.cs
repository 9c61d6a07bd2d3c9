using Microsoft.Extensions.Options;

namespace GroupPay.Grains.Reconciliation;

/// <summary>The daily bill reconciliation (section <c>Reconciliation</c>; docs/reconciliation.md).</summary>
public sealed class ReconciliationOptions
{
    public const string SectionName = "Reconciliation";

    /// <summary>False: the schedule does not run by itself (runs through the admin API still work).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>China time of the next day from which a day is reconciled (WeChat publishes the bill from 09:00).</summary>
    public TimeSpan RunAfter { get; set; } = TimeSpan.FromHours(10);

    /// <summary>China time of the next day by which a day's bill must have been had; later it is an operator item.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(18);

    /// <summary>How often the schedule looks for days to reconcile.</summary>
    public TimeSpan CheckEvery { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many days back the schedule catches up.</summary>
    public int CatchUpDays { get; set; } = 7;

    /// <summary>How many groups' payments are read at once.</summary>
    public int Parallelism { get; set; } = 16;

    /// <summary>The settings that cannot work, each naming its key.</summary>
    public IEnumerable<string> Problems()
    {
        if (RunAfter < TimeSpan.Zero || RunAfter >= TimeSpan.FromDays(1))
        {
            yield return "Reconciliation:RunAfter must be a time of day (00:00:00..23:59:59).";
        }
        if (GiveUpAfter <= RunAfter || GiveUpAfter >= TimeSpan.FromDays(2))
        {
            yield return "Reconciliation:GiveUpAfter must be later than RunAfter and under 2.00:00:00 (a time of the next day, or of the day after).";
        }
        if (CheckEvery < TimeSpan.FromMinutes(1) || CheckEvery > TimeSpan.FromHours(6))
        {
            yield return "Reconciliation:CheckEvery must be between 00:01:00 and 06:00:00.";
        }
        if (CatchUpDays is < 1 or > 60)
        {
            yield return "Reconciliation:CatchUpDays must be between 1 and 60.";
        }
        if (Parallelism is < 1 or > 256)
        {
            yield return "Reconciliation:Parallelism must be between 1 and 256.";
        }
    }
}

/// <summary>Stops the start with one line per bad <c>Reconciliation:*</c> key.</summary>
public sealed class ReconciliationOptionsValidator : IValidateOptions<ReconciliationOptions>
{
    public ValidateOptionsResult Validate(string? name, ReconciliationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
