using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Notifications;

/// <summary>A coupon used on a payment (<c>coupon_id_$n</c>, <c>coupon_fee_$n</c>, <c>coupon_type_$n</c>, which may be missing).</summary>
public sealed record PaymentCoupon(string CouponId, long FeeFen, string? CouponType);

/// <summary>
/// A verified payment notify (docs/wechatpay.md §4). Only built by <see cref="WeChatPayNotifyParser"/>, after the
/// appid, mch_id and signature checked out. <see cref="Fields"/> keeps every field as received.
/// </summary>
public sealed record PaymentNotification(
    bool IsSuccess,
    string? ErrCode,
    string OutTradeNo,
    string? TransactionId,
    long TotalFee,
    long? CashFee,
    long? SettlementTotalFee,
    string FeeType,
    string? OpenId,
    string? TradeType,
    string? BankType,
    DateTimeOffset? TimeEnd,
    string? Attach,
    IReadOnlyList<PaymentCoupon> Coupons,
    WeChatPaySignType SignType,
    WeChatPayMessage Fields)
{
    /// <summary>Coupons paid part of the order: <c>coupon_fee</c> (0 when none).</summary>
    public long CouponFee => TotalFee - (CashFee ?? TotalFee);
}
