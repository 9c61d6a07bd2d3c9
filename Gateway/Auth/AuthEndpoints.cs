using GroupPay.Gateway.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Auth;

/// <summary>Sign-in with WeChat OAuth2 <c>snsapi_base</c> (docs/api.md §4): <c>/auth/login</c> sends the browser to WeChat,
/// <c>/auth/callback</c> exchanges the code for the openid and issues the gateway's own session cookie.</summary>
public static partial class AuthEndpoints
{
    public const string CallbackPath = "/auth/callback";

    /// <summary>The H5 app's page for a sign-in that did not complete (<c>?code=</c> says why).</summary>
    public const string SignInProblemPath = "/signin-problem";
    private const int MaxReturnUrlLength = 2048;

    public static RouteGroupBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/auth").WithTags("Auth").AllowAnonymous().RateLimitMutations()
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status429TooManyRequests, StatusCodes.Status502BadGateway);
        group.MapGet("/login", Login).WithName("SignIn").WithSummary("Sends the browser to WeChat OAuth (snsapi_base); returnUrl is a local path.");
        group.MapGet("/callback", CallbackAsync).WithName("SignInCallback").WithSummary("WeChat's redirect back: sets the session cookie and returns to returnUrl.");
        group.MapPost("/logout", LogoutAsync).WithName("SignOut").WithSummary("Ends the session.");
        return group;
    }

    internal static Results<RedirectHttpResult, ProblemHttpResult> Login(
        [FromQuery] string? returnUrl, HttpContext context, OAuthCorrelation correlation, WeChatOAuthClient weChat, IOptions<GatewayOptions> options)
    {
        returnUrl ??= "/";
        if (!IsLocalPath(returnUrl))
        {
            return Problems.Invalid("returnUrl must be a local path (/…).");
        }
        var state = correlation.Start(context, returnUrl);
        var redirectUri = PublicLinks.BaseUrl(context.Request, options.Value) + CallbackPath;
        return TypedResults.Redirect(weChat.AuthorizeUrl(redirectUri, state));
    }

    internal static async Task<Results<RedirectHttpResult, ProblemHttpResult>> CallbackAsync(
        [FromQuery] string? code, [FromQuery] string? state, HttpContext context, OAuthCorrelation correlation, WeChatOAuthClient weChat,
        ILoggerFactory loggers)
    {
        var returnUrl = correlation.Complete(context, state);
        if (returnUrl is null || !IsLocalPath(returnUrl))
        {
            // Typically Back after signing in: WeChat's authorize page again, whose state was used up.
            return Refuse(context, StatusCodes.Status400BadRequest, "invalid-state", "The sign-in state is missing, expired or not this browser's; start again.");
        }
        if (string.IsNullOrEmpty(code) || code.Length > 512)
        {
            return Refuse(context, StatusCodes.Status400BadRequest, "invalid-request", "The callback has no code.");
        }
        var logger = loggers.CreateLogger(typeof(AuthEndpoints));
        switch (await weChat.ExchangeAsync(code, context.RequestAborted))
        {
            case OAuthExchange.SignedIn(var openid):
                await context.SignInAsync(
                    CookieAuthenticationDefaults.AuthenticationScheme,
                    SessionUser.Create(openid, CookieAuthenticationDefaults.AuthenticationScheme),
                    new AuthenticationProperties { IsPersistent = true });
                LogSignedIn(logger, new RedactedOpenid(openid));
                return TypedResults.Redirect(returnUrl);
            case OAuthExchange.Refused(var errCode, var errMsg):
                LogRefused(logger, errCode, errMsg);
                return Refuse(context, StatusCodes.Status401Unauthorized, "oauth-refused", $"WeChat refused the sign-in ({errCode}).");
            case OAuthExchange.Unavailable(var reason):
                LogUnavailable(logger, reason);
                return Refuse(context, StatusCodes.Status502BadGateway, "oauth-provider", "WeChat did not answer the sign-in; try again.");
            default:
                throw new InvalidOperationException("Unknown exchange outcome.");
        }
    }

    /// <summary>A failed callback: a browser finding its way (it asks for HTML) is sent to the H5 app's sign-in problem page,
    /// which says what happened in Chinese and offers the way on; anything else gets the problem.</summary>
    private static Results<RedirectHttpResult, ProblemHttpResult> Refuse(HttpContext context, int status, string code, string detail)
    {
        var accept = context.Request.Headers.Accept.ToString();
        return accept.Contains("text/html", StringComparison.OrdinalIgnoreCase)
            ? TypedResults.Redirect(SignInProblemPath + "?code=" + Uri.EscapeDataString(code))
            : Problems.Create(status, code, detail);
    }

    internal static async Task<NoContent> LogoutAsync(HttpContext context, ILoggerFactory loggers)
    {
        if (context.User.FindOpenid() is { } openid)
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            var logger = loggers.CreateLogger(typeof(AuthEndpoints));
            LogSignedOut(logger, new RedactedOpenid(openid));
        }
        return TypedResults.NoContent();
    }

    /// <summary>A path on this site: <c>/…</c>, but not <c>//host</c> or <c>/\host</c> (which browsers treat as
    /// another origin), and no control characters.</summary>
    internal static bool IsLocalPath(string url) =>
        url.Length is > 0 and <= MaxReturnUrlLength
        && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Any(char.IsControl);

    [LoggerMessage(Level = LogLevel.Information, Message = "Signed in {Openid} through WeChat OAuth")]
    private static partial void LogSignedIn(ILogger logger, RedactedOpenid openid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Signed out {Openid}")]
    private static partial void LogSignedOut(ILogger logger, RedactedOpenid openid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WeChat refused an OAuth code exchange: {ErrCode} {ErrMsg}")]
    private static partial void LogRefused(ILogger logger, int errCode, string? errMsg);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WeChat OAuth code exchange failed: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}
