namespace GroupPay.Grains.Ledger;

/// <summary>
/// GroupPay's own record of the money of each China-time day, as the stored groups say it (written after each group's
/// state is stored, deduplicated by the group's revision): every payment WeChat took, dated by its <c>time_end</c>, and
/// every refund, dated when WeChat accepted it. What the daily reconciliation holds WeChat's bill against.
/// </summary>
public interface IPaymentLedger
{
    /// <summary>The entries of <paramref name="chinaDay"/> (Asia/Shanghai), in no particular order.</summary>
    Task<IReadOnlyList<LedgerEntry>> ReadDayAsync(DateOnly chinaDay, CancellationToken cancellationToken = default);
}

public enum LedgerEntryKind
{
    Payment,
    Refund,
}

/// <summary>One payment (<see cref="OutRefundNo"/> null) or refund in the ledger. <see cref="TransactionId"/> is WeChat's
/// <c>transaction_id</c> of a payment, its <c>refund_id</c> of a refund (when known).</summary>
public sealed record LedgerEntry(
    LedgerEntryKind Kind,
    string GroupId,
    string OutTradeNo,
    string? OutRefundNo,
    string? TransactionId,
    long AmountFen,
    DateTimeOffset At);
