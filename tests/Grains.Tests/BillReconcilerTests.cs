using GroupPay.Grains.Ledger;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Reconciliation;
using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.Grains.Tests;

/// <summary>The matching rules of the daily reconciliation, on hand-made bills, groups and ledgers.</summary>
public sealed class BillReconcilerTests
{
    private static readonly DateOnly Day = new(2026, 12, 1);
    private static readonly DateTimeOffset Noon = new(2026, 12, 1, 12, 0, 0, WeChatPayTime.BeijingOffset);
    private const long Price = 990;
    private const long Fee = 6;

    private readonly List<TradeBillRow> _bill = [];
    private readonly List<TradeBillRow> _previousBill = [];
    private readonly Dictionary<string, GroupPayments?> _groups = [];
    private readonly List<LedgerEntry> _ledger = [];
    private readonly List<LedgerEntry> _previousLedger = [];

    private static string Trade(string groupId, int attempt = 1) => TradeNumbers.OutTradeNo(groupId, attempt);

    private static TradeBillRow PaymentRow(string outTradeNo, long fen = Price, DateTimeOffset? at = null) => new()
    {
        TradeTime = at ?? Noon,
        TransactionId = "4200" + outTradeNo,
        OutTradeNo = outTradeNo,
        TradeState = "SUCCESS",
        SettlementTotalFeeFen = fen,
        TotalFeeFen = fen,
        RefundFeeFen = 0,
        ServiceFeeFen = Fee,
        RequestedRefundFeeFen = 0,
    };

    private static TradeBillRow RefundRow(string outTradeNo, string outRefundNo, string status = "SUCCESS", long fen = Price, DateTimeOffset? at = null) => new()
    {
        TradeTime = at ?? Noon.AddHours(1),
        TransactionId = "4200" + outTradeNo,
        OutTradeNo = outTradeNo,
        TradeState = "REFUND",
        SettlementTotalFeeFen = 0,
        RefundApplyTime = at ?? Noon.AddHours(1),
        RefundId = "5030" + outRefundNo,
        OutRefundNo = outRefundNo,
        RefundFeeFen = status is "SUCCESS" or "PROCESSING" ? fen : 0,
        RefundStatus = status,
        ServiceFeeFen = status is "SUCCESS" or "PROCESSING" ? -Fee : 0,
        TotalFeeFen = 0,
        RequestedRefundFeeFen = fen,
    };

    private static PaymentFact Paid(string outTradeNo, bool kept = true, PaymentRefundStatus status = PaymentRefundStatus.None, long fen = Price, params RefundFact[] refunds) =>
        new(outTradeNo, "4200" + outTradeNo, fen, Noon, kept, status, refunds);

    private static RefundFact Issued(string outRefundNo, bool current = true, bool succeeded = true, long fen = Price) =>
        new(outRefundNo, fen, IssuedByGroupPay: true, current, succeeded, Noon.AddHours(1));

    private static RefundFact TakenIn(string outRefundNo, long fen) => new(outRefundNo, fen, IssuedByGroupPay: false, Current: false, Succeeded: true, Noon.AddHours(1));

    private void Group(string groupId, GroupStatus status, params PaymentFact[] payments) =>
        _groups[groupId] = new GroupPayments(groupId, "c1", status, payments);

    private void LedgerPayment(string groupId, string outTradeNo, long fen = Price, DateTimeOffset? at = null, List<LedgerEntry>? ledger = null) =>
        (ledger ?? _ledger).Add(new LedgerEntry(LedgerEntryKind.Payment, groupId, outTradeNo, null, "4200" + outTradeNo, fen, at ?? Noon));

    private void LedgerRefund(string groupId, string outTradeNo, string outRefundNo, long fen = Price, DateTimeOffset? at = null, List<LedgerEntry>? ledger = null) =>
        (ledger ?? _ledger).Add(new LedgerEntry(LedgerEntryKind.Refund, groupId, outTradeNo, outRefundNo, "4200" + outTradeNo, fen, at ?? Noon.AddHours(1)));

    /// <summary>A payment on both sides, kept by a completed group.</summary>
    private string KeptPayment(string groupId)
    {
        var no = Trade(groupId);
        _bill.Add(PaymentRow(no));
        Group(groupId, GroupStatus.Complete, Paid(no));
        LedgerPayment(groupId, no);
        return no;
    }

    private ReconciliationResult Reconcile(bool withPreviousBill = false) => BillReconciler.Reconcile(Input(withPreviousBill));

