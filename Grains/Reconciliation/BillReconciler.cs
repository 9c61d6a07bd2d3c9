using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;
using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.Grains.Reconciliation;

/// <summary>What <see cref="BillReconciler.Reconcile"/> works from: the day's bill, the stored money of every group the
/// bill or the ledger mentions, and GroupPay's ledger of the day (and of the day before, for the midnight rule).</summary>
public sealed record ReconciliationInput
{
    /// <summary>The China-time day reconciled.</summary>
    public required DateOnly Day { get; init; }

    /// <summary>The day's bill (ALL); empty when WeChat has none (No Bill Exist).</summary>
    public required IReadOnlyList<TradeBillRow> BillRows { get; init; }

    /// <summary>The previous day's bill (null: none), needed only when <see cref="BillReconciler.NeedsPreviousBill"/> says so.</summary>
    public IReadOnlyList<TradeBillRow>? PreviousBillRows { get; init; }

    /// <summary>Each group the bill or the ledger mentions, by id; null for a group GroupPay does not have.</summary>
    public required IReadOnlyDictionary<string, GroupPayments?> Groups { get; init; }

    /// <summary>GroupPay's ledger of <see cref="Day"/>.</summary>
    public required IReadOnlyList<LedgerEntry> Ledger { get; init; }

    /// <summary>GroupPay's ledger of the day before (only its last <see cref="BillReconciler.MidnightWindow"/> is used).</summary>
    public IReadOnlyList<LedgerEntry> PreviousLedger { get; init; } = [];
}

/// <summary>The full outcome of one reconciliation (the grain keeps a bounded <see cref="ReconciliationReport"/>).</summary>
public sealed record ReconciliationResult(DayTotals Bill, DayTotals GroupPay, IReadOnlyList<ReconciliationMismatch> Mismatches);

/// <summary>
/// Matches WeChat's bill of a China-time day against GroupPay's records (docs/reconciliation.md), without Orleans:
/// <list type="bullet">
/// <item>every payment line is a paid attempt of the group its out_trade_no names, for the same amount, that GroupPay
/// keeps or refunds (and refunds that cover none or all of it);</item>
/// <item>every refund line is a refund number GroupPay issued or took in, for the same amount, whose status agrees
/// (a number WeChat closed, REFUNDCLOSE or CHANGE, is fine while GroupPay does not count it as settled; PROCESSING on
/// the bill says nothing yet);</item>
/// <item>every payment and refund GroupPay dates on the day is on the bill. The midnight rule: WeChat dates a refund by
/// its own acceptance time, GroupPay by when it heard of it, which may be milliseconds apart across midnight. An entry
/// within <see cref="MidnightWindow"/> of a day's end is checked by the next day's run (when both bills are out)
/// against both days' bills; one within the window after a day's start is looked for in that day's and the previous
/// day's bill. So is a refund taken in (a console refund), which GroupPay dates by its notify.</item>
/// </list>
/// </summary>
public static class BillReconciler
{
    /// <summary>How close to midnight an entry must be to be looked for in the neighbouring day's bill too.</summary>
    public static readonly TimeSpan MidnightWindow = TimeSpan.FromMinutes(2);

    private const string RefundTradeState = "REFUND";

    public static DateTimeOffset StartOf(DateOnly chinaDay) =>
        new(chinaDay.ToDateTime(TimeOnly.MinValue), WeChatPayTime.BeijingOffset);

    public static DateOnly DayOf(DateTimeOffset time) =>
        DateOnly.FromDateTime(time.ToOffset(WeChatPayTime.BeijingOffset).DateTime);

    /// <summary>True when some entry that may be on the previous day's bill (one near the day's start, or a refund taken
    /// in) is missing from the day's bill, so the previous day's bill must be read too. <see cref="ReconciliationInput.PreviousBillRows"/>
    /// is not used.</summary>
    public static bool NeedsPreviousBill(ReconciliationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var listed = Listed(input.BillRows);
        return EntriesToCheck(input).Any(e => e.MayBeOnPreviousBill && !listed.Contains(KeyOf(e.Entry)));
    }

