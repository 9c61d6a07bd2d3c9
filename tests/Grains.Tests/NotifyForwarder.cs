using GroupPay.Grains.Orders;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RefundStatus = GroupPay.WeChatPay.Client.RefundStatus;

namespace GroupPay.Grains.Tests;

/// <summary>
/// The notify half of the gateway, as small as it can be: verify with the real parser, route by out_trade_no to
/// the OrderGrain through the cluster client, answer SUCCESS only once the grain returned. WeChat (the
/// sandbox) calls it over loopback HTTP.
/// </summary>
internal sealed class NotifyForwarder : IAsyncDisposable
{
    private readonly WebApplication _app;

    private NotifyForwarder(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public static async Task<NotifyForwarder> StartAsync(Func<IGrainFactory> grains, Func<WeChatPayNotifyParser> parser)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/wechatpay/notify", async (HttpContext context) =>
        {
            try
            {
                var notify = parser().ParsePaymentNotify(await WeChatPayXml.ReadBodyAsync(context.Request.Body));
                var groupId = TradeNumbers.GroupIdOf(notify.OutTradeNo) ?? throw new NotifyRejectedException("not our order");
                await grains().GetGrain<IOrderGrain>(groupId).ApplyPaymentAsync(
                    new PaymentNotice(notify.OutTradeNo, notify.TransactionId!, notify.TotalFee, notify.OpenId, notify.TimeEnd));
                return Success();
            }
            catch (Exception ex) when (ex is WeChatPayProtocolException or GroupPayException)
            {
                return Results.Bytes(WeChatPayNotifyReply.Fail(ex.Message), WeChatPayNotifyReply.ContentType);
            }
        });
        app.MapPost("/wechatpay/refund-notify", async (HttpContext context) =>
        {
            try
            {
                var notify = parser().ParseRefundNotify(await WeChatPayXml.ReadBodyAsync(context.Request.Body));
                var groupId = TradeNumbers.GroupIdOf(notify.OutTradeNo) ?? throw new NotifyRejectedException("not our order");
                var state = notify.Status switch
                {
                    RefundStatus.Success => RefundState.Succeeded,
                    RefundStatus.RefundClose => RefundState.Closed,
                    RefundStatus.Change => RefundState.Abnormal,
                    _ => RefundState.Processing,
                };
                await grains().GetGrain<IOrderGrain>(groupId).ApplyRefundAsync(
                    new RefundNotice(notify.OutTradeNo, notify.OutRefundNo, notify.RefundId, notify.RefundFee, state));
                return Success();
            }
            catch (Exception ex) when (ex is WeChatPayProtocolException or GroupPayException)
            {
                return Results.Bytes(WeChatPayNotifyReply.Fail(ex.Message), WeChatPayNotifyReply.ContentType);
            }
        });
        await app.StartAsync();
        return new NotifyForwarder(app)
        {
            BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First(),
        };
    }

    private static IResult Success() => Results.Bytes(WeChatPayNotifyReply.Success.ToArray(), WeChatPayNotifyReply.ContentType);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
