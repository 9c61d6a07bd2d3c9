using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains;
using GroupPay.Grains.Orders;
using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.Gateway.Notifications;

/// <summary>
/// WeChat Pay's notifies (api.md). Verify before touching anything — size cap, safe XML, appid, mch_id, signature
/// (or the refund's <c>req_info</c> decryption) — then route by <c>out_trade_no</c> to the OrderGrain and answer
/// SUCCESS only once the grain has durably applied it. Everything else answers FAIL and changes nothing, and
/// WeChat retries on its schedule.
/// </summary>
public static partial class WeChatPayNotifyEndpoints
{
    public const int MaxBodyBytes = WeChatPayXml.DefaultMaxBytes;

    public static RouteGroupBuilder MapWeChatPayNotifies(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/wechatpay").AllowAnonymous().DisableAntiforgery();
        group.MapPost("/notify", HandlePaymentAsync);
        group.MapPost("/refund-notify", HandleRefundAsync);
        return group;
    }

    internal static async Task<IResult> HandlePaymentAsync(
        HttpRequest request, WeChatPayNotifyParser parser, IGrainFactory grains, GatewayTelemetry telemetry, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(WeChatPayNotifyEndpoints));
        PaymentNotification notify;
        try
        {
            notify = parser.ParsePaymentNotify(await ReadBodyAsync(request));
        }
        catch (WeChatPayProtocolException ex)
        {
            return Refuse(telemetry, logger, "payment", ex.Reason.ToString(), null, ex.Message);
        }
        if (!notify.IsSuccess)
        {
            // An authentic notify of a failed payment: nothing to apply.
            telemetry.NotifyHandled("payment", "ignored");
            return Success();
        }
        if (TradeNumbers.GroupIdOf(notify.OutTradeNo) is not { } groupId)
        {
            return Refuse(telemetry, logger, "payment", "UnknownOrder", notify.OutTradeNo, "not one of our out_trade_no");
        }
        try
        {
            var applied = await grains.GetGrain<IOrderGrain>(groupId).ApplyPaymentAsync(
                new PaymentNotice(notify.OutTradeNo, notify.TransactionId!, notify.TotalFee, notify.OpenId, notify.TimeEnd));
            telemetry.NotifyHandled("payment", applied.Disposition.ToString());
            return Success();
        }
        catch (GroupPayException ex)
        {
            return Refuse(telemetry, logger, "payment", ex.Code, notify.OutTradeNo, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            LogApplyFailed(logger, ex, "payment", notify.OutTradeNo);
            telemetry.NotifyHandled("payment", "error");
            return Fail("temporarily unavailable");
        }
    }

    internal static async Task<IResult> HandleRefundAsync(
        HttpRequest request, WeChatPayNotifyParser parser, IGrainFactory grains, GatewayTelemetry telemetry, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(WeChatPayNotifyEndpoints));
        RefundNotification notify;
        try
        {
            notify = parser.ParseRefundNotify(await ReadBodyAsync(request));
        }
        catch (WeChatPayProtocolException ex)
        {
            return Refuse(telemetry, logger, "refund", ex.Reason.ToString(), null, ex.Message);
        }
        if (TradeNumbers.GroupIdOf(notify.OutTradeNo) is not { } groupId)
        {
            return Refuse(telemetry, logger, "refund", "UnknownOrder", notify.OutTradeNo, "not one of our out_trade_no");
        }
        var state = notify.Status switch
        {
            RefundStatus.Success => RefundState.Succeeded,
            RefundStatus.RefundClose => RefundState.Closed,
            RefundStatus.Change => RefundState.Abnormal,
            _ => RefundState.Processing,
        };
        try
        {
            await grains.GetGrain<IOrderGrain>(groupId).ApplyRefundAsync(
                new RefundNotice(notify.OutTradeNo, notify.OutRefundNo, notify.RefundId, notify.RefundFee, state));
            telemetry.NotifyHandled("refund", state.ToString());
            return Success();
        }
        catch (GroupPayException ex)
        {
            return Refuse(telemetry, logger, "refund", ex.Code, notify.OutTradeNo, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            LogApplyFailed(logger, ex, "refund", notify.OutTradeNo);
            telemetry.NotifyHandled("refund", "error");
            return Fail("temporarily unavailable");
        }
    }

    /// <summary>Reads at most <see cref="MaxBodyBytes"/>; a larger declared or actual body is refused unread.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new WeChatPayProtocolException(WeChatPayRejectReason.Oversize, $"Body exceeds {MaxBodyBytes} bytes.");
        }
        return await WeChatPayXml.ReadBodyAsync(request.Body, MaxBodyBytes, request.HttpContext.RequestAborted);
    }

    private static IResult Refuse(GatewayTelemetry telemetry, ILogger logger, string kind, string outcome, string? outTradeNo, string detail)
    {
        telemetry.NotifyHandled(kind, outcome);
        LogRefused(logger, kind, outcome, outTradeNo, detail);
        return Fail(outcome);
    }

    private static IResult Success() => Results.Bytes(WeChatPayNotifyReply.Success.ToArray(), WeChatPayNotifyReply.ContentType);

    private static IResult Fail(string message) => Results.Bytes(WeChatPayNotifyReply.Fail(message), WeChatPayNotifyReply.ContentType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a {Kind} notify ({Outcome}) for {OutTradeNo}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string kind, string outcome, string? outTradeNo, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not apply a {Kind} notify for {OutTradeNo}; answered FAIL so WeChat retries")]
    private static partial void LogApplyFailed(ILogger logger, Exception exception, string kind, string outTradeNo);
}
