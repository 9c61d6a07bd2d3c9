namespace GroupPay.Grains.Reconciliation;

/// <summary>What does not match between WeChat's bill of a day and GroupPay's records (docs/reconciliation.md).</summary>
public enum MismatchKind
{
    /// <summary>WeChat took money for an out_trade_no GroupPay has no paid attempt for.</summary>
    PaymentUnknown,

    /// <summary>The bill's order amount differs from the attempt's.</summary>
    PaymentAmountDiffers,

    /// <summary>Paid, but GroupPay neither keeps it (a paid slot of a live or completed group) nor refunds it.</summary>
    PaymentNotSettled,

    /// <summary>Refunds that succeeded return part of the payment only (a partial refund in the merchant console).</summary>
    PaymentPartlyRefunded,

    /// <summary>A refund number GroupPay neither issued nor took in.</summary>
    RefundUnknown,

    /// <summary>The bill's requested refund amount differs from GroupPay's.</summary>
    RefundAmountDiffers,

    /// <summary>WeChat says SUCCESS and GroupPay does not have it settled, or GroupPay has it settled and WeChat closed it.</summary>
    RefundStatusDiffers,

    /// <summary>GroupPay's payment or refund of the day that the bill does not list.</summary>
    MissingFromBill,
}

/// <summary>The kinds' names outside .NET (JSON, item ids): kebab case, <c>payment-unknown</c>.</summary>
public static class MismatchKinds
{
    private static readonly Dictionary<MismatchKind, string> Names =
        Enum.GetValues<MismatchKind>().ToDictionary(k => k, k => KebabCase(k.ToString()));

    public static string Name(MismatchKind kind) => Names[kind];

    /// <summary>Every name, in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Names.Values];

    private static string KebabCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

/// <summary>The operator items of the reconciliation.</summary>
public static class ReconciliationItems
{
    /// <summary><c>recon:{day}:{kind}:{out_refund_no or out_trade_no}</c>, characters outside the item ids' set as
    /// <c>_</c>: the same mismatch found again (a rerun) updates its item.</summary>
    public static string IdOf(DateOnly day, ReconciliationMismatch mismatch)
    {
        ArgumentNullException.ThrowIfNull(mismatch);
        var number = mismatch.OutRefundNo ?? mismatch.OutTradeNo ?? "none";
        var safe = string.Concat(number.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_'));
        var id = $"recon:{day:yyyy-MM-dd}:{MismatchKinds.Name(mismatch.Kind)}:{safe}";
        return id.Length <= Operations.OperatorItemRules.MaxItemIdLength ? id : id[..Operations.OperatorItemRules.MaxItemIdLength];
    }
}

/// <summary>One mismatch: the bill's side and GroupPay's side of one payment or refund.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.ReconciliationMismatch")]
public sealed record ReconciliationMismatch(
    [property: Id(0)] MismatchKind Kind,
    [property: Id(1)] string? GroupId,
    [property: Id(2)] string? OutTradeNo,
    [property: Id(3)] string? OutRefundNo,
    [property: Id(4)] long? BillFen,
    [property: Id(5)] long? GroupPayFen,
    [property: Id(6)] string? BillStatus,
    [property: Id(7)] string? GroupPayStatus,
    [property: Id(8)] string Summary);

/// <summary>A day's money as one side says it. <see cref="Refunds"/> counts refunds that return money (WeChat:
/// SUCCESS or PROCESSING; GroupPay: its current number while refunding or refunded, and refunds taken in), not closed
/// ones. Fees are WeChat's (net of the fees given back on refunds); GroupPay's side shows the bill's.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.DayTotals")]
public sealed record DayTotals(
    [property: Id(0)] int Payments,
    [property: Id(1)] long PaidFen,
    [property: Id(2)] int Refunds,
    [property: Id(3)] long RefundedFen,
    [property: Id(4)] long FeesFen)
{
    public static DayTotals Zero { get; } = new(0, 0, 0, 0, 0);

    /// <summary>Paid − refunded − fees.</summary>
    public long NetFen => checked(PaidFen - RefundedFen - FeesFen);
}

/// <summary>The reconciliation of one China-time day: both sides' totals, the mismatches (the first
/// <see cref="ReconciliationReport.MaxLines"/> of them; <see cref="CountsByKind"/> counts them all), and whether the day
/// is clean.</summary>
[GenerateSerializer, Immutable, Alias("grouppay.ReconciliationReport")]
public sealed record ReconciliationReport(
    [property: Id(0)] DateOnly Day,
    [property: Id(1)] DateTimeOffset RanAt,
    [property: Id(2)] bool BillExists,
    [property: Id(3)] int BillLines,
    [property: Id(4)] DayTotals Bill,
    [property: Id(5)] DayTotals GroupPay,
    [property: Id(6)] int MismatchCount,
    [property: Id(7)] IReadOnlyDictionary<MismatchKind, int> CountsByKind,
    [property: Id(8)] IReadOnlyList<ReconciliationMismatch> Mismatches,
    [property: Id(9)] int Runs,
    [property: Id(10)] int GroupsRead)
{
    /// <summary>How many mismatch lines a report keeps (and how many items one run raises).</summary>
    public const int MaxLines = 200;

    public bool Clean => MismatchCount == 0;
}

/// <summary>WeChat has not published the day's bill yet (Bill Creating, or the day is not over): try later.</summary>
[GenerateSerializer, Alias("grouppay.BillNotReadyException")]
public sealed class BillNotReadyException(string message) : GroupPayException("bill-not-ready", message);
