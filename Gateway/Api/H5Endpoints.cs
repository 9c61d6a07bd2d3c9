using System.Text;
using GroupPay.Gateway.Infrastructure;
using GroupPay.WeChatPay;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Api;

/// <summary>What the H5 app (<c>h5/</c>, built into <c>wwwroot</c>; docs/h5.md) needs besides the API: its single page for
/// each of its routes, the same page with 404 for any other path (the app then shows its own 404 page, never raw JSON),
/// and where to pay when there is no <c>WeixinJSBridge</c>.</summary>
public static class H5Endpoints
{
    /// <summary>The app's routes besides <c>/</c> (which the static files answer with <c>index.html</c>).</summary>
    private static readonly string[] AppRoutes = ["/orders", "/rewards", "/signin-problem"];

    /// <summary>Paths that belong to the API and its neighbours: an unknown one is a 404 problem, not the app's page.</summary>
    private static readonly string[] ApiPrefixes = ["/api/", "/admin/", "/auth/", "/h5/", "/wechatpay/", "/health/", "/openapi/", "/scalar/"];

    public static RouteGroupBuilder MapH5(this IEndpointRouteBuilder app)
    {
        app.MapGet("/g/{groupId}", GroupPage).AllowAnonymous().ExcludeFromDescription();
        foreach (var route in AppRoutes)
        {
            app.MapGet(route, (IWebHostEnvironment environment) => Page(environment, StatusCodes.Status200OK)).AllowAnonymous().ExcludeFromDescription();
        }
        // Like MapFallback, but for GET and HEAD only (a fallback for every method would win over an API endpoint that
        // refuses a request's content type or method). Paths that look like files (assets) are not routes of the app: a
        // missing one stays a plain 404.
        app.MapMethods("{*path:nonfile}", [HttpMethods.Get, HttpMethods.Head], NotFound).WithOrder(int.MaxValue).AllowAnonymous().ExcludeFromDescription();
        var group = app.MapGroup("/h5").WithTags("H5").AllowAnonymous();
        group.MapGet("/config", Config).WithName("GetH5Config").WithSummary("Where the H5 app pays and which JS-SDK script it loads.");
        return group;
    }

    /// <summary><c>/g/{groupId}</c>, the share link's target: the app; 404 when the id cannot be a group's.</summary>
    internal static IResult GroupPage(string groupId, IWebHostEnvironment environment) =>
        Page(environment, EdgeRules.IsGroupId(groupId) ? StatusCodes.Status200OK : StatusCodes.Status404NotFound);

    internal static IResult NotFound(HttpContext context, IWebHostEnvironment environment)
    {
        var path = context.Request.Path.Value ?? "/";
        if (ApiPrefixes.Any(prefix => path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || path.Equals(prefix.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)))
        {
            return Problems.Create(StatusCodes.Status404NotFound, "not-found", "There is no such endpoint.");
        }
        return Page(environment, StatusCodes.Status404NotFound);
    }

    /// <summary>The app's <c>index.html</c> with <paramref name="status"/>; never cached, so a new build's hashed assets
    /// are picked up at once (the assets themselves are immutable by name).</summary>
    private static IResult Page(IWebHostEnvironment environment, int status)
    {
        var file = environment.WebRootFileProvider.GetFileInfo("index.html");
        if (!file.Exists || file.PhysicalPath is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "no-h5-build", "The H5 app is not built (npm run build in h5/; docs/h5.md).");
        }
        return new NoCache(TypedResults.Content(File.ReadAllText(file.PhysicalPath, Encoding.UTF8), "text/html; charset=utf-8", Encoding.UTF8, status));
    }

    /// <summary>WeChat's JS-SDK script, for pages opened inside WeChat.</summary>
    public const string JsSdkScriptUrl = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js";

    /// <summary><c>{"sandboxCashierUrl", "jsSdkScriptUrl"}</c>: against the sandbox, its cashier page
    /// (<c>{WeChatPay:BaseUrl}/sandbox/cashier</c>) standing in for <c>WeixinJSBridge</c> and its <c>wx</c> stand-in
    /// (<c>/jssdk/jweixin.js</c>), which the app loads in any browser; against the real host, no cashier and WeChat's
    /// own script, which the app loads only inside WeChat.</summary>
    internal static Ok<H5Config> Config(IOptions<WeChatPayOptions> weChatPay)
    {
        var baseUrl = weChatPay.Value.BaseUrl.TrimEnd('/');
        return TypedResults.Ok(WeChatPayOptions.IsWeChatHost(baseUrl) ? new H5Config(null, JsSdkScriptUrl) : new H5Config(baseUrl + "/sandbox/cashier", baseUrl + "/jssdk/jweixin.js"));
    }

    private sealed class NoCache(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.CacheControl = "no-cache";
            return inner.ExecuteAsync(httpContext);
        }
    }
}

internal sealed record H5Config(string? SandboxCashierUrl, string JsSdkScriptUrl);
