using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Client;

/// <summary><c>/pay/unifiedorder</c> for a JSAPI payment (docs/wechatpay.md §2). Amounts are fen.</summary>
public sealed record UnifiedOrderRequest
{
    public required string OutTradeNo { get; init; }

    /// <summary>Shown on the payer's bill; at most 128 characters, no emoji.</summary>
    public required string Body { get; init; }

    public required long TotalFee { get; init; }

    /// <summary>The payer's openid (required for JSAPI): the prepay is bound to this user.</summary>
    public required string OpenId { get; init; }

    /// <summary>The payer's IP address.</summary>
    public required string SpbillCreateIp { get; init; }

    public string TradeType { get; init; } = "JSAPI";

    public string? Attach { get; init; }

    /// <summary>After this the order cannot be paid (it is not closed).</summary>
    public DateTimeOffset? TimeExpire { get; init; }

    /// <summary>Overrides <see cref="WeChatPayOptions.NotifyUrl"/>.</summary>
    public string? NotifyUrl { get; init; }
}

public sealed record UnifiedOrderResult(string PrepayId, string TradeType, string? CodeUrl);

/// <summary>WeChat's trade states (docs/wechatpay.md §5.1).</summary>
public enum TradeState
{
    Unknown,
    Success,
    Refund,
    NotPay,
    Closed,
    Revoked,
    UserPaying,
    PayError,
    Accept,
}

/// <summary>What <c>/pay/orderquery</c> reports. Payment fields are present once paid.</summary>
public sealed record OrderQueryResult(
    TradeState TradeState,
    string? TradeStateDesc,
    string OutTradeNo,
    string? TransactionId,
    long? TotalFee,
    long? CashFee,
    string? OpenId,
    DateTimeOffset? TimeEnd,
    string? Attach)
{
    /// <summary>True when the money was taken (SUCCESS, or REFUND: paid and since refunded in part or whole).</summary>
    public bool IsPaid => TradeState is TradeState.Success or TradeState.Refund;

    internal static TradeState ParseTradeState(string? value) => value switch
    {
        "SUCCESS" => TradeState.Success,
        "REFUND" => TradeState.Refund,
        "NOTPAY" => TradeState.NotPay,
        "CLOSED" => TradeState.Closed,
        "REVOKED" => TradeState.Revoked,
        "USERPAYING" => TradeState.UserPaying,
        "PAYERROR" => TradeState.PayError,
        "ACCEPT" => TradeState.Accept,
        _ => TradeState.Unknown,
    };
}

/// <summary><c>/pay/closeorder</c> succeeded: the order can no longer be paid.</summary>
public sealed record CloseOrderResult(string OutTradeNo);

/// <summary><c>/secapi/pay/refund</c>. The same <see cref="OutRefundNo"/> is the same refund: retrying it never refunds twice.</summary>
public sealed record RefundRequest
{
    public required string OutTradeNo { get; init; }

    public required string OutRefundNo { get; init; }

    /// <summary>The original order amount.</summary>
    public required long TotalFee { get; init; }

    public required long RefundFee { get; init; }

    public string? RefundDesc { get; init; }

    /// <summary>Overrides <see cref="WeChatPayOptions.RefundNotifyUrl"/>.</summary>
    public string? NotifyUrl { get; init; }
}

/// <summary>The refund was accepted; it completes later (refund notify or refund query).</summary>
public sealed record RefundResult(string OutTradeNo, string OutRefundNo, string RefundId, long RefundFee, string? TransactionId);

/// <summary>WeChat's refund states (docs/wechatpay.md §5.4).</summary>
public enum RefundStatus
{
    Unknown,
    Processing,
    Success,
    RefundClose,
    Change,
}

/// <summary><c>/pay/refundquery</c> by exactly one of the four ids.</summary>
public sealed record RefundQueryRequest
{
    public string? OutRefundNo { get; init; }

    public string? OutTradeNo { get; init; }

    public string? TransactionId { get; init; }

    public string? RefundId { get; init; }

    public static RefundQueryRequest ByOutRefundNo(string outRefundNo) => new() { OutRefundNo = outRefundNo };

    public static RefundQueryRequest ByOutTradeNo(string outTradeNo) => new() { OutTradeNo = outTradeNo };
}

public sealed record RefundRecord(string OutRefundNo, string? RefundId, long RefundFee, RefundStatus Status, DateTimeOffset? SuccessTime)
{
    internal static RefundStatus ParseStatus(string? value) => value switch
    {
        "PROCESSING" => RefundStatus.Processing,
        "SUCCESS" => RefundStatus.Success,
        "REFUNDCLOSE" => RefundStatus.RefundClose,
        "CHANGE" => RefundStatus.Change,
        _ => RefundStatus.Unknown,
    };
}

public sealed record RefundQueryResult(string OutTradeNo, string? TransactionId, long? TotalFee, IReadOnlyList<RefundRecord> Refunds)
{
    public RefundRecord? Find(string outRefundNo) => Refunds.FirstOrDefault(r => r.OutRefundNo == outRefundNo);

    internal static RefundQueryResult From(WeChatPayMessage response)
    {
        var count = (int)Math.Min(response.GetOptionalInt64("refund_count") ?? 0, 50);
        var refunds = new List<RefundRecord>(count);
        for (var n = 0; n < count; n++)
        {
            refunds.Add(new RefundRecord(
                response.GetRequired($"out_refund_no_{n}"),
                response[$"refund_id_{n}"],
                response.GetRequiredInt64($"refund_fee_{n}"),
                RefundRecord.ParseStatus(response[$"refund_status_{n}"]),
                WeChatPayTime.ParseDashedOrNull(response[$"refund_success_time_{n}"])));
        }
        return new RefundQueryResult(response.GetRequired("out_trade_no"), response["transaction_id"], response.GetOptionalInt64("total_fee"), refunds);
    }
}
