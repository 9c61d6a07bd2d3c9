using System.Text.Json;
using GroupPay.WeChatPay;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Auth;

/// <summary>What the code exchange gave: the openid, or WeChat's refusal, or no answer at all.</summary>
internal abstract record OAuthExchange
{
    public sealed record SignedIn(string Openid) : OAuthExchange;

    /// <summary>WeChat answered with an error (<c>errcode</c>/<c>errmsg</c>): a bad, used or expired code.</summary>
    public sealed record Refused(int ErrCode, string? ErrMsg) : OAuthExchange;

    /// <summary>WeChat could not be reached or answered something that is not its JSON.</summary>
    public sealed record Unavailable(string Reason) : OAuthExchange;
}

/// <summary>
/// Exchanges an OAuth <c>code</c> for the user's openid at <c>{WeChat:ApiBaseUrl}/sns/oauth2/access_token</c>
/// (snsapi_base: the openid is all we need; the access token is not kept). The request carries the app secret in its
/// query, so this client has no request logging.
/// </summary>
internal sealed class WeChatOAuthClient(HttpClient http, IOptions<WeChatOAuthOptions> options, IOptions<WeChatPayOptions> merchant)
{
    public const string HttpClientName = "wechat-oauth";

    public string AppId => merchant.Value.AppId;

    /// <summary>The authorize URL the browser is sent to, with WeChat's parameter order and fragment.</summary>
    public string AuthorizeUrl(string redirectUri, string state) =>
        options.Value.OAuthBaseUrl.TrimEnd('/') + "/connect/oauth2/authorize"
        + "?appid=" + Uri.EscapeDataString(AppId)
        + "&redirect_uri=" + Uri.EscapeDataString(redirectUri)
        + "&response_type=code&scope=snsapi_base"
        + "&state=" + Uri.EscapeDataString(state)
        + "#wechat_redirect";

    public async Task<OAuthExchange> ExchangeAsync(string code, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var url = settings.ApiBaseUrl.TrimEnd('/') + "/sns/oauth2/access_token"
            + "?appid=" + Uri.EscapeDataString(AppId)
            + "&secret=" + Uri.EscapeDataString(settings.AppSecret)
            + "&code=" + Uri.EscapeDataString(code)
            + "&grant_type=authorization_code";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            using var response = await http.GetAsync(new Uri(url), timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return new OAuthExchange.Unavailable($"HTTP {(int)response.StatusCode}");
            }
            // WeChat answers JSON, often labelled text/plain: parse the bytes whatever the content type says.
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new OAuthExchange.Unavailable("not a JSON object");
            }
            if (root.TryGetProperty("errcode", out var errCode) && errCode.ValueKind == JsonValueKind.Number && errCode.GetInt32() != 0)
            {
                var errMsg = root.TryGetProperty("errmsg", out var message) && message.ValueKind == JsonValueKind.String ? message.GetString() : null;
                return new OAuthExchange.Refused(errCode.GetInt32(), errMsg);
            }
            if (root.TryGetProperty("openid", out var openid) && openid.ValueKind == JsonValueKind.String
                && SessionUser.IsOpenid(openid.GetString()))
            {
                return new OAuthExchange.SignedIn(openid.GetString()!);
            }
            return new OAuthExchange.Unavailable("no openid in the answer");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new OAuthExchange.Unavailable("timed out");
        }
        catch (HttpRequestException ex)
        {
            return new OAuthExchange.Unavailable(ex.HttpRequestError.ToString());
        }
        catch (JsonException)
        {
            return new OAuthExchange.Unavailable("not JSON");
        }
    }
}
