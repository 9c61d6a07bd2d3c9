using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>An order as <c>GET /sandbox/orders/{outTradeNo}</c> shows it.</summary>
internal sealed record OrderView(
    string OutTradeNo,
    string TradeState,
    string TradeType,
    string Body,
    string? Attach,
    long TotalFee,
    string? Openid,
    string NotifyUrl,
    string SignType,
    DateTimeOffset CreatedAt,
    DateTimeOffset? TimeExpire,
    PrepayView Prepay,
    PaymentView? Payment,
    DateTimeOffset? ClosedAt,
    long RefundedFee,
    IReadOnlyList<RefundView> Refunds,
    int NotifyJobsInFlight,
    IReadOnlyList<NotifyAttempt> NotifyAttempts,
    string? TraceParent)
{
    public static OrderView Of(SandboxOrder order)
    {
        lock (order.Gate)
        {
            return new OrderView(
                order.OutTradeNo,
                order.TradeState,
                order.Terms.TradeType,
                order.Terms.Body,
                order.Terms.Attach,
                order.Terms.TotalFee,
                order.Terms.Openid,
                order.Terms.NotifyUrl,
                order.SignType.ToWireName(),
                order.CreatedAt,
                order.Terms.TimeExpire,
                new PrepayView(order.Prepay.Id, order.Prepay.CreatedAt, order.Prepay.ExpiresAt),
                order.Payment is { } p
                    ? new PaymentView(p.TransactionId, p.PayerOpenid, p.PaidAt, WeChatPayTime.FormatCompact(p.PaidAt), p.CashFee, p.CouponFee, p.PaidAfterClose)
                    : null,
                order.ClosedAt,
                order.RefundedFee,
                [.. order.Refunds.Select(r => new RefundView(r.OutRefundNo, r.RefundId, r.RefundFee, r.StatusName, r.RequestSource, r.RequestedAt, r.SuccessAt, r.NotifyUrl))],
                order.NotifyJobsInFlight,
                [.. order.Attempts],
                order.TraceParent);
        }
    }
}

internal sealed record PrepayView(string PrepayId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

internal sealed record PaymentView(
    string TransactionId, string PayerOpenid, DateTimeOffset PaidAt, string TimeEnd, long CashFee, long CouponFee, bool PaidAfterClose);

internal sealed record RefundView(
    string OutRefundNo,
    string RefundId,
    long RefundFee,
    string Status,
    string RequestSource,
    DateTimeOffset RequestedAt,
    DateTimeOffset? SuccessAt,
    string? NotifyUrl);

/// <summary>The JSON of <c>POST /sandbox/orders/{outTradeNo}/pay</c>.</summary>
internal sealed record ForcePayRequest(string? Openid, bool Force);

/// <summary>The optional JSON of <c>POST /sandbox/orders/{outTradeNo}/notify</c>: a notify signed correctly
/// but for another amount or payer (the order does not change).</summary>
internal sealed record NotifyOverrideRequest(long? TotalFee, string? Openid);

/// <summary>The optional JSON of <c>POST /sandbox/orders/{outTradeNo}/console-refund</c>; no fee = all not yet refunded.</summary>
internal sealed record ConsoleRefundRequest(long? RefundFee);

/// <summary>A refund made in the merchant console.</summary>
internal sealed record ConsoleRefundView(string OutTradeNo, string OutRefundNo, string RefundId, long RefundFee, string Status);

/// <summary>The JSON of <c>POST /sandbox/clock/advance</c>.</summary>
internal sealed record ClockAdvanceRequest(double? Seconds);

internal sealed record ClockView(DateTimeOffset Now, double OffsetSeconds);

internal sealed record HealthView(string Status, DateTimeOffset Now, double ClockOffsetSeconds);
