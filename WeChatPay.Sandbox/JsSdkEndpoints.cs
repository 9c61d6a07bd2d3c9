using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using GroupPay.WeChatPay.OfficialAccount;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

internal sealed record AccessTokenAnswer(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

internal sealed record TicketAnswer(
    [property: JsonPropertyName("errcode")] int ErrCode,
    [property: JsonPropertyName("errmsg")] string ErrMsg,
    [property: JsonPropertyName("ticket")] string Ticket,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

/// <summary>How often the merchant fetched each credential (<c>GET /sandbox/jssdk</c>).</summary>
internal sealed record JsSdkCounts(int TokenFetches, int TicketFetches);

/// <summary>The <c>wx.config</c> check's answer (<c>GET /sandbox/jssdk/verify</c>).</summary>
internal sealed record JsSdkVerdict(bool Ok, string ErrMsg);

/// <summary>
/// The official account's access tokens and JS-SDK tickets as WeChat issues them: 7200 s each; a new token leaves the
/// previous one five more minutes (WeChat's overlap), a ticket lives its whole lifetime.
/// </summary>
internal sealed class OfficialAccountCredentials(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(7200);
    private static readonly TimeSpan TokenOverlap = TimeSpan.FromMinutes(5);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _tickets = new(StringComparer.Ordinal);
    private int _tokenFetches;
    private int _ticketFetches;

    public JsSdkCounts Counts
    {
        get
        {
            lock (_lock)
            {
                return new(_tokenFetches, _ticketFetches);
            }
        }
    }

    public string NewToken()
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            Prune(_tokens, now);
            foreach (var token in _tokens.Keys.ToList())
            {
                _tokens[token] = Min(_tokens[token], now + TokenOverlap);
            }
            var issued = SandboxIds.NewToken(64);
            _tokens[issued] = now + Lifetime;
            _tokenFetches++;
            return issued;
        }
    }

    /// <summary>A new ticket for a live token, or null when the token is unknown or expired.</summary>
    public string? NewTicket(string accessToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_tokens.TryGetValue(accessToken, out var expires) || expires <= now)
            {
                return null;
            }
            Prune(_tickets, now);
            var issued = SandboxIds.NewToken(86);
            _tickets[issued] = now + Lifetime;
            _ticketFetches++;
            return issued;
        }
    }

    /// <summary>True when some live ticket signs this page URL, nonce and timestamp to <paramref name="signature"/>.</summary>
    public bool Verifies(string url, string nonceStr, long timestamp, string signature)
    {
        var now = time.GetUtcNow();
        List<string> live;
        lock (_lock)
        {
            live = [.. _tickets.Where(t => t.Value > now).Select(t => t.Key)];
        }
        var expected = Encoding.ASCII.GetBytes(signature.ToLowerInvariant());
        return live.Any(ticket => CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(JsSdkSignature.Sign(ticket, nonceStr, timestamp, url)), expected));
    }

    private static void Prune(Dictionary<string, DateTimeOffset> credentials, DateTimeOffset now)
    {
        foreach (var expired in credentials.Where(c => c.Value <= now).Select(c => c.Key).ToList())
        {
            credentials.Remove(expired);
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}

/// <summary>
/// The official account's server API for the JS-SDK (<c>/cgi-bin/token</c>, <c>/cgi-bin/ticket/getticket</c>), the
/// <c>wx</c> stand-in script pages load outside WeChat (<c>/jssdk/jweixin.js</c>) and the check it makes of
/// <c>wx.config</c> (<c>/sandbox/jssdk/verify</c>), which a real WeChat makes inside the client.
/// </summary>
internal static class JsSdkEndpoints
{
    public const string ScriptPath = "/jssdk/jweixin.js";

    public static IEndpointRouteBuilder MapJsSdk(this IEndpointRouteBuilder app)
    {
        app.MapGet("/cgi-bin/token", Token);
        app.MapGet("/cgi-bin/ticket/getticket", Ticket);
        app.MapGet(ScriptPath, Script);
        app.MapGet("/sandbox/jssdk", (OfficialAccountCredentials credentials) => TypedResults.Ok(credentials.Counts));
        app.MapGet("/sandbox/jssdk/verify", Verify);
        return app;
    }

    private static Results<Ok<AccessTokenAnswer>, Ok<WeChatApiError>> Token(
        [FromQuery(Name = "grant_type")] string? grantType, [FromQuery(Name = "appid")] string? appId, [FromQuery(Name = "secret")] string? secret,
        OfficialAccountCredentials credentials, FaultInjection faults, IOptions<SandboxMerchantOptions> merchant, IOptions<SandboxWeChatOptions> weChat)
    {
        if (faults.TryConsumeOfficialAccountError())
        {
            return TypedResults.Ok(new WeChatApiError(-1, "system error"));
        }
        if (grantType != "client_credential")
        {
            return TypedResults.Ok(new WeChatApiError(40002, "invalid grant_type"));
        }
        if (!string.Equals(appId, merchant.Value.AppId, StringComparison.Ordinal))
        {
            return TypedResults.Ok(new WeChatApiError(40013, "invalid appid"));
        }
        if (secret is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(weChat.Value.AppSecret)))
        {
            return TypedResults.Ok(new WeChatApiError(40125, "invalid appsecret"));
        }
        return TypedResults.Ok(new AccessTokenAnswer(credentials.NewToken(), (int)OfficialAccountCredentials.Lifetime.TotalSeconds));
    }

    private static Results<Ok<TicketAnswer>, Ok<WeChatApiError>> Ticket(
        [FromQuery(Name = "access_token")] string? accessToken, [FromQuery(Name = "type")] string? type,
        OfficialAccountCredentials credentials, FaultInjection faults)
    {
        if (faults.TryConsumeOfficialAccountError())
        {
            return TypedResults.Ok(new WeChatApiError(-1, "system error"));
        }
        if (string.IsNullOrEmpty(accessToken))
        {
            return TypedResults.Ok(new WeChatApiError(41001, "access_token missing"));
        }
        if (type != "jsapi" && type != "wx_card")
        {
            return TypedResults.Ok(new WeChatApiError(40097, "invalid args"));
        }
        return credentials.NewTicket(accessToken) is { } ticket
            ? TypedResults.Ok(new TicketAnswer(0, "ok", ticket, (int)OfficialAccountCredentials.Lifetime.TotalSeconds))
            : TypedResults.Ok(new WeChatApiError(40001, "invalid credential, access_token is invalid or not latest"));
    }

    /// <summary>What WeChat checks in <c>wx.config</c>: the app id, and a signature by a live ticket over the page URL.
    /// Open to any origin: the stand-in script calls it from the merchant's pages.</summary>
    private static Ok<JsSdkVerdict> Verify(
        [FromQuery(Name = "appId")] string? appId, [FromQuery(Name = "timestamp")] long? timestamp, [FromQuery(Name = "nonceStr")] string? nonceStr,
        [FromQuery(Name = "signature")] string? signature, [FromQuery(Name = "url")] string? url,
        HttpResponse response, OfficialAccountCredentials credentials, IOptions<SandboxMerchantOptions> merchant)
    {
        response.Headers.AccessControlAllowOrigin = "*";
        var verdict =
            !string.Equals(appId, merchant.Value.AppId, StringComparison.Ordinal) ? new JsSdkVerdict(false, "config:invalid appId")
            : timestamp is not { } ts || string.IsNullOrEmpty(nonceStr) || string.IsNullOrEmpty(signature) || string.IsNullOrEmpty(url)
                ? new JsSdkVerdict(false, "config:invalid arguments")
            : !credentials.Verifies(url, nonceStr, ts, signature) ? new JsSdkVerdict(false, "config:invalid signature")
            : new JsSdkVerdict(true, "config:ok");
        return TypedResults.Ok(verdict);
    }

    private static ContentHttpResult Script(HttpRequest request)
    {
        var origin = $"{request.Scheme}://{request.Host}{request.PathBase}";
        return TypedResults.Content(StandIn.Replace("__SANDBOX__", origin, StringComparison.Ordinal), "text/javascript; charset=utf-8");
    }

    /// <summary>The subset of <c>jweixin-1.6.0.js</c> a share card uses. <c>wx.__sandbox</c> shows what a friend
    /// would see (tests read it). Like WeChat, a share link must be on the page's own domain.</summary>
    private const string StandIn = """
        (function () {
          var verifyUrl = '__SANDBOX__/sandbox/jssdk/verify';
          var state = { configured: false, errMsg: null, appMessage: null, timeline: null };
          var ready = [], failed = [];
          function fail(errMsg) { state.errMsg = errMsg; failed.splice(0).forEach(function (f) { f({ errMsg: errMsg }); }); }
          function share(name, slot) {
            return function (data) {
              data = data || {};
              var sameSite = false;
              try { sameSite = new URL(data.link).host === location.host; } catch (e) { sameSite = false; }
              if (!state.configured || !sameSite) {
                if (data.fail) { data.fail({ errMsg: name + ':fail' }); }
                return;
              }
              state[slot] = { title: data.title, desc: data.desc, link: data.link, imgUrl: data.imgUrl };
              if (data.success) { data.success({ errMsg: name + ':ok' }); }
            };
          }
          window.wx = {
            __sandbox: state,
            config: function (c) {
              var q = new URLSearchParams({ appId: c.appId, timestamp: String(c.timestamp), nonceStr: c.nonceStr,
                signature: c.signature, url: location.href.split('#')[0] });
              fetch(verifyUrl + '?' + q).then(function (r) { return r.json(); }).then(function (v) {
                if (v.ok) { state.configured = true; ready.splice(0).forEach(function (f) { f(); }); } else { fail(v.errMsg); }
              }, function () { fail('config:fail'); });
            },
            ready: function (f) { if (state.configured) { f(); } else { ready.push(f); } },
            error: function (f) { if (state.errMsg) { f({ errMsg: state.errMsg }); } else { failed.push(f); } },
            updateAppMessageShareData: share('updateAppMessageShareData', 'appMessage'),
            updateTimelineShareData: share('updateTimelineShareData', 'timeline'),
          };
        })();
        """;
}
