using System.Collections.Concurrent;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace GroupPay.WeChatPay.IntegrationTests;

/// <summary>
/// The merchant's side of the notifies, as a loopback HTTP server: it verifies each notify with the real
/// <see cref="WeChatPayNotifyParser"/> and answers WeChat's exact SUCCESS (or FAIL when told to), the way
/// the gateway will.
/// </summary>
internal sealed class MerchantReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MerchantReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<PaymentNotification> Payments { get; } = new();

    public ConcurrentQueue<RefundNotification> Refunds { get; } = new();

    public ConcurrentQueue<WeChatPayRejectReason> Refused { get; } = new();

    /// <summary>How many of the next payment notifies to answer with FAIL.</summary>
    public int FailNext;

    public string BaseUrl { get; private set; } = "";

    public static async Task<MerchantReceiver> StartAsync(Func<WeChatPayNotifyParser> parserFactory)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new MerchantReceiver(app);
        app.MapPost("/wechatpay/notify", async (HttpContext context) =>
        {
            try
            {
                var notify = parserFactory().ParsePaymentNotify(await WeChatPayXml.ReadBodyAsync(context.Request.Body));
                if (Interlocked.Decrement(ref receiver.FailNext) >= 0)
                {
                    return Results.Bytes(WeChatPayNotifyReply.Fail("busy"), WeChatPayNotifyReply.ContentType);
                }
                receiver.Payments.Enqueue(notify);
                return Results.Bytes(WeChatPayNotifyReply.Success.ToArray(), WeChatPayNotifyReply.ContentType);
            }
            catch (WeChatPayProtocolException ex)
            {
                receiver.Refused.Enqueue(ex.Reason);
                return Results.Bytes(WeChatPayNotifyReply.Fail(ex.Reason.ToString()), WeChatPayNotifyReply.ContentType);
            }
        });
        app.MapPost("/wechatpay/refund-notify", async (HttpContext context) =>
        {
            try
            {
                receiver.Refunds.Enqueue(parserFactory().ParseRefundNotify(await WeChatPayXml.ReadBodyAsync(context.Request.Body)));
                return Results.Bytes(WeChatPayNotifyReply.Success.ToArray(), WeChatPayNotifyReply.ContentType);
            }
            catch (WeChatPayProtocolException ex)
            {
                receiver.Refused.Enqueue(ex.Reason);
                return Results.Bytes(WeChatPayNotifyReply.Fail(ex.Reason.ToString()), WeChatPayNotifyReply.ContentType);
            }
        });
        await app.StartAsync();
        receiver.BaseUrl = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