    private ReconciliationInput Input(bool withPreviousBill = false) => new()
    {
        Day = Day,
        BillRows = _bill,
        PreviousBillRows = withPreviousBill ? _previousBill : null,
        Groups = _groups,
        Ledger = _ledger,
        PreviousLedger = _previousLedger,
    };

    private static (MismatchKind, string?, string?) Line(ReconciliationMismatch m) => (m.Kind, m.OutTradeNo, m.OutRefundNo);

    [Fact]
    public void ADayWhereEveryLineMatchesIsCleanWithBothSidesTotals()
    {
        KeptPayment("groupaaa");
        // A failed group's payment refunded under its first number.
        var failed = Trade("groupbbb");
        _bill.Add(PaymentRow(failed));
        _bill.Add(RefundRow(failed, failed + "R1"));
        Group("groupbbb", GroupStatus.Failed, Paid(failed, status: PaymentRefundStatus.Refunded, refunds: Issued(failed + "R1")));
        LedgerPayment("groupbbb", failed);
        LedgerRefund("groupbbb", failed, failed + "R1");

        var result = Reconcile();

        Assert.Empty(result.Mismatches);
        Assert.Equal(new DayTotals(2, 2 * Price, 1, Price, Fee), result.Bill);
        Assert.Equal(Price - Fee, result.Bill.NetFen);
        Assert.Equal(result.Bill, result.GroupPay);
    }

    [Fact]
    public void AnEmptyDayIsClean()
    {
        var result = Reconcile();
        Assert.Empty(result.Mismatches);
        Assert.Equal(DayTotals.Zero, result.Bill);
        Assert.Equal(DayTotals.Zero, result.GroupPay);
    }

    [Fact]
    public void ARefundWeChatClosedFollowedByASuccessfulNextNumberIsNoMismatch()
    {
        var no = Trade("groupccc");
        _bill.Add(PaymentRow(no));
        _bill.Add(RefundRow(no, no + "R1", "REFUNDCLOSE"));
        _bill.Add(RefundRow(no, no + "R2", at: Noon.AddHours(2)));
        Group("groupccc", GroupStatus.Failed, Paid(no, status: PaymentRefundStatus.Refunded, refunds: [Issued(no + "R1", current: false, succeeded: false), Issued(no + "R2")]));
        LedgerPayment("groupccc", no);
        LedgerRefund("groupccc", no, no + "R1");
        LedgerRefund("groupccc", no, no + "R2", at: Noon.AddHours(2));

        var result = Reconcile();

        Assert.Empty(result.Mismatches);
        // The closed number returned nothing: neither side counts it.
        Assert.Equal((1, Price), (result.Bill.Refunds, result.Bill.RefundedFen));
        Assert.Equal((1, Price), (result.GroupPay.Refunds, result.GroupPay.RefundedFen));
    }

    [Fact]
    public void APaymentForAnOrderGroupPayHasNoPaidAttemptForIsUnknown()
    {
        KeptPayment("groupaaa");
        // An attempt number the group never made, and an out_trade_no that is not GroupPay's at all.
        _bill.Add(PaymentRow(Trade("groupaaa", 7)));
        _bill.Add(PaymentRow("SOMEONE-ELSES-ORDER", fen: 100));

        var result = Reconcile();

        Assert.Equal([(MismatchKind.PaymentUnknown, Trade("groupaaa", 7), null), (MismatchKind.PaymentUnknown, "SOMEONE-ELSES-ORDER", null)], result.Mismatches.Select(Line));
        Assert.Equal((Price, (long?)null, "groupaaa"), (result.Mismatches[0].BillFen!.Value, result.Mismatches[0].GroupPayFen, result.Mismatches[0].GroupId));
        Assert.Equal(3, result.Bill.Payments);
        Assert.Equal(1, result.GroupPay.Payments);
    }

    [Fact]
    public void APaymentWhoseAmountDiffersIsReportedWithBothAmounts()
    {
        var no = Trade("groupddd");
        _bill.Add(PaymentRow(no, fen: 1));
        Group("groupddd", GroupStatus.Complete, Paid(no));
        LedgerPayment("groupddd", no);

        var mismatch = Assert.Single(Reconcile().Mismatches);

        Assert.Equal((MismatchKind.PaymentAmountDiffers, 1L, Price), (mismatch.Kind, mismatch.BillFen!.Value, mismatch.GroupPayFen!.Value));
    }

