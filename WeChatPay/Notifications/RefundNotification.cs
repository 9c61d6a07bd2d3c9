using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Notifications;

/// <summary>
/// A refund notify whose <c>req_info</c> decrypted with the merchant key (docs/wechatpay.md §5.5): that, plus
/// the appid and mch_id, is all the authenticity a refund notify has (it carries no <c>sign</c>).
/// </summary>
public sealed record RefundNotification(
    string OutTradeNo,
    string? TransactionId,
    string OutRefundNo,
    string? RefundId,
    long TotalFee,
    long RefundFee,
    long? SettlementRefundFee,
    RefundStatus Status,
    DateTimeOffset? SuccessTime,
    string? RefundRecvAccount,
    string? RefundAccount,
    string? RefundRequestSource,
    WeChatPayMessage Fields);
