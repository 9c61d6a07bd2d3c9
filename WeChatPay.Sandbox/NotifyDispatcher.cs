using System.Net.Http.Headers;
using GroupPay.WeChatPay.Notifications;
using GroupPay.WeChatPay.Protocol;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>
/// Delivers notifies as WeChat does: POST the XML, wait at most <c>Sandbox:NotifyTimeout</c>, and count only
/// HTTP 2xx with exactly <see cref="WeChatPayNotifyReply.SuccessXml"/> as an acknowledgement; otherwise retry on
/// <see cref="NotifyMessages.RetrySchedule"/> scaled by <c>Sandbox:TimeScale</c>. Every attempt is recorded on the order.
/// </summary>
internal sealed partial class NotifyDispatcher(
    IHttpClientFactory httpClients,
    SandboxBackgroundWork work,
    FaultInjection faults,
    TimeProvider clock,
    IOptions<SandboxOptions> options,
    IOptions<SandboxMerchantOptions> merchant,
    ILogger<NotifyDispatcher> logger)
{
    public const string HttpClientName = "sandbox-notify";

    /// <summary>Replies above this size are not acknowledgements (and are not read further).</summary>
    private const int MaxReplyBytes = 4096;

    private const int ReplyPreviewChars = 200;

    private readonly SandboxOptions _options = options.Value;
    private readonly string _apiKey = merchant.Value.ApiKey;

    /// <summary>Queues the payment notify of a just-paid order, with the notify faults that are armed.</summary>
    public void EnqueuePayment(SandboxOrder order)
    {
        byte[] body;
        lock (order.Gate)
        {
            body = NotifyMessages.Payment(order, _apiKey);
        }
        Start(new NotifyJob(order, NotifyKind.Payment, order.Terms.NotifyUrl, body, null, faults.TakeDuplicateNotifies(), faults.TakeConcurrentNotifies()));
    }

    /// <summary>Queues the refund notify of a just-settled refund.</summary>
    public void EnqueueRefund(SandboxRefund refund)
    {
        byte[] body;
        lock (refund.Order.Gate)
        {
            body = NotifyMessages.Refund(refund, _apiKey);
        }
        Start(new NotifyJob(refund.Order, NotifyKind.Refund, refund.NotifyUrl!, body, refund.OutRefundNo, 0, 0));
    }

    /// <summary>Sends the payment notify of a paid order once, now, outside any schedule (with <paramref name="forged"/>'s
    /// amount or payer, if given); returns the attempt.</summary>
    public Task<NotifyAttempt> RedeliverPaymentAsync(SandboxOrder order, NotifyOverrideRequest? forged, CancellationToken cancellationToken)
    {
        byte[] body;
        lock (order.Gate)
        {
            body = NotifyMessages.Payment(order, _apiKey, forged);
        }
        var job = new NotifyJob(order, NotifyKind.Payment, order.Terms.NotifyUrl, body, null, 0, 0);
        return SendAsync(job, 0, "redeliver", canDrop: false, cancellationToken);
    }

    private void Start(NotifyJob job)
    {
        job.Order.NotifyJobStarted();
        if (!work.Run(cancellationToken => RunAsync(job, cancellationToken)))
        {
            job.Order.NotifyJobEnded();
        }
    }

    private async Task RunAsync(NotifyJob job, CancellationToken cancellationToken)
    {
        try
        {
            if (faults.NotifyDelay is { Ticks: > 0 } delay)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            var acked = false;
            for (var attempt = 0; attempt <= NotifyMessages.RetrySchedule.Count && !acked; attempt++)
            {
                if (attempt > 0)
                {
                    await Task.Delay(_options.Scale(NotifyMessages.RetrySchedule[attempt - 1]), cancellationToken).ConfigureAwait(false);
                }
                if (attempt == 0 && job.Concurrency > 1)
                {
                    var copies = await Task.WhenAll(Enumerable.Range(0, job.Concurrency)
                        .Select(_ => SendAsync(job, 0, "concurrent", canDrop: true, cancellationToken))).ConfigureAwait(false);
                    acked = copies.Any(a => a.Acked);
                }
                else
                {
                    acked = (await SendAsync(job, attempt, attempt == 0 ? "initial" : "retry", canDrop: true, cancellationToken).ConfigureAwait(false)).Acked;
                }
            }
            if (!acked)
            {
                LogGaveUp(logger, job.Kind, job.Order.OutTradeNo);
            }
            for (var i = 0; i < job.Duplicates; i++)
            {
                await SendAsync(job, 0, "duplicate", canDrop: true, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            job.Order.NotifyJobEnded();
        }
    }

    private async Task<NotifyAttempt> SendAsync(NotifyJob job, int attempt, string trigger, bool canDrop, CancellationToken cancellationToken)
    {
        var at = clock.GetUtcNow();
        NotifyAttempt Record(int? status, bool acked, bool dropped, string? error, string? reply)
        {
            var recorded = new NotifyAttempt(job.Order.OutTradeNo, job.Kind, job.OutRefundNo, trigger, attempt, job.Url, at, status, acked, dropped, error, reply);
            job.Order.RecordAttempt(recorded);
            LogAttempt(logger, job.Kind, job.Order.OutTradeNo, trigger, attempt, status, acked, dropped);
            return recorded;
        }

        if (canDrop && faults.TryConsumeDrop())
        {
            return Record(null, acked: false, dropped: true, "dropped by fault injection", null);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.NotifyTimeout);
        try
        {
            using var content = new ByteArrayContent(job.Body);
            content.Headers.ContentType = new MediaTypeHeaderValue("text/xml") { CharSet = "utf-8" };
            using var request = new HttpRequestMessage(HttpMethod.Post, job.Url) { Content = content };
            using var response = await httpClients.CreateClient(HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                byte[] reply;
                try
                {
                    reply = await WeChatPayXml.ReadBodyAsync(stream, MaxReplyBytes, timeout.Token).ConfigureAwait(false);
                }
                catch (WeChatPayProtocolException)
                {
                    return Record((int)response.StatusCode, acked: false, dropped: false, $"reply larger than {MaxReplyBytes} bytes", null);
                }
                var acked = response.IsSuccessStatusCode && WeChatPayNotifyReply.IsSuccess(reply);
                return Record((int)response.StatusCode, acked, dropped: false, null, Preview(reply));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Record(null, acked: false, dropped: false, $"no reply within {_options.NotifyTimeout.TotalSeconds:0.###} s", null);
        }
        catch (HttpRequestException ex)
        {
            return Record(null, acked: false, dropped: false, ex.Message, null);
        }
    }

    private static string Preview(byte[] reply)
    {
        var text = System.Text.Encoding.UTF8.GetString(reply);
        return text.Length <= ReplyPreviewChars ? text : text[..ReplyPreviewChars];
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Notify {Kind} for {OutTradeNo}: {Trigger} attempt {Attempt} → HTTP {Status}, acked {Acked}, dropped {Dropped}")]
    private static partial void LogAttempt(
        ILogger logger, NotifyKind kind, string outTradeNo, string trigger, int attempt, int? status, bool acked, bool dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notify {Kind} for {OutTradeNo} was never acknowledged; WeChat's schedule is exhausted")]
    private static partial void LogGaveUp(ILogger logger, NotifyKind kind, string outTradeNo);

    private sealed record NotifyJob(
        SandboxOrder Order, NotifyKind Kind, string Url, byte[] Body, string? OutRefundNo, int Duplicates, int Concurrency);
}