    public static ReconciliationResult Reconcile(ReconciliationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var mismatches = new List<ReconciliationMismatch>();
        var checkedPayments = new HashSet<string>(StringComparer.Ordinal);

        foreach (var row in input.BillRows)
        {
            if (row.TradeState == RefundTradeState)
            {
                MatchRefund(row, input, mismatches, checkedPayments);
            }
            else
            {
                MatchPayment(row, input, mismatches, checkedPayments);
            }
        }

        var listed = Listed(input.BillRows);
        var listedBefore = input.PreviousBillRows is null ? null : Listed(input.PreviousBillRows);
        foreach (var (entry, mayBeOnPreviousBill) in EntriesToCheck(input))
        {
            var key = KeyOf(entry);
            if (listed.Contains(key) || (mayBeOnPreviousBill && listedBefore?.Contains(key) == true))
            {
                continue;
            }
            var payment = Find(input, entry.OutTradeNo);
            if (entry.Kind == LedgerEntryKind.Payment)
            {
                mismatches.Add(new ReconciliationMismatch(MismatchKind.MissingFromBill, entry.GroupId, entry.OutTradeNo, null, null, entry.AmountFen, null, StatusOf(payment),
                    $"GroupPay has {entry.OutTradeNo} paid ({entry.AmountFen} fen at {entry.At:u}) but the bill does not list it."));
                if (payment is not null && checkedPayments.Add(payment.OutTradeNo))
                {
                    CheckSettled(entry.GroupId, payment, input, mismatches);
                }
            }
            else
            {
                mismatches.Add(new ReconciliationMismatch(MismatchKind.MissingFromBill, entry.GroupId, entry.OutTradeNo, entry.OutRefundNo, null, entry.AmountFen, null,
                    payment?.Refunds.FirstOrDefault(r => r.OutRefundNo == entry.OutRefundNo) is { } fact ? StatusOf(fact) : null,
                    $"GroupPay has refund {entry.OutRefundNo} of {entry.OutTradeNo} ({entry.AmountFen} fen, accepted {entry.At:u}) but the bill does not list it."));
            }
        }

        return new ReconciliationResult(BillTotals(input.BillRows), GroupPayTotals(input, BillTotals(input.BillRows).FeesFen), mismatches);
    }

    private static void MatchPayment(TradeBillRow row, ReconciliationInput input, List<ReconciliationMismatch> mismatches, HashSet<string> checkedPayments)
    {
        var groupId = TradeNumbers.GroupIdOf(row.OutTradeNo);
        var billFen = row.TotalFeeFen ?? 0;
        if (Find(input, row.OutTradeNo) is not { } payment)
        {
            mismatches.Add(new ReconciliationMismatch(MismatchKind.PaymentUnknown, groupId, row.OutTradeNo, null, billFen, null, row.TradeState, null,
                $"WeChat took {billFen} fen for {row.OutTradeNo} (transaction {row.TransactionId}), which GroupPay has no paid attempt for."));
            return;
        }
        if (payment.AmountFen != billFen)
        {
            mismatches.Add(new ReconciliationMismatch(MismatchKind.PaymentAmountDiffers, groupId, row.OutTradeNo, null, billFen, payment.AmountFen, row.TradeState, StatusOf(payment),
                $"WeChat took {billFen} fen for {row.OutTradeNo}; GroupPay has {payment.AmountFen} fen."));
        }
        if (checkedPayments.Add(payment.OutTradeNo))
        {
            CheckSettled(groupId!, payment, input, mismatches);
        }
    }

