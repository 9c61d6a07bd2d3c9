using GroupPay.WeChatPay.OfficialAccount;
using Microsoft.Extensions.Logging;

namespace GroupPay.Grains.Sharing;

/// <summary><see cref="IJsSdkTicketGrain"/>: the token and the ticket in memory. A ticket inside its last
/// <see cref="RefreshBefore"/> is still handed out while a new one is fetched beside the calls; without a usable ticket
/// the call waits for the fetch. After a failed fetch none is tried for <see cref="RetryAfterFailure"/>, so an outage
/// at WeChat costs one call per half minute, not one per page view.</summary>
[GrainType("jssdk-ticket")]
public sealed partial class JsSdkTicketGrain(IOfficialAccountClient client, TimeProvider time, ILogger<JsSdkTicketGrain> logger)
    : Grain, IJsSdkTicketGrain
{
    internal static readonly TimeSpan RefreshBefore = TimeSpan.FromMinutes(10);
    internal static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(30);

    private (string Value, DateTimeOffset ExpiresAt)? _token;
    private JsSdkTicket? _ticket;
    private Task? _refresh;
    private DateTimeOffset _quietUntil;
    private string _lastFailure = "";

    public async Task<JsSdkTicket> GetAsync()
    {
        var now = time.GetUtcNow();
        if (_ticket is { } fresh && fresh.ExpiresAt - now > RefreshBefore)
        {
            return fresh;
        }
        if (_ticket is { } ageing && ageing.ExpiresAt > now)
        {
            if (_refresh is null && now >= _quietUntil)
            {
                _refresh = RefreshAsync();
            }
            return ageing;
        }
        if (!client.IsConfigured)
        {
            throw new WeChatUnavailableException("WeChat:AppSecret is not set on the silos, so there is no JS-SDK ticket.");
        }
        if (_refresh is null && now >= _quietUntil)
        {
            _refresh = RefreshAsync();
        }
        if (_refresh is { } running)
        {
            await running;
        }
        return _ticket is { } got && got.ExpiresAt > time.GetUtcNow()
            ? got
            : throw new WeChatUnavailableException($"WeChat gave no JS-SDK ticket: {_lastFailure}");
    }

    /// <summary>One fetch of the ticket (and of the token first when it is missing, ageing or refused); never throws.</summary>
    private async Task RefreshAsync()
    {
        try
        {
            var ticket = await FetchTicketAsync(retryWithNewToken: true);
            if (ticket.Credential is { } got)
            {
                _ticket = new JsSdkTicket(got.Value, time.GetUtcNow() + got.Lifetime);
                DelayDeactivation(got.Lifetime);
            }
            else
            {
                Failed(ticket.ErrCode is { } code ? $"errcode {code} {ticket.Error}" : ticket.Error ?? "no answer");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failed(ex.Message);
        }
        finally
        {
            _refresh = null;
        }
    }

    private async Task<OfficialAccountResult> FetchTicketAsync(bool retryWithNewToken)
    {
        if (_token is not { } token || token.ExpiresAt - time.GetUtcNow() <= RefreshBefore)
        {
            var fetched = await client.GetAccessTokenAsync();
            if (fetched.Credential is not { } got)
            {
                return fetched;
            }
            token = (got.Value, time.GetUtcNow() + got.Lifetime);
            _token = token;
        }
        var ticket = await client.GetJsapiTicketAsync(token.Value);
        if (ticket.TokenRejected && retryWithNewToken)
        {
            _token = null;
            return await FetchTicketAsync(retryWithNewToken: false);
        }
        return ticket;
    }

    private void Failed(string reason)
    {
        _lastFailure = reason;
        _quietUntil = time.GetUtcNow() + RetryAfterFailure;
        LogFetchFailed(logger, reason, RetryAfterFailure);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not fetch the JS-SDK ticket ({Reason}); the next try in {Quiet}")]
    private static partial void LogFetchFailed(ILogger logger, string reason, TimeSpan quiet);
}
