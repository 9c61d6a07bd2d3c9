using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains.Sharing;
using GroupPay.WeChatPay;
using GroupPay.WeChatPay.OfficialAccount;
using GroupPay.WeChatPay.Protocol;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Api;

/// <summary><c>/api/wechat</c>: what a page inside WeChat needs from the official account. Anonymous: a friend opening a
/// shared link sees the share card before signing in.</summary>
public static class WeChatEndpoints
{
    /// <summary>The JS-SDK calls a share card uses (<c>wx.config</c>'s <c>jsApiList</c>).</summary>
    public static readonly IReadOnlyList<string> ShareApis = ["updateAppMessageShareData", "updateTimelineShareData"];

    public const int MaxUrlLength = 2048;

    public static RouteGroupBuilder MapWeChat(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/wechat").WithTags("WeChat").AllowAnonymous()
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status503ServiceUnavailable);
        group.MapGet("/jssdk-config", JsSdkConfigAsync).WithName("GetJsSdkConfig").WithSummary("A signed wx.config for a page URL (share cards inside WeChat).");
        return group;
    }

    /// <summary>A signed <c>wx.config</c> for the page at <paramref name="url"/> (its <c>#</c> part is not signed),
    /// which must be one of this site's pages: WeChat accepts it only on the official account's JS-safe domain.</summary>
    internal static async Task<Results<Ok<JsSdkConfigJson>, ProblemHttpResult>> JsSdkConfigAsync(
        [FromQuery] string? url, HttpRequest request, IGrainFactory grains, IOptions<GatewayOptions> options,
        IOptions<WeChatPayOptions> merchant, TimeProvider time)
    {
        if (string.IsNullOrEmpty(url) || url.Length > MaxUrlLength
            || !Uri.TryCreate(JsSdkSignature.PageUrl(url), UriKind.Absolute, out var page) || (page.Scheme != Uri.UriSchemeHttp && page.Scheme != Uri.UriSchemeHttps))
        {
            return Problems.Invalid($"url is the page's absolute http(s) URL, at most {MaxUrlLength} characters.");
        }
        var site = new Uri(PublicLinks.BaseUrl(request, options.Value));
        if (!string.Equals(page.Authority, site.Authority, StringComparison.OrdinalIgnoreCase) || page.Scheme != site.Scheme)
        {
            return Problems.Invalid($"url must be a page of {site.GetLeftPart(UriPartial.Authority)}.");
        }
        var ticket = await grains.GetGrain<IJsSdkTicketGrain>(0).GetAsync();
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var nonce = WeChatPayNonce.Create(16);
        return TypedResults.Ok(new JsSdkConfigJson(
            merchant.Value.AppId, timestamp, nonce, JsSdkSignature.Sign(ticket.Ticket, nonce, timestamp, url), ShareApis));
    }
}

/// <summary>The fields of <c>wx.config</c>, named as it takes them.</summary>
public sealed record JsSdkConfigJson(string AppId, long Timestamp, string NonceStr, string Signature, IReadOnlyList<string> JsApiList);