    [Fact]
    public void APaymentNeitherKeptNorRefundedIsNotSettled()
    {
        var notKept = Trade("grouneee");
        _bill.Add(PaymentRow(notKept));
        Group("grouneee", GroupStatus.Open, Paid(notKept, kept: false));
        // A failed group's payment that no refund was started for.
        var failed = Trade("groupfff");
        _bill.Add(PaymentRow(failed));
        Group("groupfff", GroupStatus.Failed, Paid(failed, kept: true));
        // Refunding (under way) and in the operator queue are fine.
        var refunding = Trade("groupggg");
        _bill.Add(PaymentRow(refunding));
        Group("groupggg", GroupStatus.Failed, Paid(refunding, status: PaymentRefundStatus.Refunding));
        var attention = Trade("grouphhh");
        _bill.Add(PaymentRow(attention));
        Group("grouphhh", GroupStatus.Failed, Paid(attention, status: PaymentRefundStatus.NeedsAttention));

        var result = Reconcile();

        Assert.Equal([(MismatchKind.PaymentNotSettled, notKept, null), (MismatchKind.PaymentNotSettled, failed, null)], result.Mismatches.Select(Line));
        Assert.Equal("not-kept", result.Mismatches[0].GroupPayStatus);
    }

    [Fact]
    public void APartialRefundTakenInLeavesThePaymentPartlyRefunded()
    {
        var no = KeptPayment("groupiii");
        _bill.Add(RefundRow(no, "50300001", fen: 300));
        Group("groupiii", GroupStatus.Complete, Paid(no, refunds: TakenIn("50300001", 300)));
        LedgerRefund("groupiii", no, "50300001", fen: 300);

        var result = Reconcile();

        var mismatch = Assert.Single(result.Mismatches);
        Assert.Equal((MismatchKind.PaymentPartlyRefunded, no, (long?)690, (long?)Price), (mismatch.Kind, mismatch.OutTradeNo, mismatch.BillFen, mismatch.GroupPayFen));
        // A console refund of the whole payment, taken in, is no mismatch.
        var whole = Trade("groupjjj");
        _bill.Add(PaymentRow(whole));
        _bill.Add(RefundRow(whole, "50300002"));
        Group("groupjjj", GroupStatus.Open, Paid(whole, kept: false, status: PaymentRefundStatus.Refunded, refunds: TakenIn("50300002", Price)));
        Assert.Single(Reconcile().Mismatches);
        // Two partial refunds that add up to the payment, which GroupPay still keeps for its slot, leave it unsettled.
        _bill.Add(RefundRow(no, "50300004", fen: 690, at: Noon.AddHours(3)));
        Group("groupiii", GroupStatus.Complete, Paid(no, refunds: [TakenIn("50300001", 300), TakenIn("50300004", 690)]));
        var whole2 = Assert.Single(Reconcile().Mismatches);
        Assert.Equal((MismatchKind.PaymentNotSettled, no, (long?)0), (whole2.Kind, whole2.OutTradeNo, whole2.BillFen));
    }

    [Fact]
    public void ARefundNumberGroupPayNeitherIssuedNorTookInIsUnknown()
    {
        var no = KeptPayment("groupkkk");
        _bill.Add(RefundRow(no, "50300003"));
        _bill.Add(RefundRow(Trade("nosuchgroup"), Trade("nosuchgroup") + "R1"));
        _groups["nosuchgroup"] = null;

        var result = Reconcile();

        Assert.Equal([(MismatchKind.RefundUnknown, no, "50300003"), (MismatchKind.RefundUnknown, Trade("nosuchgroup"), Trade("nosuchgroup") + "R1")],
            result.Mismatches.Select(Line));
    }

    [Fact]
    public void ARefundWhoseAmountDiffersIsReported()
    {
        var no = Trade("grouplll");
        _bill.Add(PaymentRow(no));
        _bill.Add(RefundRow(no, no + "R1", fen: 500));
        Group("grouplll", GroupStatus.Failed, Paid(no, status: PaymentRefundStatus.Refunded, refunds: Issued(no + "R1")));

        var mismatch = Assert.Single(Reconcile().Mismatches);

        Assert.Equal((MismatchKind.RefundAmountDiffers, no + "R1", (long?)500, (long?)Price), (mismatch.Kind, mismatch.OutRefundNo, mismatch.BillFen, mismatch.GroupPayFen));
    }

