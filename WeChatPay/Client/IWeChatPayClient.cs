using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.Client;

/// <summary>The merchant API of WeChat Pay v2, typed. Calls never throw for WeChat's own answers: every
/// outcome is a <see cref="WeChatPayResult{T}"/>. Only cancellation propagates.</summary>
public interface IWeChatPayClient
{
    Task<WeChatPayResult<UnifiedOrderResult>> UnifiedOrderAsync(UnifiedOrderRequest request, CancellationToken cancellationToken = default);

    Task<WeChatPayResult<OrderQueryResult>> OrderQueryAsync(string outTradeNo, CancellationToken cancellationToken = default);

    Task<WeChatPayResult<CloseOrderResult>> CloseOrderAsync(string outTradeNo, CancellationToken cancellationToken = default);

    Task<WeChatPayResult<RefundResult>> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default);

    Task<WeChatPayResult<RefundQueryResult>> RefundQueryAsync(RefundQueryRequest request, CancellationToken cancellationToken = default);

    /// <summary><c>/pay/downloadbill</c> (gzip): the day's trade bill, China time. No trade that day is
    /// <see cref="WeChatPayErrorCode.NoBillExist"/>; before it is generated, <see cref="WeChatPayErrorCode.BillCreating"/>.</summary>
    Task<WeChatPayResult<TradeBill>> DownloadBillAsync(DateOnly billDate, TradeBillType type = TradeBillType.All, CancellationToken cancellationToken = default);

    /// <summary>Signed parameters for <c>getBrandWCPayRequest</c> from a prepay id (docs/wechatpay.md §3.3).</summary>
    JsapiPayParameters CreateJsapiParameters(string prepayId);
}
