using GroupPay.Grains.Outbox;
using GroupPay.WeChatPay.Client;

namespace GroupPay.Grains.Orders;

/// <summary>
/// The group's calls to WeChat Pay (unifiedorder, orderquery, closeorder, refund, refundquery), each cut at
/// <see cref="OrderOptions.WeChatCallTimeout"/>; what WeChat answers changes the state only through <see cref="GroupRules"/>.
/// </summary>
public sealed class WeChatEffects(IWeChatPayClient weChatPay, GroupRules rules)
{
    private OrderOptions Options => rules.Options;

    private DateTimeOffset Now => rules.Now;

    /// <summary>unifiedorder for a new attempt: the attempt goes live, or is closed when WeChat answered no (not when the
    /// outcome is unknown). Null when it went live, else WeChat's error.</summary>
    public async Task<WeChatPayError?> RequestPrepayAsync(AttemptRecord attempt, string clientIp)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var prepay = await BoxedAsync(ct => weChatPay.UnifiedOrderAsync(new UnifiedOrderRequest
        {
            OutTradeNo = attempt.OutTradeNo,
            Body = rules.Terms.Title,
            TotalFee = attempt.AmountFen,
            OpenId = attempt.PayerOpenid,
            SpbillCreateIp = clientIp,
            Attach = rules.GroupId,
            TimeExpire = attempt.PayableUntil,
        }, ct));
        if (prepay.Value is { } order)
        {
            rules.PrepayIssued(attempt, order.PrepayId);
            return null;
        }
        var error = prepay.Error!;
        if (error.Kind != WeChatPayErrorKind.Transport)
        {
            // WeChat answered no: nothing exists there to pay or close.
            rules.PrepayRefused(attempt);
        }
        return error;
    }

    /// <summary>The JSAPI parameters the page hands to WeixinJSBridge for the attempt's prepay.</summary>
    public PaymentStarted Started(AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var jsapi = weChatPay.CreateJsapiParameters(attempt.PrepayId!);
        return new PaymentStarted(
            attempt.OutTradeNo,
            attempt.AmountFen,
            attempt.PayableUntil,
            new JsapiParameters(jsapi.AppId, jsapi.TimeStamp, jsapi.NonceStr, jsapi.Package, jsapi.SignType, jsapi.PaySign));
    }

    /// <summary>orderquery for an attempt that got no notify: apply a payment, keep watching a live one,
    /// close one that is no longer wanted.</summary>
    public async Task<EffectResult> ReconcileAsync(PendingEffect effect, AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(effect);
        ArgumentNullException.ThrowIfNull(attempt);
        if (attempt.Status is AttemptStatus.Paid or AttemptStatus.Closed)
        {
            return EffectResult.Done;
        }
        var query = await BoxedAsync(ct => weChatPay.OrderQueryAsync(attempt.OutTradeNo, ct));
        if (query.Value is { } result)
        {
            if (result.IsPaid)
            {
                rules.ApplyPayment(new PaymentNotice(attempt.OutTradeNo, result.TransactionId!, result.TotalFee ?? 0, result.OpenId, result.TimeEnd));
                return attempt.Status == AttemptStatus.Paid ? EffectResult.Done : EffectResult.Failed("the queried payment did not match the attempt");
            }
            if (result.TradeState is TradeState.Closed or TradeState.Revoked or TradeState.PayError)
            {
                GroupRules.AttemptClosed(attempt);
                return EffectResult.Done;
            }
            var payableUntil = attempt.PayableUntil + Options.PaymentGrace;
            if (attempt.IsPending && payableUntil > Now)
            {
                // Still payable (within the grace a payment then still counts): look again later, at the latest when
                // the grace ends, the time its hold lapses (the hold waits for this last look).
                effect.NotBefore = GroupRules.Min(Now + Options.ReconcileAfter, payableUntil);
                return EffectResult.Waiting;
            }
            rules.Supersede(attempt);
            return EffectResult.Done;
        }
        if (query.Error!.Code == WeChatPayErrorCode.OrderNotExist && attempt.Status is AttemptStatus.Creating or AttemptStatus.Superseded)
        {
            GroupRules.AttemptClosed(attempt);
            return EffectResult.Done;
        }
        return EffectResult.Failed(query.Error.ToString());
    }

    /// <summary>closeorder for an attempt no longer wanted; one WeChat says was paid meanwhile is applied (and refunded).</summary>
    public async Task<EffectResult> CloseAsync(AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        if (attempt.Status is AttemptStatus.Paid or AttemptStatus.Closed)
        {
            return EffectResult.Done;
        }
        var close = await BoxedAsync(ct => weChatPay.CloseOrderAsync(attempt.OutTradeNo, ct));
        var code = close.Error?.Code;
        if (close.IsSuccess || code is WeChatPayErrorCode.OrderClosed or WeChatPayErrorCode.OrderNotExist)
        {
            GroupRules.AttemptClosed(attempt, byCloseOrder: true);
            return EffectResult.Done;
        }
        if (code == WeChatPayErrorCode.OrderPaid)
        {
            // Paid before the close landed: learn the transaction and refund it.
            var query = await BoxedAsync(ct => weChatPay.OrderQueryAsync(attempt.OutTradeNo, ct));
            if (query.Value is { IsPaid: true } paid)
            {
                rules.ApplyPayment(new PaymentNotice(attempt.OutTradeNo, paid.TransactionId!, paid.TotalFee ?? 0, paid.OpenId, paid.TimeEnd));
                return EffectResult.Done;
            }
            return EffectResult.Failed("closeorder said ORDERPAID but orderquery did not: " + query.Error);
        }
        return EffectResult.Failed(close.Error!.ToString());
    }

    /// <summary><c>/secapi/pay/refund</c> under the payment's current number.</summary>
    public async Task<EffectResult> RefundAsync(AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        if (attempt.Refund is not RefundProgress.Requested)
        {
            return EffectResult.Done;
        }
        attempt.RefundRequestedAt ??= Now;
        attempt.RefundSentAt ??= Now;
        var outRefundNo = attempt.OutRefundNo;
        var refund = await BoxedAsync(ct => weChatPay.RefundAsync(new RefundRequest
        {
            OutTradeNo = attempt.OutTradeNo,
            OutRefundNo = outRefundNo,
            TotalFee = attempt.AmountFen,
            RefundFee = attempt.AmountFen,
            RefundDesc = "拼团退款",
        }, ct));
        if (refund.Value is { } accepted)
        {
            rules.RefundAccepted(attempt, outRefundNo, accepted.RefundId);
            return EffectResult.Done;
        }
        var error = refund.Error!;
        return rules.RefundFailed(attempt, outRefundNo, error) ? EffectResult.Failed(error.ToString()) : EffectResult.Done;
    }

    /// <summary>refundquery for an accepted refund with no notify yet.</summary>
    public async Task<EffectResult> CheckRefundAsync(PendingEffect effect, AttemptRecord attempt)
    {
        ArgumentNullException.ThrowIfNull(effect);
        ArgumentNullException.ThrowIfNull(attempt);
        if (attempt.Refund is not RefundProgress.Accepted)
        {
            return EffectResult.Done;
        }
        var outRefundNo = attempt.OutRefundNo;
        var query = await BoxedAsync(ct => weChatPay.RefundQueryAsync(RefundQueryRequest.ByOutRefundNo(outRefundNo), ct));
        if (query.Value?.Find(outRefundNo) is not { } record)
        {
            if (query.Error?.Code == WeChatPayErrorCode.RefundNotExist)
            {
                rules.RefundNotFound(attempt);
                return EffectResult.Done;
            }
            return EffectResult.Failed(query.Error?.ToString() ?? "refund not listed");
        }
        var refundState = ToRefundState(record.Status);
        if (refundState == RefundState.Processing)
        {
            rules.RefundStillProcessing(attempt, effect);
            return EffectResult.Waiting;
        }
        rules.ApplyRefund(new RefundNotice(attempt.OutTradeNo, outRefundNo, record.RefundId, record.RefundFee, refundState));
        return EffectResult.Done;
    }

    /// <summary>A WeChat Pay call inside a turn, cut at <see cref="OrderOptions.WeChatCallTimeout"/>.</summary>
    private async Task<WeChatPayResult<T>> BoxedAsync<T>(Func<CancellationToken, Task<WeChatPayResult<T>>> call)
        where T : class
    {
        using var timeout = new CancellationTokenSource(Options.WeChatCallTimeout);
        return await CallWeChatAsync(call, timeout.Token);
    }

    /// <summary>A WeChat Pay call bounded by <paramref name="timeout"/>: past it the outcome is unknown, as on a timeout.</summary>
    private static async Task<WeChatPayResult<T>> CallWeChatAsync<T>(Func<CancellationToken, Task<WeChatPayResult<T>>> call, CancellationToken timeout)
        where T : class
    {
        try
        {
            return await call(timeout);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return WeChatPayResult<T>.Failure(new WeChatPayError(WeChatPayErrorKind.Transport, WeChatPayErrorCode.Timeout, null, "no answer within the grain's time box"));
        }
    }

    private static RefundState ToRefundState(WeChatPay.Client.RefundStatus status) => status switch
    {
        WeChatPay.Client.RefundStatus.Success => RefundState.Succeeded,
        WeChatPay.Client.RefundStatus.RefundClose => RefundState.Closed,
        WeChatPay.Client.RefundStatus.Change => RefundState.Abnormal,
        _ => RefundState.Processing,
    };
}
