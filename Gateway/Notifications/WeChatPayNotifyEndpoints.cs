using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;
using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.Gateway.Notifications;

/// <summary>
/// WeChat Pay's notifies (docs/api.md §9). Verify before touching anything — size cap, safe XML, appid, mch_id, signature
/// (or the refund's <c>req_info</c> decryption) — then route by <c>out_trade_no</c> to the OrderGrain and answer
/// SUCCESS only once the grain has durably applied it. Everything else answers FAIL and changes nothing, and
/// WeChat retries on its schedule.
/// </summary>
public static partial class WeChatPayNotifyEndpoints
{
    public const int MaxBodyBytes = WeChatPayXml.DefaultMaxBytes;

    public static RouteGroupBuilder MapWeChatPayNotifies(this IEndpointRouteBuilder app)
    {
        // Not in the OpenAPI document: WeChat Pay's own signed XML callbacks, for WeChat alone (docs/wechatpay.md).
        var group = app.MapGroup("/wechatpay").AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        group.MapPost("/notify", HandlePaymentAsync);
        group.MapPost("/refund-notify", HandleRefundAsync);
        return group;
    }

    internal static Task<IResult> HandlePaymentAsync(
        HttpRequest request, WeChatPayNotifyParser parser, IGrainFactory grains, GatewayTelemetry telemetry, ILoggerFactory loggers, TimeProvider time) =>
        HandleAsync(request, "payment", body => parser.ParsePaymentNotify(body), telemetry, loggers,
            // An authentic notify of a failed payment: nothing to apply.
            ignored: notify => !notify.IsSuccess,
            outTradeNo: notify => notify.OutTradeNo,
            // WeChat took money for an order GroupPay does not have: a person must look (it still gets FAIL).
            reportUnknown: notify => grains.GetGrain<IOperatorQueueGrain>(0).RaiseAsync(new OperatorItemReport(
                $"notify:{notify.OutTradeNo}:{notify.TransactionId}", OperatorItemKind.NotifyAnomaly, TradeNumbers.GroupIdOf(notify.OutTradeNo),
                notify.OutTradeNo, notify.TotalFee,
                $"WeChat reported payment {notify.TransactionId} of {notify.TotalFee} fen for {notify.OutTradeNo}, an order GroupPay does not have",
                null, ["refused (FAIL); nothing applied"], time.GetUtcNow())),
            apply: async (groupId, notify) =>
            {
                var applied = await grains.GetGrain<IOrderGrain>(groupId).ApplyPaymentAsync(
                    new PaymentNotice(notify.OutTradeNo, notify.TransactionId!, notify.TotalFee, notify.OpenId, notify.TimeEnd));
                return applied.Disposition.ToString();
            });

    internal static Task<IResult> HandleRefundAsync(
        HttpRequest request, WeChatPayNotifyParser parser, IGrainFactory grains, GatewayTelemetry telemetry, ILoggerFactory loggers) =>
        HandleAsync(request, "refund", body => parser.ParseRefundNotify(body), telemetry, loggers,
            ignored: _ => false,
            outTradeNo: notify => notify.OutTradeNo,
            reportUnknown: null,
            apply: async (groupId, notify) =>
            {
                var state = notify.Status switch
                {
                    RefundStatus.Success => RefundState.Succeeded,
                    RefundStatus.RefundClose => RefundState.Closed,
                    RefundStatus.Change => RefundState.Abnormal,
                    _ => RefundState.Processing,
                };
                await grains.GetGrain<IOrderGrain>(groupId).ApplyRefundAsync(
                    new RefundNotice(notify.OutTradeNo, notify.OutRefundNo, notify.RefundId, notify.RefundFee, state));
                return state.ToString();
            });

    /// <summary>The one path of every notify: read and verify (<paramref name="parse"/>), answer SUCCESS at once when
    /// <paramref name="ignored"/>, else route by <paramref name="outTradeNo"/> and <paramref name="apply"/> it to the
    /// group's grain, which returns the outcome to count under <paramref name="kind"/>.</summary>
    private static async Task<IResult> HandleAsync<TNotify>(
        HttpRequest request, string kind, Func<byte[], TNotify> parse, GatewayTelemetry telemetry, ILoggerFactory loggers,
        Func<TNotify, bool> ignored, Func<TNotify, string> outTradeNo, Func<TNotify, Task>? reportUnknown, Func<string, TNotify, Task<string>> apply)
    {
        var logger = loggers.CreateLogger(typeof(WeChatPayNotifyEndpoints));
        TNotify notify;
        try
        {
            notify = parse(await ReadBodyAsync(request));
        }
        catch (WeChatPayProtocolException ex)
        {
            return Refuse(telemetry, logger, kind, ex.Reason.ToString(), null, ex.Message);
        }
        if (ignored(notify))
        {
            telemetry.NotifyHandled(kind, "ignored");
            return Success();
        }
        var tradeNo = outTradeNo(notify);
        if (TradeNumbers.GroupIdOf(tradeNo) is not { } groupId)
        {
            await ReportUnknownAsync(reportUnknown, notify, logger, tradeNo);
            return Refuse(telemetry, logger, kind, "UnknownOrder", tradeNo, "not one of our out_trade_no");
        }
        try
        {
            telemetry.NotifyHandled(kind, await apply(groupId, notify));
            return Success();
        }
        catch (UnknownGroupException ex)
        {
            await ReportUnknownAsync(reportUnknown, notify, logger, tradeNo);
            return Refuse(telemetry, logger, kind, ex.Code, tradeNo, ex.Message);
        }
        catch (GroupPayException ex)
        {
            return Refuse(telemetry, logger, kind, ex.Code, tradeNo, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            LogApplyFailed(logger, ex, kind, tradeNo);
            telemetry.NotifyHandled(kind, "error");
            return Fail("temporarily unavailable");
        }
    }

    /// <summary>Reports an authentic notify for an order GroupPay does not have to the operator queue; should that fail,
    /// WeChat's next delivery (it gets FAIL either way) reports it again.</summary>
    private static async Task ReportUnknownAsync<TNotify>(Func<TNotify, Task>? report, TNotify notify, ILogger logger, string outTradeNo)
    {
        if (report is null)
        {
            return;
        }
        try
        {
            await report(notify);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogReportFailed(logger, ex, outTradeNo);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report the notify for unknown order {OutTradeNo} to the operator queue")]
    private static partial void LogReportFailed(ILogger logger, Exception exception, string outTradeNo);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not apply a {Kind} notify for {OutTradeNo}; answered FAIL so WeChat retries")]
    private static partial void LogApplyFailed(ILogger logger, Exception exception, string kind, string outTradeNo);
}
