using System.ComponentModel.DataAnnotations;

namespace GroupPay.WeChatPay.OfficialAccount;

/// <summary>The official account's server API (section <c>WeChat</c>; the app id is <c>WeChatPay:AppId</c>):
/// the access token and the JS-SDK ticket. Without an <see cref="AppSecret"/> the share card is unavailable and
/// everything else works.</summary>
public sealed class OfficialAccountOptions
{
    public const string SectionName = "WeChat";

    public string? AppSecret { get; set; }

    /// <summary>Where <c>/cgi-bin/token</c> and <c>/cgi-bin/ticket/getticket</c> are.</summary>
    [Url(ErrorMessage = "WeChat:ApiBaseUrl must be an absolute URL (env WeChat__ApiBaseUrl).")]
    public string ApiBaseUrl { get; set; } = "https://api.weixin.qq.com";

    /// <summary>Time allowed for one call. A fetch may be two (token, then ticket) inside one gateway call, which waits
    /// <c>Gateway:Cluster:ResponseTimeout</c> (12 s) at most: 4 s each leaves room.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00", ErrorMessage = "WeChat:Timeout must be between 1 s and 1 min (env WeChat__Timeout).")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(4);
}
