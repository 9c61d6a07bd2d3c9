using System.Globalization;
using GroupPay.Silo;
using GroupPay.WeChatPay;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace GroupPay.NotifyBench;

/// <summary>
/// The two servers GroupPay's notify path is compared with, each its own process like the gateway, on Kestrel with
/// the same defaults (Release, server GC, no per-request logging): <c>parse</c> only reads, parses and
/// verifies the notify (WeChatPayNotifyParser, the gateway's own) and answers SUCCESS — the ceiling; <c>redis</c> does
/// the same plus one HSET of the order's paid state through StackExchange.Redis before answering — what a team
/// would otherwise write. Also <c>garnet</c>: an embedded Garnet for machines without redis-server.
/// </summary>
internal static class ComparisonServers
{
    public const string NotifyPath = "/wechatpay/notify";

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        if (args.Count < 1)
        {
            await Console.Error.WriteLineAsync("serve parse|redis|garnet --port P [--redis host:port] [--dir DIR]");
            return 2;
        }
        var kind = args[0];
        var port = int.Parse(Option(args, "--port") ?? throw new ArgumentException("--port is required."), CultureInfo.InvariantCulture);
        return kind switch
        {
            "parse" => await ServeNotifyAsync(port, redis: null),
            "redis" => await ServeNotifyAsync(port, Option(args, "--redis") ?? throw new ArgumentException("--redis is required.")),
            "garnet" => await ServeGarnetAsync(port, Option(args, "--dir") ?? throw new ArgumentException("--dir is required.")),
            _ => throw new ArgumentException($"Unknown server '{kind}'."),
        };
    }

    private static async Task<int> ServeNotifyAsync(int port, string? redis)
    {
        // The full builder, as the gateway uses (and a team would): same Kestrel, same middleware defaults.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<WeChatPayOptions>(o =>
        {
            o.AppId = Merchant.AppId;
            o.MchId = Merchant.MchId;
            o.ApiKey = Merchant.ApiKey;
            o.SignType = WeChatPaySignTypes.Md5Name;
        });
        builder.Services.AddSingleton<WeChatPayNotifyParser>();
        ConnectionMultiplexer? connection = null;
        if (redis is not null)
        {
            connection = await ConnectionMultiplexer.ConnectAsync(redis);
            builder.Services.AddSingleton<IConnectionMultiplexer>(connection);
        }
        var app = builder.Build();
        app.MapGet("/health", () => "ok");
        if (connection is null)
        {
            app.MapPost(NotifyPath, ParseOnlyAsync);
        }
        else
        {
            app.MapPost(NotifyPath, ParseAndStoreAsync);
        }
        await app.RunAsync();
        connection?.Dispose();
        return 0;
    }

    /// <summary>Path 1: read (64 KiB cap), parse with DTDs prohibited, check appid, mch_id and the signature.</summary>
    private static async Task<IResult> ParseOnlyAsync(HttpRequest request, WeChatPayNotifyParser parser)
    {
        try
        {
            var body = await WeChatPayXml.ReadBodyAsync(request.Body, WeChatPayXml.DefaultMaxBytes, request.HttpContext.RequestAborted);
            parser.ParsePaymentNotify(body);
            return Success();
        }
        catch (WeChatPayProtocolException ex)
        {
            return Fail(ex.Reason.ToString());
        }
    }

    /// <summary>Path 2: the same, then one HSET of the order's paid state; SUCCESS once Redis acknowledged it.</summary>
    private static async Task<IResult> ParseAndStoreAsync(HttpRequest request, WeChatPayNotifyParser parser, IConnectionMultiplexer redis)
    {
        PaymentNotification notify;
        try
        {
            var body = await WeChatPayXml.ReadBodyAsync(request.Body, WeChatPayXml.DefaultMaxBytes, request.HttpContext.RequestAborted);
            notify = parser.ParsePaymentNotify(body);
        }
        catch (WeChatPayProtocolException ex)
        {
            return Fail(ex.Reason.ToString());
        }
        try
        {
            await redis.GetDatabase().HashSetAsync("bench:order:" + notify.OutTradeNo,
            [
                new HashEntry("status", "paid"),
                new HashEntry("transaction_id", notify.TransactionId),
                new HashEntry("total_fee", notify.TotalFee),
                new HashEntry("openid", notify.OpenId),
                new HashEntry("time_end", notify.TimeEnd?.ToUnixTimeSeconds() ?? 0),
            ]);
            return Success();
        }
        catch (RedisException)
        {
            return Fail("temporarily unavailable");
        }
    }

    private static async Task<int> ServeGarnetAsync(int port, string dir)
    {
        Directory.CreateDirectory(dir);
        using var garnet = EmbeddedGarnet.Start(port, dir, NullLoggerFactory.Instance);
        Console.WriteLine($"Garnet listening at {garnet.ConnectionString}");
        var stop = new TaskCompletionSource();
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
        await stop.Task;
        return 0;
    }

    private static IResult Success() => Results.Bytes(WeChatPayNotifyReply.Success.ToArray(), WeChatPayNotifyReply.ContentType);

    private static IResult Fail(string message) => Results.Bytes(WeChatPayNotifyReply.Fail(message), WeChatPayNotifyReply.ContentType);

    private static string? Option(IReadOnlyList<string> args, string name)
    {
        for (var i = 0; i < args.Count - 1; i++)
        {
            if (args[i] == name)
            {
                return args[i + 1];
            }
        }
        return null;
    }
}