    private static void MatchRefund(TradeBillRow row, ReconciliationInput input, List<ReconciliationMismatch> mismatches, HashSet<string> checkedPayments)
    {
        var groupId = TradeNumbers.GroupIdOf(row.OutTradeNo);
        var billFen = row.RequestedRefundFeeFen ?? row.RefundFeeFen ?? 0;
        var payment = Find(input, row.OutTradeNo);
        if (payment?.Refunds.FirstOrDefault(r => r.OutRefundNo == row.OutRefundNo) is not { } refund)
        {
            mismatches.Add(new ReconciliationMismatch(MismatchKind.RefundUnknown, groupId, row.OutTradeNo, row.OutRefundNo, billFen, null, row.RefundStatus, null,
                $"WeChat lists refund {row.OutRefundNo} of {row.OutTradeNo} ({billFen} fen, {row.RefundStatus}), which GroupPay neither issued nor took in."));
            return;
        }
        if (refund.AmountFen != billFen)
        {
            mismatches.Add(new ReconciliationMismatch(MismatchKind.RefundAmountDiffers, groupId, row.OutTradeNo, row.OutRefundNo, billFen, refund.AmountFen, row.RefundStatus, StatusOf(refund),
                $"WeChat lists refund {row.OutRefundNo} for {billFen} fen; GroupPay has {refund.AmountFen} fen."));
        }
        var wechatSucceeded = row.RefundStatus == "SUCCESS";
        var wechatClosed = row.RefundStatus is "REFUNDCLOSE" or "CHANGE";
        if ((wechatSucceeded && !refund.Succeeded) || (wechatClosed && refund.Succeeded))
        {
            mismatches.Add(new ReconciliationMismatch(MismatchKind.RefundStatusDiffers, groupId, row.OutTradeNo, row.OutRefundNo, billFen, refund.AmountFen, row.RefundStatus, StatusOf(refund),
                wechatSucceeded
                    ? $"WeChat refunded {row.OutRefundNo} ({billFen} fen) but GroupPay does not have it settled ({StatusOf(refund)})."
                    : $"GroupPay has {row.OutRefundNo} refunded but WeChat ended it {row.RefundStatus} (nothing was returned)."));
        }
        if (checkedPayments.Add(payment.OutTradeNo))
        {
            CheckSettled(groupId!, payment, input, mismatches);
        }
    }

    /// <summary>A payment must end kept (its slot counts it, nothing refunded) or refunded in full; a partial refund is
    /// neither, and so is a payment GroupPay keeps though its refunds add up to all of it.</summary>
    private static void CheckSettled(string groupId, PaymentFact payment, ReconciliationInput input, List<ReconciliationMismatch> mismatches)
    {
        var group = input.Groups.GetValueOrDefault(groupId);
        var groupKeeps = group?.Status is not (GroupStatus.Failed or GroupStatus.Abandoned);
        var kept = payment.Kept && groupKeeps && payment.RefundStatus == PaymentRefundStatus.None;
        var refunding = payment.RefundStatus != PaymentRefundStatus.None;
        if (!kept && !refunding)
        {
            mismatches.Add(new ReconciliationMismatch(MismatchKind.PaymentNotSettled, groupId, payment.OutTradeNo, null, null, payment.AmountFen, null, StatusOf(payment),
                $"GroupPay took {payment.AmountFen} fen for {payment.OutTradeNo} but neither keeps it for a slot nor refunds it."));
        }
        var returned = payment.Refunds.Where(r => r.Succeeded).Sum(r => r.AmountFen);
        if (kept && returned >= payment.AmountFen)
        {
            mismatches.Add(new ReconciliationMismatch(MismatchKind.PaymentNotSettled, groupId, payment.OutTradeNo, null, payment.AmountFen - returned, payment.AmountFen, null, StatusOf(payment),
                $"The {payment.AmountFen} fen paid for {payment.OutTradeNo} were refunded in full, in parts, yet GroupPay still counts the payment for its slot."));
        }
        else if (returned > 0 && returned < payment.AmountFen)
        {
            mismatches.Add(new ReconciliationMismatch(MismatchKind.PaymentPartlyRefunded, groupId, payment.OutTradeNo, null, payment.AmountFen - returned, payment.AmountFen, null, StatusOf(payment),
                $"{returned} of the {payment.AmountFen} fen paid for {payment.OutTradeNo} were refunded: the payment is neither kept whole nor refunded."));
        }
    }

    private static DayTotals BillTotals(IReadOnlyList<TradeBillRow> rows)
    {
        var payments = rows.Where(r => r.TradeState != RefundTradeState).ToList();
        var refunds = rows.Where(r => r.TradeState == RefundTradeState && r.RefundStatus is "SUCCESS" or "PROCESSING").ToList();
        return new DayTotals(payments.Count, checked(payments.Sum(r => r.TotalFeeFen ?? 0)), refunds.Count, checked(refunds.Sum(r => r.RefundFeeFen ?? 0)),
            checked(rows.Sum(r => r.ServiceFeeFen ?? 0)));
    }