    [Fact]
    public void ARefundSettledOnOneSideOnlyHasItsStatusDiffer()
    {
        // WeChat refunded it; GroupPay still waits.
        var waiting = Trade("groupmmm");
        _bill.Add(PaymentRow(waiting));
        _bill.Add(RefundRow(waiting, waiting + "R1"));
        Group("groupmmm", GroupStatus.Failed, Paid(waiting, status: PaymentRefundStatus.Refunding, refunds: Issued(waiting + "R1", succeeded: false)));
        // GroupPay has it refunded; WeChat closed it.
        var closed = Trade("groupnnn");
        _bill.Add(PaymentRow(closed));
        _bill.Add(RefundRow(closed, closed + "R1", "REFUNDCLOSE"));
        Group("groupnnn", GroupStatus.Failed, Paid(closed, status: PaymentRefundStatus.Refunded, refunds: Issued(closed + "R1")));
        // Still processing at WeChat says nothing yet, whatever GroupPay has; CHANGE with GroupPay's item open is fine.
        var processing = Trade("groupooo");
        _bill.Add(PaymentRow(processing));
        _bill.Add(RefundRow(processing, processing + "R1", "PROCESSING"));
        Group("groupooo", GroupStatus.Failed, Paid(processing, status: PaymentRefundStatus.Refunded, refunds: Issued(processing + "R1")));
        var change = Trade("groupppp");
        _bill.Add(PaymentRow(change));
        _bill.Add(RefundRow(change, change + "R1", "CHANGE"));
        Group("groupppp", GroupStatus.Failed, Paid(change, status: PaymentRefundStatus.NeedsAttention, refunds: Issued(change + "R1", succeeded: false)));

        var result = Reconcile();

        Assert.Equal([(MismatchKind.RefundStatusDiffers, waiting, waiting + "R1"), (MismatchKind.RefundStatusDiffers, closed, closed + "R1")], result.Mismatches.Select(Line));
        Assert.Equal(("SUCCESS", "unsettled"), (result.Mismatches[0].BillStatus, result.Mismatches[0].GroupPayStatus));
        Assert.Equal(("REFUNDCLOSE", "succeeded"), (result.Mismatches[1].BillStatus, result.Mismatches[1].GroupPayStatus));
    }

    [Fact]
    public void GroupPaysPaymentsAndRefundsOfTheDayThatTheBillDoesNotListAreMissingFromIt()
    {
        KeptPayment("groupqqq");
        var forged = Trade("grouprrr");
        Group("grouprrr", GroupStatus.Open, Paid(forged));
        LedgerPayment("grouprrr", forged);
        var refunded = Trade("groupsss");
        _bill.Add(PaymentRow(refunded));
        Group("groupsss", GroupStatus.Failed, Paid(refunded, status: PaymentRefundStatus.Refunded, refunds: Issued(refunded + "R1")));
        LedgerPayment("groupsss", refunded);
        LedgerRefund("groupsss", refunded, refunded + "R1");

        var result = Reconcile();

        Assert.Equal([(MismatchKind.MissingFromBill, forged, null), (MismatchKind.MissingFromBill, refunded, refunded + "R1")], result.Mismatches.Select(Line));
        Assert.Equal(((long?)null, (long?)Price), (result.Mismatches[0].BillFen, result.Mismatches[0].GroupPayFen));
        Assert.Equal(new DayTotals(3, 3 * Price, 1, Price, 2 * Fee), result.GroupPay);
        Assert.Equal(new DayTotals(2, 2 * Price, 0, 0, 2 * Fee), result.Bill);
    }

