using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Auth;

/// <summary>The official account's OAuth settings (section <c>WeChat</c>, docs/api.md §2). The app id is the merchant's
/// <c>WeChatPay:AppId</c>: JSAPI payments need the openid of that same official account.</summary>
public sealed class WeChatOAuthOptions
{
    public const string SectionName = "WeChat";

    [Required(ErrorMessage = "WeChat:AppSecret is required (env WeChat__AppSecret).")]
    public string AppSecret { get; set; } = "";

    /// <summary>Where the browser is sent to authorize (<c>/connect/oauth2/authorize</c>).</summary>
    public string OAuthBaseUrl { get; set; } = "https://open.weixin.qq.com";

    /// <summary>Where the gateway exchanges the code (<c>/sns/oauth2/access_token</c>).</summary>
    public string ApiBaseUrl { get; set; } = "https://api.weixin.qq.com";

    /// <summary>Time allowed for the code exchange.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class WeChatOAuthOptionsValidator : IValidateOptions<WeChatOAuthOptions>
{
    public ValidateOptionsResult Validate(string? name, WeChatOAuthOptions options)
    {
        var failures = new List<string>();
        RequireAbsoluteHttpUrl(failures, nameof(options.OAuthBaseUrl), options.OAuthBaseUrl);
        RequireAbsoluteHttpUrl(failures, nameof(options.ApiBaseUrl), options.ApiBaseUrl);
        if (options.Timeout <= TimeSpan.Zero)
        {
            failures.Add("WeChat:Timeout must be positive (env WeChat__Timeout).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RequireAbsoluteHttpUrl(List<string> failures, string key, string? value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"WeChat:{key} must be an absolute http(s) URL, not '{value}' (env WeChat__{key}).");
        }
    }
}