    /// <summary>GroupPay's own figures of the day, from its ledger: payments dated by time_end, refunds by acceptance,
    /// counting a refund number only while it returns money (not one closed and followed by the next number).</summary>
    private static DayTotals GroupPayTotals(ReconciliationInput input, long billFees)
    {
        var payments = input.Ledger.Where(e => e.Kind == LedgerEntryKind.Payment).DistinctBy(e => e.OutTradeNo).ToList();
        var refunds = input.Ledger.Where(e => e.Kind == LedgerEntryKind.Refund).DistinctBy(e => e.OutRefundNo).Where(e => ReturnsMoney(input, e)).ToList();
        return new DayTotals(payments.Count, checked(payments.Sum(e => e.AmountFen)), refunds.Count, checked(refunds.Sum(e => e.AmountFen)), billFees);
    }

    private static bool ReturnsMoney(ReconciliationInput input, LedgerEntry entry)
    {
        var payment = Find(input, entry.OutTradeNo);
        if (payment?.Refunds.FirstOrDefault(r => r.OutRefundNo == entry.OutRefundNo) is not { } refund)
        {
            return true;
        }
        return !refund.IssuedByGroupPay || refund.Succeeded || (refund.Current && payment.RefundStatus == PaymentRefundStatus.Refunding);
    }

    /// <summary>The ledger entries this day's run checks against the bill: the day's, except its last minutes (the next
    /// day's run checks those), and the previous day's last minutes. <c>MayBeOnPreviousBill</c> for one near the day's
    /// start, and for a refund taken in: GroupPay dates it by its notify, which may come long after WeChat accepted it
    /// (WeChat retries a notify for a day).</summary>
    private static IEnumerable<(LedgerEntry Entry, bool MayBeOnPreviousBill)> EntriesToCheck(ReconciliationInput input)
    {
        ArgumentNullException.ThrowIfNull(input.Ledger);
        ArgumentNullException.ThrowIfNull(input.PreviousLedger);
        var start = StartOf(input.Day);
        var end = StartOf(input.Day.AddDays(1));
        var seen = new HashSet<(LedgerEntryKind, string)>();
        foreach (var entry in input.PreviousLedger.Where(e => e.At >= start - MidnightWindow).Concat(input.Ledger.Where(e => e.At < end - MidnightWindow)))
        {
            if (seen.Add(KeyOf(entry)))
            {
                yield return (entry, entry.At < start + MidnightWindow || IsTakenIn(input, entry));
            }
        }
    }

    private static bool IsTakenIn(ReconciliationInput input, LedgerEntry entry) =>
        entry.Kind == LedgerEntryKind.Refund
        && Find(input, entry.OutTradeNo)?.Refunds.FirstOrDefault(r => r.OutRefundNo == entry.OutRefundNo) is { IssuedByGroupPay: false };

    private static (LedgerEntryKind, string) KeyOf(LedgerEntry entry) =>
        entry.Kind == LedgerEntryKind.Payment ? (LedgerEntryKind.Payment, entry.OutTradeNo) : (LedgerEntryKind.Refund, entry.OutRefundNo ?? "");

    private static HashSet<(LedgerEntryKind, string)> Listed(IReadOnlyList<TradeBillRow> rows) =>
        [.. rows.Select(r => r.TradeState == RefundTradeState ? (LedgerEntryKind.Refund, r.OutRefundNo ?? "") : (LedgerEntryKind.Payment, r.OutTradeNo ?? ""))];

    private static PaymentFact? Find(ReconciliationInput input, string? outTradeNo) =>
        TradeNumbers.GroupIdOf(outTradeNo) is { } groupId && input.Groups.GetValueOrDefault(groupId) is { } group
            ? group.Payments.FirstOrDefault(p => p.OutTradeNo == outTradeNo)
            : null;

    private static string? StatusOf(PaymentFact? payment) => payment is null
        ? null
        : payment.RefundStatus switch
        {
            PaymentRefundStatus.None => payment.Kept ? "kept" : "not-kept",
            PaymentRefundStatus.Refunding => "refunding",
            PaymentRefundStatus.Refunded => "refunded",
            _ => "needs-attention",
        };

    private static string StatusOf(RefundFact refund) =>
        refund.Succeeded ? "succeeded" : refund.IssuedByGroupPay && !refund.Current ? "superseded" : "unsettled";
}
