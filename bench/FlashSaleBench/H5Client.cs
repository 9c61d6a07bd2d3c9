using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using GroupPay.NotifyBench;
using GroupPay.WeChatPay.Notifications;

namespace GroupPay.FlashSaleBench;

/// <summary>What a call answered that the flow cannot go on from.</summary>
internal sealed class FlowException(Call call, string message) : Exception(message)
{
    public Call Call { get; } = call;
}

/// <summary>A refusal the flow expects near the end of a sale: 409 <c>campaign-closed</c> (no unit left).</summary>
internal sealed class SoldOutException(Call call) : Exception("campaign-closed")
{
    public Call Call { get; } = call;
}

/// <summary>
/// The calls the H5 app (and WeChat) make for one buyer, over HTTP to the real gateway and sandbox, each timed:
/// WeChat OAuth sign-in (the browser's three requests, the user picking their openid on the sandbox's consent page),
/// starting a group, paying (the gateway's unifiedorder at the sandbox), and the payment notify WeChat sends.
/// Cookies are kept per buyer by hand (one shared connection pool for every buyer).
/// </summary>
internal sealed class H5Client(HttpClient http, Uri gateway, Uri sandbox, CallLatencies latencies)
{
    private const string SessionCookie = "grouppay.session";
    private const string OAuthCookie = "grouppay.oauth";
    private const string SandboxConfirmPath = "/connect/oauth2/authorize/confirm";
    private static readonly MediaTypeHeaderValue Xml = new("text/xml") { CharSet = "utf-8" };

    /// <summary>Signs <paramref name="openid"/> in as a browser does; returns the session's Cookie header value.</summary>
    public async Task<string> SignInAsync(string openid, CancellationToken cancellationToken)
    {
        string oauthCookie;
        Uri authorize;
        using (var login = await SendAsync(Call.SignInLogin, new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, "/auth/login?returnUrl=%2F")), HttpStatusCode.Redirect, cancellationToken))
        {
            oauthCookie = Cookie(login, OAuthCookie) ?? throw new FlowException(Call.SignInLogin, "no OAuth state cookie");
            authorize = login.Headers.Location ?? throw new FlowException(Call.SignInLogin, "no Location");
        }
        // The consent page lists users with a link to .../authorize/confirm?<the same query>&openid=…; following it is
        // what the user's tap does. (The #wechat_redirect fragment never reaches a server.)
        Uri callback;
        var confirm = new Uri(sandbox, SandboxConfirmPath + authorize.Query + "&openid=" + Uri.EscapeDataString(openid));
        using (var consent = await SendAsync(Call.SignInAuthorize, new HttpRequestMessage(HttpMethod.Get, confirm), HttpStatusCode.Redirect, cancellationToken))
        {
            callback = consent.Headers.Location ?? throw new FlowException(Call.SignInAuthorize, "no Location");
        }
        var request = new HttpRequestMessage(HttpMethod.Get, callback);
        request.Headers.Add("Cookie", $"{OAuthCookie}={oauthCookie}");
        using var signedIn = await SendAsync(Call.SignInCallback, request, HttpStatusCode.Redirect, cancellationToken);
        var session = Cookie(signedIn, SessionCookie) ?? throw new FlowException(Call.SignInCallback, "no session cookie");
        return $"{SessionCookie}={session}";
    }

    /// <summary>POST /api/groups; the new group's id.</summary>
    public async Task<string> CreateGroupAsync(string session, string campaignId, string? referralCode, CancellationToken cancellationToken)
    {
        var json = referralCode is null ? $$"""{"campaignId":"{{campaignId}}"}""" : $$"""{"campaignId":"{{campaignId}}","ref":"{{referralCode}}"}""";
        var request = Json(HttpMethod.Post, "/api/groups", session, json);
        using var response = await SendAsync(Call.CreateGroup, request, HttpStatusCode.Created, cancellationToken);
        using var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return body.RootElement.GetProperty("groupId").GetString() ?? throw new FlowException(Call.CreateGroup, "no groupId");
    }

    /// <summary>POST /api/groups/{id}/pay for my own slot (joining when not a member); out_trade_no and amount.</summary>
    public async Task<(string OutTradeNo, long AmountFen)> PayAsync(Call call, string session, string groupId, string? referralCode, CancellationToken cancellationToken)
    {
        var body = referralCode is null ? "{}" : $$"""{"ref":"{{referralCode}}"}""";
        using var response = await SendAsync(call, Json(HttpMethod.Post, $"/api/groups/{groupId}/pay", session, body), HttpStatusCode.OK, cancellationToken);
        using var payment = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return (payment.RootElement.GetProperty("outTradeNo").GetString()!, payment.RootElement.GetProperty("amountFen").GetInt64());
    }

    /// <summary>The payment notify WeChat sends once the user paid (signed with the merchant key), to the gateway's
    /// notify endpoint; the answer must be exactly WeChat's SUCCESS document.</summary>
    public async Task NotifyAsync(Call call, string outTradeNo, string transactionId, long amountFen, string openid, string groupId, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "/wechatpay/notify"))
        {
            Content = new ByteArrayContent(Merchant.PaymentNotify(outTradeNo, transactionId, amountFen, openid, groupId, DateTimeOffset.UtcNow)),
        };
        request.Content.Headers.ContentType = Xml;
        using var response = await SendAsync(call, request, HttpStatusCode.OK, cancellationToken);
        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!WeChatPayNotifyReply.IsSuccess(answer))
        {
            throw new FlowException(call, "notify answer not SUCCESS: " + Shorten(Encoding.UTF8.GetString(answer)));
        }
    }

    /// <summary>GET /api/me/rewards as <paramref name="session"/>: the invitee count the H5 page shows.</summary>
    public async Task<(string ReferralCode, long InvitedCount, long PendingFen, long GrantedFen)> RewardsAsync(string session, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, "/api/me/rewards"));
        request.Headers.Add("Cookie", session);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return (body.RootElement.GetProperty("referralCode").GetString()!, body.RootElement.GetProperty("invitedCount").GetInt64(),
            body.RootElement.GetProperty("pendingFen").GetInt64(), body.RootElement.GetProperty("grantedFen").GetInt64());
    }

    private HttpRequestMessage Json(HttpMethod method, string path, string session, string json)
    {
        var request = new HttpRequestMessage(method, new Uri(gateway, path)) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Cookie", session);
        return request;
    }

    /// <summary>Sends, reads the whole answer, records the latency; an unexpected status is a <see cref="FlowException"/>
    /// (409 campaign-closed a <see cref="SoldOutException"/>).</summary>
    private async Task<HttpResponseMessage> SendAsync(Call call, HttpRequestMessage request, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        var started = Stopwatch.GetTimestamp();
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        finally
        {
            request.Dispose();
        }
        latencies.Add(call, Stopwatch.GetTimestamp() - started);
        if (response.StatusCode == expected)
        {
            return response;
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode == HttpStatusCode.Conflict && text.Contains("\"campaign-closed\"", StringComparison.Ordinal))
            {
                throw new SoldOutException(call);
            }
            throw new FlowException(call, $"HTTP {(int)response.StatusCode}: {Shorten(text)}");
        }
    }

    private static string? Cookie(HttpResponseMessage response, string name)
    {
        if (!response.Headers.TryGetValues("Set-Cookie", out var values))
        {
            return null;
        }
        foreach (var header in values)
        {
            if (header.StartsWith(name + "=", StringComparison.Ordinal))
            {
                var value = header[(name.Length + 1)..].Split(';', 2)[0];
                if (value.Length > 0)
                {
                    return value;
                }
            }
        }
        return null;
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
