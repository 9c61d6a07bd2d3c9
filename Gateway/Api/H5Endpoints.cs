using GroupPay.WeChatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Api;

/// <summary>What the H5 page needs besides the API: the page for <c>/g/{groupId}</c> (the same single page as
/// <c>/</c>, from <c>wwwroot</c>) and where to pay when there is no <c>WeixinJSBridge</c>.</summary>
public static class H5Endpoints
{
    public static RouteGroupBuilder MapH5(this IEndpointRouteBuilder app)
    {
        app.MapFallbackToFile("/g/{groupId}", "index.html");
        var group = app.MapGroup("/h5").WithTags("H5").AllowAnonymous();
        group.MapGet("/config", Config);
        return group;
    }

    /// <summary><c>{"sandboxCashierUrl"}</c>: the sandbox's cashier page (<c>{WeChatPay:BaseUrl}/sandbox/cashier</c>) that
    /// stands in for <c>WeixinJSBridge</c> outside WeChat; null against the real WeChat Pay host.</summary>
    internal static Ok<H5Config> Config(IOptions<WeChatPayOptions> weChatPay)
    {
        var baseUrl = weChatPay.Value.BaseUrl;
        var real = Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) && uri.Host.EndsWith("weixin.qq.com", StringComparison.OrdinalIgnoreCase);
        return TypedResults.Ok(new H5Config(real ? null : baseUrl.TrimEnd('/') + "/sandbox/cashier"));
    }
}

internal sealed record H5Config(string? SandboxCashierUrl);
