using System.Collections.Concurrent;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

/// <summary>What the receiver answers to one notify.</summary>
public sealed record NotifyReplyScript(int Status, string Body)
{
    public static readonly NotifyReplyScript Ack = new(200, WeChatPayNotifyReply.SuccessXml);
    public static readonly NotifyReplyScript Fail = new(200, "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[busy]]></return_msg></xml>");
}

public sealed record ReceivedNotify(string Path, byte[] Body)
{
    public WeChatPayMessage Message => WeChatPayXml.Parse(Body);
}

/// <summary>
/// A merchant notify endpoint in the test process on a free loopback port: records every POST and answers from a
/// script (then <see cref="DefaultReply"/>). Optionally holds each request until a number of them are in flight,
/// to observe parallel deliveries.
/// </summary>
public sealed class NotifyReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedNotify> _received = new();
    private readonly ConcurrentQueue<NotifyReplyScript> _script = new();
    private int _inFlight;
    private int _maxInFlight;
    private int _holdUntilInFlight;

    private NotifyReceiver(WebApplication app)
    {
        _app = app;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public string PaymentUrl => new Uri(BaseAddress, "/notify").ToString();

    public string RefundUrl => new Uri(BaseAddress, "/refund-notify").ToString();

    public NotifyReplyScript DefaultReply { get; set; } = NotifyReplyScript.Ack;

    public IReadOnlyList<ReceivedNotify> Received => [.. _received];

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public static async Task<NotifyReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls=http://127.0.0.1:0", "--environment=Testing"]);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new NotifyReceiver(app);
        app.MapPost("/{**path}", receiver.HandleAsync);
        await app.StartAsync();
        receiver.BaseAddress = new Uri(app.Urls.Single());
        return receiver;
    }

    /// <summary>The next replies, in order; afterwards <see cref="DefaultReply"/>.</summary>
    public void Script(params NotifyReplyScript[] replies)
    {
        foreach (var reply in replies)
        {
            _script.Enqueue(reply);
        }
    }

    /// <summary>Hold every request until <paramref name="count"/> are in flight at once (or a few seconds pass).</summary>
    public void HoldUntilInFlight(int count) => Volatile.Write(ref _holdUntilInFlight, count);

    public async Task<IReadOnlyList<ReceivedNotify>> WaitForAsync(int count, string path = "/notify")
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var matching = Received.Where(r => r.Path == path).ToList();
            if (matching.Count >= count)
            {
                return matching;
            }
            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting for {count} notifies at {path}; got {matching.Count}.");
            }
            await Task.Delay(10);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var inFlight = Interlocked.Increment(ref _inFlight);
        try
        {
            var current = Volatile.Read(ref _maxInFlight);
            while (inFlight > current && Interlocked.CompareExchange(ref _maxInFlight, inFlight, current) != current)
            {
                current = Volatile.Read(ref _maxInFlight);
            }
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            _received.Enqueue(new ReceivedNotify(context.Request.Path, body.ToArray()));
            var hold = Volatile.Read(ref _holdUntilInFlight);
            if (hold > 0)
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                while (Volatile.Read(ref _maxInFlight) < hold && !deadline.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
                {
                    await Task.Delay(5);
                }
            }
            var reply = _script.TryDequeue(out var scripted) ? scripted : DefaultReply;
            context.Response.StatusCode = reply.Status;
            context.Response.ContentType = "text/xml";
            await context.Response.WriteAsync(reply.Body);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
