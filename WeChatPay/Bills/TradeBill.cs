namespace GroupPay.WeChatPay.Bills;

/// <summary>Which rows <c>/pay/downloadbill</c> returns: everything, payments only, or refunds only.</summary>
public enum TradeBillType
{
    All,
    Success,
    Refund,
}

/// <summary>One day's trade bill (China time) as WeChat publishes it: the rows and the summary line.</summary>
public sealed record TradeBill(DateOnly BillDate, IReadOnlyList<TradeBillRow> Rows, TradeBillSummary Summary);

/// <summary>
/// One line of the bill. Amounts are fen (the bill shows yuan); an empty field is null; a column the bill type
/// does not have is null (SUCCESS has no refund columns, only REFUND has the two refund times).
/// </summary>
public sealed record TradeBillRow
{
    /// <summary>The payment time, or for a refund row the time the refund was accepted (not when it succeeded).</summary>
    public required DateTimeOffset TradeTime { get; init; }

    public string? AppId { get; init; }

    public string? MchId { get; init; }

    public string? SubMchId { get; init; }

    public string? DeviceInfo { get; init; }

    public string? TransactionId { get; init; }

    public string? OutTradeNo { get; init; }

    public string? OpenId { get; init; }

    public string? TradeType { get; init; }

    /// <summary>SUCCESS for a payment row, REFUND for a refund row (REVOKED for a revoked payment).</summary>
    public string? TradeState { get; init; }

    public string? BankType { get; init; }

    public string? FeeType { get; init; }

    public long? SettlementTotalFeeFen { get; init; }

    public long? CouponFeeFen { get; init; }

    /// <summary>REFUND bills only.</summary>
    public DateTimeOffset? RefundApplyTime { get; init; }

    /// <summary>REFUND bills only; null while the refund had not succeeded when the bill was made.</summary>
    public DateTimeOffset? RefundSuccessTime { get; init; }

    public string? RefundId { get; init; }

    public string? OutRefundNo { get; init; }

    public long? RefundFeeFen { get; init; }

    public long? CouponRefundFeeFen { get; init; }

    public string? RefundType { get; init; }

    public string? RefundStatus { get; init; }

    public string? Body { get; init; }

    public string? Attach { get; init; }

    /// <summary>WeChat's fee; negative on a refund row (the fee given back).</summary>
    public long? ServiceFeeFen { get; init; }

    /// <summary>As printed, e.g. <c>0.60%</c>.</summary>
    public string? Rate { get; init; }

    public long? TotalFeeFen { get; init; }

    public long? RequestedRefundFeeFen { get; init; }

    public string? RateRemark { get; init; }
}

/// <summary>The summary line: 总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额.</summary>
public sealed record TradeBillSummary(
    long TotalTrades,
    long SettlementTotalFeeFen,
    long RefundFeeFen,
    long CouponRefundFeeFen,
    long ServiceFeeFen,
    long TotalFeeFen,
    long RequestedRefundFeeFen)
{
    /// <summary>The summary WeChat prints for <paramref name="rows"/>.</summary>
    public static TradeBillSummary Of(IReadOnlyCollection<TradeBillRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return new TradeBillSummary(
            rows.Count,
            checked(rows.Sum(r => r.SettlementTotalFeeFen ?? 0)),
            checked(rows.Sum(r => r.RefundFeeFen ?? 0)),
            checked(rows.Sum(r => r.CouponRefundFeeFen ?? 0)),
            checked(rows.Sum(r => r.ServiceFeeFen ?? 0)),
            checked(rows.Sum(r => r.TotalFeeFen ?? 0)),
            checked(rows.Sum(r => r.RequestedRefundFeeFen ?? 0)));
    }
}
