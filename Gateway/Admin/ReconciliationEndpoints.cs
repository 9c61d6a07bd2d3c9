using System.Globalization;
using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains.Reconciliation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GroupPay.Gateway.Admin;

/// <summary><c>/admin/reconciliation</c>: the daily reconciliation against WeChat's bill (docs/reconciliation.md): a
/// day's report, and a run now; <c>X-Admin-Key</c> required (<see cref="AdminKeyAuthenticationHandler"/>).</summary>
public static class ReconciliationEndpoints
{
    private const string DayRule = "A day is yyyy-MM-dd (China time).";

    public static RouteGroupBuilder MapReconciliation(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/reconciliation").WithTags("Admin").RequireAuthorization(AdminKeyAuthenticationHandler.PolicyName).WithAdminProblems();
        group.MapGet("/{day}", GetAsync).WithName("GetReconciliation").WithSummary("The reconciliation report of a day (yyyy-MM-dd, China time).");
        group.MapPost("/{day}/run", RunAsync).RateLimitMutations().WithName("RunReconciliation").WithSummary("Reconciles the day now; 409 bill-not-ready before WeChat publishes the bill.");
        return group;
    }

    internal static async Task<Results<Ok<ReconciliationReportJson>, ProblemHttpResult>> GetAsync(string day, IGrainFactory grains)
    {
        if (Key(day) is not { } key)
        {
            return Problems.Invalid(DayRule);
        }
        return await grains.GetGrain<IReconciliationGrain>(key).GetAsync() is { } report
            ? TypedResults.Ok(ReconciliationReportJson.From(report))
            : Problems.Create(StatusCodes.Status404NotFound, "not-reconciled", $"The day {key} was not reconciled yet.");
    }

    /// <summary>Reconciles the day now (a rerun replaces the report and updates its items); 409 <c>bill-not-ready</c>
    /// while WeChat has not published the bill, 502 <c>payment-provider</c> when WeChat Pay fails.</summary>
    internal static async Task<Results<Ok<ReconciliationReportJson>, ProblemHttpResult>> RunAsync(string day, IGrainFactory grains)
    {
        if (Key(day) is not { } key)
        {
            return Problems.Invalid(DayRule);
        }
        return TypedResults.Ok(ReconciliationReportJson.From(await grains.GetGrain<IReconciliationGrain>(key).RunAsync()));
    }

    /// <summary>The grain key of <paramref name="day"/>, or null when it is not a day.</summary>
    private static string? Key(string day) =>
        DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)
            ? parsed.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : null;
}

internal sealed record ReconciliationReportJson(
    string Day,
    DateTime RanAt,
    bool Clean,
    bool BillExists,
    int BillLines,
    int GroupsRead,
    int Runs,
    DayTotalsJson Bill,
    DayTotalsJson GroupPay,
    int MismatchCount,
    IReadOnlyDictionary<string, int> CountsByKind,
    IReadOnlyList<MismatchJson> Mismatches)
{
    public static ReconciliationReportJson From(ReconciliationReport report) => new(
        report.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        report.RanAt.UtcDateTime,
        report.Clean,
        report.BillExists,
        report.BillLines,
        report.GroupsRead,
        report.Runs,
        DayTotalsJson.From(report.Bill),
        DayTotalsJson.From(report.GroupPay),
        report.MismatchCount,
        Enum.GetValues<MismatchKind>().ToDictionary(MismatchKinds.Name, k => report.CountsByKind.GetValueOrDefault(k)),
        [.. report.Mismatches.Select(m => MismatchJson.From(report.Day, m))]);
}

internal sealed record DayTotalsJson(int Payments, long PaidFen, int Refunds, long RefundedFen, long FeesFen, long NetFen)
{
    public static DayTotalsJson From(DayTotals totals) =>
        new(totals.Payments, totals.PaidFen, totals.Refunds, totals.RefundedFen, totals.FeesFen, totals.NetFen);
}

internal sealed record MismatchJson(
    string Kind,
    string ItemId,
    string? GroupId,
    string? OutTradeNo,
    string? OutRefundNo,
    long? BillFen,
    long? GroupPayFen,
    string? BillStatus,
    string? GroupPayStatus,
    string Summary)
{
    public static MismatchJson From(DateOnly day, ReconciliationMismatch mismatch) => new(
        MismatchKinds.Name(mismatch.Kind),
        ReconciliationItems.IdOf(day, mismatch),
        mismatch.GroupId,
        mismatch.OutTradeNo,
        mismatch.OutRefundNo,
        mismatch.BillFen,
        mismatch.GroupPayFen,
        mismatch.BillStatus,
        mismatch.GroupPayStatus,
        mismatch.Summary);
}