    [Fact]
    public void NearMidnightARefundIsLookedForInBothDaysBillsAndTheDaysLastMinutesWaitForTheNextDay()
    {
        var start = BillReconciler.StartOf(Day);
        var end = BillReconciler.StartOf(Day.AddDays(1));
        var no = Trade("grouptt1");
        Group("grouptt1", GroupStatus.Failed, Paid(no, status: PaymentRefundStatus.Refunded, refunds: [Issued(no + "R1", current: false, succeeded: false), Issued(no + "R2"), Issued(no + "R3")]));
        // GroupPay dated R1 just after the day began; WeChat accepted it just before, on the previous day's bill.
        LedgerRefund("grouptt1", no, no + "R1", at: start + TimeSpan.FromMilliseconds(20));
        _previousBill.Add(RefundRow(no, no + "R1", "REFUNDCLOSE", at: start - TimeSpan.FromMilliseconds(5)));
        // GroupPay dated R2 on the previous day's last second; WeChat on this day.
        LedgerRefund("grouptt1", no, no + "R2", at: start - TimeSpan.FromMilliseconds(30), ledger: _previousLedger);
        _bill.Add(RefundRow(no, no + "R2", at: start + TimeSpan.FromMilliseconds(10)));
        // R3 on this day's last second is the next day's run's to check, not this one's.
        LedgerRefund("grouptt1", no, no + "R3", at: end - TimeSpan.FromMilliseconds(50));
        // A refund near the start that neither bill lists is reported.
        var lost = Trade("grouptt2");
        Group("grouptt2", GroupStatus.Failed, Paid(lost, status: PaymentRefundStatus.Refunded, refunds: Issued(lost + "R1")));
        LedgerRefund("grouptt2", lost, lost + "R1", at: start + TimeSpan.FromSeconds(30));

        Assert.True(BillReconciler.NeedsPreviousBill(Input()));
        var result = Reconcile(withPreviousBill: true);

        Assert.Equal([(MismatchKind.MissingFromBill, lost, lost + "R1")], result.Mismatches.Select(Line));
    }

    [Fact]
    public void ThePreviousBillIsNeededOnlyWhenSomethingNearMidnightIsMissing()
    {
        var no = KeptPayment("groupuuu");
        LedgerRefund("groupuuu", no, no + "R1", at: BillReconciler.StartOf(Day) + TimeSpan.FromMinutes(1));
        _bill.Add(RefundRow(no, no + "R1"));
        Assert.False(BillReconciler.NeedsPreviousBill(Input()));
        LedgerRefund("groupuuu", no, no + "R2", at: BillReconciler.StartOf(Day) + TimeSpan.FromMinutes(3));
        Assert.False(BillReconciler.NeedsPreviousBill(Input()));
        LedgerRefund("groupuuu", no, no + "R3", at: BillReconciler.StartOf(Day) - TimeSpan.FromMinutes(1), ledger: _previousLedger);
        Assert.True(BillReconciler.NeedsPreviousBill(Input()));
    }

    [Fact]
    public void ARefundTakenInIsLookedForInThePreviousDaysBillToo()
    {
        // A console refund accepted at WeChat in the evening, its notify (hence GroupPay's date) after midnight.
        var no = Trade("groupwww");
        Group("groupwww", GroupStatus.Complete, Paid(no, status: PaymentRefundStatus.Refunded, refunds: TakenIn("50300005", Price)));
        LedgerRefund("groupwww", no, "50300005", at: BillReconciler.StartOf(Day) + TimeSpan.FromHours(3));
        _previousBill.Add(RefundRow(no, "50300005", at: BillReconciler.StartOf(Day) - TimeSpan.FromHours(1)));
        // GroupPay's own refund number dated the same way is not.
        var own = Trade("groupxxx");
        Group("groupxxx", GroupStatus.Failed, Paid(own, status: PaymentRefundStatus.Refunded, refunds: Issued(own + "R1")));
        LedgerRefund("groupxxx", own, own + "R1", at: BillReconciler.StartOf(Day) + TimeSpan.FromHours(3));
        _previousBill.Add(RefundRow(own, own + "R1", at: BillReconciler.StartOf(Day) - TimeSpan.FromHours(1)));

        Assert.True(BillReconciler.NeedsPreviousBill(Input()));
        var result = Reconcile(withPreviousBill: true);

        Assert.Equal([(MismatchKind.MissingFromBill, own, own + "R1")], result.Mismatches.Select(Line));
        Assert.Equal(2, Reconcile().Mismatches.Count);
    }

    [Fact]
    public void ItemIdsAreDeterministicAndKeepToTheQueuesCharacters()
    {
        var mismatch = new ReconciliationMismatch(MismatchKind.RefundUnknown, "groupvvv", "groupvvvP1", "a|b*c@d", 1, null, "SUCCESS", null, "x");
        Assert.Equal("recon:2026-12-01:refund-unknown:a_b_c_d", ReconciliationItems.IdOf(Day, mismatch));
        Assert.Equal("recon:2026-12-01:payment-unknown:groupvvvP1", ReconciliationItems.IdOf(Day, mismatch with { Kind = MismatchKind.PaymentUnknown, OutRefundNo = null }));
    }
}
