using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>The query of <c>/connect/oauth2/authorize</c> (the <c>#wechat_redirect</c> fragment never reaches a server).</summary>
internal sealed record AuthorizeQuery(
    [property: FromQuery(Name = "appid")] string? AppId,
    [property: FromQuery(Name = "redirect_uri")] string? RedirectUri,
    [property: FromQuery(Name = "response_type")] string? ResponseType,
    [property: FromQuery(Name = "scope")] string? Scope,
    [property: FromQuery(Name = "state")] string? State);

internal sealed record OAuthAccessToken(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("refresh_token")] string RefreshToken,
    [property: JsonPropertyName("openid")] string Openid,
    [property: JsonPropertyName("scope")] string Scope);

internal sealed record WeChatApiError(
    [property: JsonPropertyName("errcode")] int ErrCode,
    [property: JsonPropertyName("errmsg")] string ErrMsg);

/// <summary>WeChat OAuth2 for official-account web pages (<c>snsapi_base</c> / <c>snsapi_userinfo</c>), with a page to
/// pick the user instead of WeChat's silent consent.</summary>
internal static class OAuthEndpoints
{
    public const string AuthorizePath = "/connect/oauth2/authorize";
    public const string ConfirmPath = "/connect/oauth2/authorize/confirm";

    public static IEndpointRouteBuilder MapOAuth(this IEndpointRouteBuilder app)
    {
        app.MapGet(AuthorizePath, Authorize);
        app.MapGet(ConfirmPath, Confirm);
        app.MapGet("/sns/oauth2/access_token", AccessToken);
        return app;
    }

    private static ContentHttpResult Authorize(
        [AsParameters] AuthorizeQuery query, HttpRequest request, IOptions<SandboxMerchantOptions> merchant, IOptions<SandboxOptions> options)
    {
        if (Refusal(query, merchant.Value.AppId) is { } refusal)
        {
            return refusal;
        }
        var users = new StringBuilder();
        foreach (var openid in options.Value.EffectiveTestUsers)
        {
            users.Append("<li><a class=\"button\" href=\"").Append(SandboxPages.Encode(ConfirmUrl(request, query, openid))).Append("\">")
                .Append(SandboxPages.Encode(openid)).Append("</a></li>");
        }
        var hidden = new StringBuilder();
        foreach (var (name, value) in QueryFields(query))
        {
            hidden.Append("<input type=\"hidden\" name=\"").Append(name).Append("\" value=\"").Append(SandboxPages.Encode(value)).Append("\">");
        }
        var body =
            "<h1>微信授权登录 · Sign in with WeChat</h1>" +
            $"<p>App <code>{SandboxPages.Encode(query.AppId)}</code> asks for <code>{SandboxPages.Encode(query.Scope)}</code>. Continue as:</p>" +
            $"<ul class=\"users\">{users}</ul>" +
            $"<form class=\"box\" method=\"get\" action=\"{SandboxPages.Encode(request.PathBase + ConfirmPath)}\">{hidden}" +
            "<label>Another openid <input name=\"openid\" required pattern=\"[0-9A-Za-z_\\-]{1,128}\" placeholder=\"o-sandbox-dave\"></label>" +
            "<button type=\"submit\">Continue</button></form>";
        return TypedResults.Content(SandboxPages.Layout("微信授权 (sandbox)", body), SandboxPages.ContentType);
    }

    private static Results<RedirectHttpResult, ContentHttpResult> Confirm(
        [AsParameters] AuthorizeQuery query, [FromQuery(Name = "openid")] string? openid, OAuthCodes codes, IOptions<SandboxMerchantOptions> merchant)
    {
        if (Refusal(query, merchant.Value.AppId) is { } refusal)
        {
            return refusal;
        }
        if (!OAuthRules.IsOpenid(openid))
        {
            return TypedResults.Content(SandboxPages.ErrorPage("授权失败", "openid参数错误"), SandboxPages.ContentType, statusCode: StatusCodes.Status400BadRequest);
        }
        var code = codes.Issue(query.AppId!, openid!, query.Scope!);
        var target = QueryHelpers.AddQueryString(query.RedirectUri!, new KeyValuePair<string, string?>[] { new("code", code), new("state", query.State ?? "") });
        return TypedResults.Redirect(target);
    }

    private static Results<Ok<OAuthAccessToken>, Ok<WeChatApiError>> AccessToken(
        [FromQuery(Name = "appid")] string? appId,
        [FromQuery(Name = "secret")] string? secret,
        [FromQuery(Name = "code")] string? code,
        [FromQuery(Name = "grant_type")] string? grantType,
        OAuthCodes codes,
        IOptions<SandboxMerchantOptions> merchant,
        IOptions<SandboxWeChatOptions> weChat)
    {
        if (appId is null || !string.Equals(appId, merchant.Value.AppId, StringComparison.Ordinal))
        {
            return TypedResults.Ok(new WeChatApiError(40013, "invalid appid"));
        }
        if (secret is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(weChat.Value.AppSecret)))
        {
            return TypedResults.Ok(new WeChatApiError(40125, "invalid appsecret"));
        }
        if (grantType != "authorization_code")
        {
            return TypedResults.Ok(new WeChatApiError(40002, "invalid grant_type"));
        }
        if (string.IsNullOrEmpty(code))
        {
            return TypedResults.Ok(new WeChatApiError(41008, "missing code"));
        }
        if (codes.Redeem(code, appId) is not { } grant)
        {
            return TypedResults.Ok(new WeChatApiError(40029, "invalid code"));
        }
        return TypedResults.Ok(new OAuthAccessToken(SandboxIds.NewToken(64), 7200, SandboxIds.NewToken(64), grant.Openid, grant.Scope));
    }

    /// <summary>The error page for a request WeChat would refuse, or null.</summary>
    private static ContentHttpResult? Refusal(AuthorizeQuery query, string appId)
    {
        var problem =
            !string.Equals(query.AppId, appId, StringComparison.Ordinal) ? "appid参数错误"
            : query.RedirectUri is null || !Uri.TryCreate(query.RedirectUri, UriKind.Absolute, out var redirect)
                || (redirect.Scheme != Uri.UriSchemeHttp && redirect.Scheme != Uri.UriSchemeHttps) ? "redirect_uri参数错误"
            : query.ResponseType != "code" ? "response_type参数错误"
            : !OAuthRules.IsScope(query.Scope) ? "scope参数错误或没有scope权限"
            : query.State is { Length: > 128 } ? "state参数错误"
            : null;
        return problem is null
            ? null
            : TypedResults.Content(SandboxPages.ErrorPage("授权失败", problem), SandboxPages.ContentType, statusCode: StatusCodes.Status400BadRequest);
    }

    private static IEnumerable<KeyValuePair<string, string?>> QueryFields(AuthorizeQuery query) =>
    [
        new("appid", query.AppId),
        new("redirect_uri", query.RedirectUri),
        new("response_type", query.ResponseType),
        new("scope", query.Scope),
        new("state", query.State),
    ];

    private static string ConfirmUrl(HttpRequest request, AuthorizeQuery query, string openid) =>
        request.PathBase + ConfirmPath + QueryString.Create(QueryFields(query).Append(new("openid", openid)));
}
